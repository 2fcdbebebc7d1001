"""explain's memory: the planned figure bounds what it really holds, and beyond --max-memory it
refuses before allocating (tracemalloc measures the peak of every NumPy array it makes)."""

from __future__ import annotations

import dataclasses
import tracemalloc

import pytest

from bpttcheck.budget import explain_bytes
from bpttcheck.cells.explain import explain as explain_gated
from bpttcheck.errors import SpecError
from bpttcheck.explain import explain
from bpttcheck.model import build
from bpttcheck.spec import resolve

SMALL = [("vanilla", 30, 40, 10, "Whh"), ("vanilla", 40, 60, 8, "Why"),
         ("vanilla", 50, 20, 30, "bh"), ("lstm", 20, 30, 8, "Wf"), ("lstm", 20, 30, 8, "Why"),
         ("gru", 20, 40, 8, "Wz")]
LARGER = [("vanilla", 100, 50, 40, "Whh"), ("vanilla", 60, 80, 20, "Wxh"),
          ("lstm", 40, 60, 10, "Wo"), ("gru", 40, 60, 10, "Wn")]


def _peak_and_plan(cell: str, hidden: int, seq: int, vocab: int, parameter: str,
                   max_memory: float = 256.0) -> tuple[int, int]:
    spec = resolve(None, {"cell": cell, "hidden": hidden, "seq": seq, "vocab": vocab,
                          "max_memory": max_memory})
    problem = build(spec)
    plan = explain_bytes(problem.n_params, problem.hidden, problem.vocab, seq,
                         int(problem.params[parameter].size))
    run = explain if cell == "vanilla" else explain_gated
    tracemalloc.start()
    try:
        run(spec, parameter)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, plan


@pytest.mark.parametrize(("cell", "hidden", "seq", "vocab", "parameter"), SMALL)
def test_explain_holds_no_more_than_it_plans(cell: str, hidden: int, seq: int, vocab: int,
                                             parameter: str) -> None:
    peak, plan = _peak_and_plan(cell, hidden, seq, vocab, parameter)
    assert peak <= plan, f"peak {peak / 2**20:.2f} MB > plan {plan / 2**20:.2f} MB"


@pytest.mark.slow
@pytest.mark.parametrize(("cell", "hidden", "seq", "vocab", "parameter"), LARGER)
def test_explain_holds_no_more_than_it_plans_at_larger_sizes(
        cell: str, hidden: int, seq: int, vocab: int, parameter: str) -> None:
    peak, plan = _peak_and_plan(cell, hidden, seq, vocab, parameter)
    assert peak <= plan, f"peak {peak / 2**20:.2f} MB > plan {plan / 2**20:.2f} MB"


@pytest.mark.parametrize("cell", ["vanilla", "lstm"])
def test_beyond_max_memory_explain_refuses_before_allocating(cell: str) -> None:
    parameter = "Whh" if cell == "vanilla" else "Wf"
    spec = resolve(None, {"cell": cell, "hidden": 60, "seq": 80, "vocab": 10,
                          "max_memory": 2.0})
    problem = build(spec)
    plan = explain_bytes(problem.n_params, problem.hidden, problem.vocab, 80,
                         int(problem.params[parameter].size))
    assert plan > 2 * 2**20  # the premise: this spec does not fit in 2 MB
    run = explain if cell == "vanilla" else explain_gated
    tracemalloc.start()
    try:
        with pytest.raises(SpecError, match=r"--max-memory 2 MB"):
            run(spec, parameter)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < plan / 4  # refused before the per-step arrays existed


def _wrong_tutorial(params, batch, options):  # type: ignore[no-untyped-def]
    """The tutorial with its dbh halved: a failure the per-step re-run can localise."""
    from bpttcheck.engines import tutorial

    g = tutorial.gradients(params, batch, options)
    steps = None if g.steps is None else {**g.steps, "bh": g.steps["bh"] * 0.5}
    return dataclasses.replace(g, grads={**g.grads, "bh": g.grads["bh"] * 0.5}, steps=steps)


def test_the_per_step_re_run_stays_within_max_memory_or_says_why_not() -> None:
    from bpttcheck import checker
    from bpttcheck.engines import ENGINES

    registry = {**ENGINES, "tutorial": _wrong_tutorial}
    roomy = checker.run(resolve(None, {"hidden": 8, "seq": 6, "vocab": 5}),
                        ("tutorial", "reference"), registry=registry)
    bad = [c for c in roomy.comparisons if not c.passed]
    assert bad and bad[0].steps and not roomy.warnings  # steps named when the record fits
    tight = checker.run(resolve(None, {"hidden": 8, "seq": 6, "vocab": 5,
                                       "max_memory": 0.01}),
                        ("tutorial", "reference"), registry=registry)
    assert tight.exit_code == 1  # the verdict stands
    assert not any(c.steps for c in tight.comparisons)
    assert any("not named" in w and "--max-memory" in w for w in tight.warnings)
