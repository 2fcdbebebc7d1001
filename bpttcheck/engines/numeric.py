"""Numerical differentiation of the model's loss, every element (or a sample).

It knows nothing of any backward pass, and shares no code with the analytic
engines beyond the parameters: the model's loss comes as a batched loss built
on the numeric engine's own forward pass (:mod:`.finite_difference`,
:mod:`.complex_step`), and the one differentiator (:mod:`bpttcheck.numdiff`)
turns it into values and per-element error bars (``Gradients.noise``), which
compare.py uses to tell "limited by numerical precision" from a failure.
``--method`` picks a :class:`~bpttcheck.numdiff.methods.Method`; ``--step``
(relative to max(1, |theta_i|)) is honoured by every method.

The default, ``complex``, is the *structured* complex step: a hand-derived
tangent-linear model (fast). On every run :func:`verify` recomputes a seeded
sample of VERIFY_SAMPLE elements per parameter with the literal complex step
(the complex forward pass and nothing else) and raises SelfCheckError (exit 3)
if they differ beyond rounding; the checker adds the elements that agree worst
with the analytic engines (:mod:`bpttcheck.witness`). ``complex-literal`` uses
the literal complex step on every element.

**Work.** Elements are sorted by the first step that feels them and cut into
chunks; a chunk of P perturbed copies advances through time as one (P, H)
array, one matrix product per step (the structured step advances impulse rows
instead, one per unit and start step: :mod:`.complex_step`). Chunks run on a
pool of threads (one per core), with BLAS limited to one thread each
(threadpoolctl). The chunk size
follows ``Options.max_memory``. Before any work, :func:`plan` estimates the
time and refuses (SpecError) beyond ``Options.time_budget``, advising
``--sample`` or ``--directions``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Mapping

import numpy as np

from ..errors import SelfCheckError, SpecError
from ..model import HIDDEN_PARAMS, Batch, Forward, Params
from ..numdiff import Method, Result, by_name, check_step, differentiate
from ..numdiff.differentiate import CALIBRATE, _threadpool_limits
from ..numdiff.methods import COMPLEX, COMPLEX_LITERAL
from ..probes import BatchedLoss
from .base import Gradients, Options
from .complex_step import COMPLEX_NOISE, EPS, PROBE_ETA, LiteralLoss, StructuredLoss
from .finite_difference import DifferenceLoss, PlainLoss, base_pass, start_steps

CHUNK_ROWS = 512  # rows per chunk: (P, H) work arrays stay near a core's L2 cache (1 MB here)
MAX_WORKERS = 8  # threads at most (one per core up to this)
# Planning: the time estimate assumes this much per core (measured 15-31 GFLOP/s for these
# product shapes on the 2-core reference machine) and this many nanoseconds per element-wise
# tanh or exp (real; a complex one costs COMPLEX_ELEMENTWISE times as much). With these, at
# the tutorial's size (bench/numeric.py, 2026-11-29, load average 2.5) the estimates were
# 30 ns and 4x: 0.8x (complex), 2.1x (central), 1.3x (richardson), 1.7x (difference) and
# 2.3x (complex-literal) the measured time; now 10 ns and 3x.
ASSUMED_FLOPS = 20e9
STEP_OVERHEAD = 30e-6  # seconds of NumPy calls for one chunk's step (about 20 calls)
CHUNK_OVERHEAD = 200e-6  # seconds of bookkeeping per chunk (probes, error bars, storing)
ASSUMED_ELEMENTWISE_NS = 10.0
COMPLEX_ELEMENTWISE = 3.0
# Per perturbed copy, besides its (P, H) arrays: indices, steps, answers, error bars and the
# temporaries of fancy indexing: 64 float64 vectors of length P (measured with
# tracemalloc: 850 bytes a copy at hidden 20, against 480 for the arrays alone).
ROW_BOOKKEEPING = 8 * 64
VERIFY_SAMPLE = 16  # elements per parameter recomputed literally on every structured run
VERIFY_STREAM = 5  # seed of the verification sample (a stream of its own)


@dataclasses.dataclass(frozen=True)
class Plan:
    """The work of one numeric run, decided before any of it is done."""

    method: Method
    rel_step: float
    todo: dict[str, np.ndarray]  # flat indices per parameter, sorted by start step
    chunk: int  # elements per chunk
    workers: int
    row_steps: int  # perturbed copies x steps they are advanced
    seconds: float  # estimated wall time
    memory: int  # estimated peak bytes of work arrays
    verify_seconds: float = 0.0  # of ``seconds``: the literal verification sample

    @property
    def elements(self) -> int:
        return sum(len(i) for i in self.todo.values())


def default_workers() -> int:
    """One thread per core available to this process, when BLAS threads can be limited."""
    if _threadpool_limits() is None:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(MAX_WORKERS, cores or 1))


def _row_bytes(method: Method, H: int, V: int) -> int:
    """Bytes of work arrays per perturbed copy in a chunk (peak, temporaries included)."""
    if method is COMPLEX:
        return 8 * (2 * H + 4)  # B and Z, g and its scale
    if method.complex:  # literal: complex h, a, y, exp(y) and their temporaries
        return 16 * (4 * H + 4 * V)
    if method.exact_change:
        return 8 * (6 * H + 4 * V)  # dh, da, s, products and logits
    return 8 * (2 * H + 2 * V + 4)  # S, Z, the softmax terms


# Small temporaries no formula above counts (a thread's few vectors, reductions): measured
# peaks ran up to ~2 KB over a 0.75 MB plan under a loaded machine's thread timing.
SLACK_BYTES = 8 * 1024


def _fixed_bytes(H: int, V: int, T: int) -> int:
    """Arrays every run holds once: the forward pass, per-step factors (complex while they
    are formed), [Whh^T | Why^T], and five per-element arrays (values, error bars)."""
    n_params = 2 * H * V + H * H + H + V
    return 8 * (T * (8 * H + 10 * V) + 3 * H * (H + V) + 5 * n_params) + SLACK_BYTES


def _literal_chunk(max_memory: int, H: int, V: int, T: int) -> int:
    """Elements per chunk of the literal complex step within ``max_memory``."""
    room = max_memory - _fixed_bytes(H, V, T)
    per_row = max(_row_bytes(COMPLEX_LITERAL, H, V) + ROW_BOOKKEEPING, 8 * 12 * T)
    return int(max(1, min(CHUNK_ROWS, room // per_row)))


def plan(params: Params, batch: Batch, options: Options, fw: Forward | None = None) -> Plan:
    """Decide chunks and threads within ``options.max_memory``; estimate the time.

    Raises SpecError for an unknown method or a step outside its range, when the
    memory budget cannot hold even one perturbed copy, or when the estimate
    exceeds ``options.time_budget`` seconds.
    """
    try:
        method = by_name(options.method)
    except ValueError as exc:
        raise SpecError(f"--method: {exc}") from None
    rel_step = check_step(method, options.step)
    fw = base_pass(params, batch) if fw is None else fw
    H, V, T = params["Whh"].shape[0], params["Why"].shape[0], batch.seq
    todo, row_steps, starts = {}, 0, {}
    for name, p in params.items():
        idx = (np.asarray(options.sample[name], dtype=np.intp) if options.sample is not None
               else np.arange(p.size))
        start = start_steps(name, idx, params, fw, batch)
        order = np.argsort(start, kind="stable")
        todo[name], starts[name] = idx[order], start[order]
        if method is not COMPLEX and (name in HIDDEN_PARAMS or not method.complex):
            row_steps += method.copies * int((T - start).sum())
    if method is COMPLEX and any(len(todo[n]) for n in HIDDEN_PARAMS):
        row_steps = H * T * (T + 1) // 2  # one impulse row per unit and start step
    out_rows = method.copies * sum(len(todo[n]) for n in todo if n not in HIDDEN_PARAMS)
    fixed = _fixed_bytes(H, V, T)
    per_row = max(_row_bytes(method, H, V) + ROW_BOOKKEEPING, 8 * 12 * T)  # output: (T,) each
    copies = method.copies
    room = options.max_memory - fixed
    if room < copies * per_row:
        need = (fixed + copies * per_row) / 2**20
        raise SpecError(f"--max-memory: {options.max_memory / 2**20:.3g} MB cannot hold this "
                        f"spec's numerical differentiation; it needs at least {need:.3g} MB")
    workers = options.threads if options.threads is not None else default_workers()
    workers = max(1, min(workers, room // (copies * per_row * 2)))
    rows = min(CHUNK_ROWS, room // (workers * per_row))
    chunk = max(1, rows // copies)
    memory = fixed + workers * chunk * copies * per_row
    seconds = _seconds(method, H, V, T, row_steps, out_rows, starts, chunk) / workers
    if method is COMPLEX:  # the literal verification sample, on one thread
        sample = {n: i[: VERIFY_SAMPLE] for n, i in starts.items()}
        hidden = sum(int((T - i).sum()) for n, i in sample.items() if n in HIDDEN_PARAMS)
        outputs = sum(len(i) for n, i in sample.items() if n not in HIDDEN_PARAMS)
        verify = _seconds(COMPLEX_LITERAL, H, V, T, hidden, outputs, sample, VERIFY_SAMPLE)
        seconds += verify
    else:
        verify = 0.0
    result = Plan(method, rel_step, todo, chunk, int(workers), row_steps, seconds, int(memory),
                  verify)
    budget = options.time_budget
    if budget is not None and seconds > budget:
        raise SpecError(
            f"numerical differentiation of {result.elements} elements would take about "
            f"{seconds:.0f} s here (--time-budget {budget:g} s): check a sample with "
            "--sample K, screen with --directions K, or raise --time-budget")
    return result


def _seconds(method: Method, H: int, V: int, T: int, row_steps: int, out_rows: int,
             starts: Mapping[str, np.ndarray], chunk: int) -> float:
    """Estimated seconds of one thread's work: products, element-wise functions, and the
    fixed cost of NumPy calls per chunk and step (STEP_OVERHEAD) and per chunk."""
    elementwise = ASSUMED_ELEMENTWISE_NS * 1e-9
    chunk_steps, chunks = 0, 0
    for name, start in starts.items():
        firsts = start[::chunk]
        chunks += len(firsts)
        if name in HIDDEN_PARAMS and method is not COMPLEX:
            chunk_steps += int((T - firsts).sum())
        elif name not in HIDDEN_PARAMS and method is COMPLEX_LITERAL:
            chunk_steps += T * len(firsts)  # one pass over the steps, one logit moving
    if method is COMPLEX:
        per_row_step = 2 * H * (H + 1) / ASSUMED_FLOPS + 2 * H * elementwise / 10
        per = max(1, chunk // max(1, H))  # impulse start steps per chunk
        chunk_steps += sum(T - s0 for s0 in range(0, T, per)) if row_steps else 0
        outputs = out_rows * T * elementwise / 5  # a sum over steps per element
    elif method.complex:  # literal: products of Im alone; complex tanh and log-sum-exp
        # on (1, .) real parts: a few passes over the imaginary parts, measured about the
        # cost of one real exp per element (2026-11-29, tutorial size)
        per_row_step = 2 * H * (H + V) / ASSUMED_FLOPS + (H + V) * elementwise
        outputs = out_rows * T * COMPLEX_ELEMENTWISE * elementwise  # one logit a step
    else:
        flops = 2 * H * (H + V) * (2 if method.exact_change else 1)
        per_row_step = flops / ASSUMED_FLOPS + (H + V) * elementwise
        outputs = out_rows * T * elementwise
        if method.calibrate:  # CALIBRATE elements a parameter again at h/2
            chunk_steps += T * len(starts)
            row_steps += method.copies * CALIBRATE * T * len(starts)
    return (row_steps * per_row_step + outputs + chunk_steps * STEP_OVERHEAD
            + chunks * CHUNK_OVERHEAD)


def plan_directions(params: Params, batch: Batch, options: Options, k: int) -> float:
    """Estimated seconds of a ``--directions k`` screen; SpecError beyond the time budget.

    Each direction of each parameter costs ``copies`` whole forward passes (twice
    that where the truncation bar is measured at h/2); the drill-down into
    parameters whose projections disagree is planned when it happens.
    """
    try:
        method = by_name(options.method)
    except ValueError as exc:
        raise SpecError(f"--method: {exc}") from None
    check_step(method, options.step)
    H, V, T = params["Whh"].shape[0], params["Why"].shape[0], batch.seq
    passes = k * len(params) * method.copies * (2 if method.calibrate else 1)
    per_pass = T * (2 * H * (H + V) / ASSUMED_FLOPS + (H + V) * ASSUMED_ELEMENTWISE_NS * 1e-9)
    if method.complex:
        per_pass *= COMPLEX_ELEMENTWISE
    seconds = passes * per_pass
    budget = options.time_budget
    if budget is not None and seconds > budget:
        raise SpecError(f"--directions {k}: {passes} forward passes would take about "
                        f"{seconds:.0f} s here (--time-budget {budget:g} s): use fewer "
                        "directions or raise --time-budget")
    return float(seconds)


def model_loss(method: Method, params: Params, batch: Batch, fw: Forward | None = None,
               step: float | None = None, rows: int = CHUNK_ROWS,
               workers: int = 1) -> BatchedLoss:
    """The model's loss as the batched loss ``method`` needs (real, difference form, complex).

    The structured complex step does its recursions here, ``rows`` at a time on
    ``workers`` threads.
    """
    if method is COMPLEX:
        limits = _threadpool_limits()
        with (limits(limits=1, user_api="blas") if limits is not None
              else contextlib.nullcontext()):
            return StructuredLoss(params, batch, check_step(method, step), fw, rows,
                                  workers if limits is not None else 1)
    if method.complex:
        return LiteralLoss(params, batch, fw, ratio=check_step(method, step) / PROBE_ETA)
    if method.exact_change:
        return DifferenceLoss(params, batch, fw)
    return PlainLoss(params, batch, fw)


def gradients(params: Params, batch: Batch, options: Options) -> Gradients:
    """Numerical dL/dtheta for every element (or ``options.sample``), with error bars."""
    started = time.perf_counter()
    fw = base_pass(params, batch)
    p = plan(params, batch, options, fw)
    loss = model_loss(p.method, params, batch, fw, p.rel_step, p.chunk, p.workers)
    # The complex losses evaluate their complex functions at eta = rel_step; their answers
    # are linear in the probes' eta, which is PROBE_ETA so that eta g never underflows.
    probe = PROBE_ETA if p.method.complex else p.rel_step  # complex: see model_loss
    result = differentiate(loss, params, p.method, p.todo, step=probe, chunk=p.chunk,
                           workers=p.workers, progress=options.progress)
    notes = result.notes
    if p.method is COMPLEX:
        rng = np.random.default_rng(VERIFY_STREAM)
        picks = {n: rng.choice(i, size=min(VERIFY_SAMPLE, len(i)), replace=False)
                 for n, i in p.todo.items()}
        notes += (verify(params, batch, result.values, result.errors, picks, p.rel_step,
                         options.max_memory, fw),)
    covered = None if options.sample is None else {n: np.sort(i) for n, i in p.todo.items()}
    return Gradients("numeric", float(fw.losses.sum()),
                     {n: v.reshape(params[n].shape) for n, v in result.values.items()},
                     noise={n: e.reshape(params[n].shape) for n, e in result.errors.items()},
                     covered=covered, notes=notes, method=p.method.name,
                     step=p.method.describe(p.rel_step),
                     timing={"estimated_s": p.seconds,
                             "elapsed_s": time.perf_counter() - started,
                             "threads": float(result.threads), "elements": float(p.elements)})


def _literal(params: Params, batch: Batch, picks: Mapping[str, np.ndarray], step: float,
             max_memory: int, fw: Forward | None = None) -> Result:
    H, V = params["Whh"].shape[0], params["Why"].shape[0]
    loss = LiteralLoss(params, batch, fw, ratio=step / PROBE_ETA)
    return differentiate(loss, params, COMPLEX_LITERAL,
                         {n: np.asarray(i, dtype=np.intp) for n, i in picks.items()},
                         step=PROBE_ETA, chunk=_literal_chunk(max_memory, H, V, batch.seq))


def agreement_bar(bars: np.ndarray, literal_bars: np.ndarray, literal: np.ndarray, top: float,
                  hidden: int, seq: int, step: float, saturation: float, columns: int = 1
                  ) -> np.ndarray:
    """How far a complex-step answer and the literal one may differ by rounding alone.

    Each element's own bars; rounding on the parameter's own scale ``top`` (an element
    far below its largest one is a sum of much larger terms: compare.py's floor, for
    ulps), once per summed column; a step far above the default adds the O(eta^2)
    truncation both paths carry (each differently: the structured one is linear in the
    perturbation). The two paths round the pre-activations a differently (real against
    complex products), and tanh' = sech^2(a) turns a relative rounding eps of a into
    2 eps |a| of the derivative: ``saturation`` = 1 + 2 max|a| covers saturated networks.
    """
    spread = COMPLEX_NOISE * EPS * (hidden + seq)
    out: np.ndarray = (bars + literal_bars + columns * (spread + COMPLEX_NOISE * step**2) * top
                       + spread * saturation * np.abs(literal))
    return out


def worst_beyond(values: np.ndarray, literal: np.ndarray, bar: np.ndarray) -> int | None:
    """The position where ``values`` and ``literal`` differ most beyond ``bar``, or None."""
    off = np.abs(values - literal) > bar
    if not off.any():
        return None
    return int(np.argmax(np.where(off, np.abs(values - literal) - bar, -np.inf)))


def verify(params: Params, batch: Batch, values: Mapping[str, np.ndarray],
           errors: Mapping[str, np.ndarray], picks: Mapping[str, np.ndarray], step: float,
           max_memory: int, fw: Forward | None = None) -> str:
    """Recompute ``picks`` by the literal complex step; SelfCheckError if beyond rounding.

    ``values`` and ``errors`` are the structured complex step's (flat per
    parameter). Returns a note saying how many elements were verified.
    """
    fw = base_pass(params, batch) if fw is None else fw
    literal = _literal(params, batch, picks, step, max_memory, fw)
    H, T = params["Whh"].shape[0], batch.seq
    saturation = 1.0 + 2.0 * float(np.abs(fw.pre).max(initial=0.0))
    for name, idx in picks.items():
        idx = np.asarray(idx, dtype=np.intp)
        s, lit = values[name].reshape(-1)[idx], literal.values[name][idx]
        top = float(np.nanmax(np.abs(values[name]), initial=0.0))
        bar = agreement_bar(errors[name].reshape(-1)[idx], literal.errors[name][idx], lit, top,
                            H, T, step, saturation)
        j = worst_beyond(s, lit, bar)
        if j is not None:
            where = [int(k) for k in np.unravel_index(int(idx[j]), params[name].shape)]
            raise SelfCheckError(
                f"self-check failed: the structured complex step gives d{name}{where} = "
                f"{s[j]:.17g}, the literal complex step on the forward pass {lit[j]:.17g}, "
                f"further apart than rounding ({bar[j]:.3g}); this is a bug in bpttcheck, "
                "please report it")
    n = sum(len(i) for i in picks.values())
    return (f"complex step, structured: {n} elements recomputed by the literal complex step on "
            "the forward pass agree within rounding")


def escalate(params: Params, batch: Batch, g: Gradients, suspects: Mapping[str, np.ndarray],
             max_memory: int) -> Gradients:
    """Recompute elements a finite difference could not certify by the literal complex step.

    ``suspects`` are flat indices per parameter; the returned gradients carry the
    complex-step values and error bars there, and a note naming how many.
    """
    suspects = {n: np.unique(np.asarray(i, dtype=np.intp)) for n, i in suspects.items()}
    n = sum(len(i) for i in suspects.values())
    if n == 0 or g.noise is None:
        return g
    literal = _literal(params, batch, suspects, COMPLEX.default_step(), max_memory)
    grads = {k: v.copy() for k, v in g.grads.items()}
    noise = {k: v.copy() for k, v in g.noise.items()}
    for name, idx in suspects.items():
        grads[name].reshape(-1)[idx] = literal.values[name][idx]
        noise[name].reshape(-1)[idx] = literal.errors[name][idx]
    names = ", ".join(k for k, i in suspects.items() if len(i))
    note = (f"--method {g.method} could not certify {n} element(s) of {names} (they "
            "disagreed beyond their error bars); those were recomputed by the literal complex "
            "step, which has no truncation error, before judging")
    return dataclasses.replace(g, grads=grads, noise=noise, notes=(*g.notes, note))
