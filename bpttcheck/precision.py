"""How precisely a user's code computes, and what a verdict may demand of it.

A backward pass written in float32 cannot agree with the float64 reference to
1e-9; demanding it is a false alarm. A float32 one with a real bug must still
fail. The tolerance is therefore *measured*, not guessed: bpttcheck runs the
model's own backward pass (the tutorial's ``dhnext`` recursion) in the user's
dtype, and the per-element difference to the float64 reference, times
ROUNDING_SAFETY, is the error bar a correct implementation in that dtype may
show (two correct float32 programs differ from float64 by rounding of the same
size, not the same rounding). A floor of a few ulps of the element and of the
parameter's scale is added so that an element where both happen to round well
is not held to zero.

Numerical differentiation of a loss computed in a dtype with machine epsilon
``eps`` balances rounding (``eps |L| / h``) against truncation (``h^2``) at
``h = eps^(1/3)``: about 5e-3 in float32, far from float64's 1e-5. The table
:data:`PRECISIONS` is the one place where these choices live, keyed by dtype
(the shape :class:`bpttcheck.probes.BatchedLoss` reports ``dtype`` in), so that
a differentiator can take the step from here.

The dtype of user code is detected two ways (:func:`resolution`): the dtype of
what it returns, and the loss's sensitivity, i.e. the smallest relative change
of the loss it resolves (float32 arithmetic returned as float64 still shows
steps of about 6e-8).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .model import PARAM_NAMES, Batch, Params, with_biases

# bar = this x (|model in dtype - model in float64| + its RMS over the parameter): the
# RMS term keeps an element where the witness happened to round well from a zero bar.
ROUNDING_SAFETY = 16.0
ULP_FLOOR = 8.0  # plus this many eps of |g_i| + floor * max|g|: rounding at the last op
LOSS_SAFETY = 16.0  # a loss in dtype agrees with float64 to this many eps per step
SENSITIVITY_POINTS = 8  # loss evaluations along one direction to measure its resolution
SENSITIVITY_SPAN = 1e-7  # distance between them, per unit of max(1, |L|)
SMOOTH_MARGIN = 100.0  # their loss's deviation must exceed the model's by this to count


@dataclasses.dataclass(frozen=True)
class Precision:
    """What a dtype allows: its epsilon and the finite-difference step that suits it."""

    dtype: str  # "float64", "float32", "float16"
    eps: float  # machine epsilon
    step: float  # central-difference step, relative to max(1, |theta|): about eps^(1/3)

    @property
    def reduced(self) -> bool:
        """Lower than float64: the verdict needs measured error bars."""
        return self.eps > PRECISIONS["float64"].eps

    def loss_rtol(self, seq: int) -> float:
        """Relative agreement to demand of a loss summed over ``seq`` steps in this dtype
        (before the measured part: see :func:`loss_rtol`)."""
        return LOSS_SAFETY * self.eps * max(1, seq)

    def describe(self) -> str:
        return f"{self.dtype} (machine epsilon {self.eps:.1e})"


def _entry(dtype: type[np.floating[Any]]) -> Precision:
    eps = float(np.finfo(dtype).eps)
    return Precision(np.dtype(dtype).name, eps, float(np.cbrt(eps)))


PRECISIONS: dict[str, Precision] = {p.dtype: p for p in (
    _entry(np.float64), _entry(np.float32), _entry(np.float16))}


def for_dtype(name: str) -> Precision:
    """The entry for ``name``; anything wider than float64 is judged as float64."""
    return PRECISIONS.get(name, PRECISIONS["float64"])


def lowest(dtypes: Iterable[str], measured_eps: float = 0.0) -> Precision:
    """The least precise of the returned dtypes and of the measured loss resolution.

    A measured resolution counts as a dtype's when it is at least that dtype's
    eps / LOSS_SAFETY (float32: 7e-9), far above what float64 rounding gives even
    on a chaotic network.
    """
    found = [for_dtype(d) for d in dtypes] or [PRECISIONS["float64"]]
    found += [p for p in PRECISIONS.values() if measured_eps >= p.eps / LOSS_SAFETY]
    return max(found, key=lambda p: p.eps)


def resolution(loss: Callable[[Params], float], params: Params, rng: np.random.Generator,
               smooth: Callable[[Params], float]) -> float:
    """The loss's measured resolution: its rounding noise relative to |L| (0: float64's).

    ``loss`` is evaluated at SENSITIVITY_POINTS points along one random direction
    of length SENSITIVITY_SPAN x max(1, |L|) per point: large enough to survive a
    cast of the weights to float32. A quadratic is fitted to the values; in float32
    they form a staircase of ulps (6e-8 of |L|) around it. ``smooth`` (the model's
    float64 loss) is measured along the same points: what the quadratic misses of
    a smooth loss (curvature on a chaotic network) is not rounding. The answer is
    the largest deviation of ``loss`` from its fit, over |L|, when it is more than
    SMOOTH_MARGIN times that of ``smooth``; 0 otherwise.
    """
    direction = {n: rng.standard_normal(p.shape) for n, p in params.items()}
    norm = float(np.sqrt(sum(float(np.sum(d * d)) for d in direction.values())))
    base = loss(params)
    if not np.isfinite(base) or base == 0:
        return 0.0
    size = SENSITIVITY_SPAN * max(1.0, abs(base)) / max(norm, 1e-300)
    s = np.arange(SENSITIVITY_POINTS, dtype=np.float64)
    points = [{n: params[n] + k * size * direction[n] for n in params} for k in s]

    def deviation(f: Callable[[Params], float]) -> float:
        values = np.array([f(p) for p in points])
        if not np.isfinite(values).all():
            return 0.0
        fit = np.polyval(np.polyfit(s, values, 2), s)
        return float(np.max(np.abs(values - fit))) / abs(base)

    theirs = deviation(loss)
    floor = max(deviation(smooth), PRECISIONS["float64"].eps)
    return theirs if theirs > SMOOTH_MARGIN * floor else 0.0


@dataclasses.dataclass(frozen=True)
class Witness:
    """The model computed once (in a lower precision, or with a slip: gated_variants.walk),
    returned as float64."""

    grads: dict[str, np.ndarray]
    dhprev: np.ndarray  # (H, 1): dL/dhprev
    hlast: np.ndarray  # (H, 1): h_{T-1}
    loss: float
    clast: np.ndarray | None = None  # (H, 1): c_{T-1} (LSTM)
    dcprev: np.ndarray | None = None  # (H, 1): dL/dcprev (LSTM)


def model_in(params: Params, batch: Batch, dtype: str) -> Witness:
    """The model's gradient computed entirely in ``dtype`` (the tutorial's recursion).

    The rounding witness: how far a correct backward pass in ``dtype`` lands
    from float64.
    """
    if batch.width is not None:  # a batch: each column in dtype, summed (hlast, dhprev (H, B))
        parts = [model_in(params, c, dtype) for c in batch.columns()]
        return Witness({n: np.sum([w.grads[n] for w in parts], axis=0) for n in parts[0].grads},
                       np.hstack([w.dhprev for w in parts]), np.hstack([w.hlast for w in parts]),
                       float(sum(w.loss for w in parts)))
    if "bh" not in params:  # a bias-free model: bh = by = 0 held fixed, their gradients dropped
        full = model_in(with_biases(params), batch, dtype)
        return Witness({n: v for n, v in full.grads.items() if n in params}, full.dhprev,
                       full.hlast, full.loss)
    with np.errstate(all="ignore"):  # overflow in a low precision is what bars measure
        return _model_in(params, batch, dtype)


def _model_in(params: Params, batch: Batch, dtype: str) -> Witness:
    f = np.dtype(dtype).type
    Wxh, Whh, Why, bh, by = (np.asarray(params[n], dtype=f) for n in PARAM_NAMES)
    T, H = batch.seq, Whh.shape[0]
    hs = np.zeros((T + 1, H), dtype=f)  # row 0 is hprev, row t + 1 is h_t
    hs[0] = np.asarray(batch.hprev[:, 0], dtype=f)
    ps = np.zeros((T, Why.shape[0]), dtype=f)
    total = f(0)
    for t in range(T):
        hs[t + 1] = np.tanh(Wxh[:, batch.inputs[t]] + Whh @ hs[t] + bh[:, 0])  # hidden state
        y = Why @ hs[t + 1] + by[:, 0]  # logits
        e = np.exp(y - y.max())  # shifted softmax
        ps[t] = e / e.sum()
        total = total - np.log(ps[t][batch.targets[t]])  # -log p_t[target_t]
    g = {n: np.zeros_like(w) for n, w in zip(PARAM_NAMES, (Wxh, Whh, Why, bh, by), strict=True)}
    dhnext = np.zeros(H, dtype=f)
    for t in reversed(range(T)):
        dy = ps[t].copy()
        dy[batch.targets[t]] -= f(1)  # backprop into y
        g["Why"] += np.outer(dy, hs[t + 1])
        g["by"][:, 0] += dy
        dh = Why.T @ dy + dhnext  # backprop into h
        dhraw = (f(1) - hs[t + 1] * hs[t + 1]) * dh  # through tanh
        g["bh"][:, 0] += dhraw
        g["Wxh"][:, batch.inputs[t]] += dhraw
        g["Whh"] += np.outer(dhraw, hs[t])
        dhnext = Whh.T @ dhraw  # to step t-1
    return Witness({n: v.astype(np.float64) for n, v in g.items()},
                   dhnext.astype(np.float64)[:, None], hs[T].astype(np.float64)[:, None],
                   float(total))


def bars(exact: np.ndarray, rounded: np.ndarray, precision: Precision,
         floor: float) -> np.ndarray:
    """Per-element bars |theirs - float64| that a correct computation in ``precision``
    may reach, from the float64 value and the witness's value in that precision."""
    diff = np.nan_to_num(np.abs(rounded - exact), nan=np.inf)  # overflowed: no bound
    typical = float(np.sqrt(np.mean(diff * diff))) if diff.size else 0.0
    scale = float(np.abs(exact).max(initial=0.0))
    out: np.ndarray = (ROUNDING_SAFETY * (diff + typical)
                       + ULP_FLOOR * precision.eps * (np.abs(exact) + floor * scale))
    return out


def error_bars(params: Params, batch: Batch, exact: dict[str, np.ndarray],
               precision: Precision, floor: float) -> dict[str, np.ndarray]:
    """Per-element bars for every parameter's gradient (see :func:`bars`)."""
    rounded = model_in(params, batch, precision.dtype).grads
    return {n: bars(g, rounded[n], precision, floor) for n, g in exact.items()}



def loss_rtol(params: Params, batch: Batch, exact: float, precision: Precision) -> float:
    """Relative agreement to demand of a loss in ``precision``: the a-priori bound, or
    ROUNDING_SAFETY x how far the model's own loss in that precision lands, if larger."""
    tol = precision.loss_rtol(batch.seq)
    if precision.reduced:
        rounded = model_in(params, batch, precision.dtype).loss
        measured = abs(rounded - exact) if np.isfinite(rounded) else np.inf
        tol = max(tol, ROUNDING_SAFETY * float(measured) / max(1.0, abs(exact)))
    return tol
