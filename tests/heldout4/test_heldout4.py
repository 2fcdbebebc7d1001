"""heldout4's corpus is what its manifest says.

Default run (fast): every buggy file is its base with exactly the edit(s) the manifest
lists, re-applied here independently of validate.py; make_corpus.py reproduces the
manifest and every file; the corpus has the promised size. Under `-m slow`: validate.py's
check per file (the loss, last state(s) and gradient against its own model and central
differences, at two points), and no bug changes a returned gradient's shape.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
MANIFEST = json.loads((HERE / "manifest.json").read_text())
ENTRIES: list[dict[str, Any]] = MANIFEST["files"]
BUGGY = [e for e in ENTRIES if e["expect"] != "ok"]


@functools.cache
def _module(name: str, path: Path) -> ModuleType:
    """Loaded once per run (validate.py caches its numerical gradients per module)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def _ids(entries: list[dict[str, Any]]) -> list[str]:
    return [Path(e["file"]).stem for e in entries]


def _apply(base: list[str], edits: list[dict[str, Any]]) -> list[str]:
    """The base's lines with the recorded edits; each edit's line is the one it has
    with that edit alone, so they are applied from the bottom up."""
    out = list(base)
    for edit in sorted(edits, key=lambda e: e["line"], reverse=True):
        k = edit["line"] - 1
        if edit["kind"] == "insert":
            out.insert(k, edit["buggy"])
            continue
        assert out[k] == edit["original"], f"line {edit['line']} is not the recorded original"
        if edit["kind"] == "delete":
            del out[k]
        else:
            out[k] = edit["buggy"]
    return out


def _cells(path: Path) -> list[list[str]]:
    """A notebook's cells as lists of lines (numbered from 1 in the manifest, markdown
    included); a .py file as one cell."""
    if path.suffix != ".ipynb":
        return [path.read_text().splitlines()]
    nb = json.loads(path.read_text())
    return ["".join(c["source"]).splitlines() for c in nb["cells"]]


@pytest.mark.parametrize("entry", BUGGY, ids=_ids(BUGGY))
def test_buggy_file_is_its_base_with_the_listed_edits(entry: dict[str, Any]) -> None:
    edits = entry["edits"] if entry["expect"] == "bug2" else [entry["edit"]]
    assert len(edits) == (2 if entry["expect"] == "bug2" else 1)
    base = _cells(HERE / entry["base"])
    mine = _cells(HERE / entry["file"])
    assert len(base) == len(mine)
    for number, (b, m) in enumerate(zip(base, mine, strict=True), start=1):
        here = [e for e in edits if e.get("cell", 1) == number]
        assert _apply(b, here) == m, f"cell {number}"
        # each edit on its own changes exactly one line of the base
        for edit in here:
            alone = _apply(b, [edit])
            assert abs(len(alone) - len(b)) == (0 if edit["kind"] == "change" else 1)
            assert alone != b


def test_make_corpus_reproduces_the_manifest_and_the_files() -> None:
    make = _module("heldout4_make_corpus", HERE / "make_corpus.py")
    assert make.manifest() == MANIFEST
    for bug in make.BUGS:
        text, _ = make.build(bug)
        assert (HERE / "corpus" / make.bug_file(bug)).read_text() == text


def test_corpus_size_and_listing() -> None:
    one = [e for e in ENTRIES if e["expect"] == "bug"]
    assert sum(e["cell"] == "vanilla" for e in one) >= 30
    assert sum(e["cell"] != "vanilla" for e in one) >= 14
    assert sum(e["expect"] == "bug2" for e in ENTRIES) == 4
    ok = {e["file"] for e in ENTRIES if e["expect"] == "ok"}
    assert {e["base"] for e in BUGGY} <= ok
    on_disk = {f"corpus/{p.name}" for p in (HERE / "corpus").iterdir()
               if p.suffix in (".py", ".ipynb")}
    assert on_disk == {e["file"] for e in ENTRIES}
    for e in BUGGY:
        assert e["wrong"], f"{e['file']}: a bug must make some gradient wrong"


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_file_is_what_the_manifest_says(entry: dict[str, Any]) -> None:
    validate = _module("heldout4_validate", HERE.parent / "heldout2" / "validate.py")
    assert validate.check(entry, False, HERE) == []
    ns, _ = validate.load(HERE / entry["file"])
    p, inputs, targets, states = validate.point(entry["cell"], validate.SEEDS[0])
    _, grads, last = validate.call(entry, ns, p, inputs, targets, states)
    for name, g in grads.items():
        assert np.shape(g) == p[name].shape, name
    assert [np.shape(s) for s in last] == [s.shape for s in states]
