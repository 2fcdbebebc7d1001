"""Numerical differentiation of the loss, every element (or a sample), several ways.

It knows nothing of any backward pass: only the forward pass of
:mod:`bpttcheck.model`, on perturbed parameters. Methods (``--method``), each
with its own step (``--step`` overrides it; steps are relative to
max(1, |theta_i|)) and its own per-element error bar (``Gradients.noise``),
which compare.py uses to tell "limited by numerical precision" from a failure:

``complex`` (default)
    g = Im L(theta + i eta e_i) / eta, eta = 1e-20: no subtraction of nearly
    equal numbers, so the step can be tiny and the answer is exact to a few
    ulps (:mod:`bpttcheck.engines.complex_step`). Error bar: a few ulps of the
    summed per-step magnitudes.
``central``
    (L(theta + h e_i) - L(theta - h e_i)) / 2h with plain forward passes
    (:mod:`bpttcheck.engines.finite_difference`). Truncation is h^2 f'''/6,
    rounding about eps |L| / h; their sum is smallest near h = eps^(1/3)
    (6e-6). Error bar: PLAIN_NOISE eps |L| / h, plus |L+ - 2 L0 + L-| / 6, the
    truncation term if f''' is about as large as f'' on the unit scale of theta,
    calibrated per parameter by measuring it at h/2 on a few elements
    (:func:`_calibrate`).
``forward``
    (L(theta + h e_i) - L(theta)) / h: truncation h f''/2, rounding 2 eps |L| / h,
    smallest near h = eps^(1/2) (1.5e-8). Half the work of central and much
    less accurate. Error bar: rounding plus h |g| / 2 (f'' about f'), calibrated
    the same way.

    Limit: the truncation bars of central and forward are estimates. On
    saturated, chaotic networks (init_scale 1) single elements were measured
    up to 12 times beyond the calibrated bar (3000 times before calibration).
    Richardson measures its truncation for every element and complex step has
    none: prefer them there.
``richardson``
    central at h and h/2, extrapolated: (4 D(h/2) - D(h)) / 3. Truncation
    O(h^4), rounding about 3 eps |L| / h, smallest near h = eps^(1/5) (7e-4).
    Error bar: |D(h) - D(h/2)| / 3 (the truncation error of D(h/2), which
    bounds the extrapolated value's) plus the rounding term.
``difference``
    central differences in "difference form" (below), h = 1e-8. Kept as a
    second exact method: measured error falls as h^2 to rounding level.

Here L is the part of the loss a perturbation can change: the sum of L_t over
the steps from the first one that feels theta_i.

**Difference form.** Plain central differences subtract two losses of size
|L| (about T log V) to find a change of size |g| d. Here the change itself is
propagated instead of the perturbed state, with exact identities and no
subtraction of nearly equal numbers:

    dh_t = tanh(a_t + da_t) - tanh(a_t) = tanh(da_t) sech^2(a_t) / (1 + h_t tanh(da_t))
    dL_t = log(sum_i p_i exp(dy_i)) - dy_target = log1p(sum_i p_i expm1(dy_i)) - dy_target

Rounding is then relative to the change and no longer grows as d shrinks.
:func:`difference_losses` is tested against L(theta + d e_i) - L(theta).

**Work.** Elements are sorted by the first step that feels them and cut into
chunks; a chunk of P perturbed copies advances through time as one (P, H)
array, one matrix product per step. Chunks run on a pool of threads (one per
core), with BLAS limited to one thread each when threadpoolctl is installed
(otherwise one Python thread and BLAS's own threads), so the two never
oversubscribe the cores. The chunk size follows ``Options.max_memory``.
Before any work, :func:`plan` estimates the time and refuses (SpecError)
beyond ``Options.time_budget``, advising ``--sample`` or ``--directions``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable, Iterator

import numpy as np

from ..errors import SpecError
from ..model import HIDDEN_PARAMS, Batch, Forward, Params, forward
from . import complex_step, finite_difference
from .base import Gradients, Options

EPS = float(np.finfo(np.float64).eps)
METHODS = ("complex", "central", "forward", "richardson", "difference")
# Default relative steps, each where that method's truncation and rounding errors balance
# (see the module docstring).
STEPS = {
    "complex": complex_step.COMPLEX_STEP,  # nothing cancels: as small as is safe
    "central": EPS ** (1 / 3),  # h^2 f''' / 6 against eps |L| / h
    "forward": EPS ** (1 / 2),  # h f'' / 2 against eps |L| / h
    "richardson": EPS ** (1 / 5),  # h^4 against eps |L| / h
    "difference": 1e-8,  # truncation ~ h^2 is below rounding (measured)
}
STEP_TEXT = {
    "complex": "Im L(θ+iη·e)/η, η = {h:.0e}·max(1,|θ|)",
    "central": "(L(θ+h·e) − L(θ−h·e))/2h, h = {h:.1e}·max(1,|θ|)",
    "forward": "(L(θ+h·e) − L(θ))/h, h = {h:.1e}·max(1,|θ|)",
    "richardson": "central at h and h/2, extrapolated, h = {h:.1e}·max(1,|θ|)",
    "difference": "central differences in difference form, h = {h:.0e}·max(1,|θ|)",
}
COPIES = {"complex": 1, "central": 2, "forward": 1, "richardson": 4, "difference": 2}
# Steps a user may set (--step). Complex step: below 1e-150 the imaginary parts
# (eta |g|) approach the subnormal range and lose digits; above 1e-4 the O(eta^2)
# error reaches 1e-8. Finite differences: below 1e-13 the result is rounding alone;
# above 0.1 it no longer approximates a derivative (and exp can overflow).
STEP_RANGE = {"complex": (1e-150, 1e-4), "central": (1e-13, 0.1), "forward": (1e-13, 0.1),
              "richardson": (1e-13, 0.1), "difference": (1e-13, 0.1)}
# Rounding of one plain loss evaluation, in units of eps |L|: a few ulps per
# operation of the softmax and the tanh recurrence. Measured total errors of central
# and forward differences on small and default specs stayed below 0.4 eps |L| / h
# (plus the truncation estimate); 16 leaves margin for longer sequences.
PLAIN_NOISE = 16.0
NOISE_SAFETY = 64.0  # difference form: a few ulps per operation, T steps
CHUNK_ROWS = 512  # rows per chunk: (P, H) work arrays stay near a core's L2 cache (1 MB here)
MAX_WORKERS = 8  # threads at most (one per core up to this)
# Planning: the time estimate assumes this much per core (measured 15-31 GFLOP/s for these
# product shapes on the 2-core reference machine, the higher for large hidden sizes) and this
# many nanoseconds per element-wise tanh or exp. With these, estimates ran 0.7-1.8 times the
# measured time (hidden 50-256, seq 25-400, complex, central, richardson): close enough
# that the announced estimate is useful and --time-budget refuses only what is really slow.
ASSUMED_FLOPS = 20e9
ASSUMED_ELEMENTWISE_NS = 30.0
# Central and forward differences check their truncation estimate on this many elements
# per parameter (repeated at h/2, about 1% more work at the tutorial's size) and widen it
# by the largest ratio found, times a safety factor for the elements not sampled.
CALIBRATE = 32
CALIBRATION_SAFETY = 4.0


def _sech2(a: np.ndarray) -> np.ndarray:
    """1 - tanh(a)^2, computed from a so that it stays accurate when |tanh(a)| ~ 1."""
    e = np.exp(-2.0 * np.abs(a))  # never overflows
    sech2: np.ndarray = 4.0 * e / (1.0 + e) ** 2
    return sech2


def _loss_change(dy: np.ndarray, p: np.ndarray, target: int) -> tuple[np.ndarray, np.ndarray]:
    """(dL_t, rounding scale) for logit changes dy (P, V) around probabilities p (V,)."""
    change = np.log1p(np.expm1(dy) @ p) - dy[:, target]
    scale = np.abs(dy) @ p + np.abs(dy[:, target])
    return change, scale


def difference_losses(
    params: Params, fw: Forward, batch: Batch, name: str, flat: np.ndarray, deltas: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """L(theta + deltas[p] e_flat[p]) - L(theta) for each p, and its rounding scale.

    ``flat`` are flat indices into ``params[name]``; ``fw`` is the unperturbed
    forward pass.
    """
    Whh, Why = params["Whh"], params["Why"]
    shape = params[name].shape
    rows, cols = np.unravel_index(flat, shape)
    P = len(flat)
    total = np.zeros(P)
    scale = np.zeros(P)
    if name in ("Why", "by"):  # the hidden states do not change: dy_t = d h_t[j] e_i or d e_i
        for t in range(batch.seq):
            dy = np.zeros((P, Why.shape[0]))
            coef = fw.hs[t][cols] if name == "Why" else 1.0
            dy[np.arange(P), rows] = deltas * coef
            change, mag = _loss_change(dy, fw.ps[t], batch.targets[t])
            total += change
            scale += mag
        return total, scale
    dh = np.zeros((P, Whh.shape[0]))  # h_{t-1}(perturbed) - h_{t-1}
    sech2 = _sech2(fw.pre)
    for t in range(batch.seq):
        da = dh @ Whh.T  # Whh dh_{t-1}
        if name == "Whh":  # (Whh + d E_ij) acting on the perturbed h_{t-1}
            coef = fw.h_before(t)[cols] + dh[np.arange(P), cols]
        elif name == "Wxh":  # x_t is one-hot: only inputs[t] == j feels it
            coef = (cols == batch.inputs[t]).astype(np.float64)
        else:  # bh
            coef = np.ones(P)
        da[np.arange(P), rows] += deltas * coef
        s = np.tanh(da)
        dh = s * sech2[t] / (1.0 + fw.hs[t] * s)  # tanh(a + da) - tanh(a), exactly
        change, mag = _loss_change(dh @ Why.T, fw.ps[t], batch.targets[t])
        total += change
        scale += mag
    return total, scale


# ---------------------------------------------------------------------------------------------
# Planning: what to compute, in which chunks, how long it should take.


@dataclasses.dataclass(frozen=True)
class Plan:
    """The work of one numeric run, decided before any of it is done."""

    method: str
    rel_step: float
    todo: dict[str, np.ndarray]  # flat indices per parameter
    starts: dict[str, np.ndarray]  # first step that feels each of todo's elements
    chunk: int  # elements per chunk
    workers: int
    row_steps: int  # perturbed copies x steps they are advanced
    seconds: float  # estimated wall time
    memory: int  # estimated peak bytes of work arrays

    @property
    def elements(self) -> int:
        return sum(len(i) for i in self.todo.values())


def start_steps(name: str, flat: np.ndarray, params: Params, fw: Forward,
                batch: Batch) -> np.ndarray:
    """First step t whose forward pass uses each element (T: never, its gradient is 0)."""
    T = batch.seq
    if name not in HIDDEN_PARAMS:
        return np.zeros(len(flat), dtype=np.intp)
    rows, cols = np.unravel_index(flat, params[name].shape)
    if name == "bh":
        return np.zeros(len(flat), dtype=np.intp)
    if name == "Wxh":  # x_t is one-hot: column j is read first where inputs[t] == j
        first = np.full(params["Wxh"].shape[1], T, dtype=np.intp)
        for t in range(T - 1, -1, -1):
            first[batch.inputs[t]] = t
        return first[cols]
    prev = fw.hs_before  # Whh[i, j] multiplies h_{t-1}[j]
    nonzero = prev != 0
    first = np.where(nonzero.any(axis=0), nonzero.argmax(axis=0), T).astype(np.intp)
    return first[cols]


def _threadpool_limits() -> Callable[..., contextlib.AbstractContextManager[object]] | None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it, one Python thread and BLAS's own threads
        return None
    return threadpool_limits  # type: ignore[no-any-return]


def default_workers() -> int:
    """One thread per core available to this process, when BLAS threads can be limited."""
    if _threadpool_limits() is None:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(MAX_WORKERS, cores or 1))


def _row_bytes(method: str, H: int, V: int) -> int:
    """Bytes of work arrays per perturbed copy in a hidden-layer chunk."""
    if method == "complex":
        return 8 * (2 * H + 2)  # B and Z
    if method == "difference":
        return 8 * (6 * H + 4 * V)  # dh, da, s, products and logits
    return 8 * (2 * H + 2 * V + 4)  # S, Z, the softmax terms


def plan(params: Params, batch: Batch, options: Options, fw: Forward | None = None) -> Plan:
    """Decide chunks and threads within ``options.max_memory``; estimate the time.

    Raises SpecError when the memory budget cannot hold even one perturbed
    copy, or when the estimate exceeds ``options.time_budget`` seconds.
    """
    method = options.method
    if method not in METHODS:
        raise SpecError(f"--method: expected one of {', '.join(METHODS)}, got {method!r}")
    fw = forward(params, batch) if fw is None else fw
    rel_step = options.step if options.step is not None else STEPS[method]
    low, high = STEP_RANGE[method]
    if not low <= rel_step <= high:
        raise SpecError(f"--step: expected a relative step between {low:g} and {high:g} for "
                        f"--method {method}, got {rel_step:g}")
    H, V, T = params["Whh"].shape[0], params["Why"].shape[0], batch.seq
    todo = {
        name: (np.asarray(options.sample[name], dtype=np.intp) if options.sample is not None
               else np.arange(p.size))
        for name, p in params.items()
    }
    starts = {name: start_steps(name, idx, params, fw, batch) for name, idx in todo.items()}
    copies = COPIES[method]
    row_steps = copies * sum(int((T - starts[n]).sum()) for n in HIDDEN_PARAMS if n in todo)
    out_rows = copies * sum(len(todo[n]) for n in todo if n not in HIDDEN_PARAMS)
    # Fixed arrays: forward pass, pre-activations, per-step factors, [Whh^T | Why^T].
    fixed = 8 * (T * (5 * H + 4 * V) + 2 * H * (H + V))
    per_row = max(_row_bytes(method, H, V), 8 * 8 * T)  # output rows hold (T,) columns
    workers = options.threads if options.threads is not None else default_workers()
    workers = max(1, workers)
    room = options.max_memory - fixed
    if room < copies * per_row:
        need = (fixed + copies * per_row) / 2**20
        raise SpecError(f"--max-memory: {options.max_memory / 2**20:.3g} MB cannot hold this "
                        f"spec's numerical differentiation; it needs at least {need:.3g} MB")
    workers = max(1, min(workers, room // (copies * per_row * 2)))
    rows = min(CHUNK_ROWS, room // (workers * per_row))
    chunk = max(1, rows // copies)
    memory = fixed + workers * chunk * copies * per_row
    if method == "complex":
        per_row_step = 2 * H * (H + 1) / ASSUMED_FLOPS + 2 * H * 1e-9
    else:
        flops = 2 * H * (H + V) * (2 if method == "difference" else 1)
        per_row_step = flops / ASSUMED_FLOPS + (H + V) * ASSUMED_ELEMENTWISE_NS * 1e-9
    seconds = (row_steps * per_row_step + out_rows * T * ASSUMED_ELEMENTWISE_NS * 1e-9) / workers
    result = Plan(method, rel_step, todo, starts, chunk, int(workers), row_steps, seconds,
                  int(memory))
    budget = options.time_budget
    if budget is not None and seconds > budget:
        raise SpecError(
            f"numerical differentiation of {result.elements} elements would take about "
            f"{seconds:.0f} s here (--time-budget {budget:g} s): check a sample with "
            "--sample K, screen with --directions K, or raise --time-budget")
    return result


# ---------------------------------------------------------------------------------------------
# Work: one chunk of one parameter's elements.


@dataclasses.dataclass(frozen=True)
class _Shared:
    """Everything the chunks of one run read (never write)."""

    params: Params
    batch: Batch
    fw: Forward
    prev: np.ndarray  # (T, H) h_{t-1}
    sens: complex_step.Sensitivities | None
    plain: finite_difference.Plain | None
    suffix: np.ndarray  # (T + 1,) rounding scale of sum_{t >= s} L_t


def _shared(params: Params, batch: Batch, fw: Forward, method: str) -> _Shared:
    prev = fw.hs_before
    sens = complex_step.sensitivities(params, fw, batch) if method == "complex" else None
    pl = (finite_difference.plain(params, fw, batch, prev)
          if method in ("central", "forward", "richardson") else None)
    T = batch.seq
    # A loss L_t = lse - y_target is rounded relative to the sizes of its parts.
    per_step = (np.abs(fw.losses) + np.abs(fw.ys.max(axis=1))
                + np.abs(fw.ys[np.arange(T), list(batch.targets)]))
    suffix = np.concatenate([np.cumsum(per_step[::-1])[::-1], [0.0]])
    return _Shared(params, batch, fw, prev, sens, pl, suffix)


def _combine(method: str, change: np.ndarray, d: np.ndarray, unit: np.ndarray,
             scale: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Finite differences, their rounding and truncation error estimates, from (P, copies)."""
    rounding = PLAIN_NOISE * EPS * scale / d  # eps |L| / h, a few times over
    if method == "central":
        g = (change[:, 0] - change[:, 1]) / (2 * d)
        truncation = np.abs(change[:, 0] + change[:, 1]) / (6 * unit)  # h^2 f'' / 6
        return g, rounding, truncation
    if method == "forward":
        g = change[:, 0] / d
        return g, 2 * rounding, d * np.abs(g) / (2 * unit)  # h f'' / 2, f'' ~ f'
    D1 = (change[:, 0] - change[:, 1]) / (2 * d)  # central at h
    D2 = (change[:, 2] - change[:, 3]) / d  # central at h/2
    g = (4 * D2 - D1) / 3  # the h^2 terms cancel
    return g, 3 * rounding, np.abs(D1 - D2) / 3


def _deltas(method: str, d: np.ndarray) -> np.ndarray:
    """Signed steps, one column per perturbed copy of each element."""
    if method == "forward":
        return d[:, None]
    if method == "richardson":
        return np.stack([d, -d, d / 2, -d / 2], axis=1)
    return np.stack([d, -d], axis=1)


def _chunk(sh: _Shared, method: str, rel_step: float, name: str, flat: np.ndarray,
           start: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values, rounding and truncation error estimates for one chunk (flat sorted by start)."""
    params, fw, batch = sh.params, sh.fw, sh.batch
    T, H = fw.hs.shape
    theta = params[name].reshape(-1)[flat]
    unit = np.maximum(1.0, np.abs(theta))
    d = rel_step * unit
    hidden = name in HIDDEN_PARAMS
    if method == "difference":
        change, mag = difference_losses(params, fw, batch, name, np.concatenate([flat, flat]),
                                        np.concatenate([d, -d]))
        n = len(flat)
        g = (change[:n] - change[n:]) / (2 * d)  # central difference
        return g, NOISE_SAFETY * EPS * (mag[:n] + mag[n:]) / (2 * d), np.zeros(n)
    if method == "complex":
        assert sh.sens is not None
        if hidden:
            rows, cols = np.unravel_index(flat, params[name].shape)
            g, scale = complex_step.tangents(name, rows, cols, start, sh.sens, sh.prev,
                                             batch.inputs)
        else:
            g, scale = complex_step.output_gradient(name, flat, sh.sens, fw)
        return g, complex_step.noise(scale, H, T), np.zeros(len(flat))
    assert sh.plain is not None
    deltas = _deltas(method, d)
    copies = deltas.shape[1]
    if hidden:
        rows, cols = np.unravel_index(flat, params[name].shape)
        change = finite_difference.loss_changes(
            name, np.repeat(rows, copies), np.repeat(cols, copies), np.repeat(start, copies),
            deltas.reshape(-1), sh.plain, batch.inputs).reshape(-1, copies)
        scale = sh.suffix[start]
    else:
        change = finite_difference.output_loss_changes(
            name, np.repeat(flat, copies), deltas.reshape(-1), fw, sh.plain).reshape(-1, copies)
        scale = np.full(len(flat), sh.suffix[0])
    return _combine(method, change, d, unit, scale)


def _chunks(p: Plan) -> Iterator[tuple[str, np.ndarray]]:
    """(parameter, positions into todo[parameter]) for each chunk, sorted by start step."""
    for name, idx in p.todo.items():
        order = np.argsort(p.starts[name], kind="stable")
        for lo in range(0, len(idx), p.chunk):
            yield name, order[lo : lo + p.chunk]


def _calibrate(sh: _Shared, p: Plan, name: str, values: np.ndarray, rounding: np.ndarray,
               truncation: np.ndarray) -> float:
    """How many times the textbook truncation estimate a measured one is, for one parameter.

    Central and forward differences guess their truncation error from f'' (see the
    module docstring). Where the loss is far from quadratic on the scale of h
    (saturated or chaotic networks) that guess is too small. So, for up to
    CALIBRATE elements of the parameter, the difference is repeated at h/2 and the
    truncation error measured: |D(h) - D(h/2)| is 3/4 of D(h)'s for central (h^2)
    and 1/2 for forward (h), less the rounding of both. The largest ratio of
    measured to guessed, times CALIBRATION_SAFETY, scales every element's guess.
    """
    idx = p.todo[name]
    if len(idx) == 0:
        return 1.0
    order = np.argsort(-truncation[idx], kind="stable")  # the widest guesses, and a spread
    pick = np.unique(np.concatenate([order[: CALIBRATE // 2],
                                     np.linspace(0, len(idx) - 1, CALIBRATE // 2).astype(int)]))
    pos = pick[np.argsort(p.starts[name][pick], kind="stable")]
    flat = idx[pos]
    half, half_rounding, _ = _chunk(sh, p.method, p.rel_step / 2, name, flat,
                                    p.starts[name][pos])
    gain = 4 / 3 if p.method == "central" else 2.0
    measured = gain * (np.abs(values[flat] - half) - rounding[flat] - half_rounding)
    guess = np.maximum(truncation[flat], rounding[flat])  # 0 only where L ignores theta_i
    used = guess > 0
    if not used.any():
        return 1.0
    return float(max(1.0, CALIBRATION_SAFETY * np.max(measured[used] / guess[used])))


def gradients(params: Params, batch: Batch, options: Options) -> Gradients:
    """Numerical dL/dtheta for every element (or ``options.sample``), with error bars."""
    started = time.perf_counter()
    fw = forward(params, batch)
    p = plan(params, batch, options, fw)
    sh = _shared(params, batch, fw, p.method)
    values = {name: np.full(params[name].size, np.nan) for name in params}
    rounding = {name: np.full(params[name].size, np.nan) for name in params}
    truncation = {name: np.full(params[name].size, np.nan) for name in params}
    report = options.progress or (lambda done, total: None)
    total, done = p.elements, 0

    def work(name: str, pos: np.ndarray) -> tuple[str, np.ndarray, np.ndarray, np.ndarray,
                                                  np.ndarray]:
        flat, start = p.todo[name][pos], p.starts[name][pos]
        return (name, flat, *_chunk(sh, p.method, p.rel_step, name, flat, start))

    def store(name: str, flat: np.ndarray, g: np.ndarray, err: np.ndarray,
              trunc: np.ndarray) -> None:
        nonlocal done
        values[name][flat], rounding[name][flat], truncation[name][flat] = g, err, trunc
        done += len(flat)
        report(done, total)

    limits = _threadpool_limits()
    if p.workers > 1 and limits is not None:
        from concurrent.futures import ThreadPoolExecutor, as_completed  # only when threaded

        with limits(limits=1, user_api="blas"), ThreadPoolExecutor(p.workers) as pool:
            futures = [pool.submit(work, name, pos) for name, pos in _chunks(p)]
            for future in as_completed(futures):
                store(*future.result())
    else:
        for name, pos in _chunks(p):
            store(*work(name, pos))
    notes = []
    errors = {}
    for name in params:
        factor = 1.0
        if p.method in ("central", "forward"):
            factor = _calibrate(sh, p, name, values[name], rounding[name], truncation[name])
            if factor > 1.0:
                notes.append(f"{p.method} differences on {name}: truncation error measured at "
                             f"h/2 is up to {factor / CALIBRATION_SAFETY:.3g}x the estimate "
                             "from f''; its error bars were widened to match")
        errors[name] = rounding[name] + factor * truncation[name]
    covered = None if options.sample is None else {n: np.sort(i) for n, i in p.todo.items()}
    elapsed = time.perf_counter() - started
    step = STEP_TEXT[p.method].format(h=p.rel_step)
    return Gradients("numeric", fw.loss,
                     {n: v.reshape(params[n].shape) for n, v in values.items()},
                     noise={n: e.reshape(params[n].shape) for n, e in errors.items()},
                     covered=covered, notes=tuple(notes), method=p.method, step=step,
                     timing={"estimated_s": p.seconds, "elapsed_s": elapsed,
                             "threads": float(p.workers), "elements": float(p.elements)})
