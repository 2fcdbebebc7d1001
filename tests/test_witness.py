"""The numeric witness: verified literally, independent of the forward pass it judges,
never a false alarm, within its budgets."""

from __future__ import annotations

import gc
import os
import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpttcheck import checker, model
from bpttcheck.budget import estimate_bytes
from bpttcheck.engines import ENGINES, Options, complex_step, reference
from bpttcheck.engines import numeric as numeric_engine
from bpttcheck.errors import ExitCode, SelfCheckError
from bpttcheck.model import Batch, Forward, Params, build
from bpttcheck.spec import METHOD_CHOICES, resolve

Run = Callable[..., Result]
TINY = ["--hidden", "6", "--seq", "5", "--vocab", "4", "--seed", "3"]
# Saturated and chaotic: central and richardson differences cannot certify some elements
# here (measured: their calibrated error bars are exceeded), a correct gradient all the same.
CHAOTIC = {"hidden": 20, "seq": 40, "vocab": 10, "init_scale": 1.0}


def _scaled_tangents(factor: float, only: tuple[int, int] | None = None) -> Callable[..., object]:
    real = complex_step.tangents

    def tangents(name: str, rows: np.ndarray, cols: np.ndarray, *args: object) -> object:
        g, scale = real(name, rows, cols, *args)  # type: ignore[arg-type]
        hit = np.ones(len(g), dtype=bool) if only is None else (
            (name == "Whh") & (rows == only[0]) & (cols == only[1]))
        return np.where(hit, g * factor, g), scale

    return tangents


def test_a_bug_in_the_structured_path_stops_the_run_with_exit_3(
        run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(complex_step, "tangents", _scaled_tangents(1 + 1e-7))
    result = run_cli("numeric", *TINY)
    assert result.exit_code == ExitCode.SELF_CHECK == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "self-check failed" in lines[0] and "literal" in lines[0]
    assert result.stdout == ""  # no verdict


def test_the_checker_verifies_the_elements_that_agree_worst(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in one element the seeded sample misses is still caught: it agrees worst."""
    spec = resolve(overrides={"hidden": 12, "seq": 6, "vocab": 5, "seed": 2})
    problem = build(spec)
    rng = np.random.default_rng(numeric_engine.VERIFY_STREAM)
    sampled = {n: set(rng.choice(np.arange(p.size), size=min(16, p.size), replace=False))
               for n, p in problem.params.items()}
    flat = next(i for i in range(problem.params["Whh"].size) if i not in sampled["Whh"]
                and i % 12 != 0)  # column 0 reads hprev = 0 only at step 0
    where = (flat // 12, flat % 12)
    monkeypatch.setattr(complex_step, "tangents", _scaled_tangents(1.01, where))
    g = ENGINES["numeric"](problem.params, problem.batch, Options())  # the sample misses it
    assert g.grads["Whh"][where] != 0
    with pytest.raises(SelfCheckError, match=r"dWhh\[" + f"{where[0]}, {where[1]}"):
        checker.run(spec)


def test_every_run_says_it_verified_the_structured_path(small_problem: model.Problem) -> None:
    g = ENGINES["numeric"](small_problem.params, small_problem.batch, Options())
    assert g.step is not None and g.step.startswith("complex step, structured")
    assert any("recomputed by the literal complex step" in n for n in g.notes)
    report = checker.run(small_problem.spec)
    assert any("agreeing worst with the analytic engines" in n
               for n in report.results["numeric"].notes)


def test_a_bug_in_the_shared_forward_pass_does_not_blame_the_tutorial(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """model.forward is the reference engine's; numeric has its own, so it sides with the truth."""
    real = model.forward

    def buggy(params: Params, batch: Batch) -> Forward:
        return real({**params, "Why": params["Why"] * 1.01}, batch)  # a wrong output layer

    monkeypatch.setattr(model, "forward", buggy)
    monkeypatch.setattr(reference, "forward", buggy)
    spec = resolve(overrides={"hidden": 8, "seq": 6, "vocab": 5, "seed": 1})
    report = checker.run(spec)
    for c in report.comparisons:
        if (c.a, c.b) == ("tutorial", "numeric"):
            assert c.passed, c.parameter
    assert any(not c.passed for c in report.comparisons if "reference" in (c.a, c.b))


@pytest.mark.parametrize("method", ["central", "richardson"])
def test_uncertified_finite_differences_are_escalated_not_blamed(
        method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = resolve(overrides={**CHAOTIC, "method": method})
    report = checker.run(spec, ("tutorial", "numeric"))
    assert report.passed
    notes = report.results["numeric"].notes
    assert any("could not certify" in n and "literal complex step" in n for n in notes)
    # Without the escalation, the same correct gradient would be called wrong.
    monkeypatch.setattr(numeric_engine, "escalate", lambda p, b, g, s, m: g)
    assert not checker.run(spec, ("tutorial", "numeric")).passed


def _no_false_alarm(hidden: int, seq: int, vocab: int, seed: int, init_scale: float,
                    hprev: str, clip: float | None, method: str, directions: int | None) -> None:
    spec = resolve(overrides={"hidden": hidden, "seq": seq, "vocab": vocab, "seed": seed,
                              "init_scale": init_scale, "hprev": hprev, "clip": clip,
                              "method": method})
    report = checker.run(spec, ("tutorial", "reference", "numeric"), directions=directions)
    failed = [(c.parameter, c.pair, c.max_rel_error) for c in report.comparisons if not c.passed]
    assert report.passed, failed


PROPERTY = dict(
    hidden=st.integers(1, 8), seq=st.integers(1, 40), vocab=st.integers(2, 6),
    seed=st.integers(0, 2**32 - 1), init_scale=st.sampled_from([0.01, 0.1, 0.5, 0.8, 1.0]),
    hprev=st.sampled_from(["zeros", "random"]),
    clip=st.one_of(st.none(), st.sampled_from([0.5, 1.0, 5.0])),
    method=st.sampled_from(METHOD_CHOICES),
    directions=st.one_of(st.none(), st.none(), st.integers(1, 3)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**PROPERTY)
def test_no_false_alarms_for_any_method(**kw: object) -> None:
    _no_false_alarm(**kw)  # type: ignore[arg-type]


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**PROPERTY)
def test_no_false_alarms_for_any_method_many_examples(**kw: object) -> None:
    _no_false_alarm(**kw)  # type: ignore[arg-type]


def test_directions_are_planned_as_a_directions_run(run_cli: Run) -> None:
    size = ["--hidden", "200", "--seq", "120", "--vocab", "10", "--time-budget", "2"]
    refused = run_cli("numeric", *size)
    assert refused.exit_code == 2 and "--time-budget" in refused.stderr
    screened = run_cli("numeric", *size, "--directions", "1")
    assert screened.exit_code == 0, screened.output


def _peak(fn: Callable[[], object]) -> int:
    fn()  # once before measuring: first-call allocations are not work arrays
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


SIZES = [{"hidden": 12, "seq": 8, "vocab": 6}, {"hidden": 20, "seq": 10, "vocab": 8}]
SLOW_SIZES = [{"hidden": 50, "seq": 30, "vocab": 20}, {"hidden": 100, "seq": 25, "vocab": 65}]


def _memory_within_budget(size: dict[str, int], method: str, mb: float) -> None:
    spec = resolve(overrides={**size, "method": method, "max_memory": mb})
    problem = build(spec)
    limit = int(mb * 2**20)
    options = Options(method=method, max_memory=limit)
    numeric = _peak(lambda: ENGINES["numeric"](problem.params, problem.batch, options))
    assert numeric <= limit, (numeric, limit)
    # compare: the numeric work arrays plus what the other engines hold (budget.py's plan).
    compare = _peak(lambda: checker.run(spec))
    allowed = limit + estimate_bytes(problem.hidden, problem.vocab, problem.batch.seq)
    assert compare <= allowed, (compare, allowed)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"hidden{s['hidden']}")
@pytest.mark.parametrize("method", ["complex", "central", "richardson", "complex-literal"])
def test_peak_work_memory_stays_within_max_memory(size: dict[str, int], method: str) -> None:
    _memory_within_budget(size, method, 0.75)


@pytest.mark.slow
@pytest.mark.parametrize(("size", "mb"), [(SLOW_SIZES[0], 0.75), (SLOW_SIZES[1], 4.0)],
                         ids=["hidden50", "hidden100"])
@pytest.mark.parametrize("method", METHOD_CHOICES)
def test_peak_work_memory_stays_within_max_memory_at_larger_sizes(
        size: dict[str, int], mb: float, method: str) -> None:
    _memory_within_budget(size, method, mb)


def test_numeric_engine_does_not_use_the_analytic_forward_pass() -> None:
    """Independence, statically: no name in the numeric modules is bound to model.forward."""
    from bpttcheck.engines import finite_difference

    for module in (numeric_engine, complex_step, finite_difference):
        assert all(value is not model.forward for value in vars(module).values()), module


def test_threadpoolctl_is_a_dependency_so_both_cores_are_used() -> None:
    import tomllib

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "pyproject.toml"), "rb") as f:
        deps = tomllib.load(f)["project"]["dependencies"]
    assert any(d.startswith("threadpoolctl") for d in deps)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    assert numeric_engine.default_workers() == min(cores, numeric_engine.MAX_WORKERS)




CHAOS_HUGE = {"hidden": 20, "seq": 80, "vocab": 6, "init_scale": 1.5}  # |g| up to 2e14


def test_the_literal_complex_step_stays_linear_on_huge_derivatives(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """eta |g| ~ 1e-6 at eta = 1e-20 leaves the linear regime: copies are rerun, scaled."""
    problem = build(resolve(overrides=CHAOS_HUGE))
    params, batch = problem.params, problem.batch
    literal = ENGINES["numeric"](params, batch, Options(method="complex-literal"))
    structured = ENGINES["numeric"](params, batch, Options())  # verifies itself (no exit 3)
    assert literal.noise is not None and structured.noise is not None
    for n in params:
        bar = literal.noise[n] + structured.noise[n] + 1e-12 * np.abs(structured.grads[n])
        assert np.all(np.abs(literal.grads[n] - structured.grads[n]) <= bar), n
    # Without the rerun the copies of the largest elements leave the linear regime.
    monkeypatch.setattr(complex_step, "IM_LIMIT", 1e-30)  # forces reruns everywhere: same
    again = ENGINES["numeric"](params, batch, Options(method="complex-literal"))
    for n in params:
        assert np.allclose(again.grads[n], literal.grads[n], rtol=1e-9, atol=0), n


def test_tiny_gradients_do_not_underflow_the_complex_step() -> None:
    """init_scale 1e-150: dWhh ~ 1e-300, where eta g at eta = 1e-20 would be subnormal."""
    spec = resolve(overrides={"hidden": 10, "seq": 6, "vocab": 5, "init_scale": 1e-150})
    problem = build(spec)
    ref = ENGINES["reference"](problem.params, problem.batch, Options())
    nonzero = ref.grads["Whh"] != 0
    assert nonzero.any() and np.abs(ref.grads["Whh"][nonzero]).max() < 1e-290
    for method in ("complex", "complex-literal"):
        g = ENGINES["numeric"](problem.params, problem.batch, Options(method=method))
        rel = np.abs(g.grads["Whh"] - ref.grads["Whh"])[nonzero] / np.abs(
            ref.grads["Whh"][nonzero])
        assert rel.max() < 1e-10, method
    assert checker.run(spec).passed
