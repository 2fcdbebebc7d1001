"""Numerical differentiation of a gated cell: the complex step on its forward pass, batched.

No derivative is written down here. :class:`CellLoss` is the cell's loss as a
:class:`bpttcheck.probes.BatchedLoss`: asked for P points theta + s_p e_{i_p}
(``elements``), it runs the cell's forward pass on P perturbed copies at once
(the cell's ``perturbed_losses``, complex when the steps are); asked for points
along dense directions (``along``), it runs the cell's plain complex128 forward
pass (``complex_losses``) on K copies at once. :func:`complex_gradients` turns
answers into gradients:

    dL/dtheta_i = Im L(theta + i eta e_i) / eta,   eta = COMPLEX_STEP max(1, |theta_i|)

(no subtraction, so eta can be tiny and the value is exact to a few ulps). It is
the one place that loops over elements; the shared differentiator of the
numeric-witness work is meant to take its place.

Each value carries an error bar (:func:`error_bars`): the complex step's own
rounding, plus how far rounding in the forward pass moves the gradient, measured
on a few elements along the second arithmetic path -- large only where gradients
explode.

**Work.** Elements are asked for in chunks of :data:`CHUNK` copies; within a
chunk, copies join the batch at the first step that reads their element (an
input column j waits for the first x_t = j, a recurrent column for a nonzero
h_{t-1}; a column nobody reads costs nothing) and advance with one matrix
product per step. Chunks run on one thread per core, with BLAS held to one
thread each when threadpoolctl is installed.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..engines import complex_step
from ..engines.base import Gradients, Options, ProgressFn
from ..errors import SpecError
from ..model import Batch, Params
from ..numdiff import differentiate, methods
from ..numdiff.methods import COMPLEX_LITERAL
from ..probes import BatchedLoss, DirectionProbes, ElementProbes

COMPLEX_STEP = methods.COMPLEX_STEP  # eta relative to max(1, |theta|), as for vanilla
# Copies per chunk: 128 rows keep the (P, 4H) work arrays of hidden 100 in L2 cache (measured
# 22 us per copy and step at 64-128 rows, 25 at 256, 36 at 512; hidden 100, LSTM).
CHUNK = 128
MAX_WORKERS = 8
# Error bars: elements per parameter differentiated again along a second arithmetic path,
# and the margin on the largest relative spread found (as the vanilla engine's calibration).
CALIBRATE = 16
CALIBRATION_SAFETY = 4.0
NOTED_SPREAD = 1e-9  # a spread above this is worth a note in the report
ALONG_CHUNK = 16  # directions per complex forward pass: 16 copies of the weights at most
# Planning: seconds per copy and step, per unit of (H + V) H (the gate products), measured
# on the 2-core reference machine with hidden 50-100 (see bench/gated.py): about 1.5 ns
# before the LSTM's complex step shared its real parts, 1.0 ns after (16 s of CPU for the
# 72,965 elements of hidden 100, seq 25, vocab 65 on one thread, 2026-11-29).
SECONDS_PER_UNIT = 1.0e-9


class CellLoss:
    """A gated cell's summed cross-entropy as a batched loss around ``params``."""

    accepts_complex = True
    returns_change = False

    def __init__(self, cell: Any, params: Params, batch: Batch) -> None:
        self.cell = cell
        self.dtype = np.dtype(np.float64)
        self.params = {name: np.asarray(p, dtype=np.float64) for name, p in params.items()}
        self.batch = batch
        self.fw = cell.forward(self.params, batch)

    @property
    def base(self) -> float:
        return float(self.fw.loss)

    def elements(self, probes: ElementProbes) -> np.ndarray:
        re, im = self.cell.perturbed_losses(self.params, self.fw, self.batch, probes.name,
                                            np.asarray(probes.index, dtype=np.intp),
                                            np.asarray(probes.step))
        if probes.is_complex:
            out: np.ndarray = re + 1j * im
            return out
        return np.asarray(re)

    def along(self, probes: DirectionProbes) -> np.ndarray:
        """Losses at theta + step[k] v_k: the complex forward pass on K copies at once."""
        values: list[np.ndarray] = []
        for lo in range(0, len(probes), ALONG_CHUNK):
            step = probes.step[lo : lo + ALONG_CHUNK]
            K = len(step)
            point = {name: np.repeat(p[None].astype(np.complex128), K, axis=0)
                     for name, p in self.params.items()}
            for name, v in probes.directions.items():
                point[name] += step.reshape(-1, *[1] * v[0].ndim) * v[lo : lo + K]
            values.append(self.cell.complex_losses(point, self.batch))
        out: np.ndarray = np.concatenate(values) if values else np.zeros(0, np.complex128)
        return out if probes.is_complex else out.real.copy()

    def scale(self, name: str, index: np.ndarray) -> np.ndarray:
        return np.full(len(index), abs(self.base))

    def starts(self, name: str, index: np.ndarray) -> np.ndarray:
        """First step reading each element (T where none does)."""
        out: np.ndarray = self.cell.start_steps(name, index, self.params, self.fw, self.batch)
        return out


def _threadpool_limits() -> Callable[..., Any] | None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: one Python thread and BLAS's own threads
        return None
    return threadpool_limits  # type: ignore[no-any-return]


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Hold BLAS to one thread (when threadpoolctl is installed).

    The analytic engines and the one-point complex forward pass multiply
    vectors of a few hundred numbers: more BLAS threads only add waiting,
    measured 16 times slower on a busy 2-core machine.
    """
    controller = _controller()
    if controller is None:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield


@functools.cache
def _controller() -> Any:
    """threadpoolctl's view of the loaded libraries, found once (finding them took 2 ms a
    call: 0.2 s of a 1.6 s ``--directions 10`` LSTM run, which limits once per direction)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def single_threaded(engine: Callable[[Params, Batch, Options], Gradients]
                    ) -> Callable[[Params, Batch, Options], Gradients]:
    """``engine``, run under :func:`one_blas_thread`."""
    def run(params: Params, batch: Batch, options: Options) -> Gradients:
        with one_blas_thread():
            return engine(params, batch, options)

    run.__doc__ = engine.__doc__
    return run


def workers() -> int:
    if _threadpool_limits() is None:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(MAX_WORKERS, cores or 1))


def complex_gradients(loss: BatchedLoss, params: Params, eta: float,
                      todo: dict[str, np.ndarray] | None = None,
                      progress: ProgressFn | None = None,
                      threads: int | None = None) -> dict[str, np.ndarray]:
    """Im L(theta + i eta_i e_i) / eta_i for every element in ``todo`` (default: all), by
    the one differentiator (:func:`bpttcheck.numdiff.differentiate`, literal complex step).

    eta_i = ``eta`` max(1, |theta_i|). Returns flat arrays, NaN where not computed.
    Elements are ordered by the first step that reads them (when the loss can say, as
    :class:`CellLoss` can), so that a chunk's copies join together.
    """
    todo = todo if todo is not None else {n: np.arange(p.size) for n, p in params.items()}
    starts = getattr(loss, "starts", None)
    ordered = {}
    for name, idx in todo.items():
        idx = np.asarray(idx, dtype=np.intp)
        if starts is not None and len(idx):
            idx = idx[np.argsort(starts(name, idx), kind="stable")]
        ordered[name] = idx
    result = differentiate(loss, params, COMPLEX_LITERAL, ordered, step=eta, chunk=CHUNK,
                           workers=threads if threads is not None else workers(),
                           progress=progress)
    return result.values


def error_bars(loss: CellLoss, values: dict[str, np.ndarray], todo: dict[str, np.ndarray],
               eta: float) -> tuple[dict[str, np.ndarray], float]:
    """Per-element error bars of the complex-step values, and the largest measured spread.

    Two things limit a complex-step value: rounding of its own sum (a few ulps per
    term, as for the vanilla cell: :func:`bpttcheck.engines.complex_step.noise`),
    and the rounding of the forward pass it differentiates along. Where gradients
    explode, a rounding-level difference in the states is amplified step after
    step, and so is the difference between the gradient along the batched
    forward pass and along the analytic engines' own. That is measured: for
    CALIBRATE elements per parameter (the largest and a spread) the complex step
    is repeated along a second arithmetic path (the complex128 forward pass of
    ``along``), and every element's bar is widened by CALIBRATION_SAFETY times
    the largest difference found. That difference is about the same in absolute
    terms for every element of a parameter (measured on an exploding LSTM: about
    1e-7 of the largest entry for all of them), so the widening is absolute. On
    well-conditioned sequences it is a few ulps of the largest entry, far below
    what the relative-error floor already forgives.

    Returns the bars and the largest spread relative to its parameter's largest |value|.
    """
    T, H = loss.batch.seq, int(loss.fw.hs.shape[1])
    bars: dict[str, np.ndarray] = {}
    worst = 0.0
    for name, idx in todo.items():
        v = values[name]
        bar = np.full(v.shape, np.nan)
        idx = np.asarray(idx, dtype=np.intp)
        if len(idx) == 0:
            bars[name] = bar
            continue
        g = v[idx]
        order = np.argsort(-np.abs(g), kind="stable")
        spread_pick = np.linspace(0, len(idx) - 1, CALIBRATE // 2).astype(int)
        pick = idx[np.unique(np.concatenate([order[: CALIBRATE // 2], spread_pick]))]
        shape = loss.params[name].shape
        dirs = np.zeros((len(pick), int(np.prod(shape))))
        dirs[np.arange(len(pick)), pick] = 1.0
        unit = np.maximum(1.0, np.abs(loss.params[name].reshape(-1)[pick]))
        again = loss.along(DirectionProbes({name: dirs.reshape(len(pick), *shape)},
                                           1j * eta * unit)).imag / (eta * unit)
        spread = float(np.max(np.abs(v[pick] - again)))
        top = float(np.max(np.abs(g)))
        worst = max(worst, spread / top if top > 0 else 0.0)
        bar[idx] = complex_step.noise(np.abs(g), H, T) + CALIBRATION_SAFETY * spread
        bars[name] = bar
    return bars, worst


def estimate_seconds(loss: CellLoss, todo: dict[str, np.ndarray], threads: int) -> float:
    """Rough wall time of :func:`complex_gradients` on ``todo``: copies x steps x cost."""
    T = loss.batch.seq
    H, V = int(loss.fw.hs.shape[1]), int(loss.params["Why"].shape[0])
    copy_steps = 0
    for name, idx in todo.items():
        if name in ("Why", "by"):
            copy_steps += len(idx) * T // 8  # only the logits move: a small fraction of a step
        else:
            copy_steps += int((T - loss.starts(name, np.asarray(idx, dtype=np.intp))).sum())
    width = int(loss.cell.gates)  # gate blocks per step
    return float(copy_steps) * SECONDS_PER_UNIT * width * H * (H + V) / 4 / max(1, threads)


def plan_check(cell: Any, params: Params, batch: Batch, options: Options,
               todo: dict[str, np.ndarray]) -> tuple[CellLoss, float, int]:
    """Refuse what this engine cannot do or would take too long; the loss, estimate, threads."""
    if options.method != "complex":
        raise SpecError(f"--method {options.method}: gated cells (--cell {cell.name}) are "
                        "differentiated by complex step only; use --method complex")
    step = options.step if options.step is not None else COMPLEX_STEP
    low, high = 1e-150, 1e-4  # as for the vanilla cell (engines/numeric.py STEP_RANGE)
    if not low <= step <= high:
        raise SpecError(f"--step: expected a relative step between {low:g} and {high:g} for "
                        f"--method complex, got {step:g}")
    loss = CellLoss(cell, params, batch)
    threads = options.threads if options.threads is not None else workers()
    seconds = estimate_seconds(loss, todo, threads)
    budget = options.time_budget
    if budget is not None and seconds > budget:
        n = sum(len(i) for i in todo.values())
        raise SpecError(
            f"numerical differentiation of {n} elements would take about {seconds:.0f} s here "
            f"(--time-budget {budget:g} s): check a sample with --sample K, screen with "
            "--directions K, or raise --time-budget")
    return loss, seconds, threads


def engine(cell: Any) -> Callable[[Params, Batch, Options], Gradients]:
    """The numeric engine of ``cell``: ``gradients(params, batch, options)``."""

    def gradients(params: Params, batch: Batch, options: Options) -> Gradients:
        started = time.perf_counter()
        wanted = todo(params, options)
        loss, seconds, threads = plan_check(cell, params, batch, options, wanted)
        eta = options.step if options.step is not None else COMPLEX_STEP
        flat = complex_gradients(loss, loss.params, eta, wanted, options.progress, threads)
        with one_blas_thread():
            bars, spread = error_bars(loss, flat, wanted, eta)
        notes: tuple[str, ...] = ()
        if spread > NOTED_SPREAD:
            notes = (f"complex step: rounding in the forward pass, amplified along this sequence, "
                     f"moves the gradient by up to {spread:.1e} of its largest entry (measured on "
                     f"{CALIBRATE} elements per parameter along a second arithmetic path); the "
                     "numeric error bars were widened to match",)
        covered = None if options.sample is None else {n: np.sort(i) for n, i in wanted.items()}
        return Gradients(
            "numeric", loss.base, {n: v.reshape(params[n].shape) for n, v in flat.items()},
            noise={n: b.reshape(params[n].shape) for n, b in bars.items()}, notes=notes,
            covered=covered, method="complex",
            step=f"Im L(θ+iη·e)/η, η = {eta:.0e}·max(1,|θ|)",
            timing={"estimated_s": seconds, "elapsed_s": time.perf_counter() - started,
                    "threads": float(threads),
                    "elements": float(sum(len(i) for i in wanted.values()))})

    return gradients


def todo(params: Params, options: Options) -> dict[str, np.ndarray]:
    """Flat indices to differentiate per parameter: ``options.sample`` or every element."""
    return {name: (np.asarray(options.sample[name], dtype=np.intp)
                   if options.sample is not None else np.arange(p.size))
            for name, p in params.items()}


def directional_fn(loss: CellLoss, step: float | None = None
                   ) -> Callable[[str, np.ndarray], tuple[float, float]]:
    """For ``--directions``: (name, v) -> (Im L(theta + i eta v) / eta, its error bar)."""
    T, H = loss.batch.seq, loss.fw.hs.shape[1]

    def directional(name: str, v: np.ndarray) -> tuple[float, float]:
        unit = max(1.0, float(np.abs(loss.params[name]).max(initial=0.0)))
        eta = (step if step is not None else COMPLEX_STEP) * unit
        with one_blas_thread():
            answer = loss.along(DirectionProbes({name: v[None]}, np.array([1j * eta])))
        value = float(answer[0].imag / eta)
        return value, complex_step.noise(np.array(abs(value)), H, T).item()

    return directional
