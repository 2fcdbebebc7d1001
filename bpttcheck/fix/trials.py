"""Edited copies run in child processes: screened at two points, then judged by the whole check."""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import copy
import dataclasses
import os
import queue
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..compare import rel_error
from ..engines import Gradients, Options
from ..errors import ImplError
from ..impl.check import DeclaredLoss, ImplReport, check_impl, code_sizes
from ..impl.declared import declared as declared_model
from ..impl.options import ImplOptions
from ..impl.runner import MEMORY_LIMIT, RemoteCode
from ..model import PARAM_NAMES, SECOND_SEED, Problem
from ..spec import Spec
from .document import Document, Edit
from .operators import Candidate

CALL_TIMEOUT = 2.0  # seconds a candidate may take per call (an edit can make a loop endless)


LOAD_TIMEOUT = 10.0  # seconds to start a child and load the first copy


LOSS_RTOL = 1e-9  # the same loss summed in another order agrees to far better than this


# Screening float32 code (the whole --impl check, with float32 error bars, then verifies):
FLOAT32_SCREEN = 1e-2  # elementwise relative error a float32 gradient stays well within


FLOAT32_LOSS_RTOL = 1e-5  # a float32 loss summed over the steps, against ours


# Child processes screening at once: the parent only waits on their pipes, so two use two
# cores; more would compete with whatever else the machine runs (one where only one core is).
WORKERS = max(1, min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                     else os.cpu_count() or 1))


_STARTING = threading.Lock()  # one child started at a time (runner hides __main__ meanwhile)


@dataclasses.dataclass(frozen=True)
class Score:
    """A candidate at the points run so far: per-parameter max relative error, loss ok."""

    errors: tuple[dict[str, float], ...]
    loss_ok: tuple[bool, ...]

    def wrong(self, rtol: float) -> tuple[str, ...]:
        out = [n for n in self.errors[0] if any(e[n] > rtol for e in self.errors)]
        if not all(self.loss_ok):
            out.append("loss")
        return tuple(out)

    @property
    def worst(self) -> float:
        return max(max(e.values()) for e in self.errors)


def _failing(report: ImplReport, names: tuple[str, ...]) -> tuple[str, ...]:
    """What the ``--impl`` check found wrong: parameters (of ``names``, the model's) with a
    failing comparison at either point (against any truth), the loss when it is not the
    declared one, and the kind of each other finding (``hlast``, ``mutation``, ...)."""
    bad = {c.parameter for p in report.points for c in p.comparisons if not c.passed}
    out = [n for n in names if n in bad]
    no_loss = not getattr(report, "returns_loss", True)  # gradients alone: no loss to match
    if not (report.loss_match or no_loss):
        out.append("loss")
    # what else the check found (a returned state, inputs changed, nondeterminism, ...):
    # a partial fix may leave none of it, since the screen does not see it
    out.extend(dict.fromkeys(f.kind for f in report.findings if f.kind not in _SCREENED))
    return tuple(out)


# Findings about what the screen itself compares (the gradient, the loss, their precision):
# every other kind (a returned state, inputs changed, ...) the screen cannot see.
_SCREENED = frozenset({"gradient", "loss", "precision"})


class _Copies:
    """Where a worker writes its edited copies of the user's file: a temporary folder of
    its own (never the user's), the copy under the file's own name."""

    original: Path

    def _new_copy(self) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="bpttcheck-fix-")
        self.copy = Path(self.dir.name) / self.original.name


class Trials(_Copies):
    """Edited copies of the user's file, run in one child process: screened at both points
    (:meth:`score`), then judged by the whole ``--impl`` check (:meth:`full`).

    The model is the one the check declares for the spec's cell
    (:func:`bpttcheck.impl.declared.declared`): its reference gradient is the truth at each
    point, and the parameters compared are those the problem has (a bias-free model's three,
    a gated cell's own); a batch (``--batch B``) is one problem of B columns, whose reference
    sums the columns (:mod:`bpttcheck.engines.batched`), and a declared mean over B divides
    by its width. The copy is loaded as the check loads the user's file: with the cell, the
    batch and the bias-free flag in its sizes and options."""

    def __init__(self, doc: Document, name: str, options: ImplOptions,
                 problems: list[Problem], declared: DeclaredLoss, deadline: float,
                 results: Mapping[str, Gradients] | None, engine_options: Options,
                 loss_rtol: float = LOSS_RTOL, returns_loss: bool = True) -> None:
        self.original = doc.path
        self.returns_loss = returns_loss  # False: the code returns its gradients alone
        self.beside = "loss" if returns_loss else ""  # verified beside the gradient
        self.loss_rtol = loss_rtol
        self.name = name
        self._new_copy()
        self.options = dataclasses.replace(options, cell=problems[0].cell)
        self.problems = problems
        self.deadline = deadline
        self.sizes = code_sizes(problems[0])
        model = self.model = declared_model(problems[0].cell)
        self.names = tuple(n for n in model.params if n in problems[0].params)
        self.ranked_names = self.names  # the parameter names candidates are ranked by
        self.refs = [model.reference(p.params, p.batch, Options()) for p in problems]
        self.declared = declared
        batch = problems[0].batch
        self.factor = declared.factor(batch.seq, batch.width or 1) or 1.0
        # the spec's point is problems[-1]: its engines' answers, as the --impl check has them
        self.results = dict(results) if results is not None else {"reference": self.refs[-1]}
        self.engine_options = engine_options
        self.code: RemoteCode | None = None
        self.checking = 0.0  # seconds spent in full checks
        self.points = len(problems)

    def close(self) -> None:
        if self.code is not None:
            self.code.close()
        self.dir.cleanup()

    def sibling(self) -> Trials:
        """Another worker: the same points and truths, its own copy and child process."""
        other = copy.copy(self)
        other._new_copy()
        other.code, other.checking = None, 0.0
        return other

    def _left(self) -> float:
        return self.deadline - time.monotonic()

    def _load(self, content: str, timeout: float) -> RemoteCode | None:
        """Write ``content`` as the copy and load it in the child (started if need be)."""
        self.copy.write_text(content, encoding="utf-8")
        target = f"{self.copy}:{self.name}"
        extra = (str(self.original.parent.resolve()),)
        try:
            if self.code is None or not self.code.alive:
                with _STARTING:
                    self.code = RemoteCode(target, dataclasses.replace(
                        self.options, timeout=min(CALL_TIMEOUT, timeout)), self.sizes,
                        extra_path=extra)
            else:
                self.code.reload(target, min(LOAD_TIMEOUT, timeout), extra)
        except ImplError:
            return None
        return self.code

    def score(self, content: str, points: int | None = None,
              keep: Callable[[Score], bool] | None = None) -> Score | None:
        """Load ``content`` as the user's file and call it at each point in turn; None when
        it fails to load or raises. ``keep`` decides, after each point, whether to go on."""
        left = self._left()
        if left <= 0:
            return None
        code = self._load(content, left)
        if code is None:
            return None
        errors: list[dict[str, float]] = []
        losses: list[bool] = []
        for k, (pr, ref) in enumerate(zip(self.problems, self.refs, strict=True)):
            if points is not None and k >= points:
                break
            left = self._left()
            if left <= 0:
                return None
            code.options = dataclasses.replace(code.options, timeout=min(CALL_TIMEOUT, left))
            try:
                r = code.call(pr.params, pr.batch)
            except ImplError:
                return None
            errs, loss_ok = self._compare(r, pr, ref, self.factor)
            errors.append(errs)
            losses.append(loss_ok)
            s = Score(tuple(errors), tuple(losses))
            if keep is not None and not keep(s):
                return s
        return Score(tuple(errors), tuple(losses))

    def _compare(self, r: Any, pr: Problem, ref: Gradients,
                 factor: float) -> tuple[dict[str, float], bool]:
        """A call's answer ``r`` at ``pr`` against the reference ``ref`` (scaled by the
        declared loss's ``factor``): per-parameter max relative error, and whether the loss
        is right (always, for code that returns no loss)."""
        errs = {}
        for n in self.names:
            g = np.asarray(r.grads.get(n, np.full(pr.params[n].shape, np.nan)),
                           dtype=np.float64)
            truth = factor * ref.grads[n]
            if g.size != truth.size:
                errs[n] = float("inf")
                continue
            errs[n] = float(rel_error(g.reshape(truth.shape), truth,
                                      pr.spec.floor).max(initial=0.0))
        want = factor * ref.loss
        loss_ok = not self.returns_loss or (bool(np.isfinite(r.loss)) and abs(
            r.loss - want) <= self.loss_rtol * max(1.0, abs(want)))
        return errs, loss_ok

    def one_step(self, problem: Problem, rtol: float) -> tuple[str, ...] | None:
        """What the copy loaded last (the user's unedited file, right after its first
        :meth:`score`) gets wrong at ``problem``, a point of one time step: the parameters
        whose gradient is wrong there, and ``loss`` when the loss is. None when it cannot
        be called there (a length fixed in the code, say) or time is up.

        One step leaves out everything carried between steps, so this places the bug: in
        one step's own lines when something is wrong here, in the recurrence when nothing
        is."""
        left = self._left()
        if self.code is None or not self.code.alive or left <= 0:
            return None
        ref = self.model.reference(problem.params, problem.batch, Options())
        factor = self.declared.factor(problem.batch.seq, problem.batch.width or 1) or 1.0
        self.code.options = dataclasses.replace(self.code.options,
                                                timeout=min(CALL_TIMEOUT, left))
        try:
            r = self.code.call(problem.params, problem.batch)
        except ImplError:
            return None
        errs, loss_ok = self._compare(r, problem, ref, factor)
        return Score((errs,), (loss_ok,)).wrong(rtol)

    def full(self, content: str) -> tuple[bool, tuple[str, ...]] | None:
        """The whole ``--impl`` check of ``content`` (:func:`~.impl.check.check_impl`, with
        the user's options and the spec's engines): whether it passes, as the user's own file
        was judged, on both points, and what it finds wrong (:func:`_failing`); None when
        the copy does not load or the check stops on it."""
        start = time.monotonic()
        try:
            code = self._load(content, LOAD_TIMEOUT)
            if code is None:
                return None
            code.options = self.options
            try:
                report = check_impl(code, self.problems[-1], self.engine_options,
                                    self.results, self.declared)[2]
            except ImplError:
                return None
            return report.passed, _failing(report, self.names)
        finally:
            self.checking += time.monotonic() - start


class LayerTrials(_Copies):
    """Edited copies of a layer's file (``--impl FILE.py:rnn_backward``), run in one child:
    screened at both points (their forward against ours, their backward's gradients of
    L = <G, h> against the layer reference, every element), then judged by the whole layer
    check (:func:`bpttcheck.layers.check_layer`) at both.

    ``cell`` is the layer's ("rnn", "lstm", "gru", from its style): the points, the
    reference forward and gradients are that cell's (:data:`bpttcheck.layers.check.MODELS`),
    and their gradients are compared in our names (a stacked cs231n array split into its
    gates' blocks), in the gate order their forward reads (found on their unedited file, as
    the layer check finds it)."""

    def __init__(self, doc: Document, name: str, forward: str | None, options: ImplOptions,
                 spec: Spec, deadline: float, cell: str = "rnn", style: Any = None) -> None:
        from ..layers.check import MODELS, point, point_for, sizes_of

        self.original = doc.path
        self.name, self.forward = name, forward
        self._new_copy()
        self.options = options
        self.deadline = deadline
        self.specs = [dataclasses.replace(spec, seed=spec.seed + SECOND_SEED), spec]
        sizes = sizes_of(spec)
        model = MODELS[cell]
        self.cell = cell
        self.beside = "forward"  # verified beside the gradient: their forward pass is ours
        # the check's style of their unedited pair (gate and row orders found), when known:
        # its points carry what the style takes (c0, zero biases for a bias-free stack)
        self.resolved = style
        self.points_at = [point_for(style, sizes, sp.seed) if style is not None
                          else point(sizes, sp.seed) if cell == "rnn"
                          else model.point(sizes, sp.seed) for sp in self.specs]
        self.truths = [(model.forward(ours), model.gradients(ours, G)[0])
                       for ours, G, _ in self.points_at]
        self.floor = spec.floor
        self.rtol = spec.rtol_analytic
        # the parameter names candidates are ranked by: the vanilla layer's Wxh, Whh, bh are
        # among the vanilla names; a gated layer's are its gates' (Wf ..., bz ...)
        self.ranked_names: tuple[str, ...] = PARAM_NAMES if cell == "rnn" else model.OURS
        self.order: tuple[str, ...] | None = None  # the gate order their forward reads
        self.layer: Any = None
        self.style: Any = None
        self.checking = 0.0
        self.points = len(self.specs)

    def close(self) -> None:
        if self.layer is not None:
            self.layer.close()
        self.dir.cleanup()

    def sibling(self) -> LayerTrials:
        """Another worker: the same points and truths, its own copy and child process."""
        other = copy.copy(self)
        other._new_copy()
        other.layer, other.style, other.checking = None, None, 0.0
        return other

    def _load(self, content: str, timeout: float) -> Any:
        from ..layers.remote import RemoteLayer
        from ..layers.styles import STYLES

        self.copy.write_text(content, encoding="utf-8")
        target = f"{self.copy}:{self.name}"
        extra = [str(self.original.parent.resolve())]
        try:
            if self.layer is None or not self.layer.alive:  # started on their own file
                with _STARTING:
                    self.layer = RemoteLayer(f"{self.original}:{self.name}", self.forward,
                                             dataclasses.replace(self.options, timeout=timeout))
            meta = self.layer._request(("layer-init", [*sys.path, *extra], os.getcwd(), target,
                                        self.forward, MEMORY_LIMIT), min(LOAD_TIMEOUT, timeout),
                                       f"loading {target}")
        except ImplError:
            return None
        if meta is None:
            return None
        self.layer.label, self.layer.style = meta["label"], meta["style"]
        if self.resolved is not None and meta["style"] == self.resolved.name:
            self.style = self.resolved  # as the check read their unedited pair
            return self.layer
        self.style = next(st for st in STYLES if st.name == meta["style"])
        if self.style.gate_order:
            if self.order is None:  # their unedited file, loaded first: the order it reads
                self.order = self._gate_order()
            self.style = self.style.with_order(self.order)
        return self.layer

    def _gate_order(self) -> tuple[str, ...]:
        """The order in which their forward reads the stacked gates (cs231n's when it
        computes our h in none: their forward is then wrong, and the screen says so)."""
        import itertools

        from ..layers.check import FORWARD_RTOL
        from ..layers.styles import call_forward

        (ours, _, out_layer), (h_ref, _) = self.points_at[-1], self.truths[-1]
        base: tuple[str, ...] = tuple(self.style.gate_order)
        for order in (base, *(o for o in itertools.permutations(base) if o != base)):
            style = self.style.with_order(order)
            try:
                h, _ = call_forward(style, self.layer.forward, style.to_theirs(ours), out_layer,
                                    self.layer.label)
                got = style.states_to_ours(np.asarray(h, dtype=np.float64))
                if got.shape == h_ref.shape and bool(np.all(
                        rel_error(got, h_ref, self.floor) <= FORWARD_RTOL)):
                    return order
            except (ImplError, TypeError, ValueError):
                break
        return base

    def score(self, content: str,
              keep: Callable[[Score], bool] | None = None) -> Score | None:

        left = self.deadline - time.monotonic()
        if left <= 0:
            return None
        layer = self._load(content, min(CALL_TIMEOUT, left))
        if layer is None:
            return None
        errors: list[dict[str, float]] = []
        forwards: list[bool] = []
        for point, truth in zip(self.points_at, self.truths, strict=True):
            got = self._at(layer, point, truth)
            if got is None:
                return None
            errors.append(got[0])
            forwards.append(got[1])
            s = Score(tuple(errors), tuple(forwards))
            if keep is not None and not keep(s):
                return s
        return Score(tuple(errors), tuple(forwards))

    def _at(self, layer: Any, point: tuple[Any, Any, Any], truth: tuple[Any, Any]
            ) -> tuple[dict[str, float], bool] | None:
        """The loaded pair run at one point (our parameters, G, the output layer) against
        its truth (our h, our gradients): per-parameter max relative error in our names, and
        whether their forward computes our h; None when it raises or time is up."""
        from ..layers.check import FORWARD_RTOL
        from ..layers.styles import call_backward, call_forward

        (ours, G, out_layer), (h_ref, g_ref) = point, truth
        style = self.style
        left = self.deadline - time.monotonic()
        if left <= 0:
            return None
        layer.options = dataclasses.replace(layer.options, timeout=min(CALL_TIMEOUT, left))
        theirs = style.to_theirs(ours)
        try:
            h, cache = call_forward(style, layer.forward, theirs, out_layer, layer.label)
            grads = call_backward(style, layer.backward,
                                  style.states_to_theirs(G).copy(), cache, layer.label)
        except ImplError:
            return None
        try:
            h_ours = style.states_to_ours(np.asarray(h, dtype=np.float64))
            ok = h_ours.shape == h_ref.shape and bool(np.all(
                rel_error(h_ours, h_ref, self.floor) <= FORWARD_RTOL))
        except (TypeError, ValueError):
            ok = False
        errs: dict[str, float] = {}
        for a in style.args:  # each of their arrays, compared in our names
            if a.name not in grads and a.name in style.optional:
                continue  # left out, as the layer check allows: held fixed, not checked
            try:
                want = a.theirs_from(g_ref)
                g = np.asarray(grads[a.name], dtype=np.float64).reshape(want.shape)
                bad = rel_error(g, want, self.floor)
                width = bad.shape[-1] // len(a.sources)
                for k, n in enumerate(a.sources):  # a stacked array: gate by gate
                    e = bad[..., k * width:(k + 1) * width] if len(a.sources) > 1 else bad
                    errs[n] = max(errs.get(n, 0.0), float(np.max(e, initial=0.0)))
            except (KeyError, TypeError, ValueError):
                for n in a.sources:
                    errs[n] = float("inf")
        return errs, ok

    def one_step(self, rtol: float) -> tuple[str, ...] | None:
        """What the pair loaded last (their unedited file, after its first :meth:`score`)
        gets wrong at the second point cut to one time step, as :meth:`Trials.one_step`
        for a loss function."""
        from ..layers.check import MODELS, point, point_for, sizes_of

        if self.layer is None or not self.layer.alive:
            return None
        spec = dataclasses.replace(self.specs[0], seq=1)
        sizes = sizes_of(spec)
        model = MODELS[self.cell]
        at = point_for(self.resolved, sizes, spec.seed) if self.resolved is not None \
            else point(sizes, spec.seed) if self.cell == "rnn" else model.point(sizes, spec.seed)
        ours, G, _ = at
        got = self._at(self.layer, at, (model.forward(ours), model.gradients(ours, G)[0]))
        if got is None:
            return None
        return Score((got[0],), (got[1],)).wrong(rtol)

    def full(self, content: str) -> tuple[bool, tuple[str, ...]] | None:
        """The whole layer check (``--impl`` on a layer) of ``content`` at both points."""
        from ..layers.check import check_layer

        start = time.monotonic()
        try:
            layer = self._load(content, LOAD_TIMEOUT)
            if layer is None:
                return None
            layer.options = self.options
            passed, wrong = True, []
            for sp in self.specs:
                try:
                    report = check_layer(layer.forward, layer.backward, sp, label=layer.label,
                                         style=layer.style, batched=layer.batched_loss,
                                         sample=self.options.sample)
                except ImplError:
                    return None
                passed = passed and report.passed
                wrong += [o for n in report.wrong for o in self.style.arg(n).sources]
                if report.findings:
                    wrong.append("loss")  # their forward is not ours: L = <G, h> differs
            return passed, tuple(dict.fromkeys(wrong))
        finally:
            self.checking += time.monotonic() - start


class Workers:
    """Trials run by up to WORKERS child processes at once, in threads (the parent mostly
    waits on pipes), so that screening does not wait for one child at a time."""

    def __init__(self, first: Trials | LayerTrials, count: int) -> None:
        self.all: list[Trials | LayerTrials] = [first]
        self.count = max(1, count)
        self.free: queue.SimpleQueue[Trials | LayerTrials] = queue.SimpleQueue()
        self.free.put(first)
        self.started = 1
        self.lock = threading.Lock()

    @contextlib.contextmanager
    def hold(self) -> Iterator[Trials | LayerTrials]:
        """A worker of one's own for a while (one more is started if the pool allows)."""
        with self.lock:
            grow = self.free.empty() and self.started < self.count
            if grow:
                self.started += 1
        if grow:
            w = self.all[0].sibling()
            with self.lock:
                self.all.append(w)
        else:
            w = self.free.get()
        try:
            yield w
        finally:
            self.free.put(w)

    @property
    def checking(self) -> float:
        return sum(w.checking for w in self.all)

    def close(self) -> None:
        for w in self.all:
            with contextlib.suppress(OSError):
                w.close()

    def screen(self, jobs: Iterator[tuple[Candidate, tuple[Edit, ...], str]],
               keep: Callable[[Score], bool], deadline: float
               ) -> Iterator[tuple[Candidate, tuple[Edit, ...], Score | None]]:
        """Score each job's content, yielding results in the order of ``jobs`` (best
        first), a few jobs ahead on the free workers."""
        def run(content: str) -> Score | None:
            with self.hold() as w:
                return w.score(content, keep=keep)

        if self.count == 1:
            for c, edits, content in jobs:
                if time.monotonic() >= deadline:
                    return
                yield c, edits, run(content)
            return
        with concurrent.futures.ThreadPoolExecutor(self.count,
                                                   thread_name_prefix="bpttcheck-fix") as ex:
            window: collections.deque[tuple[Candidate, tuple[Edit, ...],
                                            concurrent.futures.Future[Score | None]]]
            window = collections.deque()
            try:
                while True:
                    while len(window) < 2 * self.count and time.monotonic() < deadline:
                        job = next(jobs, None)
                        if job is None:
                            break
                        window.append((job[0], job[1], ex.submit(run, job[2])))
                    if not window:
                        return
                    c, edits, fut = window.popleft()
                    yield c, edits, fut.result()
            finally:
                for _, _, f in window:
                    f.cancel()
