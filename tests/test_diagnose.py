"""Diagnosis: each named pattern is recognised, and its building blocks add up."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bpttcheck.diagnose import diagnose, per_lag, per_step, variant
from bpttcheck.engines import reference, tutorial
from bpttcheck.engines.base import Options
from bpttcheck.model import HIDDEN_PARAMS, PARAM_NAMES, Batch, Problem, build
from bpttcheck.spec import Spec

SPEC = Spec(hidden=7, seq=9, vocab=5, seed=4, init_scale=0.8, hprev="random")


@pytest.fixture(scope="module")
def problem() -> Problem:
    return build(SPEC)


@pytest.fixture(scope="module")
def truth(problem: Problem) -> dict[str, np.ndarray]:
    return reference.gradients(problem.params, problem.batch, Options()).grads


def kinds(g: dict[str, np.ndarray], truth: dict[str, np.ndarray], problem: Problem,
          scale: float = 1.0) -> list[str]:
    return [c.kind for c in diagnose(g, truth, problem.params, problem.batch, scale)]


def test_correct_gradient_has_no_cause(problem: Problem, truth: dict[str, np.ndarray]) -> None:
    g = tutorial.gradients(problem.params, problem.batch, Options()).grads
    assert kinds(g, truth, problem) == []


@pytest.mark.parametrize(("factor", "kind"), [
    (SPEC.seq, "ratio-T"), (1 / SPEC.seq, "ratio-T"), (math.log(2), "ratio-ln2"),
    (1 / math.log(2), "ratio-ln2"), (-1.0, "sign"), (0.5, "ratio"), (3.7, "ratio"),
])
def test_constant_ratio_is_named_with_its_value(problem: Problem, truth: dict[str, np.ndarray],
                                                factor: float, kind: str) -> None:
    g = {n: factor * v for n, v in truth.items()}
    causes = diagnose(g, truth, problem.params, problem.batch)
    assert [c.kind for c in causes] == [kind]
    assert causes[0].value == pytest.approx(factor, rel=1e-9)


def test_one_parameter_sign_flip_and_transpose(problem: Problem,
                                               truth: dict[str, np.ndarray]) -> None:
    g = dict(truth, Why=-truth["Why"])
    causes = diagnose(g, truth, problem.params, problem.batch)
    assert [(c.kind, c.params) for c in causes] == [("sign", ("Why",))]
    g = dict(truth, Whh=truth["Whh"].T.copy())
    causes = diagnose(g, truth, problem.params, problem.batch)
    assert [(c.kind, c.params) for c in causes] == [("transpose", ("Whh",))]


def test_clipping_reports_its_bound(problem: Problem, truth: dict[str, np.ndarray]) -> None:
    bound = 0.5 * max(float(np.abs(v).max()) for v in truth.values())
    g = {n: np.clip(v, -bound, bound) for n, v in truth.items()}
    assert any((np.abs(v) > bound).sum() for v in truth.values())
    causes = diagnose(g, truth, problem.params, problem.batch)
    assert causes[0].kind == "clip" and causes[0].value == pytest.approx(bound)
    # Changing one more element (below the bound) breaks the pattern.
    g["by"] = g["by"].copy()
    small = int(np.argmin(np.abs(truth["by"][:, 0])))
    g["by"][small, 0] += 0.1
    assert "clip" not in kinds(g, truth, problem)


def test_lags_add_up_to_the_reference(problem: Problem, truth: dict[str, np.ndarray]) -> None:
    out, lags = per_lag(problem.params, problem.batch)
    for n in HIDDEN_PARAMS:
        np.testing.assert_allclose(lags[n].sum(axis=0), truth[n], rtol=1e-10, atol=1e-14)
    for n in ("Why", "by"):
        np.testing.assert_allclose(out[n], truth[n], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("window", range(1, SPEC.seq))
def test_truncation_window_is_found(problem: Problem, truth: dict[str, np.ndarray],
                                    window: int) -> None:
    out, lags = per_lag(problem.params, problem.batch)
    g = {**out, **{n: lags[n][:window].sum(axis=0) for n in HIDDEN_PARAMS}}
    causes = diagnose(g, truth, problem.params, problem.batch)
    assert causes[0].kind == ("no-dhnext" if window == 1 else "truncated")
    assert causes[0].value == window


def test_window_one_is_the_tutorial_without_dhnext(problem: Problem) -> None:
    """An independent route to lag 0: the tutorial's loop with dhnext never carried."""
    out, lags = per_lag(problem.params, problem.batch)
    p, b = problem.params, problem.batch
    fw_h = {-1: b.hprev[:, 0]}
    dWhh = np.zeros_like(p["Whh"])
    for t in range(b.seq):
        fw_h[t] = np.tanh(p["Wxh"][:, b.inputs[t]] + p["Whh"] @ fw_h[t - 1] + p["bh"][:, 0])
        y = p["Why"] @ fw_h[t] + p["by"][:, 0]
        dy = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
        dy[b.targets[t]] -= 1
        dWhh += np.outer((1 - fw_h[t] ** 2) * (p["Why"].T @ dy), fw_h[t - 1])
    np.testing.assert_allclose(lags["Whh"][0], dWhh, rtol=1e-10, atol=1e-14)


def test_variant_without_slips_is_the_reference(problem: Problem,
                                                truth: dict[str, np.ndarray]) -> None:
    g = variant(problem.params, problem.batch)
    for n in PARAM_NAMES:
        np.testing.assert_allclose(g[n], truth[n], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(("flag", "kind"), [
    ("tanh_grad", "tanh-derivative"), ("prev_state", "hs-t-for-t-1"),
    ("transpose", "recursion-transpose"), ("after_tanh", "dhnext-before-tanh"),
    ("subtract_one", "dy-target"),
])
def test_named_slips(problem: Problem, truth: dict[str, np.ndarray], flag: str,
                     kind: str) -> None:
    g = variant(problem.params, problem.batch, **{flag: False})
    assert not all(np.allclose(g[n], truth[n]) for n in PARAM_NAMES)  # the slip matters here
    assert kinds(g, truth, problem)[0] == kind


def test_scaled_truth_uses_the_scale(problem: Problem, truth: dict[str, np.ndarray]) -> None:
    """Their loss is c times the spec's: model-based hypotheses are scaled by c."""
    c = 1 / SPEC.seq
    g = {n: c * v for n, v in variant(problem.params, problem.batch, tanh_grad=False).items()}
    scaled = {n: c * v for n, v in truth.items()}
    assert kinds(g, scaled, problem, scale=c)[0] == "tanh-derivative"


@pytest.mark.parametrize("bias", ["bh", "by"])
def test_single_bias(problem: Problem, truth: dict[str, np.ndarray], bias: str) -> None:
    g = dict(truth)
    g[bias] = truth[bias] + np.linspace(0.1, 0.3, truth[bias].size)[:, None]
    causes = diagnose(g, truth, problem.params, problem.batch)
    assert [(c.kind, c.params) for c in causes] == [("bias", (bias,))]


def test_hidden_layer_fallback_and_nonfinite(problem: Problem,
                                             truth: dict[str, np.ndarray]) -> None:
    rng = np.random.default_rng(0)
    g = {n: v + (rng.standard_normal(v.shape) if n in HIDDEN_PARAMS else 0)
         for n, v in truth.items()}
    causes = diagnose(g, truth, problem.params, problem.batch)
    assert [c.kind for c in causes] == ["hidden"]  # no pattern: what was measured, where
    assert "Wxh[" in causes[0].message and "right: dWhy and dby" in causes[0].message
    g = {n: v + (rng.standard_normal(v.shape) if n in ("Wxh", "Whh") else 0)
         for n, v in truth.items()}  # dbh right: dhraw is right, so the lines are wrong
    assert [(c.kind, c.params) for c in diagnose(g, truth, problem.params, problem.batch)] == [
        ("param-line", ("Wxh", "Whh"))]
    g["by"] = np.full_like(truth["by"], np.nan)
    assert kinds(g, truth, problem) == ["nonfinite"]


def test_per_step_shares_add_up_to_prefix_gradients(problem: Problem) -> None:
    """sum_{t<m} dL_t/dtheta is the reference gradient of the first m steps (an independent run)."""
    steps = per_step(problem.params, problem.batch)
    b = problem.batch
    for m in (1, 4, b.seq):
        prefix = Batch(b.inputs[:m], b.targets[:m], b.hprev)
        ref = reference.gradients(problem.params, prefix, Options()).grads
        for n in PARAM_NAMES:
            np.testing.assert_allclose(steps[n][:m].sum(axis=0), ref[n], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("value", [0.0, -4.16e-16])
def test_rounding_zero_is_zero_not_a_chosen_constant(problem: Problem,
                                                     truth: dict[str, np.ndarray],
                                                     value: float) -> None:
    # A softmax gradient summed over the vocabulary is zero, computed as about -4e-16:
    # that is the zero cause, not "np.clip(d, -4e-16, -4e-16)".
    g = dict(truth, by=np.full_like(truth["by"], value))
    causes = diagnose(g, truth, problem.params, problem.batch)
    assert [(c.kind, c.params) for c in causes] == [("zero", ("by",))]
    assert "clip" not in causes[0].message
    assert ("up to rounding" in causes[0].message) == (value != 0.0)
    # A constant as large as the gradient itself stays a constant.
    g = dict(truth, by=np.full_like(truth["by"], 0.25))
    assert kinds(g, truth, problem) == ["constant"]


def test_bias_free_model_output_layer_is_why_alone() -> None:
    spec = Spec(hidden=5, seq=6, vocab=4, seed=3, init_scale=0.8, hprev="random", biases=False)
    pr = build(spec)
    truth = reference.gradients(pr.params, pr.batch, Options()).grads
    truth = {n: truth[n] for n in ("Wxh", "Whh", "Why")}
    rng = np.random.default_rng(0)
    g = dict(truth, Whh=truth["Whh"] + 0.1 * rng.standard_normal(truth["Whh"].shape))
    causes = diagnose(g, truth, pr.params, pr.batch)
    assert causes and "output layer (Why) is right" in causes[0].message, causes
    assert "by" not in causes[0].message.split("right")[0]
