"""heldout8's corpus is what its manifest says.

Default run: every buggy file is its base with exactly the listed edit(s), re-applied
here from the manifest's records (independently of make_corpus.py and validate.py);
make_corpus.py reproduces the manifest and every file; the corpus has its size.
Slow run: validate.py's check of every file (warnings are errors under pytest), and every
returned gradient and state has its parameter's shape.
"""

from __future__ import annotations

import importlib.util
import json
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
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _apply(lines: list[str], edit: dict[str, Any]) -> list[str]:
    k = edit["line"] - 1
    assert lines[k] == edit["original"], f"line {edit['line']} is not the recorded original"
    if edit["kind"] == "delete":
        assert edit["buggy"] is None
        return lines[:k] + lines[k + 1:]
    assert edit["kind"] == "change"
    assert edit["buggy"] != edit["original"]
    return lines[:k] + [edit["buggy"]] + lines[k + 1:]


@pytest.mark.parametrize("entry", BUGGY, ids=[e["file"] for e in BUGGY])
def test_buggy_file_is_its_base_with_the_listed_edits(entry: dict[str, Any]) -> None:
    base = (HERE / entry["base"]).read_text().splitlines()
    mine = (HERE / entry["file"]).read_text().splitlines()
    edits = entry["edits"] if entry["expect"] == "bug2" else [entry["edit"]]
    assert len(edits) == (2 if entry["expect"] == "bug2" else 1)
    lines = base
    # bottom-up, so every recorded line number is the base's
    for edit in sorted(edits, key=lambda e: -e["line"]):
        alone = _apply(base, edit)
        if edit["kind"] == "change":  # one line differs, nothing moves
            assert len(alone) == len(base)
            assert sum(a != b for a, b in zip(alone, base, strict=True)) == 1
        else:  # one line gone, the rest unchanged
            assert alone == base[:edit["line"] - 1] + base[edit["line"]:]
        lines = _apply(lines, edit)
    assert lines == mine


def test_make_corpus_reproduces_the_manifest_and_the_files() -> None:
    make = _module(HERE / "make_corpus.py", "heldout8_make_corpus")
    manifest, texts = make.build()
    assert manifest == MANIFEST
    assert set(texts) == {e["file"] for e in BUGGY}
    for name, text in texts.items():
        assert (HERE / name).read_text() == text, name
    on_disk = {f"corpus/{p.name}" for p in (HERE / "corpus").glob("*.py")}
    assert on_disk == {e["file"] for e in ENTRIES}


def test_corpus_size() -> None:
    counts = Counter((e["cell"], e["expect"]) for e in ENTRIES)
    assert counts[("vanilla", "ok")] == 5
    assert counts[("lstm", "ok")] == 2
    assert counts[("gru", "ok")] == 2
    assert counts[("vanilla", "bug")] == 35
    assert counts[("lstm", "bug")] == 14
    assert counts[("gru", "bug")] == 14
    assert sum(v for (_, expect), v in counts.items() if expect == "bug2") == 2
    for e in ENTRIES:
        assert e["base"] in {x["file"] for x in ENTRIES if x["expect"] == "ok"}
        if e["expect"] != "ok":
            assert e["wrong"], f"{e['file']}: a bug must make some gradient wrong"


@pytest.fixture(scope="module")
def validate() -> ModuleType:
    return _module(HERE.parent / "heldout2" / "validate.py", "heldout8_validate")


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_validate_agrees_with_the_manifest(validate: ModuleType,
                                           entry: dict[str, Any]) -> None:
    assert validate.check(entry, False, HERE) == []


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_returned_shapes(validate: ModuleType, entry: dict[str, Any]) -> None:
    ns, _ = validate.load(HERE / entry["file"])
    cell = entry["cell"]
    p, inputs, targets, states = validate.point(cell, validate.SEEDS[0])
    loss, grads, last = validate.call(entry, ns, p, inputs, targets, states)
    assert np.isfinite(loss)
    for name in validate.PARAMS[cell]:
        assert np.shape(grads[name]) == p[name].shape, name
    assert len(last) == len(states)
    for got, want in zip(last, states, strict=True):
        assert np.shape(got) == want.shape
