"""The one differentiator: methods as objects, any batched loss, the loss's own precision."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
from click.testing import Result

from bpttcheck.engines import ENGINES, Options
from bpttcheck.engines.complex_step import (
    LiteralLoss,
    StructuredLoss,
    complex_loss,
    impulse_responses,
)
from bpttcheck.engines.finite_difference import DifferenceLoss, PlainLoss, tanh_into
from bpttcheck.errors import SpecError
from bpttcheck.model import Problem, loss
from bpttcheck.numdiff import METHODS, by_name, differentiate
from bpttcheck.numdiff.methods import CENTRAL, COMPLEX, DIFFERENCE, eps_of
from bpttcheck.probes import BatchedLoss, ElementProbes, ScalarLoss
from bpttcheck.spec import METHOD_CHOICES

Run = Callable[..., Result]


def wave(q: dict[str, np.ndarray], kind: type = np.float64) -> complex:
    """sum exp(0.3 W) sin(W): analytic, complex-safe, with a known derivative."""
    W = q["W"] if np.iscomplexobj(q["W"]) else q["W"].astype(kind)
    return complex(np.sum(np.exp(0.3 * W) * np.sin(W)))


def wave_grad(W: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.exp(0.3 * W) * (0.3 * np.sin(W) + np.cos(W))
    return out


POINT = {"W": np.linspace(-2.0, 3.0, 12).reshape(3, 4)}
ALL = {"W": np.arange(12)}


def test_the_method_list_is_the_spec_choices_and_names_are_unique() -> None:
    assert tuple(m.name for m in METHODS) == METHOD_CHOICES
    assert by_name("central") is CENTRAL
    with pytest.raises(ValueError, match="expected one of"):
        by_name("secant")


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
def test_default_steps_lie_in_each_methods_range_and_follow_the_precision(method: object) -> None:
    m = by_name(method.name)  # type: ignore[attr-defined]
    for dtype in (np.float64, np.float32):
        low, high = m.step_range(dtype)
        assert low <= m.default_step(dtype) <= high
    if not m.complex and not m.exact_change:  # h = eps^(1/(p+1)) of the loss's precision
        want = eps_of(np.float32) ** (1 / (m.order + 1))
        assert m.default_step(np.float32) == pytest.approx(want)
        assert m.default_step(np.float32) > 10 * m.default_step(np.float64)


@pytest.mark.parametrize("method", [m for m in METHODS if not m.exact_change],
                         ids=lambda m: m.name)
def test_each_method_differentiates_a_plain_function_within_its_error_bar(method: object) -> None:
    m = by_name(method.name)  # type: ignore[attr-defined]
    target = ScalarLoss(lambda q: wave(q).real if not m.complex else wave(q), POINT,
                        accepts_complex=m.complex)
    result = differentiate(target, POINT, m, ALL)
    exact = wave_grad(POINT["W"]).reshape(-1)
    err = np.abs(result.values["W"] - exact)
    assert np.all(err <= result.errors["W"])
    assert result.errors["W"].max() < 1e-4 * np.abs(exact).max()  # useful, not vacuous


def test_methods_refuse_losses_that_cannot_serve_them() -> None:
    real = ScalarLoss(lambda q: wave(q).real, POINT)
    with pytest.raises(ValueError, match="complex"):
        differentiate(real, POINT, COMPLEX, ALL)
    with pytest.raises(ValueError, match="difference form"):
        differentiate(real, POINT, DIFFERENCE, ALL)


def test_a_float32_loss_gets_float32_steps_and_honest_error_bars() -> None:
    target = ScalarLoss(lambda q: wave(q, np.float32).real, POINT, dtype=np.float32)
    exact = wave_grad(POINT["W"]).reshape(-1)
    result = differentiate(target, POINT, CENTRAL, ALL)
    assert result.step == CENTRAL.default_step(np.float32)
    err = np.abs(result.values["W"] - exact)
    assert np.all(err <= result.errors["W"])
    assert err.max() < 1e-3 * np.abs(exact).max()
    # The float64 step would read float32 rounding as the derivative: refused.
    with pytest.raises(SpecError, match="--step"):
        differentiate(target, POINT, CENTRAL, ALL, step=CENTRAL.default_step())
    # A small step within float32's range is worse, and its error bar says so.
    small = differentiate(target, POINT, CENTRAL, ALL, step=1e-4)
    assert np.abs(small.values["W"] - exact).max() > 3 * err.max()
    assert np.all(np.abs(small.values["W"] - exact) <= small.errors["W"])


def _agree(a: np.ndarray, b: np.ndarray, rtol: float) -> None:
    assert np.abs(a - b).max() <= rtol * max(1.0, float(np.abs(b).max()))


@pytest.mark.parametrize("name", ["Wxh", "Whh", "Why", "bh", "by"])
def test_the_models_batched_losses_answer_what_the_plain_loss_says(
        name: str, small_problem: Problem) -> None:
    params, batch = small_problem.params, small_problem.batch
    rng = np.random.default_rng(0)
    idx = rng.choice(params[name].size, size=min(6, params[name].size), replace=False)
    steps = rng.uniform(-1e-3, 1e-3, len(idx))
    slow = ScalarLoss(lambda q: loss(q, batch), params)
    want = slow.elements(ElementProbes(name, idx, steps)) - slow.base
    for fast in (PlainLoss(params, batch), DifferenceLoss(params, batch)):
        assert isinstance(fast, BatchedLoss) and fast.returns_change
        _agree(fast.elements(ElementProbes(name, idx, steps)), want, 1e-12)
    literal_slow = ScalarLoss(lambda q: complex_loss(q, batch), params, accepts_complex=True)
    probes = ElementProbes(name, idx, 1j * np.abs(steps) * 1e-15)
    want_c = literal_slow.elements(probes)
    for fast_c in (LiteralLoss(params, batch), StructuredLoss(params, batch, 1e-20)):
        got = fast_c.elements(probes)
        _agree(got.real, want_c.real, 1e-13)
        _agree(got.imag / probes.step.imag, want_c.imag / probes.step.imag, 1e-12)


def test_every_method_honours_step_and_reports_the_step_used(run_cli: Run) -> None:
    args = ["--hidden", "5", "--seq", "4", "--vocab", "4", "--json"]
    for method, step, shown in (("complex", "1e-10", "1e-10"), ("central", "1e-4", "1.0e-04"),
                                ("complex-literal", "1e-30", "1e-30"),
                                ("richardson", "2e-3", "2.0e-03")):
        result = run_cli("numeric", *args, "--method", method, "--step", step)
        assert result.exit_code == 0, result.output
        assert shown in json.loads(result.stdout)["engines"]["numeric"]["step"]


def test_the_structured_complex_step_uses_the_step_it_is_given(small_problem: Problem) -> None:
    params, batch = small_problem.params, small_problem.batch
    default = ENGINES["numeric"](params, batch, Options())
    wide = ENGINES["numeric"](params, batch, Options(step=1e-4))  # O(eta^2) = 1e-8: visible
    assert any(not np.array_equal(default.grads[n], wide.grads[n]) for n in params)
    assert wide.step is not None and "1e-04" in wide.step


def test_threads_reported_are_the_threads_that_ran(small_problem: Problem) -> None:
    target = ScalarLoss(lambda q: wave(q).real, POINT)
    one_chunk = differentiate(target, POINT, CENTRAL, {"W": np.arange(3)}, workers=2)
    assert one_chunk.threads == 1
    two = differentiate(target, POINT, CENTRAL, ALL, workers=2, chunk=4)
    assert two.threads == 2
    g = ENGINES["numeric"](small_problem.params, small_problem.batch, Options(threads=1))
    assert g.timing is not None and g.timing["threads"] == 1


@pytest.mark.parametrize("method", [m for m in METHODS if not m.exact_change],
                         ids=lambda m: m.name)
def test_directional_derivatives_of_a_plain_function(method: object) -> None:
    from bpttcheck.numdiff import along

    m = by_name(method.name)  # type: ignore[attr-defined]
    target = ScalarLoss(lambda q: wave(q).real if not m.complex else wave(q), POINT,
                        accepts_complex=m.complex)
    vs = np.random.default_rng(3).standard_normal((3, *POINT["W"].shape))
    values, errors = along(target, m, {"W": vs}, unit=3.0)
    exact = np.array([float(np.sum(v * wave_grad(POINT["W"]))) for v in vs])
    assert np.all(np.abs(values - exact) <= errors)
    assert errors.max() < 1e-3 * np.abs(exact).max()


def test_impulse_responses_are_the_recursion_run_from_each_impulse() -> None:
    """G[i, s] by superposition equals the tangent recursion started at (s, e_i), for any
    way of cutting the rows into chunks and threads."""
    rng = np.random.default_rng(4)
    T, H = 6, 5
    k, w = rng.random((T, H)), rng.standard_normal((T, H))
    WhhT = 0.4 * rng.standard_normal((H, H))
    want = np.zeros((H, T))
    for s in range(T):
        for i in range(H):
            B = np.zeros(H)
            for t in range(s, T):
                B = (B @ WhhT if t > s else np.eye(H)[i]) * k[t]
                want[i, s] += B @ w[t]
    for rows in (1, 3, 5, 11, 1000):
        for workers in (1, 2):
            G, Gabs = impulse_responses(k, WhhT, w, rows, workers)
            np.testing.assert_allclose(G, want, rtol=1e-13, atol=1e-15)
            assert np.all(Gabs >= np.abs(G) * (1 - 1e-14))


def test_tanh_by_one_exp_is_numpys_tanh_to_an_ulp_of_one() -> None:
    a = np.concatenate([np.linspace(-60.0, 60.0, 20001), np.geomspace(1e-300, 1.0, 500),
                        -np.geomspace(1e-300, 1.0, 500), [0.0, 1e4, -1e4, np.inf, -np.inf]])
    out = np.empty_like(a)
    with np.errstate(all="raise"):
        tanh_into(a, out)
    assert np.max(np.abs(out - np.tanh(a))) <= 2 * eps_of(np.float64)
    assert np.all(np.abs(out) <= 1.0)


@pytest.mark.parametrize("name", ["Wxh", "Whh", "bh"])
def test_literal_steps_sharing_real_parts_answer_as_those_carrying_them(
        name: str, small_problem: Problem) -> None:
    """Purely imaginary steps take the real parts from the base pass; a step with a real
    part (1e-300, changing nothing) carries them per copy. Both give the same Im L."""
    params, batch = small_problem.params, small_problem.batch
    idx = np.arange(params[name].size)[::-1]
    eta = np.full(len(idx), 1e-20)
    loss = LiteralLoss(params, batch)
    shared = loss.elements(ElementProbes(name, idx, 1j * eta))
    carried = loss.elements(ElementProbes(name, idx, 1e-300 + 1j * eta))
    top = np.abs(carried.imag).max()
    assert top > 0
    np.testing.assert_allclose(shared.imag, carried.imag, rtol=0, atol=1e-13 * top)
    np.testing.assert_allclose(shared.real, carried.real, rtol=1e-13)
