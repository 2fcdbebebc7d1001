"""Numerical differentiation methods: accuracy, error bars, coverage modes, budgets.

Accuracy is judged against the reference engine (the lecture's explicit double
sum), which shares no code with numerical differentiation. Tolerances follow
each method's own error: complex step and the difference form have no
cancellation (rounding only, ~1e-15 relative on these small specs); Richardson
leaves O(h^4) ~ 3e-13 truncation plus eps |L| / h ~ 1e-12 rounding; central
h^2 ~ 4e-11 plus eps |L| / h ~ 4e-10; forward h ~ 1.5e-8 plus 2 eps |L| / h ~ 1e-7.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import numpy as np
import pytest
from click.testing import Result

from bpttcheck import checker
from bpttcheck.compare import rel_error
from bpttcheck.directions import directional, random_directions
from bpttcheck.engines import ENGINES, Gradients, Options
from bpttcheck.engines import numeric as numeric_engine
from bpttcheck.engines.complex_step import complex_loss
from bpttcheck.model import PARAM_NAMES, Batch, Params, Problem, build, loss
from bpttcheck.numdiff import METHODS, by_name
from bpttcheck.spec import resolve

Run = Callable[..., Result]

# Largest relative error (the project's metric, floor 1e-4) allowed against the reference.
METHOD_RTOL = {"complex": 1e-12, "complex-literal": 1e-12, "difference": 1e-10,
               "richardson": 1e-9, "central": 1e-7, "forward": 1e-4}
SATURATED = {"hidden": 7, "seq": 6, "vocab": 5, "seed": 4, "init_scale": 0.8,
             "hprev": "random"}
# Small init scale: gradients of Whh are ~1e-5 of the loss, so central differences are
# noisy relative to rtol 1e-6 on many entries (a precision limit, not a bug).
NOISY = {"hidden": 12, "seq": 8, "vocab": 9, "seed": 2}


def _numeric(problem: Problem, method: str, **kw: object) -> Gradients:
    return ENGINES["numeric"](problem.params, problem.batch, Options(method=method, **kw))


@pytest.fixture(scope="module")
def saturated() -> Problem:
    return build(resolve(overrides=SATURATED))


@pytest.mark.parametrize("method", [m.name for m in METHODS])
@pytest.mark.parametrize("which", ["small", "saturated"])
def test_each_method_matches_the_reference_within_its_error(
        method: str, which: str, small_problem: Problem, saturated: Problem) -> None:
    problem = small_problem if which == "small" else saturated
    ref = ENGINES["reference"](problem.params, problem.batch, Options())
    g = _numeric(problem, method)
    assert g.method == method and g.noise is not None
    for name in PARAM_NAMES:
        a, b = ref.grads[name], g.grads[name]
        assert rel_error(a, b, 1e-4).max() <= METHOD_RTOL[method], name
        # The error bar covers the actual error of every element ...
        assert np.all(np.abs(a - b) <= g.noise[name]), name
    # ... and is not so wide that it would hide a 1e-3 relative bug in the largest entry.
    top = max(np.abs(ref.grads[n]).max() for n in PARAM_NAMES)
    assert max(g.noise[n].max() for n in PARAM_NAMES) < 1e-4 * top


def test_complex_step_engine_equals_the_literal_complex_forward_pass(saturated: Problem) -> None:
    """The structured engine gives Im L(theta + i eta e)/eta of the forward pass as written."""
    params, batch = saturated.params, saturated.batch
    g = _numeric(saturated, "complex")
    eta = 1e-20
    for name in PARAM_NAMES:
        literal = np.empty(params[name].size)
        for i in range(params[name].size):
            moved = {n: p.astype(np.complex128) for n, p in params.items()}
            moved[name].reshape(-1)[i] += 1j * eta * max(1.0, abs(params[name].reshape(-1)[i]))
            literal[i] = complex_loss(moved, batch).imag / (eta * max(
                1.0, abs(params[name].reshape(-1)[i])))
        scale = np.abs(literal).max()
        assert np.max(np.abs(g.grads[name].reshape(-1) - literal)) <= 1e-14 * scale, name


def test_complex_loss_real_part_is_the_loss(small_problem: Problem) -> None:
    complexified = {n: p.astype(np.complex128) for n, p in small_problem.params.items()}
    value = complex_loss(complexified, small_problem.batch)
    assert value.imag == 0.0
    assert value.real == pytest.approx(loss(small_problem.params, small_problem.batch),
                                       rel=1e-14)


@pytest.mark.parametrize("method", ["complex", "central"])
def test_unused_input_columns_are_exact_zeros_and_agree(method: str) -> None:
    """Wxh[:, j] for a symbol j that never occurs: exactly 0 on both sides, an agreement."""
    problem = build(resolve(overrides={"hidden": 5, "seq": 3, "vocab": 8, "seed": 1}))
    unused = sorted(set(range(8)) - set(problem.batch.inputs))
    assert unused  # 3 inputs cannot cover 8 symbols
    g = _numeric(problem, method)
    assert g.noise is not None
    assert np.all(g.grads["Wxh"][:, unused] == 0.0)
    report = checker.run(dataclasses.replace(problem.spec, method=method),
                         ("reference", "numeric"))
    assert report.comparison("Wxh", "reference", "numeric").passed


def _bug_in_whh(index: tuple[int, int], factor: float = 1.001) -> Callable[..., Gradients]:
    """The tutorial engine, with one element of dWhh scaled: a real, small bug."""

    def engine(params: Params, batch: Batch, options: Options) -> Gradients:
        g = ENGINES["tutorial"](params, batch, options)
        grads = {n: v.copy() for n, v in g.grads.items()}
        grads["Whh"][index] *= factor
        return dataclasses.replace(g, grads=grads)

    return engine


def _largest_whh(spec_overrides: dict[str, object]) -> tuple[int, int]:
    problem = build(resolve(overrides=spec_overrides))
    ref = ENGINES["reference"](problem.params, problem.batch, Options())
    i, j = np.unravel_index(int(np.argmax(np.abs(ref.grads["Whh"]))), ref.grads["Whh"].shape)
    return int(i), int(j)


def test_central_error_bar_spares_tiny_entries_but_catches_a_real_bug() -> None:
    spec = resolve(overrides={**NOISY, "method": "central"})
    report = checker.run(spec, ("tutorial", "numeric"))
    whh = report.comparison("Whh", "tutorial", "numeric")
    assert report.passed
    assert whh.precision_limited > 0  # rel. error > 1e-6 on these, but within the bar
    assert any("limited by numerical precision" in note for note in report.notes())
    bug = _largest_whh(NOISY)
    registry = {**ENGINES, "tutorial": _bug_in_whh(bug)}
    report = checker.run(spec, ("tutorial", "numeric"), registry=registry)
    whh = report.comparison("Whh", "tutorial", "numeric")
    assert not report.passed and whh.failed == 1
    assert whh.failures[0].index == bug


def test_sampled_check_names_a_sampled_bug() -> None:
    spec = resolve(overrides=NOISY)
    problem = build(spec)
    idx = checker.sample_indices(problem, 5)
    bug = tuple(int(x) for x in np.unravel_index(int(idx["Whh"][2]), problem.params["Whh"].shape))
    registry = {**ENGINES, "tutorial": _bug_in_whh(bug)}  # type: ignore[arg-type]
    report = checker.run(spec, ("tutorial", "numeric"), sample=5, registry=registry)
    whh = report.comparison("Whh", "tutorial", "numeric")
    assert whh.compared == 5 and whh.failed == 1 and whh.failures[0].index == bug
    assert "5 sampled per parameter" in report.coverage


@pytest.mark.parametrize("method", ["complex", "central"])
def test_directions_screen_passes_and_computes_no_element(method: str) -> None:
    spec = resolve(overrides={**NOISY, "method": method})
    report = checker.run(spec, ("tutorial", "numeric"), directions=3)
    assert report.passed
    screen = report.directions
    assert screen is not None and screen.drilled == ()
    assert all(c.compared == 0 for c in report.comparisons)  # nothing element by element
    assert "random projection" in report.coverage
    data = json.loads(report.to_json())
    assert data["directions"]["k"] == 3 and data["directions"]["drilled_down"] == []
    assert len(data["directions"]["projections"]) == len(PARAM_NAMES)


@pytest.mark.parametrize("method", ["complex", "central"])
def test_directions_drill_down_to_the_seeded_bug(method: str) -> None:
    spec = resolve(overrides={**NOISY, "method": method})
    bug = _largest_whh(NOISY)
    registry = {**ENGINES, "tutorial": _bug_in_whh(bug)}
    report = checker.run(spec, ("tutorial", "numeric"), directions=2, registry=registry)
    screen = report.directions
    assert screen is not None and screen.drilled == ("Whh",)
    whh = report.comparison("Whh", "tutorial", "numeric")
    assert whh.compared == 16 * 9 and whh.failed == 1 and whh.failures[0].index == bug
    assert report.comparison("Why", "tutorial", "numeric").compared == 0
    assert not report.passed
    data = json.loads(report.to_json())
    assert data["directions"]["drilled_down"] == ["Whh"]


@pytest.mark.parametrize("method", [m.name for m in METHODS])
def test_directional_derivative_is_the_projected_gradient(method: str,
                                                          saturated: Problem) -> None:
    params, batch = saturated.params, saturated.batch
    ref = ENGINES["reference"](params, batch, Options())
    dirs = random_directions(params, 1, seed=0)
    for name in PARAM_NAMES:
        v = dirs[name][0]
        value, bar = directional(params, batch, name, v, method)
        exact = float(np.sum(v * ref.grads[name]))
        assert abs(value - exact) <= bar + 1e-15 * float(np.sum(np.abs(v * ref.grads[name])))


def test_threads_and_chunks_do_not_change_the_answer(saturated: Problem) -> None:
    base = _numeric(saturated, "complex", threads=1)
    for kw in ({"threads": 2}, {"max_memory": 60_000, "threads": 2}):
        other = _numeric(saturated, "complex", **kw)
        for name in PARAM_NAMES:
            assert np.allclose(other.grads[name], base.grads[name], rtol=1e-13, atol=1e-17)


def test_plan_sizes_chunks_to_the_memory_budget(saturated: Problem) -> None:
    params, batch = saturated.params, saturated.batch
    roomy = numeric_engine.plan(params, batch, Options())
    tight = numeric_engine.plan(params, batch, Options(max_memory=40_000))
    assert tight.chunk < roomy.chunk
    assert tight.memory <= 40_000
    assert roomy.elements == sum(p.size for p in params.values())


def test_cli_methods_on_a_small_spec(run_cli: Run) -> None:
    args = ["--hidden", "6", "--seq", "5", "--vocab", "4", "--seed", "3", "--json"]
    for method in (m.name for m in METHODS):
        result = run_cli("numeric", *args, "--method", method)
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["engines"]["numeric"]["method"] == method
        assert data["spec"]["method"] == method


def test_cli_default_is_complex_on_the_tutorial_size(run_cli: Run) -> None:
    result = run_cli("numeric", "--hidden", "100", "--seq", "25", "--vocab", "65",
                     "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["passed"] and data["engines"]["numeric"]["method"] == "complex"
    assert data["coverage"] == "all 23165 elements"


def test_cli_central_on_the_tutorial_size(run_cli: Run) -> None:
    result = run_cli("numeric", "--hidden", "100", "--seq", "25", "--vocab", "65",
                     "--method", "central", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["engines"]["numeric"]["method"] == "central"


def test_cli_directions_flag(run_cli: Run) -> None:
    result = run_cli("numeric", "--hidden", "6", "--seq", "5", "--vocab", "4", "--directions",
                     "2", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["directions"]["k"] == 2


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--max-memory", "1e-5"], "--max-memory"),
        (["--time-budget", "1e-9"], "--sample"),
        (["--hidden", "1000", "--seq", "200"], "--time-budget"),
        (["--method", "secant"], "'secant' is not one of"),
    ],
)
def test_budget_refusals_are_one_line_and_exit_2(run_cli: Run, args: list[str],
                                                 fragment: str) -> None:
    result = run_cli("numeric", "--vocab", "10", "--seq", "5", "--hidden", "8", *args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bpttcheck: error: ")
    assert fragment in lines[0]


def test_without_threadpoolctl_the_engine_runs_on_one_thread(
        saturated: Problem, monkeypatch: pytest.MonkeyPatch) -> None:
    base = _numeric(saturated, "complex")
    monkeypatch.setattr(numeric_engine, "_threadpool_limits", lambda: None)
    assert numeric_engine.default_workers() == 1
    alone = _numeric(saturated, "complex")
    assert alone.timing is not None and alone.timing["threads"] == 1
    for name in PARAM_NAMES:
        assert np.allclose(alone.grads[name], base.grads[name], rtol=1e-13, atol=1e-17)


@pytest.mark.parametrize("method", ["central", "forward", "richardson"])
def test_default_step_beats_steps_a_hundred_times_larger_or_smaller(
        method: str, saturated: Problem) -> None:
    """The chosen step sits near the bottom of the truncation-vs-rounding error curve."""
    ref = ENGINES["reference"](saturated.params, saturated.batch, Options())
    default = by_name(method).default_step()

    def error(step: float) -> float:
        g = _numeric(saturated, method, step=step)
        return max(float(np.abs(g.grads[n] - ref.grads[n]).max()) for n in PARAM_NAMES)

    best = error(default)
    assert best < error(default * 100) and best < error(default / 100)


@pytest.mark.parametrize(("method", "step"), [("central", "1e-300"), ("central", "0.5"),
                                               ("complex", "1e-3"), ("forward", "1e-14")])
def test_steps_outside_the_sane_range_are_refused(run_cli: Run, method: str,
                                                  step: str) -> None:
    result = run_cli("numeric", "--hidden", "3", "--seq", "3", "--vocab", "3", "--method",
                     method, "--step", step)
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("bpttcheck: error: --step: expected")
