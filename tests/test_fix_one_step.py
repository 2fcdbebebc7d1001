"""The fix search measures the unedited code at one time step to place its bug: wrong
there, in the lines of the parameters wrong there (a gated cell's one gate); right there,
in the recurrence. The ranking with that measurement must beat the ranking without it."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from bpttcheck import fix, selftest
from bpttcheck.compare import tolerance
from bpttcheck.fix.document import Document
from bpttcheck.fix.gated_operators import one_step_gate
from bpttcheck.fix.rank import one_step_score
from bpttcheck.fix.search import _engine_options, one_step_problem
from bpttcheck.fix.trials import Trials
from bpttcheck.impl import ImplOptions
from bpttcheck.impl.check import DeclaredLoss
from bpttcheck.model import build, second_point
from bpttcheck.spec import Spec

MODELS = Path(__file__).resolve().parent / "fix_models"
LSTM = Spec(hidden=4, vocab=3, seq=5, seed=0, cell="lstm")
VANILLA = Spec(hidden=6, vocab=4, seq=5, seed=2, init_scale=0.5, hprev="random")


def _bug(tmp_path: Path, source: Path, before: str, after: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert text.count(before) == 1, before
    path = tmp_path / source.name.replace("_ok", "_bug")
    path.write_text(text.replace(before, after), encoding="utf-8")
    return path


def _tutorial(tmp_path: Path) -> Path:
    """The tutorial's lossFun, right (the selftest's transposed-carry bug undone)."""
    text = (selftest.corpus_dir() / "bug_recursion_Whh.py").read_text(encoding="utf-8")
    path = tmp_path / "rnn_ok.py"
    path.write_text(text.replace("np.dot(Whh, dhraw)", "np.dot(Whh.T, dhraw)"),
                    encoding="utf-8")
    return path


def _one_step(path: Path, name: str, spec: Spec) -> tuple[str, ...] | None:
    """What the unedited file gets wrong at one step, as the search measures it."""
    doc = Document(path)
    trials = Trials(doc, name, ImplOptions(), [build(second_point(spec)), build(spec)],
                    DeclaredLoss(), time.monotonic() + 60.0, None,
                    _engine_options(spec))
    try:
        assert trials.score(doc.content([])) is not None
        one = one_step_problem(spec)
        assert one is not None and one.batch.seq == 1
        return trials.one_step(one, tolerance(spec, "impl", "reference"))
    finally:
        trials.close()


def _rank(path: Path, name: str, spec: Spec, line: int, after: str) -> int:
    cands = fix.ranking(f"{path}:{name}", ImplOptions(), spec)
    return next(k for k, c in enumerate(cands) if c.line == line and c.after.strip() == after)


GATE_BUG = ("        da_i = dc * g[t] * i[t] * (1 - i[t])",
            "        da_i = dh * g[t] * i[t] * (1 - i[t])")
CARRY_BUG = ("        dc_next = dc * f[t]", "        dc_next = dc")
LOOP_BUG = ("    for t in reversed(range(len(inputs))):", "    for t in range(len(inputs)):")


def test_one_step_places_a_gate_slip_in_its_gate(tmp_path: Path) -> None:
    path = _bug(tmp_path, MODELS / "lstm_ok.py", *GATE_BUG)
    local = _one_step(path, "lossFun", LSTM)
    assert local == ("Wi", "bi")
    assert one_step_gate("lstm", local) == "i"


def test_one_step_finds_nothing_wrong_when_the_bug_is_in_what_is_carried(tmp_path: Path
                                                                        ) -> None:
    path = _bug(tmp_path, MODELS / "lstm_ok.py", *CARRY_BUG)
    assert _one_step(path, "lossFun", LSTM) == ()
    vanilla = tmp_path / "rnn.py"
    shutil.copy(selftest.corpus_dir() / "bug_recursion_Whh.py", vanilla)
    assert _one_step(vanilla, "lossFun", VANILLA) == ()
    assert _one_step(_tutorial(tmp_path), "lossFun", VANILLA) == ()


def test_one_step_of_correct_code_is_empty_and_none_when_it_cannot_run(tmp_path: Path) -> None:
    assert _one_step(MODELS / "lstm_ok.py", "lossFun", LSTM) == ()
    # a length fixed in the code: the one-step call raises, so nothing is measured
    fixed = _bug(tmp_path, MODELS / "lstm_ok.py", "    for t in range(len(inputs)):",
                 "    assert len(inputs) > 1\n    for t in range(len(inputs)):")
    assert _one_step(fixed, "lossFun", LSTM) is None


@pytest.mark.parametrize(("source", "name", "spec", "bug", "want"), [
    (MODELS / "lstm_ok.py", "lossFun", LSTM, GATE_BUG, GATE_BUG[0].strip()),
    (None, "lossFun", VANILLA, LOOP_BUG, LOOP_BUG[0].strip()),
])
def test_the_one_step_measurement_ranks_the_right_edit_higher(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: Path | None, name: str,
        spec: Spec, bug: tuple[str, str], want: str) -> None:
    path = _bug(tmp_path, source or _tutorial(tmp_path), *bug)
    wrong_line = path.read_text().splitlines().index(bug[1]) + 1
    with_it = _rank(path, name, spec, wrong_line, want)
    monkeypatch.setattr(Trials, "one_step", lambda self, problem, rtol: None)
    without = _rank(path, name, spec, wrong_line, want)
    assert with_it < without


def test_one_step_score_in_the_recurrence_prefers_what_is_carried() -> None:
    import ast

    def score(line: str) -> float:
        stmt = ast.parse(line).body[0]
        return one_step_score(stmt, line, None, True, {"dhnext"})

    assert score("dhnext = Whh @ d") > score("dh = Why.T @ dy + dhnext") > score("dby += dy")
    assert score("dWhh += d @ hs[t - 1].T") > score("dWhh += d @ hs[t].T")
    assert score("dWhy = dWhy / len(xs)") > score("dWhy = dWhy / 2")
    assert score("h = np.tanh(Wxh @ x + Whh @ h0)") > score("h = np.tanh(Wxh @ x + Whh @ h)")
    # nothing measured at one step: no opinion on any line
    stmt = ast.parse("dhnext = Whh @ d").body[0]
    assert one_step_score(stmt, "dhnext = Whh @ d", None, False, {"dhnext"}) == 0.0


def test_one_step_gate_needs_a_single_gate() -> None:
    assert one_step_gate("gru", ("Wz", "bz")) == "z"
    assert one_step_gate("gru", ("Wz", "Wr")) is None
    assert one_step_gate("lstm", ("Why", "by")) is None
    assert one_step_gate("lstm", ("Wo", "Why", "bo")) == "o"


def test_a_copy_that_loops_for_ever_is_stopped_and_the_next_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit that makes the call endless is stopped at the call's limit, and the next
    copy gets a new child."""
    import bpttcheck.fix.trials as trials_module

    monkeypatch.setattr(trials_module, "CALL_TIMEOUT", 0.5)
    path = _tutorial(tmp_path)
    doc = Document(path)
    spec = VANILLA
    trials = Trials(doc, "lossFun", ImplOptions(), [build(second_point(spec)), build(spec)],
                    DeclaredLoss(), time.monotonic() + 120.0, None, _engine_options(spec))
    try:
        first = trials.score(doc.content([]))
        assert first is not None and not first.wrong(1e-7)
        line = doc.text.splitlines().index("    for t in reversed(range(len(inputs))):") + 1
        endless = doc.content([doc.edit(line, "    while True: pass\n" +
                                        "    for t in reversed(range(len(inputs))):")])
        started = time.monotonic()
        assert trials.score(endless) is None
        assert time.monotonic() - started < 60.0  # stopped, not the test's own time-out
        again = trials.score(doc.content([]))
        assert again is not None and not again.wrong(1e-7)
    finally:
        trials.close()


def test_a_step_helpers_own_gradient_names_are_ranked_by_its_callers_flows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper returns g_Wh, which its caller adds into Whh's gradient (a dict keyed by
    parameter): a slip on the helper's g_Wh line ranks as a line feeding only the wrong
    gradient, far ahead of where it ranks when the helper's names are not mapped."""
    import ast

    import bpttcheck.fix.operators as operators
    from bpttcheck.fix.rank import flows_of, returned_into

    bug = ("    g_Wh = g_a @ h_prev.T", "    g_Wh = g_a @ h.T")
    path = _bug(tmp_path, MODELS / "steps_ok.py", *bug)
    text = path.read_text()
    line = text.splitlines().index(bug[1]) + 1

    def rank() -> int:
        cands = fix.candidates(text, path, "lossFun", ("Whh",))
        return next(k for k, c in enumerate(cands)
                    if c.line == line and c.after == bug[0])

    mapped = rank()
    monkeypatch.setattr(operators, "returned_into", lambda *a: (set(), set()))
    assert mapped < 25 < rank()
    tree = ast.parse(text)
    funcs = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    lines = text.splitlines()
    caller = flows_of(funcs["lossFun"], lines, {"Whh", "dWhh"},
                      {"Wxh", "dWxh", "Why", "dWhy", "bh", "dbh", "by", "dby"})
    assert returned_into(funcs["lossFun"], caller, funcs["step_bwd"]) == (
        {"g_Wh"}, {"g_Wx", "g_b"})


def test_a_layers_one_step_places_a_gate_slip_in_its_gate(tmp_path: Path) -> None:
    """The same measurement for a layer function (cs231n's lstm_backward): at one step,
    only the gate whose line is wrong has wrong parameters."""
    from bpttcheck.fix.trials import LayerTrials

    path = _bug(tmp_path, MODELS / "lstm_layer_ok.py", "        di = dc * g",
                "        di = dc * f")
    doc = Document(path)
    spec = Spec(hidden=4, vocab=3, seq=4, seed=0)
    trials = LayerTrials(doc, "lstm_backward", None, ImplOptions(), spec,
                         time.monotonic() + 60.0, "lstm")
    try:
        base = trials.score(doc.content([]))
        assert base is not None and set(base.wrong(1e-7)) > {"Wi", "bi"}
        local = trials.one_step(1e-7)
        # the gate's parameters, and the layer's inputs (dx, dh0: what reaches them goes
        # through the gate too)
        assert local is not None and set(local) - {"x", "h0"} == {"Wi", "bi"}
        assert one_step_gate("lstm", local) == "i"
    finally:
        trials.close()


def test_a_parameter_passed_to_a_helper_is_known_there_by_the_helpers_name() -> None:
    import ast

    from bpttcheck.fix.rank import passed_as
    from bpttcheck.fix.syntax import target_defs

    text = (MODELS / "steps_ok.py").read_text(encoding="utf-8")
    defs = target_defs(ast.parse(text).body, "lossFun")
    ours = {p: {p} for p in ("Wxh", "Whh", "Why", "bh", "by")}
    assert passed_as(defs, ours) == {"Wxh": {"Wx"}, "Whh": {"Wh"}, "bh": {"b"}}


def test_a_helper_called_for_two_parameters_names_neither() -> None:
    import ast
    import textwrap

    from bpttcheck.fix.rank import passed_as
    from bpttcheck.fix.syntax import target_defs

    text = textwrap.dedent("""\
        def affine(v, W, b):
            return W @ v + b
        def step(x, h, Wx, Wh, bias):
            return affine(x, Wx, bias) + Wh @ h
        def loss(x, h, Wxh, Whh, Why, bh, by):
            h = step(x, h, Wxh, Whh, bh)
            return affine(h, Why, by)
        """)
    defs = target_defs(ast.parse(text).body, "loss")
    ours = {p: {p} for p in ("Wxh", "Whh", "Why", "bh", "by")}
    # W and b stand for Wxh and bh (through step) and for Why and by: for none of them
    assert passed_as(defs, ours) == {"Wxh": {"Wx"}, "Whh": {"Wh"}, "bh": {"bias"}}
