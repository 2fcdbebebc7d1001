"""Deliberately wrong backward passes: each must be caught, and the report must say where."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from bpttcheck import checker
from bpttcheck.engines import ENGINES, Gradients, Options
from bpttcheck.model import Batch, Params
from bpttcheck.spec import resolve

SPEC = {"hidden": 7, "seq": 6, "vocab": 5, "seed": 2, "init_scale": 0.5, "hprev": "random"}


def mutant(bug: str) -> Callable[[Params, Batch, Options], Gradients]:
    """The tutorial's backward pass with one bug switched on."""

    def engine(params: Params, batch: Batch, options: Options) -> Gradients:
        Wxh, Whh, Why, bh, by = (params[n] for n in ("Wxh", "Whh", "Why", "bh", "by"))
        T = batch.seq
        hs = {-1: batch.hprev}
        ps = {}
        for t in range(T):
            x = np.zeros((Why.shape[0], 1))
            x[batch.inputs[t]] = 1
            hs[t] = np.tanh(Wxh @ x + Whh @ hs[t - 1] + bh)
            y = Why @ hs[t] + by
            ps[t] = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
        g = {n: np.zeros_like(p) for n, p in params.items()}
        steps = {n: np.zeros((T, *p.shape)) for n, p in params.items()}
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(T)):
            dy = ps[t].copy()
            if bug != "dy_without_minus_one":
                dy[batch.targets[t]] -= 1
            g["Why"] += dy @ hs[t].T
            g["by"] += dy
            dh = Why.T @ dy + (0 if bug == "no_dhnext" else dhnext)
            dhraw = dh if bug == "no_tanh_derivative" else (1 - hs[t] ** 2) * dh
            g["bh"] += dhraw
            g["Wxh"][:, batch.inputs[t]] += dhraw[:, 0]
            g["Whh"] += dhraw @ (hs[t] if bug == "h_t_for_h_prev" else hs[t - 1]).T
            for n in g:  # this step's term: what the step added
                steps[n][t] = g[n] - steps[n].sum(axis=0)
            dhnext = (Whh if bug == "whh_not_transposed" else Whh.T) @ dhraw
        if bug == "mean_loss":
            g = {n: v / T for n, v in g.items()}
        if bug == "silent_clip":
            g = {n: np.clip(v, -0.1, 0.1) for n, v in g.items()}
        return Gradients("tutorial", 0.0, g, steps=steps if options.record_steps else None)

    return engine


CASES = {
    "no_dhnext": {"Wxh", "Whh", "bh"},
    "h_t_for_h_prev": {"Whh"},
    "no_tanh_derivative": {"Wxh", "Whh", "bh"},
    "whh_not_transposed": {"Wxh", "Whh", "bh"},
    "dy_without_minus_one": {"Wxh", "Whh", "Why", "bh", "by"},
    "mean_loss": {"Wxh", "Whh", "Why", "bh", "by"},
    "silent_clip": None,  # some parameters: whichever the clip bites
}


@pytest.mark.parametrize("bug", list(CASES))
def test_each_bug_is_caught_where_it_is(bug: str) -> None:
    registry = {**ENGINES, "tutorial": mutant(bug)}
    report = checker.run(resolve(overrides=SPEC), registry=registry)
    assert not report.passed and report.exit_code == 1
    wrong = {c.parameter for c in report.comparisons if not c.passed and c.a == "tutorial"}
    expected = CASES[bug]
    if expected is not None:
        assert wrong == expected
    else:
        assert wrong
    # reference and numeric still agree with each other: the fault is the tutorial's
    assert all(c.passed for c in report.comparisons if (c.a, c.b) == ("reference", "numeric"))
    for c in report.comparisons:
        if not c.passed:
            assert c.worst is not None and c.failures


def test_the_unmutated_copy_passes() -> None:
    registry = {**ENGINES, "tutorial": mutant("none")}
    assert checker.run(resolve(overrides=SPEC), registry=registry).passed


def test_dropped_dhnext_is_localised_in_time() -> None:
    """Without dhnext, step k keeps only its own loss's term: every k < T-1 is wrong."""
    registry = {**ENGINES, "tutorial": mutant("no_dhnext")}
    report = checker.run(resolve(overrides=SPEC), registry=registry)
    c = report.comparison("Whh", "tutorial", "reference")
    assert c.steps and set(c.steps) <= set(range(SPEC["seq"] - 1))
    assert SPEC["seq"] - 1 not in c.steps  # the last step has no future: no dhnext to miss
