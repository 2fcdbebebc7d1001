"""The fix search (bpttcheck/fix/): verified one-line edits, partial fixes, the user's file
untouched, and the CLI's --no-fix / --fix-out / JSON impl.fix."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import Result

from bpttcheck import fix, prose, selftest
from bpttcheck.impl import ImplOptions
from bpttcheck.impl.check import parse_loss
from bpttcheck.spec import Spec

Run = Callable[..., Result]
TINY = ["--hidden", "6", "--seq", "5", "--vocab", "4", "--seed", "2", "--init-scale", "0.5",
        "--hprev", "random"]
TINY_SPEC = Spec(hidden=6, seq=5, vocab=4, seed=2, init_scale=0.5, hprev="random")
CORPUS = selftest.corpus_dir()
SCHEMA = Path(__file__).resolve().parent.parent / "bpttcheck" / "schema" / "report-1.schema.json"
BUG_LINE = "        dhnext = np.dot(Whh, dhraw)  # BUG: Whh, not Whh.T"


@pytest.fixture
def transpose_bug(tmp_path: Path) -> Path:
    path = tmp_path / "rnn.py"
    shutil.copy(CORPUS / "bug_recursion_Whh.py", path)
    return path


@pytest.fixture
def searching(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's default: a fix is searched (conftest turns it off for other tests)."""
    monkeypatch.delenv("BPTTCHECK_NO_FIX", raising=False)


def test_missing_transpose_is_fixed_and_verified(transpose_bug: Path) -> None:
    before = transpose_bug.read_bytes()
    out = fix.search(f"{transpose_bug}:lossFun", ImplOptions(), TINY_SPEC, budget=20.0)
    assert out.fix is not None and out.fix.verified and not out.fix.partial
    (edit,) = out.fix.edits
    line = before.decode().splitlines().index(BUG_LINE) + 1
    assert (edit.line, edit.before) == (line, BUG_LINE)
    assert edit.after == "        dhnext = np.dot(Whh.T, dhraw)  # BUG: Whh, not Whh.T"
    assert out.fix.specs == 2 and out.fix.max_rel_error < 1e-9
    assert set(out.wrong) == {"Wxh", "Whh", "bh"}
    assert transpose_bug.read_bytes() == before  # the user's file is never written


def test_cli_fix_edits_applied_give_exit_0(run_cli: Run, transpose_bug: Path, tmp_path: Path,
                                           searching: None) -> None:
    before = transpose_bug.read_bytes()
    patched = tmp_path / "patched.py"
    r = run_cli("compare", "--impl", f"{transpose_bug}:lossFun", *TINY, "--fix-budget", "20",
                "--fix-out", str(patched), "--format", "json")
    assert r.exit_code == 1, r.output
    report = json.loads(r.stdout)
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))
    f = report["impl"]["fix"]
    assert f["verified"] and not f["partial"] and f["remaining"] == [] and f["specs"] == 2
    # apply impl.fix.edits as documented: replace line `line` (1-based) by `after`
    lines = before.decode().splitlines(keepends=True)
    for e in f["edits"]:
        assert lines[e["line"] - 1].rstrip("\n") == e["before"]
        lines[e["line"] - 1] = e["after"] + "\n"
    fixed = tmp_path / "fixed.py"
    fixed.write_text("".join(lines))
    assert fixed.read_text() == patched.read_text()  # --fix-out wrote the same
    assert transpose_bug.read_bytes() == before
    again = run_cli("compare", "--impl", f"{fixed}:lossFun", *TINY, "--format", "json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["impl"]["fix"] is None


def test_text_output_shows_the_diff_before_the_headline(run_cli: Run, transpose_bug: Path,
                                                        searching: None) -> None:
    r = run_cli("compare", "--impl", f"{transpose_bug}:lossFun", *TINY, "--fix-budget", "20")
    assert r.exit_code == 1
    out = r.stdout.rstrip().splitlines()
    assert out[-1].startswith("✗")
    head = next(k for k, line in enumerate(out) if line.startswith("Fix found (verified"))
    i = next(k for k, line in enumerate(out) if line.strip().startswith("--- ")) - 1
    assert head <= i < len(out) - 6
    assert out[i + 1].strip() == f"--- {transpose_bug}"
    assert out[i + 2].strip() == f"+++ {transpose_bug} (fixed)"
    assert out[i + 3].strip().startswith("@@ line ")
    assert out[i + 4].strip() == "-" + BUG_LINE
    assert out[i + 5].strip() == "+" + BUG_LINE.replace("Whh,", "Whh.T,", 1)


def test_two_bugs_get_a_partial_fix_naming_what_remains(transpose_bug: Path) -> None:
    text = transpose_bug.read_text().replace("        dby += dy\n", "        dby += dy ** 3\n")
    transpose_bug.write_text(text)
    before = transpose_bug.read_bytes()
    out = fix.search(f"{transpose_bug}:lossFun", ImplOptions(), TINY_SPEC, budget=6.0)
    assert set(out.wrong) == {"Wxh", "Whh", "bh", "by"}
    assert out.fix is not None and out.fix.partial and not out.fix.verified
    assert out.fix.remaining == ("by",)
    assert out.fix.edits[0].after.strip().startswith("dhnext = np.dot(Whh.T, dhraw)")
    assert "only dby is still wrong" in fix.heading(out.fix)
    assert transpose_bug.read_bytes() == before


def test_what_was_tried_counts_single_edits_and_pairs_apart(transpose_bug: Path) -> None:
    """An unfixable bug alone, searched to the end: every candidate counted is tried (none
    that is not Python is counted), and no pair runs; with a second, fixable bug the pairs
    tried after the single edits are said apart ("tried N of M ... and P pairs")."""
    text = transpose_bug.read_text()
    transpose_bug.write_text(text.replace("np.dot(Whh, dhraw)", "np.dot(Whh.T, dhraw)")
                             .replace("        dby += dy\n", "        dby += dy ** 3\n"))
    out = fix.search(f"{transpose_bug}:lossFun", ImplOptions(), TINY_SPEC, budget=60.0)
    assert out.fix is None and out.generated > 0
    assert out.tried == out.generated and out.pairs == 0
    line = prose.fix_none(out.tried, out.generated, out.where, out.seconds, out.rejected,
                          out.pairs)
    assert f"tried {out.generated} of {out.generated} candidate edits" in line
    assert "pair" not in line
    assert "pairs of them" in prose.fix_none(3, 5, "lines 1-2", 1.0, 0, 7)


def test_a_form_feed_line_leaves_the_edit_on_the_right_line(transpose_bug: Path) -> None:
    """A page-break line (^L) before the function: the edit names the line Python numbers
    (str.splitlines() would count one more), and applying it fixes the file."""
    transpose_bug.write_text("\x0c\n" + transpose_bug.read_text())
    out = fix.search(f"{transpose_bug}:lossFun", ImplOptions(), TINY_SPEC, budget=20.0)
    assert out.fix is not None and out.fix.verified
    edit = out.fix.edits[0]
    assert transpose_bug.read_text().split("\n")[edit.line - 1] == edit.before
    assert "Whh.T" in fix.apply(transpose_bug.read_text(), [edit])


def test_a_partial_fix_may_not_break_what_the_screen_does_not_see(transpose_bug: Path
                                                                   ) -> None:
    """The loss returned as a mean with summed gradients, and a second bug in dby: scaling
    the returned gradients fixes four parameters, but the same edit that also scales the
    returned hidden state is refused by the whole check (its remaining names hlast); the
    partial fix proposed leaves the state alone and says only dby remains."""
    text = transpose_bug.read_text().replace("np.dot(Whh, dhraw)", "np.dot(Whh.T, dhraw)")
    text = text.replace("    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]",
                        "    n = len(inputs)\n"
                        "    return loss / n, dWxh, dWhh, dWhy, dbh, dby, hs[n - 1]")
    transpose_bug.write_text(text.replace("        dby += dy\n", "        dby += dy ** 3\n"))
    out = fix.search(f"{transpose_bug}:lossFun", ImplOptions(), TINY_SPEC, budget=30.0,
                     declared=parse_loss("mean=T"))
    assert out.fix is not None and out.fix.partial and out.fix.remaining == ("by",)
    after = out.fix.edits[0].after
    assert "dWxh / n" in after and "hs[n - 1] / n" not in after, after


def test_float32_partial_fix_refused_whole_is_still_a_partial(tmp_path: Path) -> None:
    """float32 code with two bugs (Whh for Whh.T, and dWxh scaled by 1.0003): the .T edit
    passes the float32 screen, and the whole check refuses it for dWxh alone, which makes
    it a partial fix (it was dropped)."""
    path = tmp_path / "f32.py"
    shutil.copy(Path(__file__).parent / "fixtures" / "fix" / "f32_two_bugs.py", path)
    spec = dataclasses.replace(TINY_SPEC, hidden=8, seq=6)
    out = fix.search(f"{path}:lossFun", ImplOptions(), spec, budget=30.0, float32=True)
    assert out.fix is not None and out.fix.partial and out.fix.remaining == ("Wxh",)
    assert "Whh.T" in out.fix.edits[0].after


def test_no_fix_flag(run_cli: Run, transpose_bug: Path, searching: None) -> None:
    r = run_cli("compare", "--impl", f"{transpose_bug}:lossFun", *TINY, "--no-fix",
                "--format", "json")
    assert r.exit_code == 1
    impl = json.loads(r.stdout)["impl"]
    assert impl["fix"] is None and impl["fix_reason"] is None
    text = run_cli("compare", "--impl", f"{transpose_bug}:lossFun", *TINY, "--no-fix")
    assert "Fix found" not in text.stdout and "No verified" not in text.stdout


def test_fix_out_refuses_the_original_file(run_cli: Run, transpose_bug: Path,
                                           searching: None) -> None:
    before = transpose_bug.read_bytes()
    r = run_cli("compare", "--impl", f"{transpose_bug}:lossFun", *TINY, "--fix-out",
                str(transpose_bug))
    assert r.exit_code == 2
    assert "--fix-out" in r.stderr and "never writes over your code" in r.stderr
    assert transpose_bug.read_bytes() == before


def test_fix_out_never_writes_over_another_file(run_cli: Run, transpose_bug: Path,
                                               searching: None) -> None:
    """An existing file (a module the checked file imports, an earlier copy) is never
    written over, and a .py copy never lands on a .ipynb path: exit 2, nothing written."""
    sibling = transpose_bug.parent / "helpers.py"
    sibling.write_text("X = 1\n")
    r = run_cli("compare", "--impl", f"{transpose_bug}:lossFun", *TINY, "--fix-out",
                str(sibling))
    assert r.exit_code == 2 and "that file exists" in r.stderr
    assert sibling.read_text() == "X = 1\n"
    nb = transpose_bug.parent / "copy.ipynb"
    r = run_cli("compare", "--impl", f"{transpose_bug}:lossFun", *TINY, "--fix-out", str(nb))
    assert r.exit_code == 2 and "a path not ending in .ipynb" in r.stderr and not nb.exists()


def test_a_partial_fix_copy_says_it_is_still_wrong() -> None:
    assert "partial fix only, so dby is still wrong" in prose.fix_written("c.py", ("by",))
    assert prose.fix_written("c.py") == "Patched copy written to c.py (your file is unchanged)."


def test_a_correct_file_gets_no_fix_section(run_cli: Run, tmp_path: Path,
                                            searching: None) -> None:
    path = tmp_path / "ok.py"
    shutil.copy(CORPUS / "ok_uvw.py", path)
    target = f"{path}:{selftest_target(path)}"
    r = run_cli("compare", "--impl", target, *TINY)
    assert r.exit_code == 0, r.output
    assert "Fix" not in r.stdout and "fix" not in r.stdout
    j = run_cli("compare", "--impl", target, *TINY, "--format", "json")
    impl = json.loads(j.stdout)["impl"]
    assert impl["fix"] is None and impl["fix_reason"] is None


def selftest_target(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.startswith("# selftest-target:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{path} names no target")


def test_python2_edits_keep_the_text_as_written(tmp_path: Path) -> None:
    text = ("import numpy as np\n"
            "print 'loading'\n"
            "def f(Whh, dhraw, xs):\n"
            "    for t in reversed(xrange(len(xs))):\n"
            "        dhnext = np.dot(Whh, dhraw)   # two spaces kept\n"
            "    return dhnext\n")
    path = tmp_path / "py2.py"
    cands = fix.candidates(text, path, "f", ("Wxh", "Whh", "bh"))
    afters = {(c.line, c.after) for c in cands}
    assert (5, "        dhnext = np.dot(Whh.T, dhraw)   # two spaces kept") in afters
    assert (4, "    for t in xrange(len(xs)):") in afters
    edit = fix.Edit(str(path), 5, "        dhnext = np.dot(Whh, dhraw)   # two spaces kept",
                    "        dhnext = np.dot(Whh.T, dhraw)   # two spaces kept")
    assert fix.apply(text, [edit]).splitlines()[1] == "print 'loading'"


def test_api_searches_only_when_asked(transpose_bug: Path) -> None:
    import bpttcheck

    kw = {"hidden": 6, "seq": 5, "vocab": 4, "seed": 2, "init_scale": 0.5, "hprev": "random"}
    plain = bpttcheck.check(impl=f"{transpose_bug}:lossFun", engines=("reference",), **kw)
    assert plain.impl is not None and plain.impl.fix is None and plain.impl.fix_reason is None
    asked = bpttcheck.check(impl=f"{transpose_bug}:lossFun", engines=("reference",), fix=True,
                            fix_budget=20.0, **kw)
    assert asked.impl is not None and asked.impl.fix is not None and asked.impl.fix.verified


def test_nothing_is_proposed_when_loss_and_gradient_are_already_right(tmp_path: Path) -> None:
    path = tmp_path / "ok.py"
    shutil.copy(CORPUS / "ok_uvw.py", path)
    out = fix.search(f"{path}:{selftest_target(path)}", ImplOptions(), TINY_SPEC, budget=20.0)
    assert out.fix is None and out.tried == 0 and "agree with the reference" in out.why


def test_no_fix_found_says_what_was_tried(transpose_bug: Path) -> None:
    import bpttcheck

    text = transpose_bug.read_text().replace("np.dot(Whh, dhraw)", "np.dot(Whh.T, dhraw)")
    transpose_bug.write_text(text.replace("        dby += dy\n", "        dby += dy ** 3\n"))
    report = bpttcheck.check(impl=f"{transpose_bug}:lossFun", engines=("reference",), fix=True,
                             fix_budget=1.5, hidden=6, seq=5, vocab=4, seed=2, init_scale=0.5,
                             hprev="random")
    assert report.impl is not None and not report.passed
    assert report.impl.fix is None
    reason = report.impl.fix_reason or ""
    assert reason.startswith("No verified one-line fix: tried ") and " over lines " in reason
    assert report.impl.to_dict()["fix"] is None


def test_a_file_importing_a_sibling_module_is_searched(transpose_bug: Path) -> None:
    (transpose_bug.parent / "helpers_fix.py").write_text(
        "def dtanh(h):\n    return 1 - h * h\n")
    text = transpose_bug.read_text().replace(
        "import numpy as np\n", "import numpy as np\nfrom helpers_fix import dtanh\n", 1)
    text = text.replace("dhraw = (1 - hs[t] * hs[t]) * dh", "dhraw = dtanh(hs[t]) * dh")
    transpose_bug.write_text(text)
    out = fix.search(f"{transpose_bug}:lossFun", ImplOptions(), TINY_SPEC, budget=20.0)
    assert out.fix is not None and out.fix.verified
    assert "Whh.T" in out.fix.edits[0].after


@pytest.fixture
def notebook_bug(tmp_path: Path) -> Path:
    """A notebook whose lossFun carries dh back instead of dhraw (cell 5)."""
    path = tmp_path / "rnn.ipynb"
    shutil.copy(CORPUS / "bug_notebook.ipynb", path)
    return path


def _apply_to_notebook(doc: dict[str, Any], edits: list[dict[str, Any]]) -> dict[str, Any]:
    """impl.fix.edits applied as documented: in cell ``cell`` (every cell counted from 1),
    line ``line`` (within the cell, 1-based) is ``before`` and becomes ``after``."""
    for e in edits:
        cell = doc["cells"][e["cell"] - 1]
        lines = "".join(cell["source"]).splitlines(keepends=True)
        assert lines[e["line"] - 1].rstrip("\n") == e["before"]
        lines[e["line"] - 1] = e["after"] + "\n" if e["after"] else ""
        cell["source"] = "".join(lines).splitlines(keepends=True)
    return doc


def test_notebook_fix_names_the_cell_and_its_edits_give_exact_gradients(
        run_cli: Run, notebook_bug: Path, tmp_path: Path, searching: None) -> None:
    before = notebook_bug.read_bytes()
    patched = tmp_path / "patched.ipynb"
    r = run_cli("compare", "--impl", f"{notebook_bug}:lossFun", *TINY, "--fix-budget", "30",
                "--fix-out", str(patched), "--format", "json")
    assert r.exit_code == 1, r.output
    report = json.loads(r.stdout)
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))
    f = report["impl"]["fix"]
    assert f["verified"] and not f["partial"] and f["specs"] == 2
    (edit,) = f["edits"]
    assert edit["cell"] == 5 and edit["before"] == "        carry = Whh.T @ dh"
    assert edit["after"] == "        carry = Whh.T @ dhraw"
    assert notebook_bug.read_bytes() == before  # never written
    fixed_doc = _apply_to_notebook(json.loads(before), f["edits"])
    written = json.loads(patched.read_text())  # --fix-out: the same notebook, patched
    assert written == fixed_doc
    assert set(written) == {"cells", "metadata", "nbformat", "nbformat_minor"}
    assert all(isinstance(c["source"], list) for c in written["cells"])
    fixed = tmp_path / "fixed.ipynb"
    fixed.write_text(json.dumps(fixed_doc))
    again = run_cli("compare", "--impl", f"{fixed}:lossFun", *TINY, "--no-fix")
    assert again.exit_code == 0, again.output
    text = run_cli("compare", "--impl", f"{notebook_bug}:lossFun", *TINY, "--fix-budget", "30")
    assert f"@@ cell 5, line {edit['line']} @@" in text.stdout
    assert "-        carry = Whh.T @ dh\n" in text.stdout


def test_notebook_fix_out_must_be_a_notebook(run_cli: Run, notebook_bug: Path, tmp_path: Path,
                                             searching: None) -> None:
    r = run_cli("compare", "--impl", f"{notebook_bug}:lossFun", *TINY, "--fix-out",
                str(tmp_path / "fixed.py"))
    assert r.exit_code == 2
    assert "--fix-out" in r.stderr and ".ipynb" in r.stderr


def test_notebook_edits_keep_the_cells_as_written(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    doc = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# t\n"]},
                     {"cell_type": "code", "metadata": {}, "outputs": [{"x": 1}],
                      "execution_count": 1, "source": "%time\na = 1\nb = a.T"}],
           "metadata": {"k": "é"}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False))
    d = fix.document.Document(path)
    assert d.lines == ["", "a = 1", "b = a.T"]  # the magic blanked, as the loader reads it
    e = d.edit(3, "b = a")
    assert (e.cell, e.line, e.before) == (2, 3, "b = a.T")
    out = json.loads(d.content([e], bare=False))
    assert out["cells"][1]["source"] == "%time\na = 1\nb = a"  # a string stays a string
    assert out["cells"][1]["outputs"] == [{"x": 1}] and out["metadata"] == {"k": "é"}
    assert json.loads(d.content([e]))["cells"][1]["outputs"] == []  # the search's copies
    assert d.content([], bare=False).startswith('{\n  "cells"')  # indented as written




def test_an_edit_exact_in_loss_and_gradient_must_pass_the_whole_check(transpose_bug: Path
                                                                     ) -> None:
    """Whh.T makes loss and gradient exact, but the returned hidden state is wrong too: the
    --impl check fails the copy, so the edit is not proposed as a verified fix."""
    text = transpose_bug.read_text()
    transpose_bug.write_text(text.replace("hs[len(inputs) - 1]", "hs[0]"))
    out = fix.search(f"{transpose_bug}:lossFun", ImplOptions(), TINY_SPEC, budget=2.0)
    assert out.rejected >= 1
    assert out.fix is None or not out.fix.verified
    assert "passed the screen at both points but failed the whole check" in prose.fix_none(
        out.tried, out.generated, out.where, out.seconds, out.rejected)


def _squash(text: str) -> str:
    return "".join(text.split())


def _loop(*lines: str, head: str = "for t in reversed(range(n)):",
          ret: str = "return dWxh, dWhh, dWhy") -> str:
    return ("import numpy as np\n\n\n"
            "def f(inputs, targets, hprev, Wxh, Whh, Why, hs, xs, ps):\n"
            "    dWxh, dWhh, dWhy = 0, 0, 0\n"
            "    dhnext = 0\n"
            "    n = len(inputs)\n"
            f"    {head}\n"
            "        dy = ps[t]\n"
            + "".join(f"        {line}\n" for line in lines)
            + f"    {ret}\n")


# Each operator of the issue's list, run backwards: (source, line with the bug, its fix, kind).
OPERATORS = {
    "add a transpose": (_loop("dhnext = np.dot(Whh, dy)"), 10, "dhnext = np.dot(Whh.T, dy)",
                        "transpose"),
    "remove a transpose": (_loop("dWhh += np.dot(dy, hs[t - 1].T).T"), 10,
                           "dWhh += np.dot(dy, hs[t - 1].T)", "transpose"),
    "index t for t-1": (_loop("dWhh += np.dot(dy, hs[t].T)"), 10,
                        "dWhh += np.dot(dy, hs[t-1].T)", "index"),
    "index t-1 for t": (_loop("dWhy += np.dot(dy, hs[t - 1].T)"), 10,
                        "dWhy += np.dot(dy, hs[t].T)", "index"),
    "missing carried term": (_loop("dh = np.dot(Why.T, dy)", "dhnext = np.dot(Whh.T, dh)"), 10,
                             "dh = np.dot(Why.T, dy) + dhnext", "carry"),
    "missing term, any name": (_loop("dh = Why.T @ dy", "dWhh += dh", "back = Whh.T @ dh"), 10,
                               "dh = Why.T @ dy + back", "carry"),
    "= for +=": (_loop("dWxh = np.dot(dy, xs[t].T)"), 10, "dWxh += np.dot(dy, xs[t].T)",
                 "accumulate"),
    "+= for =": (_loop("dhnext += np.dot(Whh.T, dy)"), 10, "dhnext = np.dot(Whh.T, dy)",
                 "accumulate"),
    "sign of a term": (_loop("dy[targets[t]] += 1"), 10, "dy[targets[t]] -= 1", "sign"),
    "sign of a product": (_loop("dhnext = -np.dot(Whh.T, dy)"), 10,
                          "dhnext = np.dot(Whh.T, dy)", "sign"),
    "a scale removed": (_loop("dWhy += np.dot(dy, hs[t].T) / len(inputs)"), 10,
                        "dWhy += np.dot(dy, hs[t].T)", "scale"),
    "a scale on the other side": (_loop("dWhy += dy", ret="return dWhy / n, dWxh, dWhh"), 11,
                                  "return dWhy / n, dWxh / n, dWhh / n", "scale"),
    "swap same-shape variables": (_loop("dh = dy", "dhraw = (1 - hs[t] * hs[t]) * dh",
                                        "dhnext = np.dot(Whh.T, dh)"), 12,
                                  "dhnext = np.dot(Whh.T, dhraw)", "swap"),
    "loop direction": (_loop("dWhy += dy", head="for t in range(n):"), 8,
                       "for t in reversed(range(n)):", "loop"),
    "loop bound": (_loop("dWhy += dy", head="for t in reversed(range(1, n)):"), 8,
                   "for t in reversed(range(0, n)):", "bound"),
    "tanh derivative (1 - h)": (_loop("dWhh += (1 - hs[t]) * dy"), 10,
                                "dWhh += (1 - hs[t] * hs[t]) * dy", "tanh"),
    "tanh derivative (1 - h)**2": (_loop("dWhh += (1 - hs[t]) ** 2 * dy"), 10,
                                   "dWhh += (1 - hs[t] * hs[t]) * dy", "tanh"),
    "tanh derivative h * (1 - h)": (_loop("dWhh += hs[t] * (1 - hs[t]) * dy"), 10,
                                    "dWhh += (1 - hs[t] * hs[t]) * dy", "tanh"),
    "tanh derivative 1 - tanh(a)": (_loop("dWhh += (1 - np.tanh(xs[t])) * dy"), 10,
                                    "dWhh += (1 - np.tanh(xs[t]) * np.tanh(xs[t])) * dy",
                                    "tanh"),
    "a stray clip": (_loop("dy = np.clip(dy, -1, 1)", "dWhy += dy"), 10, "dy = dy", "clip"),
    "delete a statement": (_loop("dy[targets[t]] += 1", "dWhy += dy"), 10, "", "delete"),
}


@pytest.mark.parametrize("case", sorted(OPERATORS))
def test_each_operator_of_the_issue_is_a_candidate(case: str, tmp_path: Path) -> None:
    text, line, after, kind = OPERATORS[case]
    assert text.splitlines()[line - 1].strip()  # the line named is the one with the bug
    cands = fix.candidates(text, tmp_path / "f.py", "f", ("Wxh", "Whh", "bh"))
    found = [c for c in cands if c.line == line and _squash(c.after) == _squash(after)]
    assert found, f"{case}: no candidate {after!r} on line {line}"
    assert any(c.kind == kind for c in found)


def test_a_forgotten_carry_of_any_name_is_fixed(transpose_bug: Path) -> None:
    """The carried gradient is called `back` here (no 'next' in it): the loop writes it and
    nothing reads it, which is what makes it a candidate for the missing term."""
    text = transpose_bug.read_text().replace("np.dot(Whh, dhraw)", "np.dot(Whh.T, dhraw)")
    text = text.replace("dhnext", "back").replace(" + back\n", "\n", 1)
    assert "np.dot(Why.T, dy)\n" in text
    transpose_bug.write_text(text)
    out = fix.search(f"{transpose_bug}:lossFun", ImplOptions(), TINY_SPEC, budget=20.0)
    assert out.fix is not None and out.fix.verified
    assert out.fix.edits[0].after.strip().startswith("dh = np.dot(Why.T, dy) + back")


def test_a_layer_function_gets_a_fix_and_fix_out(run_cli: Run, tmp_path: Path,
                                                 searching: None) -> None:
    """--impl FILE.py:rnn_backward (a layer): the same search, judged by the layer check at
    two points; --fix-out writes the patched copy, whose check then passes."""
    path = tmp_path / "layer.py"
    shutil.copy(CORPUS / "bug_layer_carry_transpose.py", path)
    before = path.read_bytes()
    out = tmp_path / "fixed.py"
    r = run_cli("compare", "--impl", f"{path}:rnn_backward", *TINY, "--fix-budget", "30",
                "--fix-out", str(out), "--format", "json")
    assert r.exit_code == 1, r.output
    f = json.loads(r.stdout)["fix"]
    assert f["verified"] and f["specs"] == 2
    (edit,) = f["edits"]
    assert "parameters[\"Waa\"].T" in edit["after"] and "cell" not in edit
    assert path.read_bytes() == before
    lines = before.decode().splitlines(keepends=True)
    lines[edit["line"] - 1] = edit["after"] + "\n"
    assert out.read_text() == "".join(lines)
    again = run_cli("compare", "--impl", f"{out}:rnn_backward", *TINY, "--no-fix")
    assert again.exit_code == 0, again.output
    text = run_cli("compare", "--impl", f"{path}:rnn_backward", *TINY, "--fix-budget", "30")
    shown = text.stdout.rstrip().splitlines()
    at = next(k for k, line in enumerate(shown) if line.startswith(f"--- {path}"))
    assert shown[at - 1].startswith("Fix found (verified")
    assert shown[at + 2] == f"@@ line {edit['line']} @@" and at + 4 < len(shown) - 1


def test_ranking_uses_what_was_measured_beyond_the_wrong_gradients(tmp_path: Path) -> None:
    """Wrong only at the second point (the spec's has zero biases): lines reading a bias or
    hprev come first. The loss right: the lines writing it come last; wrong: first."""
    text = _loop("dWhy += dy", "loss = -np.log(dy)", "dWhh += np.dot(dy, hprev.T)")
    path = tmp_path / "f.py"
    plain = fix.candidates(text, path, "f", ("Whh",))
    second = fix.candidates(text, path, "f", ("Whh",), second_only=True)
    uses_hprev = 12

    def best(cands: list[fix.Candidate], line: int) -> int:
        return next(k for k, c in enumerate(cands) if c.line == line)

    assert best(second, uses_hprev) == 0 and best(plain, uses_hprev) >= 0
    writes_loss = 11
    right = fix.candidates(text, path, "f", (), loss=False)
    wrong = fix.candidates(text, path, "f", (), loss=True)
    assert best(wrong, writes_loss) == 0 < best(right, writes_loss)


def test_a_forgotten_minus_one_is_inserted_and_fixed(transpose_bug: Path) -> None:
    """Softmax with cross-entropy: the copied probabilities without `dy[targets[t]] -= 1`;
    the loss's own index (`ps[t][targets[t], 0]`) is used, as a second line."""
    text = transpose_bug.read_text().replace("np.dot(Whh, dhraw)", "np.dot(Whh.T, dhraw)")
    assert "        dy[targets[t]] -= 1" in text
    transpose_bug.write_text(text.replace("        dy[targets[t]] -= 1", "        pass"))
    out = fix.search(f"{transpose_bug}:lossFun", ImplOptions(), TINY_SPEC, budget=20.0)
    assert out.fix is not None and out.fix.verified
    (edit,) = out.fix.edits
    assert edit.before.strip() == "dy = np.copy(ps[t])"
    assert edit.after.split("\n") == [edit.before, "        dy[targets[t], 0] -= 1"]
    lines = transpose_bug.read_text().splitlines()
    assert fix.apply("\n".join(lines) + "\n", [edit]).splitlines()[edit.line] == \
        "        dy[targets[t], 0] -= 1"


def test_a_declared_mean_loss_gets_its_scale_applied_to_the_gradients(transpose_bug: Path
                                                                      ) -> None:
    """--impl-loss mean=T, the loss divided by T and the gradients not: the scale goes on
    the gradients of the same return line, not on the returned hidden state (an edit that
    scales that too is exact in loss and gradient, and the whole check refuses it)."""
    from bpttcheck.impl.check import parse_loss

    text = transpose_bug.read_text().replace("np.dot(Whh, dhraw)", "np.dot(Whh.T, dhraw)")
    old = "    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]"
    assert old in text
    transpose_bug.write_text(text.replace(old, "    n = len(inputs)\n" + old.replace(
        "loss,", "loss / n,")))
    out = fix.search(f"{transpose_bug}:lossFun", ImplOptions(), TINY_SPEC, budget=20.0,
                     declared=parse_loss("mean=T"))
    assert out.fix is not None and out.fix.verified
    (edit,) = out.fix.edits
    assert _squash(edit.after) == _squash(
        "return loss / n, dWxh / n, dWhh / n, dWhy / n, dbh / n, dby / n, hs[len(inputs) - 1]")


def test_float32_code_gets_a_verified_fix(tmp_path: Path, searching: None,
                                          run_cli: Callable[..., Result]) -> None:
    """float32 code cannot meet float64's 1e-9: the screen is float32's, and the whole
    --impl check (float32 error bars) verifies the edit."""
    from tests.test_verdicts import TEMPLATE

    text = TEMPLATE.replace("FLOAT = np.float64", "FLOAT = np.float32")
    text = text.replace("carry = W.T @ da", "carry = W @ da")
    path = tmp_path / "f32.py"
    path.write_text(text, encoding="utf-8")
    result = run_cli("compare", "--impl", f"{path}:lossFun", "--hidden", "5", "--vocab", "4",
                     "--seq", "6", "--fix-budget", "30")
    assert result.exit_code == 1, result.output
    assert "Fix found (verified" in result.stdout, result.stdout
    assert "+        carry = W.T @ da" in result.stdout
