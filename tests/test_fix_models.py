"""The fix search on every model the --impl check knows: an LSTM and a GRU loss function
(--cell), a batch (--batch B), a bias-free model (--no-biases), a gated layer function.

Each case is a correct function of tests/fix_models/ (checked here to pass) with ONE bug
put in; the search must propose a verified fix whose edits, applied to the file
(:func:`bpttcheck.fix.apply`), give a file the --impl check passes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import Result

from bpttcheck import fix
from bpttcheck.fix.gated_operators import gated_edits
from bpttcheck.impl import ImplOptions
from bpttcheck.spec import Spec

Run = Callable[..., Result]
HERE = Path(__file__).resolve().parent / "fix_models"
SIZES = ["--hidden", "4", "--vocab", "3", "--seq", "4"]
SPEC = Spec(hidden=4, vocab=3, seq=4, seed=0)


@pytest.fixture
def searching(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's default: a fix is searched (conftest turns it off for other tests)."""
    monkeypatch.delenv("BPTTCHECK_NO_FIX", raising=False)


def _bug(tmp_path: Path, source: str, before: str, after: str) -> Path:
    """A copy of tests/fix_models/SOURCE with the one line ``before`` made ``after``."""
    text = (HERE / source).read_text(encoding="utf-8")
    assert text.count(before) == 1, before
    path = tmp_path / source.replace("_ok", "_bug")
    path.write_text(text.replace(before, after), encoding="utf-8")
    return path


def _passes(run_cli: Run, path: Path, name: str, flags: list[str]) -> Result:
    return run_cli("compare", "--impl", f"{path}:{name}", *SIZES, *flags, "--no-fix")


# (file, function, flags, the correct line, the bug put in its place)
CASES = {
    "lstm-forget-carry": ("lstm_ok.py", "lossFun", ["--cell", "lstm"],
                          "        dc_next = dc * f[t]", "        dc_next = dc"),
    "gru-sigmoid-derivative": ("gru_ok.py", "gru_loss", ["--cell", "gru"],
                               "        dr_pre = drh * hs[t - 1] * rs[t] * (1 - rs[t])",
                               "        dr_pre = drh * hs[t - 1] * (1 - rs[t] ** 2)"),
    "batch-carry-transpose": ("batch_ok.py", "loss_and_grads", ["--batch", "3"],
                              "        dh_next = Whh.T @ da", "        dh_next = Whh @ da"),
    "bias-free-accumulate": ("nobias_ok.py", "lossFun", ["--no-biases"],
                             "        dWhh += np.outer(dpre, h[t - 1])",
                             "        dWhh = np.outer(dpre, h[t - 1])"),
    "lstm-layer-gate-swapped": ("lstm_layer_ok.py", "lstm_backward", [],
                                "        di = dc * g", "        di = dc * f"),
    # the gates unpacked from stored tuples by the backward loop (not loop indices)
    "lstm-stacked-sigmoid-g": ("lstm_stacked_ok.py", "lstm_loss", ["--cell", "lstm"],
                               "        d_g = dc * i * (1.0 - g ** 2)",
                               "        d_g = dc * i * g * (1.0 - g)"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_the_correct_function_passes(case: str, run_cli: Run) -> None:
    source, name, flags, _, _ = CASES[case]
    r = _passes(run_cli, HERE / source, name, flags)
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("case", CASES)
def test_one_bug_gets_a_verified_fix_whose_edits_pass_the_check(
        case: str, tmp_path: Path, run_cli: Run, searching: None) -> None:
    """Through the CLI, as a user runs it: impl.fix in JSON, its edits applied to the
    file give a file the --impl check passes, and the user's file is not touched."""
    source, name, flags, good, bad = CASES[case]
    path = _bug(tmp_path, source, good, bad)
    before = path.read_bytes()
    r = run_cli("compare", "--impl", f"{path}:{name}", *SIZES, *flags, "--fix-budget", "20",
                "--format", "json")
    assert r.exit_code == 1, r.output
    data = json.loads(r.stdout)
    report = data.get("impl") or data  # a layer's report holds its fix itself
    found = report["fix"]
    assert found is not None, report["fix_reason"]
    assert found["verified"] and not found["partial"] and found["specs"] == 2
    assert path.read_bytes() == before
    edits = [fix.Edit(path, e["line"], e["before"], e["after"]) for e in found["edits"]]
    assert [e.before for e in edits] == [bad]
    fixed = tmp_path / "fixed.py"
    fixed.write_text(fix.apply(before.decode("utf-8"), edits), encoding="utf-8")
    again = _passes(run_cli, fixed, name, flags)
    assert again.exit_code == 0, again.output


def test_the_search_api_on_an_lstm_names_the_gates_wrong(tmp_path: Path) -> None:
    """fix.search with --cell lstm: the wrong parameters are the LSTM's, the fix is the
    forget gate's carry."""
    source, name, _, good, bad = CASES["lstm-forget-carry"]
    path = _bug(tmp_path, source, good, bad)
    out = fix.search(f"{path}:{name}", ImplOptions(), dataclasses.replace(SPEC, cell="lstm"),
                     budget=20.0)
    assert out.fix is not None and out.fix.verified, out
    assert set(out.wrong) == {"Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo"}
    (edit,) = out.fix.edits
    assert edit.after.strip() in ("dc_next = dc * f[t]", "dc_next = f[t] * dc")


def test_a_declared_mean_over_the_batch_is_searched_with_its_factor(tmp_path: Path) -> None:
    """--batch 3 --impl-loss mean=B: the truth is the summed gradient over B."""
    from bpttcheck.impl.check import parse_loss

    source, name, _, good, bad = CASES["batch-carry-transpose"]
    path = _bug(tmp_path, source, good, bad)
    text = path.read_text(encoding="utf-8")
    ret = "    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[-1]"
    assert ret in text
    path.write_text(text.replace(ret, "    return loss / B, dWxh / B, dWhh / B, dWhy / B, "
                                      "dbh / B, dby / B, hs[-1]"), encoding="utf-8")
    out = fix.search(f"{path}:{name}", ImplOptions(), dataclasses.replace(SPEC, batch=3),
                     budget=20.0, declared=parse_loss("mean=B"))
    assert out.fix is not None and out.fix.verified, out
    assert [e.before for e in out.fix.edits] == [bad]


LSTM_LINES = """\
def lossFun(inputs, targets, hprev, cprev):
    for t in reversed(range(len(inputs))):
        dc = dh * o[t] * (1 - tc ** 2) + dc_next
        da_f = dc * c[t - 1] * f[t] * (1 - f[t] ** 2)
        da_g = dc * i[t] * g[t] * (1 - g[t])
        do = dh * c[t]
        dc_next = np.zeros_like(dc)
        tc = np.tanh(c[t])
"""


def proposals(text: str, path: Path, name: str, params: tuple[str, ...]
              ) -> set[tuple[int, str]]:
    """The gate-specific candidates (line, new text) among all of ``name``'s."""
    return {(c.line, c.after) for c in fix.candidates(text, path, name, params=params)
            if c.gated}


def test_gate_operators_propose_the_inverse_of_each_gated_slip(tmp_path: Path) -> None:
    """Sigmoid's derivative for a sigmoid gate, tanh's for the candidate, tanh(c) where c
    was read, the forget gate's carry; none of it for a vanilla model."""
    path = tmp_path / "f.py"
    lstm = ("Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo", "Why", "by")
    found = proposals(LSTM_LINES, path, "lossFun", lstm)
    lines = LSTM_LINES.splitlines()

    def has(line: str, after: str) -> bool:
        k = lines.index(line) + 1
        return (k, after) in found

    assert has("        da_f = dc * c[t - 1] * f[t] * (1 - f[t] ** 2)",
               "        da_f = dc * c[t - 1] * f[t] * f[t] * (1 - f[t])")
    assert has("        da_g = dc * i[t] * g[t] * (1 - g[t])",
               "        da_g = dc * i[t] * (1 - g[t] ** 2)")
    assert has("        do = dh * c[t]", "        do = dh * np.tanh(c[t])")
    assert has("        dc_next = np.zeros_like(dc)", "        dc_next = dc * f[t]")
    assert has("        da_f = dc * c[t - 1] * f[t] * (1 - f[t] ** 2)",
               "        da_f = dc * c[t - 1] * i[t] * (1 - f[t] ** 2)")  # f for i
    assert proposals(LSTM_LINES, path, "lossFun", ("Wxh", "Whh", "Why", "bh", "by")) == set()
    import ast

    func = ast.parse(LSTM_LINES).body[0]
    assert isinstance(func, ast.FunctionDef)
    assert not list(gated_edits(func.body[0], func, lines, ("Wxh", "Whh", "Why")))


def test_gated_candidates_come_from_candidates_with_the_cells_names(tmp_path: Path) -> None:
    """candidates(params=...) with a GRU's names: the gate-specific edits are among the
    generic ones; with the vanilla names (the default) they are not."""
    source, name, _, good, bad = CASES["gru-sigmoid-derivative"]
    path = _bug(tmp_path, source, good, bad)
    text = path.read_text(encoding="utf-8")
    gru = ("Wz", "Wr", "Wn", "bz", "br", "bn", "Why", "by")
    line = text.splitlines().index(bad) + 1
    cands = fix.candidates(text, path, name, ("Wr", "br"), params=gru)
    assert any((c.line, c.after) == (line, good) for c in cands)
    vanilla = fix.candidates(text, path, name, ("Wr", "br"))
    assert not any((c.line, c.after) == (line, good) for c in vanilla)


LAYER_LINES = """\
def step_backward(dnext_h, dnext_c, cache):
    i, f, o, g, tc, prev_c = cache
    dc = dnext_c + dnext_h * o
    do = dnext_h * prev_c
    da = np.hstack([di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), do * o * (1 - o)])
    dprev_c = dc
    return da, dprev_c
"""


def test_gate_operators_read_a_layer_step_as_cs231n_writes_it(tmp_path: Path) -> None:
    """tanh(c) cached as ``tc``: the missing tanh'(c) is spelled with it; the stacked gates'
    order; the carry ``dprev_c`` through f."""
    lstm = ("x", "h0", "Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo")
    found = proposals(LAYER_LINES, tmp_path / "l.py", "step_backward", lstm)
    lines = LAYER_LINES.splitlines()

    def has(line: str, after: str) -> bool:
        return (lines.index(line) + 1, after) in found

    assert has("    dc = dnext_c + dnext_h * o",
               "    dc = dnext_c + dnext_h * o * (1 - tc ** 2)")
    assert has("    da = np.hstack([di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), "
               "do * o * (1 - o)])", "    da = np.hstack([di * i * (1 - i), df * f * (1 - f), "
               "do * o * (1 - o), dg * (1 - g * g)])")
    assert has("    dprev_c = dc", "    dprev_c = dc * f")


@pytest.mark.parametrize("change", [{"batch": 2}, {"biases": False}, {"cell": "lstm"},
                                    {"cell": "gru"}, {}])
def test_every_model_of_the_check_is_searched(change: dict[str, object]) -> None:
    why = fix.report._unsearchable(SimpleNamespace(causes=()),
                                   dataclasses.replace(SPEC, **change))
    assert why is None


def test_a_refusal_that_remains_says_why(tmp_path: Path) -> None:
    """Right gradients read in another order: the --impl-order is the fix, not an edit;
    --impl-loss own: no reference to verify an edit against."""
    from bpttcheck.impl.check import ImplRequest, parse_loss

    order = SimpleNamespace(causes=(SimpleNamespace(kind="order"),))
    why = fix.report._unsearchable(order, SPEC)
    assert why is not None and "--impl-order" in why
    @dataclasses.dataclass(frozen=True)
    class Report:
        causes: tuple[object, ...] = ()
        fix: object = None
        fix_reason: str | None = None

    request = ImplRequest(str(tmp_path / "f.py") + ":f", loss=parse_loss("own"), fix=True)
    out = fix.attach(Report(), request, SPEC)
    assert out.fix is None and out.fix_reason is not None
    assert "--impl-loss own" in out.fix_reason and "reference" in out.fix_reason


def test_a_gate_wrong_by_orders_of_magnitude_more_ranks_its_lines_first(tmp_path: Path
                                                                        ) -> None:
    """The input gate 1e-1 wrong and the rest 1e-8 (what the recursion carries): the lines
    reading i or writing di are the input gate's; comparable errors name no gate."""
    from bpttcheck.fix.gated_operators import dominant_gate, gate_lines

    errors = {"Wf": 1e-8, "bf": 2e-8, "Wi": 0.1, "bi": 0.05, "Wc": 1e-9, "bc": 1e-9,
              "Wo": 3e-8, "bo": 1e-8, "Why": 0.0, "by": 0.0}
    assert dominant_gate("lstm", errors) == "i"
    assert dominant_gate("lstm", {**errors, "Wf": 0.01}) is None
    lstm = ("Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo", "Why", "by")
    text = (HERE / "lstm_ok.py").read_text(encoding="utf-8")
    lines = text.splitlines()
    near = gate_lines(text, tmp_path / "l.py", "lossFun", lstm, "i")
    assert lines.index("        da_i = dc * g[t] * i[t] * (1 - i[t])") + 1 in near
    assert lines.index("        da_g = dc * i[t] * (1 - g[t] ** 2)") + 1 in near  # reads i
    assert lines.index("        da_o = dh * tc * o[t] * (1 - o[t])") + 1 not in near
    assert lines.index("        c[t] = f[t] * c[t - 1] + i[t] * g[t]") + 1 in near


def test_the_grus_interpolation_is_flipped_both_ways(tmp_path: Path) -> None:
    """z <-> (1 - z), the parentheses going with it; never (1 - (1 - z))."""
    text = ("def step(dnext_h, z, n, prev_h):\n"
            "    dprev_h = dnext_h * (1 - z)\n"
            "    dn = dnext_h * z * (1 - n * n)\n"
            "    return dprev_h, dn\n")
    gru = ("x", "h0", "Wz", "Wr", "Wn", "bz", "br", "bn")
    found = proposals(text, tmp_path / "g.py", "step", gru)
    assert (2, "    dprev_h = dnext_h * z") in found
    assert (3, "    dn = dnext_h * (1 - z) * (1 - n * n)") in found
    assert not any("(1 - (1 - z))" in after for _, after in found)


# The selftest corpus's gated single-edit bugs (the harness: their inverses are among the
# candidates by construction): each gets a verified fix with time to spare.
SELFTEST_GATED = [
    ("bug_lstm_dc_not_carried.py", "lossFun", "lstm"),
    ("bug_lstm_no_tanh_prime_c.py", "lossFun", "lstm"),
    ("bug_lstm_sigmoid_prime_g.py", "lossFun", "lstm"),
    ("bug_lstm_o_uses_c.py", "lossFun", "lstm"),
    ("bug_lstm_forget_state.py", "lossFun", "lstm"),
    ("bug_gru_reset_no_h.py", "lossFun", "gru"),
    ("bug_gru_no_dhnext.py", "lossFun", "gru"),
]
SELFTEST_LAYERS = ["bug_layer_lstm_carry_no_f.py", "bug_layer_lstm_output_on_c.py",
                   "bug_layer_lstm_stack_order.py", "bug_layer_lstm_tanh_prime.py"]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "target", "cell"), SELFTEST_GATED)
def test_selftest_gated_bugs_get_a_verified_fix(name: str, target: str, cell: str) -> None:
    from bpttcheck.selftest import corpus_dir

    spec = dataclasses.replace(SPEC, cell=cell, hidden=6, vocab=4, seq=5)
    out = fix.search(f"{corpus_dir() / name}:{target}", ImplOptions(), spec, budget=30.0)
    assert out.fix is not None and out.fix.verified, out


@pytest.mark.slow
@pytest.mark.parametrize("name", SELFTEST_LAYERS)
def test_selftest_gated_layer_bugs_get_a_verified_fix(name: str) -> None:
    from bpttcheck.selftest import corpus_dir

    spec = dataclasses.replace(SPEC, hidden=5, vocab=4, seq=6)
    out = fix.search_layer(f"{corpus_dir() / name}:lstm_backward", None, ImplOptions(), spec,
                           30.0, "lstm")
    assert out.fix is not None and out.fix.verified, out
