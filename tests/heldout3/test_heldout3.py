"""The third held-out corpus is what its manifest says: the edit(s) of each buggy file
(fast), each file's loss and gradients against central differences (slow), and the
runner's independent check of a proposed fix, exercised with the manifest's own inverse
edits (fast: a handful of files)."""

from __future__ import annotations

import functools
import importlib.util
import json
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
TOOLS = HERE.parent / "heldout2"


@functools.cache
def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"heldout3_{name}", TOOLS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ENTRIES: list[dict[str, Any]] = json.loads((HERE / "manifest.json").read_text())["files"]
BY_FILE = {e["file"]: e for e in ENTRIES}


def test_counts() -> None:
    def n(cells: tuple[str, ...], expect: str) -> int:
        return sum(e["cell"] in cells and e["expect"] == expect for e in ENTRIES)

    assert n(("vanilla",), "ok") >= 7
    assert n(("lstm",), "ok") >= 1 and n(("gru",), "ok") >= 1
    assert n(("vanilla",), "bug") >= 36
    assert n(("lstm", "gru"), "bug") >= 9
    assert n(("vanilla", "lstm", "gru"), "bug2") == 6
    assert {e["form"] for e in ENTRIES} >= {"globals", "class", "dict", "args"}
    assert any(e["file"].endswith(".ipynb") for e in ENTRIES)
    assert all(len(e["edits"]) == 2 for e in ENTRIES if e["expect"] == "bug2")


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_edits_as_manifest_says(entry: dict[str, Any]) -> None:
    assert (HERE / entry["file"]).is_file()
    assert _module("validate").check_edit(entry, HERE) == []


def _inverse(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The manifest's edits undone, written as a bpttcheck fix (`impl.fix.edits`)."""
    files = _module("validate")
    out = []
    for m in _module("run_bpttcheck")._manifest_edits(entry):
        cell = m.get("cell")
        if m["kind"] == "change":
            out.append({"line": m["file_line"], "before": m["buggy"], "after": m["original"]})
        elif m["kind"] == "insert":
            out.append({"line": m["file_line"], "before": m["buggy"], "after": ""})
        else:  # re-insert the deleted line by replacing the line above with both
            path = HERE / entry["file"]
            nb = files.cells(path)
            lines = nb[cell - 1] if nb is not None else path.read_text().splitlines()
            above = lines[m["file_line"] - 2]
            out.append({"line": m["file_line"] - 1, "before": above,
                        "after": above + "\n" + m["original"]})
        if cell is not None:
            out[-1]["cell"] = cell
    return out


@pytest.mark.parametrize("name", ["corpus/v_steps_bug_forward_index.py",
                                  "corpus/v_prealloc_bug_reset_in_loop.py",
                                  "corpus/v_notebook_bug_no_dby.ipynb",
                                  "corpus/v_notebook_bug_two_dby_hprev.ipynb",
                                  "corpus/v_cache_bug_two_T_dbh.py"])
def test_fix_verification_accepts_the_inverse_edit(name: str) -> None:
    entry = BY_FILE[name]
    before = (HERE / name).read_bytes()
    exact, problems = _module("run_bpttcheck").verify_fix(entry, HERE, _inverse(entry))
    assert (exact, problems) == (True, [])
    assert (HERE / name).read_bytes() == before


def test_fix_verification_rejects_a_fix_that_is_not_one() -> None:
    entry = BY_FILE["corpus/v_cache_bug_two_T_dbh.py"]
    runner = _module("run_bpttcheck")
    # only one of the two bugs undone: the copy still differs in dbh
    exact, problems = runner.verify_fix(entry, HERE, _inverse(entry)[1:])
    assert not exact and any(p.startswith("bh ") for p in problems)
    # an edit whose `before` is not the file's text is reported
    bad = [{**_inverse(entry)[0], "before": "something else"}]
    exact, problems = runner.verify_fix(entry, HERE, bad)
    assert not exact and "the fix says 'something else'" in problems[0]


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_gradients_as_manifest_says(entry: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        # the corpus's own arithmetic may warn (a log of a negative number is one bug's
        # NaN loss); what is judged is the values it returns
        warnings.simplefilter("ignore", RuntimeWarning)
        problems = _module("validate").check(entry, verbose=False, root=HERE)
    assert problems == []


def test_a_partial_fix_is_checked_against_what_it_says_remains() -> None:
    entry = BY_FILE["corpus/v_cache_bug_two_T_dbh.py"]
    runner = _module("run_bpttcheck")
    undo_transpose = _inverse(entry)[1:]
    claims = {("bh",): True, (): False, ("bh", "Whh"): False}
    for remaining, as_claimed in claims.items():
        rec = {"fix": {"verified": True, "partial": True, "remaining": list(remaining),
                       "edits": undo_transpose}}
        runner.score_fix(entry, HERE, rec)
        assert rec["fix_exact"] is False and rec["fix_as_claimed"] is as_claimed
