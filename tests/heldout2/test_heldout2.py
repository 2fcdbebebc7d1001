"""The held-out corpus is what its manifest says: one edit per buggy file (fast), and
each file's loss and gradients against central differences (slow, about a minute)."""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent


@functools.cache
def _validate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("heldout2_validate", HERE / "validate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ENTRIES: list[dict[str, Any]] = json.loads((HERE / "manifest.json").read_text())["files"]


def test_counts() -> None:
    by = {(e["cell"], e["expect"]) for e in ENTRIES}
    assert by == {(c, x) for c in ("vanilla", "lstm", "gru") for x in ("ok", "bug")}
    count = {k: sum((e["cell"], e["expect"]) == k for e in ENTRIES) for k in by}
    assert count[("vanilla", "ok")] >= 6 and count[("vanilla", "bug")] >= 30
    for cell in ("lstm", "gru"):
        assert count[(cell, "ok")] >= 2 and count[(cell, "bug")] >= 4


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_one_edit(entry: dict[str, Any]) -> None:
    assert (HERE / entry["file"]).is_file()
    assert _validate().check_edit(entry) == []


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_gradients_as_manifest_says(entry: dict[str, Any]) -> None:
    assert _validate().check(entry, verbose=False) == []
