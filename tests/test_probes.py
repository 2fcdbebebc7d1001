"""The batched-call protocol: ScalarLoss, the always-correct implementation others must match."""

from __future__ import annotations

import numpy as np
import pytest

from bpttcheck.probes import BatchedLoss, DirectionProbes, ElementProbes, ScalarLoss


def quadratic(q: dict[str, np.ndarray]) -> complex:
    return complex((q["W"] ** 2).sum() + 3 * q["b"].sum())


def params() -> dict[str, np.ndarray]:
    return {"W": np.arange(6.0).reshape(2, 3), "b": np.array([[1.0], [2.0]])}


def test_scalar_loss_is_a_batched_loss_and_moves_one_element_per_point() -> None:
    loss = ScalarLoss(lambda q: quadratic(q).real, params())
    assert isinstance(loss, BatchedLoss)
    assert loss.base == pytest.approx(55.0 + 9.0)
    got = loss.elements(ElementProbes("W", np.array([0, 5]), np.array([0.5, -1.0])))
    # W[0,0] = 0 -> 0.5 adds 0.25; W[1,2] = 5 -> 4 removes 9.
    np.testing.assert_allclose(got, [64.25, 55.0])


def test_complex_steps_give_exact_derivatives_and_need_consent() -> None:
    probes = ElementProbes("W", np.arange(6), np.full(6, 1e-20j))
    with pytest.raises(ValueError, match="complex"):
        ScalarLoss(lambda q: quadratic(q).real, params()).elements(probes)
    loss = ScalarLoss(quadratic, params(), accepts_complex=True)
    np.testing.assert_array_equal(loss.elements(probes).imag / 1e-20, 2 * np.arange(6.0))


def test_directions_move_every_parameter_and_never_touch_the_callers_arrays() -> None:
    base = params()
    seen: list[dict[str, np.ndarray]] = []

    def mutating(q: dict[str, np.ndarray]) -> float:
        seen.append(q)
        value = quadratic(q).real
        q["W"][...] = 1e9  # a loss that mutates its argument must not move the base point
        return value

    loss = ScalarLoss(mutating, base)
    dirs = {"W": np.ones((2, 2, 3)), "b": np.zeros((2, 2, 1))}
    got = loss.along(DirectionProbes(dirs, np.array([1.0, 0.0])))
    np.testing.assert_allclose(got, [(np.arange(6.0) + 1) @ (np.arange(6.0) + 1) + 9, 64.0])
    np.testing.assert_array_equal(base["W"], np.arange(6.0).reshape(2, 3))
