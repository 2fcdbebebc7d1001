"""heldout6's corpus is what its manifest says.

Default run: each buggy file is its base with exactly the listed edit(s), re-applied
here from the manifest's records (independently of validate.py and make_corpus.py);
each edit alone changes one line; make_corpus.py reproduces the manifest and every
buggy file; the corpus has the size README.md gives. Under -m slow: validate.py's check
of every file (loss, last state(s) and each gradient against central differences) with
warnings as errors, and every returned gradient and state has its parameter's shape.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import json
import sys
import warnings
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
MANIFEST = json.loads((HERE / "manifest.json").read_text())
ENTRIES: list[dict[str, Any]] = MANIFEST["files"]
BUGGY = [e for e in ENTRIES if e["expect"] != "ok"]


def _module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


@functools.cache
def _validate() -> ModuleType:
    return _module(HERE.parent / "heldout2" / "validate.py", "heldout6_validate")


@functools.cache
def _maker() -> ModuleType:
    return _module(HERE / "make_corpus.py", "heldout6_make_corpus")


def _edits(entry: dict[str, Any]) -> list[dict[str, Any]]:
    return entry["edits"] if entry["expect"] == "bug2" else [entry["edit"]]


def _reapply(base: list[str], edits: list[dict[str, Any]]) -> list[str]:
    """The base's lines with the records applied, last line first so that each record's
    line number (its base's) stays valid."""
    out = list(base)
    for ed in sorted(edits, key=lambda r: r["line"], reverse=True):
        i = ed["line"] - 1
        assert out[i] == ed["original"], f"line {ed['line']} is not the recorded original"
        if ed["kind"] == "delete":
            assert ed["buggy"] is None
            del out[i]
        else:
            assert ed["kind"] == "change"
            assert ed["buggy"] not in (None, ed["original"])
            out[i] = ed["buggy"]
    return out


@pytest.mark.parametrize("entry", BUGGY, ids=[e["file"] for e in BUGGY])
def test_buggy_file_is_its_base_with_the_listed_edits(entry: dict[str, Any]) -> None:
    base = (HERE / entry["base"]).read_text().splitlines()
    mine = (HERE / entry["file"]).read_text().splitlines()
    edits = _edits(entry)
    assert len(edits) == (2 if entry["expect"] == "bug2" else 1)
    assert mine == _reapply(base, edits)
    for ed in edits:  # each edit alone changes (or deletes) exactly one line
        alone = _reapply(base, [ed])
        ops = [op for op in difflib.SequenceMatcher(a=base, b=alone, autojunk=False)
               .get_opcodes() if op[0] != "equal"]
        assert len(ops) == 1
        tag, i1, i2, j1, j2 = ops[0]
        assert tag == {"change": "replace", "delete": "delete"}[ed["kind"]]
        assert (i1 + 1, i2 - i1, j2 - j1) == (ed["line"], 1, int(ed["kind"] == "change"))
    if len(edits) == 2:  # the two edits are not adjacent: a diff sees two
        assert abs(edits[0]["line"] - edits[1]["line"]) > 1


def test_make_corpus_reproduces_the_manifest_and_every_file() -> None:
    manifest, texts = _maker().build()
    assert _maker().manifest_text(manifest) == (HERE / "manifest.json").read_text()
    on_disk = {p.name for p in (HERE / "corpus").glob("*_bug_*.py")}
    assert on_disk == set(texts)
    for name, text in texts.items():
        assert (HERE / "corpus" / name).read_text() == text, name


def test_corpus_size_and_spread() -> None:
    expect = Counter(e["expect"] for e in ENTRIES)
    assert expect == {"ok": 9, "bug": 71, "bug2": 3}
    cells = Counter(e["cell"] for e in ENTRIES if e["expect"] == "bug")
    assert cells == {"vanilla": 41, "lstm": 15, "gru": 15}
    ok = Counter(e["cell"] for e in ENTRIES if e["expect"] == "ok")
    assert ok == {"vanilla": 5, "lstm": 2, "gru": 2}
    assert all(e["wrong"] for e in BUGGY), "every bug makes some gradient wrong"
    assert len({e["file"] for e in ENTRIES}) == len(ENTRIES)


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_validate_check(entry: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _validate().check(entry, verbose=False, root=HERE) == []


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_returned_shapes(entry: dict[str, Any]) -> None:
    v = _validate()
    ns, _ = v.load(HERE / entry["file"])
    p, inputs, targets, states = v.point(entry["cell"], v.SEEDS[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, grads, last = v.call(entry, ns, p, inputs, targets, states)
    assert set(grads) == set(v.PARAMS[entry["cell"]])
    for name, g in grads.items():
        assert np.shape(g) == p[name].shape, name
    assert [np.shape(s) for s in last] == [s.shape for s in states]
