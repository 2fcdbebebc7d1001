"""The one differentiator: any batched loss, any method, any elements.

:func:`differentiate` asks a :class:`~bpttcheck.probes.BatchedLoss` for the
points a :class:`~bpttcheck.numdiff.methods.Method` needs, in chunks of
elements (one :class:`~bpttcheck.probes.ElementProbes` per chunk, optionally on
a pool of threads), and combines the answers into a value and an error bar per
element. It knows nothing of RNNs: the model's batched forward passes, a
gated cell's, and a user's function (through :class:`~bpttcheck.probes.ScalarLoss`
or a child process) all plug in here.

**Steps** are relative: h_i = step * max(1, |theta_i|). The default is the
method's, for the loss's own precision (``loss.dtype``); a step outside the
method's valid range is refused (:func:`check_step`).

**Rounding.** A loss that also implements :class:`MeasuredLoss` states the
rounding of each answer; otherwise it is taken as PLAIN_NOISE eps |scale|, eps
of the loss's dtype and ``scale`` from :meth:`BatchedLoss.scale`.

**Truncation** is each method's own estimate. Where that estimate is a guess
(central and forward differences guess f''' from f''), it is checked on up to
:data:`CALIBRATE` elements per parameter by repeating them at h/2: the measured
error of D(h) is |D(h) - D(h/2)| / (1 - 2^-p), less rounding; the largest
ratio of measured to guessed, times :data:`CALIBRATION_SAFETY`, widens every
element's guess, and a note says so. On saturated, chaotic networks
(init_scale 1) single elements were measured up to 12 times beyond the
calibrated bar: that is why an element a finite difference cannot certify is
escalated to the complex step before it is called wrong (engines/numeric.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from typing import Protocol, runtime_checkable

import numpy as np

from ..errors import SpecError
from ..probes import BatchedLoss, DirectionProbes, ElementProbes
from .methods import PLAIN_NOISE, Method, eps_of

CALIBRATE = 32  # elements per parameter repeated at h/2 to check a guessed truncation bar
CALIBRATION_SAFETY = 4.0  # margin for the elements not sampled
Progress = Callable[[int, int], None]


@runtime_checkable
class MeasuredLoss(Protocol):
    """A batched loss that also knows the rounding error of each of its answers."""

    def measure(self, probes: ElementProbes) -> tuple[np.ndarray, np.ndarray]:
        """(P,) answers, as :meth:`BatchedLoss.elements`, and (P,) their rounding errors."""
        ...

    def measure_along(self, probes: DirectionProbes) -> tuple[np.ndarray, np.ndarray]:
        """(K,) answers, as :meth:`BatchedLoss.along`, and (K,) their rounding errors."""
        ...


@dataclasses.dataclass(frozen=True)
class Result:
    """Values and error bars per parameter (flat, NaN where not differentiated)."""

    method: Method
    step: float  # relative step actually used
    values: dict[str, np.ndarray]
    errors: dict[str, np.ndarray]
    notes: tuple[str, ...]
    threads: int  # threads that actually ran

    @property
    def step_text(self) -> str:
        return self.method.describe(self.step)


def check_step(method: Method, step: float | None, dtype: np.dtype | type = np.float64) -> float:
    """The relative step to use: ``step`` if within the method's range, else its default."""
    if step is None:
        return method.default_step(dtype)
    low, high = method.step_range(dtype)
    if not low <= step <= high:
        raise SpecError(f"--step: expected a relative step between {low:.3g} and {high:g} for "
                        f"--method {method.name}, got {step:g}")
    return step


def _threadpool_limits() -> Callable[..., contextlib.AbstractContextManager[object]] | None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # a dependency; without it, one Python thread and BLAS's own threads
        return None
    return threadpool_limits  # type: ignore[no-any-return]


def _answers(loss: BatchedLoss, method: Method, name: str, flat: np.ndarray,
             h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P, copies) answers at theta + c_k h e_i and their rounding errors."""
    offsets = np.asarray(method.offsets)
    steps = h[:, None] * offsets[None, :]
    probes = ElementProbes(name, np.repeat(flat, method.copies),
                           (1j * steps if method.complex else steps).reshape(-1))
    if isinstance(loss, MeasuredLoss):
        values, rounding = loss.measure(probes)
    else:
        values = loss.elements(probes)
        eps = eps_of(loss.dtype)
        if method.complex:  # no subtraction: rounding is relative to the imaginary part
            rounding = PLAIN_NOISE * eps * np.abs(np.asarray(values).imag)
        else:
            rounding = np.repeat(PLAIN_NOISE * eps * np.abs(loss.scale(name, flat)),
                                 method.copies)
    copies = method.copies
    return np.asarray(values).reshape(-1, copies), np.asarray(rounding).reshape(-1, copies)


def _chunk(loss: BatchedLoss, params: Mapping[str, np.ndarray], method: Method, step: float,
           name: str, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values, rounding and truncation error bars of elements ``flat`` of ``name``."""
    theta = params[name].reshape(-1)[flat]
    unit = np.maximum(1.0, np.abs(theta))
    h = step * unit
    base = 0.0 if loss.returns_change else loss.base
    values, rounding = _answers(loss, method, name, flat, h)
    g = method.combine(values, h, base)
    return (g, method.rounding(rounding, h),
            method.truncation(values, h, unit, base))


def _chunks(todo: Mapping[str, np.ndarray], chunk: int) -> Iterator[tuple[str, np.ndarray]]:
    for name, idx in todo.items():
        for lo in range(0, len(idx), chunk):
            yield name, idx[lo : lo + chunk]


def differentiate(loss: BatchedLoss, params: Mapping[str, np.ndarray], method: Method,
                  todo: Mapping[str, np.ndarray], *, step: float | None = None,
                  chunk: int = 512, workers: int = 1,
                  progress: Progress | None = None) -> Result:
    """dL/dtheta at flat indices ``todo[name]`` of each parameter, with error bars.

    ``loss`` must accept complex steps for a complex method, and answer with
    exact changes for a method that needs them (ValueError otherwise).
    Chunks of ``chunk`` elements go to the loss in order (a loss may want
    ``todo`` sorted, for example by the first time step an element reaches);
    with ``workers`` > 1 they run on that many threads, each limited to one BLAS
    thread, so the loss must be safe to call from several threads.
    """
    if method.complex and not loss.accepts_complex:
        raise ValueError(f"--method {method.name} needs a loss that accepts complex steps")
    if method.exact_change and not loss.returns_change:
        raise ValueError(f"--method {method.name} needs a loss answering in difference form")
    rel = check_step(method, step, loss.dtype)
    values = {n: np.full(p.size, np.nan) for n, p in params.items()}
    rounding = {n: np.full(p.size, np.nan) for n, p in params.items()}
    truncation = {n: np.full(p.size, np.nan) for n, p in params.items()}
    total, done = sum(len(i) for i in todo.values()), 0
    report = progress or (lambda done, total: None)

    def work(name: str, flat: np.ndarray) -> tuple[str, np.ndarray, np.ndarray, np.ndarray,
                                                   np.ndarray]:
        return (name, flat, *_chunk(loss, params, method, rel, name, flat))

    def store(name: str, flat: np.ndarray, g: np.ndarray, r: np.ndarray,
              t: np.ndarray) -> None:
        nonlocal done
        values[name][flat], rounding[name][flat], truncation[name][flat] = g, r, t
        done += len(flat)
        report(done, total)

    pieces = list(_chunks(todo, max(1, chunk)))
    limits = _threadpool_limits()
    threads = max(1, min(workers, len(pieces))) if limits is not None else 1
    # One BLAS thread per worker, also with one worker: these products are small, and
    # BLAS's own threads only contend with each other on a busy machine.
    with limits(limits=1, user_api="blas") if limits is not None else contextlib.nullcontext():
        if threads > 1:
            from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

            with ThreadPoolExecutor(threads) as pool:  # at most 2 chunks a thread in flight
                running: set[Future[tuple[str, np.ndarray, np.ndarray, np.ndarray,
                                          np.ndarray]]] = set()
                for name, flat in pieces:
                    if len(running) >= 2 * threads:
                        finished, running = wait(running, return_when=FIRST_COMPLETED)
                        for future in finished:
                            store(*future.result())
                    running.add(pool.submit(work, name, flat))
                for future in wait(running)[0]:
                    store(*future.result())
        else:
            for name, flat in pieces:
                store(*work(name, flat))
        notes = []
        errors = {}
        for name in params:  # still one BLAS thread: measured 11x slower with two, loaded
            factor = 1.0
            if method.calibrate and len(todo.get(name, ())):
                factor = _calibrate(loss, params, method, rel, name, todo[name], values[name],
                                    rounding[name], truncation[name])
                if factor > 1.0:
                    notes.append(f"{method.name} differences on {name}: truncation error "
                                 f"measured at h/2 is up to {factor / CALIBRATION_SAFETY:.3g}x "
                                 "the estimate from f''; its error bars were widened to match")
            errors[name] = rounding[name] + factor * truncation[name]
    return Result(method, rel, values, errors, tuple(notes), threads)


def _calibrate(loss: BatchedLoss, params: Mapping[str, np.ndarray], method: Method,
               step: float, name: str, idx: np.ndarray, values: np.ndarray,
               rounding: np.ndarray, truncation: np.ndarray) -> float:
    """How many times its guessed truncation error the measured one is, for one parameter."""
    order = np.argsort(-truncation[idx], kind="stable")  # the widest guesses, and a spread
    pick = np.unique(np.concatenate([order[: CALIBRATE // 2],
                                     np.linspace(0, len(idx) - 1, CALIBRATE // 2).astype(int)]))
    flat = idx[np.sort(pick)]
    half, half_rounding, _ = _chunk(loss, params, method, step / 2, name, flat)
    gain = 1.0 / (1.0 - 2.0 ** -method.order)  # D(h) - D(h/2) is this share of D(h)'s error
    measured = gain * (np.abs(values[flat] - half) - rounding[flat] - half_rounding)
    guess = np.maximum(truncation[flat], rounding[flat])  # 0 only where L ignores theta_i
    used = guess > 0
    if not used.any():
        return 1.0
    return float(max(1.0, CALIBRATION_SAFETY * np.max(measured[used] / guess[used])))


def along(loss: BatchedLoss, method: Method, directions: Mapping[str, np.ndarray], unit: float,
          *, step: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """dL/ds of L(theta + s v_k) at s = 0 for K directions v_k, and error bars.

    ``directions`` maps parameter names to (K, *shape) arrays (parameters not
    named do not move); the step is ``step * unit``. A direction costs only a
    few losses, so where a method's truncation bar is a guess it is measured
    instead, by repeating the difference at h/2.
    """
    if method.complex and not loss.accepts_complex:
        raise ValueError(f"--method {method.name} needs a loss that accepts complex steps")
    rel = check_step(method, step, loss.dtype)
    K = len(next(iter(directions.values())))
    base = 0.0 if loss.returns_change else loss.base
    eps, copies = eps_of(loss.dtype), method.copies

    def at(s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h = np.full(K, s * unit)
        steps = (h[:, None] * np.asarray(method.offsets)[None, :]).reshape(-1)
        probes = DirectionProbes({n: np.repeat(v, copies, axis=0) for n, v in directions.items()},
                                 1j * steps if method.complex else steps)
        if isinstance(loss, MeasuredLoss):
            values, rounding = loss.measure_along(probes)
        else:
            values = loss.along(probes)
            rounding = PLAIN_NOISE * eps * (np.abs(np.asarray(values).imag) if method.complex
                                            else np.full(len(probes), abs(loss.base)))
        values = np.asarray(values).reshape(K, copies)
        rounding = np.asarray(rounding).reshape(K, copies)
        return (method.combine(values, h, base), method.rounding(rounding, h),
                method.truncation(values, h, np.full(K, unit), base))

    g, r, truncation = at(rel)
    if method.calibrate:
        half = at(rel / 2)[0]
        truncation = np.abs(g - half) / (1.0 - 2.0 ** -method.order)
    return g, r + truncation
