"""The error metric and the element-by-element verdict."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bpttcheck.compare import compare, norm_rel_error, rel_error
from bpttcheck.engines import Gradients

finite = st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, 6, elements=finite), arrays(np.float64, 6, elements=finite),
       st.floats(1e-12, 0.5))
def test_rel_error_is_finite_and_in_unit_interval(a: np.ndarray, b: np.ndarray,
                                                  floor: float) -> None:
    with np.errstate(over="ignore"):  # |a|+|b| may overflow to inf: rel is then 0 or tiny
        rel = rel_error(a, b, floor)
    assert np.all(np.isfinite(rel))
    assert np.all((rel >= 0) & (rel <= 1 + 1e-15))


def test_rel_error_of_zeros_and_opposite_signs() -> None:
    assert rel_error(np.zeros(3), np.zeros(3), 1e-4).tolist() == [0.0, 0.0, 0.0]
    assert rel_error(np.array([1.0]), np.array([-1.0]), 1e-4)[0] == 1.0
    assert rel_error(np.array([2.0]), np.array([0.0]), 1e-4)[0] == 1.0


def test_floor_judges_small_entries_on_the_parameters_scale() -> None:
    a = np.array([1.0, 1e-9])
    b = np.array([1.0, 2e-9])
    rel = rel_error(a, b, floor=1e-4)
    assert rel[1] == pytest.approx(1e-9 / 1e-4)  # |a-b| / (floor * max|grad|)
    assert rel_error(a, b, floor=1e-12)[1] == pytest.approx(1e-9 / 3e-9)


def test_non_finite_values_are_infinite_errors() -> None:
    rel = rel_error(np.array([np.nan, 1.0]), np.array([1.0, 1.0]), 1e-4)
    assert rel[0] == np.inf and rel[1] == 0.0


def test_norm_rel_error() -> None:
    assert norm_rel_error(np.zeros(4), np.zeros(4)) == 0.0
    assert norm_rel_error(np.array([3.0, 4.0]), np.array([3.0, 4.0])) == 0.0
    assert norm_rel_error(np.array([3.0, 4.0]), np.array([0.0, 0.0])) == 1.0


def grads(engine: str, value: np.ndarray, **extra: object) -> Gradients:
    return Gradients(engine, 0.0, {"W": value}, **extra)  # type: ignore[arg-type]


def test_compare_names_the_worst_element() -> None:
    a = np.arange(1.0, 13.0).reshape(3, 4)
    b = a.copy()
    b[2, 1] *= 1.5
    b[0, 3] *= 1.01
    r = compare("W", grads("x", a), grads("y", b), rtol=1e-9, floor=1e-4)
    assert not r.passed and r.failed == 2
    assert r.worst is not None and r.worst.index == (2, 1)
    assert [e.index for e in r.failures] == [(2, 1), (0, 3)]
    assert r.worst.a == 10.0 and r.worst.b == 15.0


def test_clipped_elements_are_explained_only_when_the_truth_exceeds_the_clip() -> None:
    truth = np.array([7.0, -9.0, 1.0, 3.0])
    clipped = np.array([5.0, -5.0, 1.0, 5.0])  # the last one was not a clip: it is a bug
    mask = np.array([True, True, False, True])
    ga = grads("tutorial", clipped, clipped={"W": mask}, clip=5.0)
    r = compare("W", ga, grads("reference", truth), rtol=1e-9, floor=1e-4)
    assert r.clipped == 2
    assert r.failed == 1 and r.failures[0].index == (3,)


def test_differences_within_the_error_bar_are_precision_limited() -> None:
    a = np.array([1.0, 1e-3])
    b = np.array([1.0, 1e-3 + 1e-12])
    noise = np.array([0.0, 1e-11])
    r = compare("W", grads("reference", a), grads("numeric", b, noise={"W": noise}),
                rtol=1e-12, floor=1e-12)
    assert r.passed and r.precision_limited == 1
    r = compare("W", grads("reference", a), grads("numeric", b, noise={"W": noise / 100}),
                rtol=1e-12, floor=1e-12)
    assert not r.passed


def test_nan_in_a_gradient_fails_and_is_counted() -> None:
    r = compare("W", grads("x", np.array([1.0, np.nan])), grads("y", np.array([1.0, 1.0])),
                rtol=1e-9, floor=1e-4)
    assert not r.passed and r.nonfinite == 1
    assert r.worst is not None and r.worst.index == (1,)


def test_sampled_comparison_uses_only_covered_elements() -> None:
    b = np.array([1.0, np.nan, 3.0, np.nan])
    r = compare("W", grads("x", np.array([1.0, 2.0, 3.0, 4.0])),
                grads("numeric", b, covered={"W": np.array([0, 2])}), rtol=1e-9, floor=1e-4)
    assert r.passed and r.compared == 2
