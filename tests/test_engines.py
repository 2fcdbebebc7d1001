"""The three engines agree on many specs, and each returns what the others do."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bpttcheck import checker
from bpttcheck.engines import ENGINES, Options
from bpttcheck.engines.finite_difference import difference_losses
from bpttcheck.model import PARAM_NAMES, Batch, Problem, build, forward, loss
from bpttcheck.spec import resolve


@settings(max_examples=30, deadline=None)
@given(
    hidden=st.integers(1, 40),
    seq=st.integers(1, 30),
    vocab=st.integers(2, 30),
    seed=st.integers(0, 2**32 - 1),
    hprev=st.sampled_from(["zeros", "random"]),
    init_scale=st.sampled_from([0.01, 0.1, 0.5]),
)
@example(hidden=1, seq=1, vocab=2, seed=0, hprev="zeros", init_scale=0.01)
@example(hidden=40, seq=30, vocab=30, seed=1, hprev="random", init_scale=0.5)
def test_engines_agree(hidden: int, seq: int, vocab: int, seed: int, hprev: str,
                       init_scale: float) -> None:
    spec = resolve(overrides={"hidden": hidden, "seq": seq, "vocab": vocab, "seed": seed,
                              "hprev": hprev, "init_scale": init_scale})
    report = checker.run(spec)
    failed = [c for c in report.comparisons if not c.passed]
    assert not failed, [(c.parameter, c.pair, c.max_rel_error) for c in failed]
    for c in report.comparisons:
        assert c.compared == report.problem.params[c.parameter].size
        if c.a == "tutorial" and c.b == "reference":
            assert c.max_rel_error <= 1e-10


def test_default_spec_meets_the_published_tolerances() -> None:
    report = checker.run(resolve())
    assert report.passed
    for c in report.comparisons:
        if (c.a, c.b) == ("tutorial", "reference"):
            assert c.max_rel_error <= 1e-10
        else:
            assert c.norm_rel_error <= 1e-6


@pytest.mark.parametrize("name", list(ENGINES))
def test_engines_share_names_shapes_and_loss(small_problem: Problem, name: str) -> None:
    g = ENGINES[name](small_problem.params, small_problem.batch, Options())
    assert set(g.grads) == set(PARAM_NAMES)
    for p, value in small_problem.params.items():
        assert g.grads[p].shape == value.shape and g.grads[p].dtype == np.float64
    assert g.loss == pytest.approx(loss(small_problem.params, small_problem.batch), rel=1e-14)


@pytest.mark.parametrize("name", list(ENGINES))
def test_engines_do_not_mutate_their_inputs(small_problem: Problem, name: str) -> None:
    before = {k: v.copy() for k, v in small_problem.params.items()}
    hprev = small_problem.batch.hprev.copy()
    ENGINES[name](small_problem.params, small_problem.batch, Options(clip=0.1))
    for k, v in small_problem.params.items():
        assert np.array_equal(v, before[k])
    assert np.array_equal(small_problem.batch.hprev, hprev)


def test_tutorial_and_reference_agree_on_dhprev(small_problem: Problem) -> None:
    t = ENGINES["tutorial"](small_problem.params, small_problem.batch, Options())
    r = ENGINES["reference"](small_problem.params, small_problem.batch, Options())
    assert t.dhprev is not None and r.dhprev is not None
    assert np.allclose(t.dhprev, r.dhprev, rtol=1e-12, atol=1e-15)


def test_dhprev_matches_a_finite_difference(small_problem: Problem) -> None:
    """dL/dhprev, which no comparison covers, against a plain central difference."""
    r = ENGINES["reference"](small_problem.params, small_problem.batch, Options())
    assert r.dhprev is not None
    batch = small_problem.batch
    h = 1e-6
    for i in range(batch.hprev.shape[0]):
        up, down = batch.hprev.copy(), batch.hprev.copy()
        up[i] += h
        down[i] -= h
        shifted = [Batch(batch.inputs, batch.targets, hp) for hp in (up, down)]
        up_loss, down_loss = (loss(small_problem.params, b) for b in shifted)
        fd = (up_loss - down_loss) / (2 * h)
        assert fd == pytest.approx(float(r.dhprev[i, 0]), rel=1e-6, abs=1e-9)


def test_tutorial_clip_is_np_clip_of_the_true_gradient(small_problem: Problem) -> None:
    r = ENGINES["reference"](small_problem.params, small_problem.batch, Options())
    t = ENGINES["tutorial"](small_problem.params, small_problem.batch, Options(clip=0.05))
    assert t.clipped is not None
    assert sum(int(m.sum()) for m in t.clipped.values()) > 0  # the clip does bite here
    for p in PARAM_NAMES:
        assert np.allclose(t.grads[p], np.clip(r.grads[p], -0.05, 0.05), rtol=1e-12, atol=1e-15)
        assert np.array_equal(t.clipped[p], np.abs(r.grads[p]) > 0.05)


def test_step_terms_sum_to_the_gradient_and_agree(small_problem: Problem) -> None:
    """Tutorial's per-step terms (regrouped by dhnext) equal the reference's column sums."""
    opts = Options(record_steps=True)
    t = ENGINES["tutorial"](small_problem.params, small_problem.batch, opts)
    r = ENGINES["reference"](small_problem.params, small_problem.batch, opts)
    assert t.steps is not None and r.steps is not None
    for p in PARAM_NAMES:
        assert np.allclose(t.steps[p].sum(axis=0), t.grads[p], rtol=1e-12, atol=1e-15)
        assert np.allclose(t.steps[p], r.steps[p], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", list(PARAM_NAMES))
def test_difference_form_equals_plain_loss_difference(small_problem: Problem, name: str) -> None:
    """The numeric engine's L(theta + d e_i) - L(theta), against two plain forward passes."""
    params, batch = small_problem.params, small_problem.batch
    fw = forward(params, batch)
    flat = np.arange(params[name].size)
    d = np.full(flat.size, 1e-3)
    change, _ = difference_losses(params, fw, batch, name, flat, d)
    base = fw.loss
    for i in flat:
        bumped = {k: v.copy() for k, v in params.items()}
        bumped[name].reshape(-1)[i] += 1e-3
        plain = loss(bumped, batch) - base
        # plain subtraction loses about eps * |L| / |change| relative accuracy
        assert change[i] == pytest.approx(plain, rel=1e-7, abs=1e-13 * abs(base))


def test_sampled_numeric_covers_exactly_the_sample(small_problem: Problem) -> None:
    idx = checker.sample_indices(small_problem, 3)
    g = ENGINES["numeric"](small_problem.params, small_problem.batch, Options(sample=idx))
    assert g.covered is not None
    for p, flat in idx.items():
        values = g.grads[p].reshape(-1)
        assert np.array_equal(g.covered[p], flat)
        assert np.all(np.isfinite(values[flat]))
        rest = np.setdiff1d(np.arange(values.size), flat)
        assert np.all(np.isnan(values[rest]))


def test_sampling_is_seeded(small_problem: Problem) -> None:
    a = checker.sample_indices(small_problem, 4)
    b = checker.sample_indices(build(small_problem.spec), 4)
    assert all(np.array_equal(a[p], b[p]) for p in a)
