"""Run a gradient check: spec -> problem -> engines -> comparisons -> report.

This is the whole job without a terminal: the CLI and the Python API both call
:func:`run` and render the :class:`~bpttcheck.report.Report` it returns.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import prose
from .budget import check_reference_time
from .compare import PairResult, compare, disagreeing_steps, tolerance
from .directions import Screen, screen
from .engines import ANALYTIC, ENGINES, Engine, Gradients, Options, batched, numeric
from .engines.base import ProgressFn, restricted
from .errors import SpecError
from .model import Problem, build, with_biases
from .prose import duration, plural
from .report import Report
from .spec import Spec
from .witness import confirm

ANNOUNCE_SECONDS = 5.0  # estimated numeric work worth telling the user about before it starts
SAMPLE_STREAM = 1  # second seed word: sampled elements do not disturb the weights' stream


def sample_indices(problem: Problem, k: int) -> dict[str, np.ndarray]:
    """``k`` distinct random flat indices per parameter (all of them if it has fewer)."""
    rng = np.random.default_rng([problem.spec.seed, SAMPLE_STREAM])
    return {
        name: np.sort(rng.choice(p.size, size=min(k, p.size), replace=False))
        for name, p in problem.params.items()
    }


def run(
    spec: Spec,
    engines: Sequence[str] = ("tutorial", "reference", "numeric"),
    *,
    sample: int | None = None,
    directions: int | None = None,
    progress: ProgressFn | None = None,
    registry: Mapping[str, Engine] | None = None,
    impl: Any = None,
    announce: Callable[[str], None] | None = None,
) -> Report:
    """Compute the gradient with each engine and compare every pair of them.

    ``announce`` receives a sentence before long numeric work (its time estimate).
    ``impl`` (a :class:`bpttcheck.impl.ImplRequest`) adds the user's own code as
    engines ``impl`` and ``impl-numeric`` (see :mod:`bpttcheck.impl.check`).
    """
    gated = spec.cell != "vanilla"
    if gated:
        from . import cells

        cell = cells.get(spec.cell)
        registry = cell.engines if registry is None else registry
        if "reference" in engines:
            cells.check_reference_time(cell, spec.hidden, spec.seq)
    registry = ENGINES if registry is None else registry
    if "reference" in engines and not gated:
        check_reference_time(spec.hidden, spec.seq)  # O(T^2): refuse what would take weeks
    if spec.batch is not None and directions is not None:
        raise SpecError("--directions: not supported with --batch yet (a batch's numeric "
                        "engine differentiates every element, or --sample K of them)")
    problem = build(spec)
    bias_free = not spec.biases
    user_code = None
    if impl is not None:  # load it first: a bad --impl fails before any long computation
        from .impl.check import prepare_request

        user_code = prepare_request(impl, problem)  # a bias-free model's: no bh, no by
    if bias_free:
        if directions is not None:
            raise SpecError("--directions: not supported yet for a bias-free model "
                            "(biases = false); check it without the flag")
        # Every engine runs on the model with bh = by = 0; their gradients are dropped below.
        problem = dataclasses.replace(problem, params=with_biases(problem.params))
    options = Options(
        clip=spec.clip,
        method=spec.method,
        step=spec.step,
        sample=sample_indices(problem, sample) if sample is not None else None,
        progress=progress,
        max_memory=int(spec.max_memory * 2**20),
        time_budget=spec.time_budget,
    )
    results, screened = _run_engines(problem, engines, registry, options, directions, announce)
    engine_problem = problem
    if bias_free:
        problem = build(spec)
        results = {e: _without_biases(g, problem) for e, g in results.items()}
    comparisons: list[PairResult] = []
    for ea, eb in itertools.combinations(engines, 2):
        rtol = tolerance(spec, ea, eb)
        for name in problem.params:
            comparisons.append(compare(name, results[ea], results[eb], rtol, spec.floor))
    comparisons, skipped = _localise(engine_problem, comparisons, registry, options)
    impl_report = None
    if user_code is not None:
        from .impl.check import check_impl

        engines_only = dict(results)  # what an edited copy is judged against (bpttcheck.fix)
        more, pairs, impl_report = check_impl(user_code, problem, options, results,
                                               impl.loss)
        results.update(more)
        comparisons.extend(pairs)
        if impl.fix and not impl_report.passed:
            from .fix import attach

            impl_report = attach(impl_report, impl, spec, engines_only, options,
                                 stateless=bool(getattr(user_code, "stateless", False)))
    return Report(spec=spec, problem=problem, results=results, comparisons=tuple(comparisons),
                  sample=sample, impl=impl_report, directions=screened,
                  warnings=(skipped,) if skipped else ())


def _without_biases(g: Gradients, problem: Problem) -> Gradients:
    """An engine's answer restricted to the parameters a bias-free model has."""
    return restricted(g, problem.params)


def _run_engines(problem: Problem, engines: Sequence[str], registry: Mapping[str, Engine],
                 options: Options, k: int | None, announce: Callable[[str], None] | None = None
                 ) -> tuple[dict[str, Gradients], Screen | None]:
    """Run every engine, numeric last: planned before any work, screened first if ``k``.

    With ``k`` random directions, the numeric engine then differentiates element
    by element only the parameters whose projections disagree (see
    :mod:`bpttcheck.directions`), within ``options.sample`` if one is set.
    """
    directional = None
    if "numeric" in engines and problem.cell != "vanilla":  # a gated cell (bpttcheck.cells)
        from . import cells

        cell = cells.get(problem.cell)
        loss, seconds, threads = cells.numeric.plan_check(cell, problem.params, problem.batch,
                                                          options, cells.numeric.todo(
                                                              problem.params, options))
        if announce is not None and seconds >= ANNOUNCE_SECONDS:
            announce(f"numerical differentiation (complex) of {problem.n_params} elements: "
                     f"estimated {duration(seconds)} on {plural(threads, 'thread')}")
        directional = cells.numeric.directional_fn(loss, options.step)
    elif "numeric" in engines and k is not None:  # a directions run is planned as one
        numeric.plan_directions(problem.params, problem.batch, options, k)
    elif "numeric" in engines:  # refuse an over-budget run before spending time on the others
        work = batched.plan_seconds(problem.params, problem.batch, options)
        if announce is not None and work.seconds >= ANNOUNCE_SECONDS:
            announce(f"numerical differentiation ({work.method.name}) of {work.elements} "
                     f"elements: estimated {duration(work.seconds)} on "
                     f"{plural(work.workers, 'thread')}")
    results = {name: registry[name](problem.params, problem.batch, options)
               for name in engines if name != "numeric"}
    found = None
    if "numeric" in engines:
        if k is not None:
            spec = problem.spec
            found = screen(problem.params, problem.batch, results, k, options.method, spec.seed,
                           spec.rtol_numeric, spec.floor, options.step,
                           directional_fn=directional)
            subset = {
                name: (np.asarray(options.sample[name]) if options.sample is not None
                       else np.arange(p.size)) if name in found.drilled
                else np.zeros(0, dtype=np.intp)
                for name, p in problem.params.items()
            }
            options = dataclasses.replace(options, sample=subset)
        results["numeric"] = registry["numeric"](problem.params, problem.batch, options)
        spec = problem.spec
        if problem.batch.width is not None:  # the summed loss itself (engines.batched)
            results = batched.confirm(problem, results, spec.rtol_numeric, spec.floor,
                                      options.step)
        elif problem.cell == "vanilla":  # the gated cells' numeric engine is already literal
            results = confirm(problem, results, spec.rtol_numeric, spec.floor, options.step,
                              options.max_memory)
    return {name: results[name] for name in engines}, found


def _localise(problem: Problem, comparisons: list[PairResult], registry: Mapping[str, Engine],
              options: Options) -> tuple[list[PairResult], str | None]:
    """For failing analytic pairs, name the time steps whose contributions disagree.

    Engines are re-run with ``record_steps`` only when something failed, so a
    passing check pays nothing for it. Their record holds T copies of every parameter per
    engine; when that would exceed ``options.max_memory`` the steps are not named, and the
    sentence returned says so (the verdict stands without them).
    """
    def localisable(c: PairResult) -> bool:
        return not c.passed and c.worst is not None and c.a in ANALYTIC and c.b in ANALYTIC

    engines = {e for c in comparisons if localisable(c) for e in (c.a, c.b)}
    if not engines:
        return comparisons, None
    need = 2 * 8 * len(engines) * problem.batch.seq * problem.n_params  # record + its copy
    if need > options.max_memory:
        return comparisons, prose.not_localised_memory(need, options.max_memory)
    step_options = dataclasses.replace(options, record_steps=True, progress=None)
    recorded = {e: registry[e](problem.params, problem.batch, step_options) for e in engines}
    out = []
    for c in comparisons:
        sa, sb = recorded.get(c.a), recorded.get(c.b)
        if localisable(c) and sa and sb and sa.steps and sb.steps and c.worst:
            steps = disagreeing_steps(sa.steps[c.parameter], sb.steps[c.parameter],
                                      c.worst.index, c.rtol, problem.spec.floor)
            c = dataclasses.replace(c, steps=steps)
        out.append(c)
    return out, None
