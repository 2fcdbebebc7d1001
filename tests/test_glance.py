"""The answer at a glance: the headline last, honest cells, numbers only where measured."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from bpttcheck import checker, engines
from bpttcheck.compare import PairResult
from bpttcheck.model import PARAM_NAMES
from bpttcheck.prose import distinct
from bpttcheck.render import render
from bpttcheck.report import status
from bpttcheck.spec import resolve
from bpttcheck.terminal import make_console

from .test_mutations import mutant

TINY = ["--hidden", "5", "--seq", "4", "--vocab", "3", "--seed", "1"]
CORPUS = Path(__file__).resolve().parents[1] / "bpttcheck" / "selftest" / "corpus"
Run = Callable[..., Result]


def last_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


def test_every_command_ends_with_a_headline(run_cli: Run, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    assert last_line(run_cli("compare", *TINY).stdout).startswith("✓ ")
    assert last_line(run_cli("numeric", *TINY).stdout).startswith("✓ tutorial and numeric agree")
    assert last_line(run_cli("explain", *TINY).stdout).startswith("✓ the row sums")
    monkeypatch.setitem(engines.ENGINES, "tutorial", mutant("no_dhnext"))
    out = run_cli("compare", *TINY, "--init-scale", "0.5").stdout
    assert last_line(out) == "✗ the tutorial's backward pass is wrong in Wxh, Whh and bh"


def test_impl_headline_is_about_the_users_code(run_cli: Run) -> None:
    wrong = run_cli("compare", *TINY, "--impl", f"{CORPUS / 'bug_no_dhnext.py'}:lossFun")
    assert wrong.exit_code == 1
    head = last_line(wrong.stdout)
    assert head.startswith("✗ lossFun in bug_no_dhnext.py is wrong in ")
    assert "likely cause: dhnext is missing" in head
    right = run_cli("compare", *TINY, "--impl", f"{CORPUS / 'ok_minchar_py2.py'}:lossFun")
    assert right.exit_code == 0
    head = last_line(right.stdout)
    assert head.startswith("✓ lossFun in ok_minchar_py2.py computes this RNN's gradient (all ")
    # the built-in engines' confirmation is one line, not the whole paragraph
    built_in = [line for line in right.stdout.splitlines() if "built-in engines" in line]
    assert len(built_in) == 1 and "dhnext recursion" not in right.stdout


def test_quiet_is_silent_on_success_and_ends_with_the_headline_on_failure(
        run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_cli("compare", *TINY, "--quiet").stdout == ""
    monkeypatch.setitem(engines.ENGINES, "tutorial", mutant("no_dhnext"))
    lines = run_cli("compare", *TINY, "--init-scale", "0.5", "--quiet").stdout.splitlines()
    assert lines[-1].startswith("✗ ") and all(" differ" in line for line in lines[:-1])


def test_screened_parameters_show_a_dash_not_a_number(run_cli: Run, tmp_path: Path) -> None:
    junit = tmp_path / "r.xml"
    result = run_cli("numeric", *TINY, "--directions", "2", "--junit", str(junit))
    assert result.exit_code == 0
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ ")]
    assert len(rows) == len(PARAM_NAMES)
    for row in rows:  # screened only: the pair's cell is a dash and no 0.0e+00 is claimed
        assert "—" in row and "e+00" not in row and "e-" not in row
    data = json.loads(run_cli("numeric", *TINY, "--directions", "2", "--json").stdout)
    assert data["comparisons"] == []
    assert {(n["parameter"], n["a"], n["b"]) for n in data["not_compared"]} == {
        (p, "tutorial", "numeric") for p in PARAM_NAMES}
    assert all("random projections" in n["reason"] for n in data["not_compared"])
    root = ET.parse(junit).getroot()
    assert root.get("skipped") == str(len(PARAM_NAMES))
    assert len(root.findall(".//testcase/skipped")) == len(PARAM_NAMES)


def test_json_comparisons_carry_their_status(run_cli: Run) -> None:
    data = json.loads(run_cli("compare", *TINY, "--init-scale", "0.5", "--clip", "0.05",
                              "--json").stdout)
    statuses = {c["status"] for c in data["comparisons"]}
    assert "clipped" in statuses and statuses <= {"agree", "clipped", "precision"}
    assert data["headline"].startswith("✓ ")
    assert data["not_compared"] == []


def pair(**kw: object) -> PairResult:
    base: dict[str, object] = dict(parameter="Whh", a="tutorial", b="numeric", rtol=1e-6,
                                   max_rel_error=2e-4, norm_rel_error=1e-5, worst=None,
                                   compared=9, failed=0, clipped=0, precision_limited=0,
                                   nonfinite=0)
    base.update(kw)
    return PairResult(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "expected"),
    [({}, "agree"), ({"precision_limited": 2}, "precision"), ({"clipped": 1}, "clipped"),
     ({"failed": 1}, "fail"), ({"failed": 1, "precision_limited": 1}, "fail"),
     ({"nonfinite": 1}, "fail")],
)
def test_status_of_a_comparison(kw: dict[str, int], expected: str) -> None:
    assert status(pair(**kw)) == expected


def test_precision_limited_cells_are_marked_with_the_bar(run_cli: Run) -> None:
    """Forward differences at init scale 1 (a case with such cells): cells above 1e-06 that
    pass only within the error bar carry ≈, the legend says what it means, and the words
    are 'approximately'."""
    result = run_cli("numeric", "--hidden", "10", "--seq", "10", "--vocab", "4", "--seed", "1",
                     "--method", "forward", "--init-scale", "1")
    assert result.exit_code == 0
    flat = " ".join(result.stdout.split())
    assert "≈" in flat and "above the tolerance (≤ 1e-06), but within numerical " \
        "differentiation's own error bar" in flat
    assert "confirms" not in result.stdout
    assert "approximately" in last_line(result.stdout)


@pytest.mark.parametrize(
    ("a", "b"),
    [(7.5, 5.0), (1.000001234, 1.000001235), (0.1 + 0.2, 0.3), (-3.2e-7, -3.2000001e-7)],
)
def test_failure_values_show_enough_digits_to_differ(a: float, b: float) -> None:
    sa, sb = distinct(a, b)
    assert sa != sb and float(sa) == pytest.approx(a, rel=1e-3)
    assert float(sb) == pytest.approx(b, rel=1e-3)


def test_a_close_failure_prints_distinct_values(monkeypatch: pytest.MonkeyPatch) -> None:
    from .test_render import fixed

    registry = {"tutorial": fixed("tutorial", bump=("Whh", 4, 1 + 1e-7)),
                "reference": fixed("reference"), "numeric": fixed("numeric")}
    report = checker.run(resolve(overrides={"hidden": 3, "seq": 4, "vocab": 2, "seed": 0}),
                         engines=("tutorial", "reference"), registry=registry)
    buffer = io.StringIO()
    render(report, make_console(file=buffer, width=200, color_system=None))
    assert "tutorial 5.000001, reference 5 " in buffer.getvalue()  # not "5, 5"


def test_explain_refuses_flags_it_would_ignore(run_cli: Run) -> None:
    result = run_cli("explain", *TINY, "--method", "forward", "--time-budget", "5")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == (
        "bpttcheck: error: --method and --time-budget are not used by explain (it "
        "differentiates nothing numerically); drop them, or use compare or numeric")
    assert "--method" not in run_cli("explain", "--help").stdout  # hidden, not advertised
    assert run_cli("explain", *TINY).exit_code == 0


def test_progress_shows_each_slow_phase(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from bpttcheck import cli

    monkeypatch.setattr(cli, "PROGRESS_DELAY", 0.05)
    buffer = io.StringIO()
    console = make_console(file=buffer, force_terminal=True, width=100)
    progress = cli._Progress(console)
    registry = cli._phased({"reference": lambda: time.sleep(0.4), "numeric": lambda: None},
                           progress, "your code")
    registry["reference"]()
    assert progress.bar is not None  # the reference reports nothing itself: the timer showed it
    registry["numeric"]()
    assert progress.name == "your code"  # after the last engine: the user's function
    progress.close()
    assert "the explicit double sum over k ≤ t (reference)" in buffer.getvalue()


def test_a_quick_phase_shows_no_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    from bpttcheck import cli

    buffer = io.StringIO()
    progress = cli._Progress(make_console(file=buffer, force_terminal=True))
    progress.phase("quick")
    progress.close()
    assert progress.bar is None and buffer.getvalue() == ""


def test_tables_fit_60_columns_without_cut_headers(run_cli: Run,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    result = run_cli("compare", *TINY, "--impl", f"{CORPUS / 'ok_minchar_py2.py'}:lossFun")
    assert result.exit_code == 0
    *details, _headline = result.stdout.splitlines()
    assert all(len(line) <= 60 for line in details)
    rules = [i for i, line in enumerate(details) if set(line.strip()) <= set("─━┡╇┩")
             and line.strip()]
    assert len(rules) == 2  # two tables: the built-in engines', the user's code's
    for rule in rules:  # the header lines above each rule: every word whole, none cut
        header = " ".join(details[rule - 3:rule]).split()
        assert "…" not in " ".join(header) and "parameter" in header and "verdict" in header
    assert {"impl-numeric", "reference", "tutorial", "numeric"} <= set(
        " ".join(details[rules[1] - 3:rules[1]]).split())
    assert all(line == line.rstrip() for line in result.stdout.splitlines())


def test_explain_colours_tell_each_step_back_apart() -> None:
    """Terms shrinking ~14x per step back over 28 decades: every one of the nine most
    recent lags gets its own colour, and the scale's labels bracket the real largest term."""
    import numpy as np

    from bpttcheck.render_explain import PALETTE, _levels, colour_scale

    lags = 6e-3 * 14.0 ** -np.arange(25)  # lag 0 (diagonal) .. 24
    lo, hi = colour_scale(lags)
    assert hi - lo == len(PALETTE) and 10 ** (hi - 1) <= lags.max() < 10 ** hi
    levels = _levels(lags, lo, hi, len(PALETTE))
    recent = levels[:9]
    assert len(set(recent.tolist())) == 9 and list(recent) == sorted(recent, reverse=True)
    assert (levels[levels < 0] == -2).all()  # older terms are marked below the scale


def test_explain_scale_within_nine_decades_is_the_data_range() -> None:
    import numpy as np

    from bpttcheck.render_explain import PALETTE, _levels, colour_scale

    values = np.array([2e-4, 3e-3, 1.1e-2])
    lo, hi = colour_scale(values)
    assert 10 ** lo == pytest.approx(2e-4) and 10 ** hi == pytest.approx(1.1e-2)
    levels = _levels(values, lo, hi, len(PALETTE))
    assert levels[0] == 0 and levels[-1] == len(PALETTE) - 1


def test_explain_legend_is_in_numbers(run_cli: Run) -> None:
    out = run_cli("explain", "--hidden", "20", "--seq", "20", "--param", "Whh").stdout
    assert "one decade per colour (label: lower bound)" in out
    largest = re.search(r"largest ‖term‖ (\S+),", out)
    assert largest is not None
    top = float(largest.group(1))
    labels = [float(x) for x in re.findall(r"[.:=+*#%@-]{2} (1e[+-]\d\d)\b", out)]
    assert labels and max(labels) <= top < 10 * max(labels)  # the top colour holds the max


def test_failure_values_are_highlighted_where_they_part() -> None:
    from bpttcheck.render import highlight_parting

    line = ("Whh tutorial↔reference: 1 of 9 elements differs; worst Whh[1, 1]: tutorial "
            "0.0012345678, reference 0.0012345699 (rel. error 8.5e-07 > 1e-09)")
    text = highlight_parting(line)
    marked = [line[span.start:span.end] for span in text.spans]
    assert marked == ["78", "99"]


def test_impl_flags_without_impl_are_refused(run_cli: Run) -> None:
    result = run_cli("compare", *TINY, "--impl-sample", "5")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == ("bpttcheck: error: --impl-sample is only used with --impl "
                                     "FILE.py:NAME, which is not given")
    assert run_cli("numeric", *TINY).exit_code == 0  # their defaults alone are not "given"


def test_a_terminal_with_no_color_gets_no_trailing_spaces() -> None:
    """README: output that is not a terminal, or a terminal with NO_COLOR set, has neither
    escape codes nor trailing spaces (a table pads its cells with spaces)."""
    import io

    from rich.table import Table

    from bpttcheck.terminal import PlainConsole

    out = io.StringIO()
    console = PlainConsole(file=out, width=60, force_terminal=True, color_system=None,
                           no_color=True)
    table = Table("parameter", "error")
    table.add_row("Wxh", "1.0e-13")
    console.print(table)
    console.print("a line wrapped " * 8)
    text = out.getvalue()
    assert text and not any(line.endswith(" ") for line in text.splitlines())
    assert "\x1b[" not in text


@pytest.mark.parametrize("command", ["compare", "numeric"])
def test_impl_pass_headline_counts_each_element_once(run_cli: Callable[..., Result],
                                                     command: str) -> None:
    # numeric compares the user's gradient with two truths; the headline counts elements,
    # not comparisons: H = 5, V = 4 has 20 + 25 + 20 + 5 + 4 = 74.
    result = run_cli(command, "--impl",
                     "bpttcheck/selftest/corpus/ok_class.py:CharRNN.loss_and_grads",
                     "--hidden", "5", "--vocab", "4", "--seq", "4")
    assert result.exit_code == 0, result.output
    assert "(all 74 elements," in result.stdout.strip().splitlines()[-1]


def test_failing_headline_gives_the_users_names(run_cli: Callable[..., Result]) -> None:
    result = run_cli("compare", "--impl",
                     "bpttcheck/selftest/corpus/bug_uvw_truncated.py:RNNNumpy.bptt",
                     "--no-biases", "--impl-order", "dU,dV,dW", "--hidden", "6", "--vocab", "5",
                     "--seq", "8", "--no-fix")
    assert result.exit_code == 1, result.output
    assert "is wrong in Wxh (your U) and Whh (your W);" in result.stdout.strip().splitlines()[-1]
