"""The error metric, defined once, and the element-by-element comparison of two engines.

For gradients a and b of one parameter, element by element::

    rel_i = |a_i - b_i| / max(|a_i| + |b_i|, floor * scale)

where ``scale = max(max|a|, max|b|)`` over the compared elements and
``floor`` is the spec's ``floor`` (default 1e-4). The denominator is never 0
(if both gradients are entirely zero it is the smallest normal float), so
rel_i is never NaN or inf for finite inputs, even when both values are 0 or the
signs differ; it lies in [0, 1]. Small entries are judged against the floor,
on the parameter's own scale: such entries are the result of cancellation in a
sum of much larger terms, and their own relative error is not meaningful.

The norm-wise error is ``||a - b|| / max(||a||, ||b||)`` (0 when both are 0).

An element *fails* when rel_i > rtol, unless it is explained:

- **clipped**: one engine clipped it to +-c and the other's value is at least
  c in size with the same sign (so the difference is the clip, nothing else);
- **limited by precision**: |a_i - b_i| is within the engines' own error
  estimates (numerical differentiation carries one per element).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .engines import ANALYTIC
from .engines.base import Gradients
from .errors import ImplError
from .spec import Spec

TINY = float(np.finfo(np.float64).tiny)  # denominator of last resort
MAX_LISTED = 5  # failing elements listed per comparison


@dataclasses.dataclass(frozen=True)
class Element:
    """One compared element: where it is and both engines' values."""

    index: tuple[int, ...]
    a: float
    b: float
    rel_error: float


@dataclasses.dataclass(frozen=True)
class PairResult:
    """The comparison of one parameter between engines ``a`` and ``b``."""

    parameter: str
    a: str
    b: str
    rtol: float
    max_rel_error: float  # over compared elements that are not clipped
    norm_rel_error: float
    worst: Element | None  # the element with the largest error (failing ones first)
    compared: int
    failed: int
    clipped: int
    precision_limited: int
    nonfinite: int
    failures: tuple[Element, ...] = ()  # up to MAX_LISTED, largest error first
    clipped_elements: tuple[Element, ...] = ()  # up to MAX_LISTED
    steps: tuple[int, ...] = ()  # time steps k whose contributions disagree (if localised)

    @property
    def passed(self) -> bool:
        return self.failed == 0 and self.nonfinite == 0

    @property
    def pair(self) -> str:
        return f"{self.a}↔{self.b}"


def tolerance(spec: Spec, a: str, b: str) -> float:
    """The rtol for engines ``a`` and ``b``: ``rtol_analytic`` when both differentiate by
    hand (the tutorial, the reference, the user's code), ``rtol_numeric`` otherwise."""
    by_hand = (*ANALYTIC, "impl")
    return spec.rtol_analytic if a in by_hand and b in by_hand else spec.rtol_numeric


def rel_error(a: np.ndarray, b: np.ndarray, floor: float) -> np.ndarray:
    """Elementwise |a-b| / max(|a|+|b|, floor*scale): the one relative error metric."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    finite = np.isfinite(a) & np.isfinite(b)
    mag = np.abs(np.where(finite, a, 0.0)) + np.abs(np.where(finite, b, 0.0))
    scale = float(max(np.abs(np.where(finite, a, 0.0)).max(initial=0.0),
                      np.abs(np.where(finite, b, 0.0)).max(initial=0.0)))
    den = np.maximum(mag, max(floor * scale, TINY))
    rel = np.abs(np.where(finite, a - b, 0.0)) / den
    return np.where(finite, rel, np.inf)


def norm_rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """||a-b|| / max(||a||, ||b||), 0 when both are zero."""
    top = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)))
    return float(np.linalg.norm(a - b)) / top if top > 0 else 0.0


def compare(name: str, ga: Gradients, gb: Gradients, rtol: float, floor: float) -> PairResult:
    """Compare parameter ``name`` between two engines' gradients."""
    a_full, b_full = ga.grads[name], gb.grads[name]
    if a_full.shape != b_full.shape:
        raise ImplError(f"{ga.engine} returned d{name} of shape {a_full.shape}, "
                        f"{gb.engine} of shape {b_full.shape}")
    shape = a_full.shape
    flat = _covered(name, ga, gb, a_full.size)
    a, b = a_full.reshape(-1)[flat], b_full.reshape(-1)[flat]
    finite = np.isfinite(a) & np.isfinite(b)
    clipped = _clip_explained(name, ga, b, flat) | _clip_explained(name, gb, a, flat)
    clipped &= finite
    rel = rel_error(a, b, floor)
    noise = _noise(name, ga, flat) + _noise(name, gb, flat)
    limited = finite & (rel > rtol) & (np.abs(np.where(finite, a - b, 0)) <= noise)
    bad = finite & (rel > rtol) & ~clipped & ~limited
    judged = ~clipped
    rel_judged = np.where(judged & finite, rel, 0.0)
    order = np.argsort(-np.where(bad, rel, -1.0), kind="stable")
    listed = order[: min(MAX_LISTED, int(bad.sum()))]
    failures = tuple(_element(shape, flat, a, b, rel, i) for i in listed)
    if bad.any() or not finite.all():
        worst_i = int(np.argmax(np.where(bad | ~finite, np.where(finite, rel, np.inf), -1.0)))
    elif judged.any():
        worst_i = int(np.argmax(np.where(judged, rel, -1.0)))
    else:
        worst_i = -1
    clip_idx = np.flatnonzero(clipped)[:MAX_LISTED]
    return PairResult(
        parameter=name,
        a=ga.engine,
        b=gb.engine,
        rtol=rtol,
        max_rel_error=float(rel_judged.max(initial=0.0)) if finite.all() else float("inf"),
        norm_rel_error=norm_rel_error(np.where(judged & finite, a, 0.0),
                                      np.where(judged & finite, b, 0.0)),
        worst=_element(shape, flat, a, b, rel, worst_i) if worst_i >= 0 else None,
        compared=int(a.size),
        failed=int(bad.sum()),
        clipped=int(clipped.sum()),
        precision_limited=int(limited.sum()),
        nonfinite=int((~finite).sum()),
        failures=failures,
        clipped_elements=tuple(_element(shape, flat, a, b, rel, i) for i in clip_idx),
    )


def disagreeing_steps(sa: np.ndarray, sb: np.ndarray, index: tuple[int, ...], rtol: float,
                      floor: float) -> tuple[int, ...]:
    """Time steps k at which two engines' step-k contributions to one element differ.

    ``sa`` and ``sb`` are ``Gradients.steps[name]`` arrays of shape (T, *shape).
    """
    ta = sa.reshape(sa.shape[0], -1)[:, np.ravel_multi_index(index, sa.shape[1:])]
    tb = sb.reshape(sb.shape[0], -1)[:, np.ravel_multi_index(index, sb.shape[1:])]
    rel = rel_error(ta, tb, floor)
    return tuple(int(k) for k in np.flatnonzero(rel > rtol))


def _covered(name: str, ga: Gradients, gb: Gradients, size: int) -> np.ndarray:
    """Flat indices both engines computed."""
    flat = np.arange(size)
    for g in (ga, gb):
        if g.covered is not None:
            flat = np.intersect1d(flat, g.covered[name])
    return flat


def _clip_explained(name: str, g: Gradients, other: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """Elements g clipped to +-c where the other engine's value is beyond c, same sign."""
    if g.clipped is None or g.clip is None:
        return np.zeros(flat.size, dtype=bool)
    mask = g.clipped[name].reshape(-1)[flat]
    value = g.grads[name].reshape(-1)[flat]
    explained: np.ndarray = mask & (np.sign(value) == np.sign(other)) & (np.abs(other) >= g.clip)
    return explained


def _noise(name: str, g: Gradients, flat: np.ndarray) -> np.ndarray:
    if g.noise is None:
        return np.zeros(flat.size)
    bars: np.ndarray = np.nan_to_num(g.noise[name].reshape(-1)[flat], nan=0.0)
    return bars


def _element(shape: tuple[int, ...], flat: np.ndarray, a: np.ndarray, b: np.ndarray,
             rel: np.ndarray, i: int) -> Element:
    index = tuple(int(x) for x in np.unravel_index(int(flat[i]), shape))
    return Element(index, float(a[i]), float(b[i]), float(rel[i]))
