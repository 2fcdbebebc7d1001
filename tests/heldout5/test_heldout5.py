"""heldout5's corpus is what its manifest says.

Default run: each buggy file is its base with exactly the listed edit(s) (re-applied
here from the manifest's records, independently of validate.py and make_corpus.py),
each edit alone changes one line, make_corpus.py reproduces the manifest and every
file, and the corpus has the size README.md gives. Under -m slow: validate.py's check
per file (loss, last state and every gradient against central differences), and every
returned gradient has its parameter's shape.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
MANIFEST = json.loads((HERE / "manifest.json").read_text())
ENTRIES = MANIFEST["files"]
BUGGY = [e for e in ENTRIES if e["expect"] != "ok"]


def _module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@functools.cache
def _validate() -> ModuleType:
    return _module(HERE.parent / "heldout2" / "validate.py", "heldout5_validate")


def _edits(entry: dict[str, Any]) -> list[dict[str, Any]]:
    return entry["edits"] if entry["expect"] == "bug2" else [entry["edit"]]


def _apply(lines: list[str], edit: dict[str, Any]) -> list[str]:
    """One manifest edit applied to the base's lines, checking its recorded original."""
    out = list(lines)
    k = edit["line"] - 1
    if edit["kind"] == "change":
        assert out[k] == edit["original"]
        out[k] = edit["buggy"]
    elif edit["kind"] == "delete":
        assert out[k] == edit["original"]
        del out[k]
    else:
        assert edit["kind"] == "insert"
        out.insert(k, edit["buggy"])
    return out


def test_counts() -> None:
    cells = {"vanilla": 0, "lstm": 0, "gru": 0}
    for e in BUGGY:
        if e["expect"] == "bug":
            cells[e["cell"]] += 1
    assert cells["vanilla"] >= 30
    assert cells["lstm"] + cells["gru"] >= 14
    assert sum(e["expect"] == "bug2" for e in BUGGY) == 3
    assert sum(e["expect"] == "ok" for e in ENTRIES) == 9
    on_disk = {p.name for p in (HERE / "corpus").glob("*.py")}
    assert on_disk == {Path(e["file"]).name for e in ENTRIES}


@pytest.mark.parametrize("entry", BUGGY, ids=lambda e: Path(e["file"]).stem)
def test_edits_as_manifest_says(entry: dict[str, Any]) -> None:
    base = (HERE / entry["base"]).read_text().splitlines()
    mine = (HERE / entry["file"]).read_text().splitlines()
    edits = _edits(entry)
    # each edit alone changes exactly one line of the base
    for edit in edits:
        alone = _apply(base, edit)
        if len(alone) == len(base):
            changed = sum(a != b for a, b in zip(base, alone, strict=True))
        else:
            changed = abs(len(alone) - len(base))
        assert changed == 1
    # all of them together, bottom up, give the file
    out = base
    for edit in sorted(edits, key=lambda ed: ed["line"], reverse=True):
        out = _apply(out, edit)
    assert out == mine
    assert entry["kind"] and entry["description"]


def test_make_corpus_reproduces_everything() -> None:
    mc = _module(HERE / "make_corpus.py", "heldout5_make_corpus")
    manifest, texts = mc.build()
    assert manifest == MANIFEST
    for name, text in texts.items():
        assert (HERE / "corpus" / name).read_text() == text


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: Path(e["file"]).stem)
def test_gradients_as_manifest_says(entry: dict[str, Any]) -> None:
    val = _validate()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert val.check(entry, False, HERE) == []
        ns, _ = val.load(HERE / entry["file"])
        p, inputs, targets, states = val.point(entry["cell"], val.SEEDS[0])
        loss, grads, last = val.call(entry, ns, p, inputs, targets, states)
    assert np.ndim(loss) == 0
    for name, g in grads.items():
        assert np.shape(g) == p[name].shape, name
    assert [np.shape(s) for s in last] == [s.shape for s in states]
