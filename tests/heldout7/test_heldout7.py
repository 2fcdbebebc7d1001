"""heldout7's corpus is what manifest.json says.

Default run: every buggy file is its base with exactly the edit(s) the manifest records
(applied here from the records alone, not through make_corpus.py or validate.py); each
edit's recorded original is the base's line; make_corpus.py rebuilds the manifest and
every buggy file unchanged; the corpus has the size README.md gives.
Under -m slow: tests/heldout2/validate.py's check of each file (loss, last state(s),
every gradient against central differences) with warnings as errors, and the shapes of
what each file returns.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import warnings
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ENTRIES: list[dict[str, Any]] = json.loads((HERE / "manifest.json").read_text())["files"]
BUGGY = [e for e in ENTRIES if e["expect"] != "ok"]


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def _validate() -> ModuleType:
    return _load(HERE.parent / "heldout2" / "validate.py", "heldout7_validate")


def _stem(entry: dict[str, Any]) -> str:
    return Path(entry["file"]).stem


def _records(entry: dict[str, Any]) -> list[dict[str, Any]]:
    return list(entry["edits"]) if entry["expect"] == "bug2" else [entry["edit"]]


def test_size() -> None:
    by = Counter((e["expect"], e["cell"]) for e in ENTRIES)
    assert by[("ok", "vanilla")] == 5
    assert by[("ok", "lstm")] == 2
    assert by[("ok", "gru")] == 2
    assert by[("bug", "vanilla")] == 40
    assert by[("bug", "lstm")] == 14
    assert by[("bug", "gru")] == 15
    assert sum(e["expect"] == "bug2" for e in ENTRIES) == 3
    on_disk = {p.name for p in (HERE / "corpus").glob("*.py")}
    assert on_disk == {Path(e["file"]).name for e in ENTRIES}
    assert len({e["file"] for e in ENTRIES}) == len(ENTRIES)


@pytest.mark.parametrize("entry", BUGGY, ids=_stem)
def test_file_is_base_with_recorded_edits(entry: dict[str, Any]) -> None:
    base = (HERE / entry["base"]).read_text().splitlines()
    mine = (HERE / entry["file"]).read_text().splitlines()
    records = _records(entry)
    assert [r["line"] for r in records] == sorted({r["line"] for r in records})
    expected = list(base)
    # from the bottom up, so that each record's line (its line in the base) still holds
    for r in sorted(records, key=lambda r: -r["line"]):
        k = r["line"] - 1
        assert r["kind"] in ("change", "delete")
        assert expected[k] == r["original"]
        if r["kind"] == "change":
            assert r["buggy"] not in (None, r["original"])
            expected[k] = r["buggy"]
        else:
            assert r["buggy"] is None
            del expected[k]
    assert mine == expected
    assert mine != base


def test_make_corpus_reproduces_everything() -> None:
    make = _load(HERE / "make_corpus.py", "heldout7_make_corpus")
    manifest, texts = make.build()
    assert manifest == json.loads((HERE / "manifest.json").read_text())
    assert set(texts) == {Path(e["file"]).name for e in BUGGY}
    for name, text in texts.items():
        assert (HERE / "corpus" / name).read_text() == text, name


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=_stem)
def test_validate_says_what_the_manifest_says(entry: dict[str, Any]) -> None:
    v = _validate()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        problems = v.check(entry, False, HERE)
    assert problems == []


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=_stem)
def test_returned_shapes(entry: dict[str, Any]) -> None:
    v = _validate()
    cell = entry["cell"]
    p, inputs, targets, states = v.point(cell, v.SEEDS[0])
    ns, _ = v.load(HERE / entry["file"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grads, last = v.call(entry, ns, p, inputs, targets, states)
    assert np.isfinite(loss)
    assert set(grads) == set(v.PARAMS[cell])
    for name in v.PARAMS[cell]:
        assert np.shape(grads[name]) == p[name].shape, name
    assert len(last) == len(states)
    for got, want in zip(last, states, strict=True):
        assert np.shape(got) == want.shape
