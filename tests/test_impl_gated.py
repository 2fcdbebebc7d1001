"""--impl for the gated cells (LSTM, GRU): forms, verdicts, precision, per-gate diagnosis."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import Result

import bpttcheck
from bpttcheck import cells, diagnose_gated, selftest
from bpttcheck.compare import norm_rel_error
from bpttcheck.engines import Options
from bpttcheck.gated_variants import SLIPS, walk
from bpttcheck.impl import ImplOptions, ImplRequest, parse_loss, parse_names, parse_order
from bpttcheck.model import build
from bpttcheck.spec import Spec

Run = Callable[..., Result]
SIZES = {"hidden": 5, "vocab": 4, "seq": 5, "seed": 3, "init_scale": 0.5}
CORPUS = selftest.corpus_dir()


def _sig(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def make_lstm(bug: str | None = None, order: tuple[str, ...] | None = None,
              scale: float = 1.0) -> Callable[..., Any]:
    """An explicit-form LSTM loss function, written here independently of bpttcheck,
    with one optional bug: "dc" (dc not carried), "clast" (a wrong cell state returned)."""

    def lstm(params: dict[str, np.ndarray], inputs: list[int], targets: list[int],
             hprev: np.ndarray, cprev: np.ndarray) -> Any:
        Wf, Wi, Wc, Wo = params["Wf"], params["Wi"], params["Wc"], params["Wo"]
        bf, bi, bc, bo = params["bf"], params["bi"], params["bc"], params["bo"]
        Why, by = params["Why"], params["by"]
        H, V = Wf.shape[0], Why.shape[0]
        h, c, cache, loss = hprev, cprev, [], 0.0
        for x_i, y_i in zip(inputs, targets, strict=True):
            x = np.zeros((V, 1))
            x[x_i] = 1
            z = np.vstack((h, x))
            f, i, g, o = (_sig(Wf @ z + bf), _sig(Wi @ z + bi), np.tanh(Wc @ z + bc),
                          _sig(Wo @ z + bo))
            c_before, c = c, f * c + i * g
            h = o * np.tanh(c)
            y = Why @ h + by
            p = np.exp(y - y.max())
            p /= p.sum()
            loss -= float(np.log(p[y_i, 0]))
            cache.append((z, f, i, g, o, c_before, c, h, p, y_i))
        grads = {k: np.zeros_like(v) for k, v in params.items()}
        dh_next, dc_next = np.zeros((H, 1)), np.zeros((H, 1))
        for z, f, i, g, o, c_before, c_t, h_t, p, y_i in reversed(cache):
            dy = p.copy()
            dy[y_i] -= 1
            grads["Why"] += dy @ h_t.T
            grads["by"] += dy
            dh = Why.T @ dy + dh_next
            dc = dh * o * (1 - np.tanh(c_t) ** 2) + dc_next
            raws = {"f": dc * c_before * f * (1 - f), "i": dc * g * i * (1 - i),
                    "c": dc * i * (1 - g * g), "o": dh * np.tanh(c_t) * o * (1 - o)}
            dz = np.zeros((H + V, 1))
            for k, r in raws.items():
                grads["W" + k] += r @ z.T
                grads["b" + k] += r
                dz += params["W" + k].T @ r
            dh_next = dz[:H]
            dc_next = np.zeros_like(dc) if bug == "dc" else f * dc
        grads = {k: scale * v for k, v in grads.items()}
        if order is not None:
            return (scale * loss, *(grads[k] for k in order), h)
        return scale * loss, grads, h, (c + 1 if bug == "clast" else c)

    return lstm


def _check(impl: Any, cell: str = "lstm", **more: Any) -> Any:
    """The check as the API runs it, with 4 elements per parameter differentiated through
    the function (the default 20 would make each test seconds long)."""
    if not isinstance(impl, ImplRequest):
        impl = ImplRequest(impl)
    impl = dataclasses.replace(impl, options=dataclasses.replace(impl.options, sample=4))
    return bpttcheck.check(impl=impl, cell=cell, engines=("reference",), **{**SIZES, **more})


# -- the variant engines and the per-gate diagnosis ---------------------------------------

@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_variant_walk_is_the_reference_in_float64_and_close_in_float32(cell: str) -> None:
    problem = build(Spec(cell=cell, hprev="random", bias_scale=0.3, **SIZES))
    ref = cells.get(cell).reference(problem.params, problem.batch, Options())
    w = walk(cell, problem.params, problem.batch)
    assert max(norm_rel_error(w.grads[n], ref.grads[n]) for n in ref.grads) < 1e-12
    assert norm_rel_error(w.dhprev, ref.dhprev) < 1e-12
    w32 = walk(cell, problem.params, problem.batch, "float32")
    worst = max(norm_rel_error(w32.grads[n], ref.grads[n]) for n in ref.grads)
    assert 1e-12 < worst < 1e-4  # rounded, as float32 is, but the same gradient


@pytest.mark.parametrize(("cell", "slip"), [(c, s) for c in SLIPS for s in SLIPS[c]])
def test_each_slip_is_named_by_measurement(cell: str, slip: str) -> None:
    problem = build(Spec(cell=cell, hprev="random", bias_scale=0.3, **SIZES))
    truth = cells.get(cell).reference(problem.params, problem.batch, Options()).grads
    g = walk(cell, problem.params, problem.batch, slips=[slip]).grads
    causes = diagnose_gated.diagnose(cell, g, truth, problem.params, problem.batch)
    assert causes[0].kind == diagnose_gated.kind_of(slip)
    assert "Measured" in causes[0].message


def test_a_constant_factor_and_an_unknown_error_per_gate() -> None:
    problem = build(Spec(cell="lstm", hprev="random", bias_scale=0.3, **SIZES))
    truth = cells.get("lstm").reference(problem.params, problem.batch, Options()).grads
    doubled = {n: 2 * v for n, v in truth.items()}
    c = diagnose_gated.diagnose("lstm", doubled, truth, problem.params, problem.batch)
    assert c[0].kind == "ratio" and c[0].value == pytest.approx(2.0)
    noisy = dict(truth)
    noisy["Wo"] = truth["Wo"] + 1e-3 * np.random.default_rng(0).standard_normal(
        truth["Wo"].shape)
    c = diagnose_gated.diagnose("lstm", noisy, truth, problem.params, problem.batch)
    assert c[0].kind == "gates" and c[0].params == ("Wo",)
    assert "only the output gate is wrong" in c[0].message
    assert "dWhy and dby are right" in c[0].message
    assert diagnose_gated.diagnose("lstm", truth, truth, problem.params, problem.batch) == []


# -- the Python API: explicit dict form, in-process ---------------------------------------

def test_api_correct_lstm_passes_and_returns_are_compared() -> None:
    report = _check(make_lstm())
    assert report.exit_code == 0, report.impl.verdict
    assert report.impl.form == "explicit"
    assert not any("no hidden state" in n for n in report.impl.notes)


def test_api_lstm_bug_names_parameter_element_step_gate_and_cause() -> None:
    report = _check(make_lstm("dc"))
    impl = report.impl
    assert report.exit_code == 1
    assert impl.causes[0].kind == "dc-not-carried"
    assert "only the loss at the same step reaches c" in impl.causes[0].message
    assert any(f.startswith("Wf impl↔reference") and "worst Wf[" in f for f in impl.failures)
    assert impl.steps and 0 not in impl.steps  # step 0 has nothing to carry
    entry = next(c for c in impl.causes if c.kind == "enters")
    assert entry.steps == (min(impl.steps),)
    assert "Wo" not in entry.params  # the output gate's path does not go through dcnext


def test_api_wrong_clast_is_a_finding() -> None:
    report = _check(make_lstm("clast"))
    assert report.exit_code == 1
    assert any(f.kind == "clast" for f in report.impl.findings)


def test_api_mean_loss_is_related_and_declarable() -> None:
    mean = make_lstm(scale=1 / SIZES["seq"])
    report = _check(mean)
    assert report.exit_code == 1 and report.impl.relation.kind == "mean-T"
    declared = ImplRequest(mean, loss=bpttcheck.impl.parse_loss("mean=T"))
    assert _check(declared).exit_code == 0


def test_api_positional_returns_in_another_order_with_impl_order() -> None:
    order = ("Why", "by", "Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo")
    func = make_lstm(order=order)
    text = ",".join("d" + n for n in order)
    parsed = parse_order(text, {})
    assert parsed == order
    assert _check(ImplRequest(func, ImplOptions(order=parsed))).exit_code == 0
    with pytest.raises(bpttcheck.errors.ImplError, match="dWhy"):
        _check(func)  # the cell's order, not the function's: shapes do not fit


def test_gru_weights_as_arguments_with_impl_names() -> None:
    def gru(inputs: list[int], targets: list[int], h0: np.ndarray, A: np.ndarray,
            B: np.ndarray, C: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray,
            Out: np.ndarray, out: np.ndarray) -> Any:
        H, V = A.shape[0], Out.shape[0]
        h, cache, loss = h0, [], 0.0
        for x_i, y_i in zip(inputs, targets, strict=True):
            x = np.zeros((V, 1))
            x[x_i] = 1
            z = np.vstack((h, x))
            u, r = _sig(A @ z + a), _sig(B @ z + b)
            zr = np.vstack((r * h, x))
            n = np.tanh(C @ zr + c)
            hp, h = h, u * h + (1 - u) * n
            y = Out @ h + out
            p = np.exp(y - y.max())
            p /= p.sum()
            loss -= float(np.log(p[y_i, 0]))
            cache.append((z, zr, u, r, n, hp, h, p, y_i))
        g = {k: np.zeros_like(v) for k, v in zip("ABCabcOo", (A, B, C, a, b, c, Out, out),
                                                 strict=True)}
        dnext = np.zeros((H, 1))
        for z, zr, u, r, n, hp, h_t, p, y_i in reversed(cache):
            dy = p.copy()
            dy[y_i] -= 1
            g["O"] += dy @ h_t.T
            g["o"] += dy
            dh = Out.T @ dy + dnext
            du = dh * (hp - n) * u * (1 - u)
            dn = dh * (1 - u) * (1 - n * n)
            drh = (C.T @ dn)[:H]
            dr = drh * hp * r * (1 - r)
            g["A"] += du @ z.T
            g["B"] += dr @ z.T
            g["C"] += dn @ zr.T
            g["a"] += du
            g["b"] += dr
            g["c"] += dn
            dnext = dh * u + drh * r + (A.T @ du + B.T @ dr)[:H]
        return loss, {"dA": g["A"], "dB": g["B"], "dC": g["C"], "da": g["a"], "db": g["b"],
                      "dc": g["c"], "dOut": g["O"], "dout": g["o"]}, h

    names = parse_names("A=Wz,B=Wr,C=Wn,a=bz,b=br,c=bn,Out=Why,out=by")
    report = _check(ImplRequest(gru, ImplOptions(names=names)), cell="gru")
    assert report.exit_code == 0, report.impl.verdict
    assert report.impl.form == "arguments"


def test_lstm_function_with_a_vanilla_signature_is_refused_with_the_cell_named() -> None:
    def three(params: Any, inputs: Any, targets: Any) -> Any:
        return 0.0, {}

    with pytest.raises(bpttcheck.errors.ImplError, match="cprev"):
        _check(three)


def test_gated_return_count_is_checked() -> None:
    def short(params: Any, inputs: Any, targets: Any, hprev: Any, cprev: Any) -> Any:
        return (1.0, *(np.zeros_like(params[k]) for k in ("Wf", "Wi", "Wc", "Wo", "bf")))

    with pytest.raises(bpttcheck.errors.ImplError, match="dWf, dWi, dWc, dWo"):
        _check(short)


# -- files through the CLI, in the child process ------------------------------------------

def _float32_class(tmp_path: Path) -> Path:
    """The corpus's stacked-gate LSTM class, computing in float32 throughout."""
    text = (CORPUS / "ok_lstm_class_stacked.py").read_text(encoding="utf-8")
    for a, b in (("self.Wg))  # (4H", "self.Wg)).astype(np.float32)  # (4H"),
                 ("self.bo, self.bg))", "self.bo, self.bg)).astype(np.float32)"),
                 ("{-1: cprev}, {-1: hprev}", "{-1: cprev.astype(np.float32)}, "
                                              "{-1: hprev.astype(np.float32)}"),
                 ("x = np.zeros((self.V, 1))", "x = np.zeros((self.V, 1), np.float32)"),
                 ("np.dot(self.Wy, h[t]) + self.by", "np.dot(Wy, h[t]) + by"),
                 ("np.dot(self.Wy.T, dy)", "np.dot(Wy.T, dy)"),
                 ("np.zeros_like(self.Wy), np.zeros_like(self.by)",
                  "np.zeros_like(Wy), np.zeros_like(by)"),
                 ("np.zeros((H, 1)), np.zeros((H, 1))",
                  "np.zeros((H, 1), np.float32), np.zeros((H, 1), np.float32)"),
                 ("        T = len(inputs)\n",
                  "        T = len(inputs)\n        Wy, by = self.Wy.astype(np.float32), "
                  "self.by.astype(np.float32)\n")):
        assert a in text, a
        text = text.replace(a, b)
    path = tmp_path / "lstm32.py"
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_float32_lstm_class_passes(run_cli: Run, tmp_path: Path) -> None:
    path = _float32_class(tmp_path)
    result = run_cli("compare", "--cell", "lstm", "--hidden", "5", "--vocab", "4", "--seq", "4",
                     "--impl-sample", "4", "--impl", f"{path}:LSTM.lossFun",
                     "--format", "json")
    assert result.exit_code == 0, result.output
    impl = json.loads(result.stdout)["impl"]
    assert impl["precision"] == "float32"
    assert impl["passed"]


def test_cli_gru_bug_exits_1_with_cause_and_steps(run_cli: Run) -> None:
    result = run_cli("compare", "--cell", "gru", "--hidden", "5", "--vocab", "4", "--seq", "5",
                     "--impl-sample", "4", "--impl",
                     f"{CORPUS / 'bug_gru_u_flipped.py'}:lossFun")
    assert result.exit_code == 1
    out = " ".join(result.stdout.split())
    assert "the update gate is flipped in the backward pass" in out
    assert "loss steps t = " in out
    assert "worst Wz[" in out


GATED = [c for c in selftest.cases() if c.cell != "vanilla"]
FAST = {"ok_lstm_globals", "bug_gru_u_flipped"}


@pytest.mark.parametrize("case", [pytest.param(c, marks=() if c.name in FAST else
                                               pytest.mark.slow) for c in GATED],
                         ids=[c.name for c in GATED])
def test_gated_corpus_case(case: selftest.Case) -> None:
    outcome = selftest.run_case(case)
    if case.correct:
        assert outcome.exit_code == 0, outcome.message
    else:
        assert outcome.exit_code == 1, outcome.message
        assert outcome.cause == case.expect, outcome.message
    assert outcome.ok


def test_gated_corpus_size_and_variety() -> None:
    bugs = [c for c in GATED if not c.correct]
    good = [c for c in GATED if c.correct]
    assert len(bugs) >= 6 and len({c.expect for c in bugs}) == len(bugs)
    assert len(good) >= 2 and {c.cell for c in good} == {"lstm", "gru"}
    assert any("." in c.target for c in good)  # a method
    assert any("print '" in c.path.read_text(encoding="utf-8") for c in good)  # Python 2


def test_returned_keys_match_ignoring_case_only_when_unambiguous() -> None:
    from bpttcheck.impl.returns import our_name

    lstm = ("Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo", "Why", "by")
    assert our_name("dwf", {}, lstm) == "Wf"
    assert our_name("DWhy", {}, lstm) == "Why"
    assert our_name("dWg", {"Wg": "Wc"}, lstm) == "Wc"
    assert our_name("dh", {}, lstm) is None
    assert our_name("dX", {"x": "Wf", "X": "Wi"}, lstm) == "Wi"  # exact first
    assert our_name("dx", {"X": "Wf", "Xx": "Wi"}, lstm) == "Wf"


@pytest.mark.parametrize(("cell", "what", "k", "kind"), [("lstm", "dcnext", -1.0, "carry-scaled"),
                                                         ("lstm", "f", 2.0, "gate-scaled"),
                                                         ("gru", "dhnext", 0.5, "carry-scaled"),
                                                         ("gru", "n", -1.0, "gate-scaled")])
def test_a_constant_factor_on_a_carry_or_a_gate_is_measured(cell: str, what: str, k: float,
                                                            kind: str) -> None:
    problem = build(Spec(cell=cell, hprev="random", bias_scale=0.3, **SIZES))
    truth = cells.get(cell).reference(problem.params, problem.batch, Options()).grads
    g = walk(cell, problem.params, problem.batch, scales={what: k}).grads
    causes = diagnose_gated.diagnose(cell, g, truth, problem.params, problem.batch)
    assert (causes[0].kind, causes[0].value) == (kind, k)


@pytest.mark.parametrize("state", ["hprev", "cprev"])
def test_lstm_loss_ignoring_one_initial_state_is_named(state: str) -> None:
    """A forward that ignores cprev (or hprev) alone: the relation names that state."""
    from bpttcheck import checker
    from bpttcheck.model import Batch

    spec = Spec(cell="lstm", hprev="random", bias_scale=0.3, **SIZES)
    cell = cells.CELLS["lstm"]

    def ignoring(params: Any, inputs: Any, targets: Any, hprev: Any, cprev: Any) -> Any:
        batch = Batch(tuple(inputs), tuple(targets),
                      0 * hprev if state == "hprev" else hprev,
                      0 * cprev if state == "cprev" else cprev)
        out = cell.reference(params, batch, Options())
        return out.loss, dict(out.grads)

    report = checker.run(spec, ("reference",), impl=ImplRequest(ignoring, ImplOptions()))
    assert report.exit_code == 1
    assert report.impl is not None
    assert report.impl.relation.kind == "no-hprev"
    assert f"with {state} taken as zero" in report.impl.relation.text


# -- float32 with a declared loss factor (r-f32) --------------------------------------------

F32_FIXTURES = Path(__file__).parent / "forms" / "f32"


@pytest.mark.parametrize(("edit", "exit_code"), [
    (None, 0), (("dI = dc * g * i * (1 - i)", "dI = dc * g * (1 - i)"), 1)])
def test_float32_lstm_returning_the_mean_declared_mean(tmp_path: Path,
                                                       edit: tuple[str, str] | None,
                                                       exit_code: int) -> None:
    """Correct float32 LSTM code returning the mean passes with --impl-loss mean=T; one with
    a wrong input-gate derivative fails on its gradient, not on precision."""
    text = (F32_FIXTURES / "lstm_f32_mean_ok.py").read_text(encoding="utf-8")
    if edit is not None:
        assert text.count(edit[0]) == 1
        text = text.replace(*edit)
    path = tmp_path / "lstm_mean.py"
    path.write_text(text, encoding="utf-8")
    report = _check(ImplRequest(f"{path}:loss_and_grads", loss=parse_loss("mean=T")))
    assert report.exit_code == exit_code, report.verdict()
    assert report.impl.precision == "float32"
    assert not any(f.startswith("precision:") for f in report.impl.findings)
    if exit_code:
        assert report.impl.points[0].gradient_ok is False
