"""The forward pass and loss: what every engine differentiates."""

from __future__ import annotations

import math

import numpy as np

from bpttcheck.model import Batch, Problem, build, forward, logsumexp
from bpttcheck.spec import resolve


def plain_loss(problem: Problem) -> float:
    """The loss written out step by step with one-hot vectors, as the tutorial does."""
    p = problem.params
    V = p["Why"].shape[0]
    h = problem.batch.hprev
    total = 0.0
    for x_id, y_id in zip(problem.batch.inputs, problem.batch.targets, strict=True):
        x = np.zeros((V, 1))
        x[x_id] = 1.0
        h = np.tanh(p["Wxh"] @ x + p["Whh"] @ h + p["bh"])
        y = p["Why"] @ h + p["by"]
        prob = np.exp(y) / np.sum(np.exp(y))
        total += -math.log(prob[y_id, 0])
    return total


def test_forward_matches_the_step_by_step_loss(small_problem: Problem) -> None:
    fw = forward(small_problem.params, small_problem.batch)
    assert math.isclose(fw.loss, plain_loss(small_problem), rel_tol=1e-13)
    assert np.allclose(fw.ps.sum(axis=1), 1.0, rtol=0, atol=1e-15)


def test_default_problem_is_the_tutorials_shape() -> None:
    problem = build(resolve())
    assert problem.params["Wxh"].shape == (100, problem.vocab)
    assert problem.params["Whh"].shape == (100, 100)
    assert problem.params["Why"].shape == (problem.vocab, 100)
    assert problem.params["bh"].shape == (100, 1)
    assert problem.params["by"].shape == (problem.vocab, 1)
    assert problem.batch.seq == 25
    # 0.01 * randn: the sample standard deviation is close to 0.01 over 10000 draws.
    assert abs(problem.params["Whh"].std() - 0.01) < 0.001
    assert not problem.params["bh"].any() and not problem.params["by"].any()


def test_loss_at_zero_weights_is_t_log_v() -> None:
    problem = build(resolve(overrides={"hidden": 4, "seq": 7, "vocab": 9, "init_scale": 1e-300}))
    fw = forward(problem.params, problem.batch)
    assert math.isclose(fw.loss, 7 * math.log(9), rel_tol=1e-14)


def test_same_seed_same_problem_other_seed_other_weights() -> None:
    a, b = build(resolve(overrides={"seed": 5})), build(resolve(overrides={"seed": 5}))
    c = build(resolve(overrides={"seed": 6}))
    assert np.array_equal(a.params["Whh"], b.params["Whh"])
    assert not np.array_equal(a.params["Whh"], c.params["Whh"])


def test_stable_softmax_reports_where_the_tutorial_would_overflow() -> None:
    problem = build(resolve(overrides={"hidden": 3, "seq": 2, "vocab": 3}))
    params = dict(problem.params)
    params["by"] = np.array([[800.0], [0.0], [-5.0]])  # exp(800) overflows in float64
    fw = forward(params, problem.batch)
    assert fw.softmax_overflow
    assert np.all(np.isfinite(fw.ps)) and math.isfinite(fw.loss)
    assert not forward(problem.params, problem.batch).softmax_overflow


def test_logsumexp_is_exact_where_the_plain_formula_works() -> None:
    ys = np.random.default_rng(0).standard_normal((4, 7))
    assert np.allclose(logsumexp(ys), np.log(np.exp(ys).sum(axis=1)), rtol=1e-15)
    big = np.array([[1000.0, 1000.0]])
    assert math.isclose(float(logsumexp(big)[0]), 1000.0 + math.log(2.0), rel_tol=1e-15)


def test_batch_seq() -> None:
    assert Batch((1, 2, 3), (2, 3, 4), np.zeros((2, 1))).seq == 3


def test_the_tutorial_engine_notes_an_overflow_the_original_would_hit() -> None:
    from bpttcheck import checker

    report = checker.run(resolve(overrides={"hidden": 20, "seq": 5, "init_scale": 100.0}))
    assert any("would overflow" in note for note in report.notes())
    assert report.passed  # the shifted softmax keeps every engine finite and in agreement
    quiet = checker.run(resolve(overrides={"hidden": 20, "seq": 5}))
    assert not any("overflow" in note for note in quiet.notes())
