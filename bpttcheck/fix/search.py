"""The search: screen candidates best first, pairs with the budget left, then a partial fix."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .. import prose
from ..compare import tolerance
from ..engines import Gradients, Options
from ..impl.check import DeclaredLoss, second_spec_for
from ..impl.loader import resolve_path, split_target
from ..impl.options import ImplOptions
from ..model import PARAM_NAMES, Problem, build
from ..spec import Spec
from .document import Document, Edit, Fix, Outcome
from .gated_operators import GATED_BONUS, cell_of, dominant_gate, gate_lines, one_step_gate
from .operators import Candidate, candidates
from .trials import (
    FLOAT32_LOSS_RTOL,
    FLOAT32_SCREEN,
    LOSS_RTOL,
    WORKERS,
    LayerTrials,
    Score,
    Trials,
    Workers,
)

BUDGET = 3.0  # default seconds of search (--fix-budget): the harness median is well below


GATED_BUDGET = 6.0  # ... for a gated cell: several times the candidates, each dearer to run


def budget_for(cell: str | None) -> float:
    """The default search time for a model of ``cell`` (``--fix-budget`` not given)."""
    return GATED_BUDGET if cell in ("lstm", "gru") else BUDGET


MAX_PAIRS = 400  # pairs of edits tried at most (only with the budget left after singles)


MAX_PARTIAL_CHECKS = 3  # partial fixes given the full check, best first


GATE_BONUS = 3.0  # a gated cell's line about the one gate measured far wronger than the rest


ONE_STEP_GATE_BONUS = 8.0  # ... about the one gate wrong alone at one step: ahead of the rest


def search_layer(target: str, forward: str | None, options: ImplOptions, spec: Spec,
                 budget: float = BUDGET, cell: str = "rnn", style: Any = None) -> Outcome:
    """The search for a layer's backward (``--impl FILE.py:rnn_backward``): its edits and
    the helpers it calls, judged by the layer check at two points (other seeds). ``cell``:
    the layer's, from its style ("rnn", "lstm", "gru"); ``style``: the check's style of
    the unedited pair (:class:`bpttcheck.layers.styles.Style`), when known."""
    start = time.monotonic()
    where, name = split_target(target)
    doc = Document(resolve_path(where))
    trials = LayerTrials(doc, name, forward, options, spec, start + budget,
                         style.cell if style is not None else cell, style)
    elements = sum(int(g.size) for g in trials.truths[0][1].values())
    return _drive(doc, name, trials, spec.rtol_analytic, {}, start, budget, elements,
                  one_step=trials.one_step)


def _engine_options(spec: Spec) -> Options:
    """The engines' options for a spec, as the checker builds them (no sample, no progress)."""
    return Options(clip=spec.clip, method=spec.method, step=spec.step,
                   max_memory=int(spec.max_memory * 2**20), time_budget=spec.time_budget)


def search(target: str, options: ImplOptions, spec: Spec, budget: float = BUDGET,
           declared: DeclaredLoss | None = None, theirs: Mapping[str, str] | None = None,
           results: Mapping[str, Gradients] | None = None,
           engine_options: Options | None = None, float32: bool = False,
           stateless: bool = False, returns_loss: bool = True, *,
           cause: str | None = None) -> Outcome:
    """Search single (then paired) edits of ``target``'s source that make it exact.

    ``declared``: the loss the code should compute (``--impl-loss``; the summed loss by
    default). ``results`` and ``engine_options``: the engines' answers at the spec's point and
    their options, as the ``--impl`` check had them (the reference engine's, and options
    from ``spec``, when not given), so that an edit is judged by the same check.
    ``stateless``: the code takes no initial state (the second point's is then zero, as the
    check has it); ``returns_loss`` False: it returns its gradients alone (no loss to
    screen); ``cause``: the kind of the check's first likely cause, which reorders the
    candidates."""
    start = time.monotonic()
    declared = declared or DeclaredLoss()
    if declared.factor(spec.seq) is None:
        raise ValueError("the fix search needs a declared loss (not --impl-loss own)")
    where, name = split_target(target)
    doc = Document(resolve_path(where))
    problems = [build(second_spec_for(spec, stateless)), build(spec)]  # the stricter first
    if theirs is None:  # our name -> theirs, from --impl-names
        theirs = {ours: mine for mine, ours in options.names.items()}
    trials = Trials(doc, name, options, problems, declared, start + budget, results,
                     engine_options or _engine_options(spec),
                     FLOAT32_LOSS_RTOL if float32 else LOSS_RTOL, returns_loss)
    elements = sum(p.size for p in problems[0].params.values())
    # float32 code: a looser screen (the whole check, with float32 error bars, verifies).
    rtol = FLOAT32_SCREEN if float32 else tolerance(spec, "impl", "reference")
    one = one_step_problem(spec, stateless)
    return _drive(doc, name, trials, rtol, theirs, start, budget, elements, cause,
                  (lambda r: trials.one_step(one, r)) if one is not None else None)


def one_step_problem(spec: Spec, stateless: bool = False) -> Problem | None:
    """The second point cut to one time step (its biases and initial state as they are),
    where the unedited code is measured once to place its bug (:meth:`Trials.one_step`);
    None when the spec has a single step already."""
    if spec.seq <= 1:
        return None
    return build(dataclasses.replace(second_spec_for(spec, stateless), seq=1))


def _ranked(doc: Document, name: str, base: Score, rtol: float,
            theirs: Mapping[str, str], points_differ: bool,
            params: tuple[str, ...] = PARAM_NAMES, cause: str | None = None,
            local: tuple[str, ...] | None = None) -> list[Candidate]:
    """The candidates, ranked by what the unedited copy measured (``base``, and ``local``
    at one time step when measured)."""
    wrong = base.wrong(rtol)
    at_spec = len(base.errors) > 1 and all(
        v <= rtol for v in base.errors[-1].values()) and base.loss_ok[-1]
    found = candidates(doc.text, doc.path, name, tuple(w for w in wrong if w != "loss"),
                       theirs, loss="loss" in wrong, second_only=at_spec and points_differ,
                       params=params, cause=cause, local=local)
    if not any(c.gated for c in found):
        return found
    # one gate's parameters alone wrong at one step, or one gate wrong by orders of
    # magnitude more than the others over the whole sequence: its lines first
    cell = cell_of(params)
    worst = {n: max(e[n] for e in base.errors) for n in base.errors[0]}
    gate = one_step_gate(cell, local) if cell is not None and local else None
    bonus = ONE_STEP_GATE_BONUS
    if gate is None:
        gate = dominant_gate(cell, worst) if cell is not None else None
        bonus = GATE_BONUS
    near = gate_lines(doc.text, doc.path, name, params, gate) if gate is not None else set()

    def score(c: Candidate) -> float:
        return c.score + GATED_BONUS * c.gated + bonus * (c.line in near)

    return sorted(found, key=lambda c: (-score(c), c.line))


def ranking(target: str, options: ImplOptions, spec: Spec, *,
            cause: str | None = None, stateless: bool = False,
            returns_loss: bool = True) -> list[Candidate]:
    """The candidates the search would try for ``target``, in its order (the unedited copy
    run once, nothing else): the ranking measured apart from speed (bench/fixes.py).
    ``cause``, ``stateless``, ``returns_loss``: as :func:`search` takes them."""
    where, name = split_target(target)
    doc = Document(resolve_path(where))
    problems = [build(second_spec_for(spec, stateless)), build(spec)]
    trials = Trials(doc, name, options, problems, DeclaredLoss(), time.monotonic() + 60.0,
                     None, _engine_options(spec), returns_loss=returns_loss)
    try:
        base = trials.score(doc.content([]))
        if base is None:
            return []
        theirs = {ours: mine for mine, ours in options.names.items()}
        rtol = tolerance(spec, "impl", "reference")
        one = one_step_problem(spec, stateless)
        local = trials.one_step(one, rtol) if one is not None else None
        return [c for c in _ranked(doc, name, base, rtol, theirs, True, trials.ranked_names,
                                   cause, local) if c.runnable()]
    finally:
        trials.close()


def _drive(doc: Document, name: str, trials: Trials | LayerTrials, rtol: float,
           theirs: Mapping[str, str], start: float, budget: float, elements: int,
           cause: str | None = None,
           one_step: Callable[[float], tuple[str, ...] | None] | None = None) -> Outcome:
    """The search itself: screen single edits best first; then judge the best partial
    fixes; then pairs with the budget left. Every proposal passes the whole check
    (``trials.full``), a partial fix with what it leaves wrong. ``one_step``: what the
    unedited code gets wrong at one time step (called once, after its first score), to
    rank the candidates."""
    deadline = start + budget
    points = trials.points
    tried = rejected = paired = 0
    workers = Workers(trials, WORKERS)

    def outcome(fix: Fix | None, cands: list[Candidate], wrong: tuple[str, ...]) -> Outcome:
        lines = tuple(sorted({c.line for c in cands}))
        return Outcome(fix, tried, len(cands), lines, time.monotonic() - start, wrong,
                       where=doc.where(lines), rejected=rejected, checking=workers.checking,
                       pairs=paired)

    try:
        base = trials.score(doc.content([]))
        if base is None:
            return Outcome(None, 0, 0, (), time.monotonic() - start, (),
                           prose.fix_unrunnable(budget))
        wrong = base.wrong(rtol)
        if not wrong:  # what failed is not the loss or gradient (state kept, hlast, ...)
            return Outcome(None, 0, 0, (), time.monotonic() - start, (),
                           prose.fix_nothing_wrong())
        local = one_step(rtol) if one_step is not None else None
        # only edits that are still Python count as candidates ("tried N of M" is of these)
        cands = [c for c in _ranked(doc, name, base, rtol, theirs, isinstance(trials, Trials),
                                    trials.ranked_names, cause, local) if c.runnable()]

        def no_worse(s: Score) -> bool:
            """Fixes some wrong parameter and makes none worse, at the points run so far."""
            if not all(s.loss_ok) and all(base.loss_ok[:len(s.loss_ok)]):
                return False
            better = False
            for e, b in zip(s.errors, base.errors, strict=False):
                for n in b:
                    if b[n] <= rtol and e[n] > rtol:
                        return False
                    if b[n] > rtol and e[n] > b[n] * (1 + 1e-6):
                        return False
                    if b[n] > rtol >= e[n]:
                        better = True
            return better or (all(s.loss_ok) and not all(base.loss_ok))

        def judge(edits: tuple[Edit, ...], s: Score) -> Fix | None:
            """The whole check of the edited copy: a verified fix when it passes; a partial
            fix when what it still finds wrong is part of what was (nothing made wrong,
            nothing else found); None otherwise."""
            with workers.hold() as w:
                judged = w.full(doc.content(edits))
            if judged is None:
                return None
            if judged[0]:
                return Fix(True, False, (), s.worst, points, edits, elements, wrong,
                           trials.beside)
            if set(judged[1]) < set(wrong):
                return Fix(False, True, judged[1], s.worst, points, edits, elements, wrong,
                           trials.beside)
            return None

        # exact in the screen but refused by the whole check, yet a partial fix (a float32
        # copy within the screen's looser bar, say): kept in case none better is found
        refused: list[Fix] = []
        partials: list[tuple[Candidate, Score]] = []
        singles = ((c, (e,), doc.content([e])) for c in cands
                   for e in (doc.edit(c.line, c.after),))
        for c, edits, s in workers.screen(singles, no_worse, deadline):
            tried += 1
            if s is None or len(s.errors) < points:
                continue
            if not s.wrong(rtol):
                found = judge(edits, s)
                if found is not None and found.verified:
                    return outcome(found, cands, wrong)
                rejected += 1
                refused.extend([found] if found is not None else [])
                continue
            if no_worse(s):
                partials.append((c, s))
        partials.sort(key=lambda cs: (len(cs[1].wrong(rtol)), cs[1].worst))
        # a partial fix first (kept while pairs are tried); pairs start from it, then from
        # the partial fixes not yet judged (in the screen's order when none was verified)
        checked = partials[:MAX_PARTIAL_CHECKS]
        seeds = [c for c, _ in checked]
        partial: Fix | None = None
        for k, (c, s) in enumerate(checked):
            if k > 0 and time.monotonic() >= deadline:
                break
            found = judge((doc.edit(c.line, c.after),), s)
            if found is not None and found.verified:
                return outcome(found, cands, wrong)
            if found is not None:
                partial = found
                seeds = [c] + seeds[k + 1:]  # one the whole check refused starts no pair
                break

        def pairs() -> Iterator[tuple[Candidate, tuple[Edit, ...], str]]:
            n = 0
            for first in seeds:
                e1 = doc.edit(first.line, first.after)
                for c in cands:
                    if n >= MAX_PAIRS:
                        return
                    if c.line == first.line:
                        continue
                    edits = tuple(sorted((e1, doc.edit(c.line, c.after)),
                                         key=lambda e: (e.cell or 0, e.line)))
                    n += 1
                    yield c, edits, doc.content(edits)

        # pairs: a partial fix and one more edit on another line, with the budget left
        for _, edits, s in workers.screen(pairs(), lambda s: not s.wrong(rtol), deadline):
            paired += 1
            if s is not None and len(s.errors) == points and not s.wrong(rtol):
                found = judge(edits, s)
                if found is not None and found.verified:
                    return outcome(found, cands, wrong)
                rejected += 1
        if partial is None and refused:  # the fewest left wrong
            partial = min(refused, key=lambda f: len(f.remaining))
        return outcome(partial, cands, wrong)
    finally:
        workers.close()
