"""Complex arithmetic on (real, imaginary) pairs of float64 arrays, for batched complex steps.

The complex step runs a forward pass on complex numbers. With P perturbed copies
of the state in one (P, H) array, NumPy's complex128 functions are slow (about
35 ns for ``exp`` and 80 ns for ``tanh`` per element here) and a complex state
times a real weight matrix becomes a complex matrix product. Holding the real
and imaginary parts as two float64 arrays instead lets one real matrix product
serve both (stack them as 2P rows) and lets every function below be evaluated
with one real ``exp`` per element.

Every function is the complex function itself, for any imaginary part, written
with exact identities (no derivative appears anywhere):

- exp(a + ib) = e^a (cos b + i sin b)
- sigmoid(z) = 1 / (1 + exp(-z)), evaluated with e = exp(-|a|) <= 1 so it never
  overflows;
- tanh(a + ib) = (t + i tan b) / (1 + i t tan b), t = tanh(a) (Kahan's form),
  with 1 - t^2 = 4e / (1 + e)^2, e = exp(-2|a|), so a saturated unit loses no
  digits;
- log(S) = log|S| + i atan2(Im S, Re S).

**Tiny angles.** sin b, cos b and tan b round to b, 1 and b in float64 whenever
|b| < :data:`TINY_ANGLE` (the next terms, b^3/6, b^2/2 and b^3/3, are below half
an ulp there), and so does every b^2 term added to a number of size 1 or more
(or, in the sigmoid, to e(1 + e) >= e, against e^2 b^2). The complex step's
imaginary parts are about 1e-20 in size, so each function checks once per call
whether every |b| is that small and then skips the trigonometric calls and
those additions: the numbers are the same ones the full formulas give (tests
compare both, bit for bit where it applies); otherwise the full formulas run.
"""

from __future__ import annotations

import numpy as np

# Below 2^-27 (7.5e-9): b^2/2 < eps/4, so cos b rounds to 1 and sin b, tan b to b.
TINY_ANGLE = 2.0**-27

Pair = tuple[np.ndarray, np.ndarray]


def _tiny(b: np.ndarray) -> bool:
    return b.size == 0 or float(np.max(np.abs(b))) < TINY_ANGLE


def cos_sin(b: np.ndarray) -> Pair:
    if _tiny(b):
        return np.ones_like(b), b
    return np.cos(b), np.sin(b)


def tan(b: np.ndarray) -> np.ndarray:
    if _tiny(b):
        return b
    out: np.ndarray = np.tan(b)
    return out


def mul(x: Pair, y: Pair) -> Pair:
    """(a + ib)(c + id)."""
    a, b = x
    c, d = y
    return a * c - b * d, a * d + b * c


def sigmoid(z: Pair, exact: bool = False) -> Pair:
    """1 / (1 + exp(-z)) for z = a + ib.

    ``exact`` forces the full formulas even for tiny angles (tests compare both).
    """
    a, b = z
    e = np.exp(-np.abs(a))  # <= 1: never overflows
    pos = a >= 0
    # a >= 0: w = exp(-z) = e (cos b - i sin b); sigmoid = 1 / (1 + w).
    # a < 0:  w = exp(z) = e (cos b + i sin b); sigmoid = w / (1 + w).
    one_e = 1.0 + e
    if _tiny(b) and not exact:
        # cos b = 1 and sin b = b; v^2 = (e b)^2 is below half an ulp of (1 + e)^2 and of
        # e (1 + e), so adding it changes nothing: the same numbers, fewer passes.
        den = one_e * one_e
        re = np.where(pos, one_e, e * one_e)
        re /= den
        im = e * b
        im /= den
        return re, im
    cb, sb = np.cos(b), np.sin(b)
    u, v = e * cb, e * sb  # w = u -+ i v
    one_u = 1.0 + u
    den = one_u * one_u
    den += v * v  # |1 + w|^2
    re = np.where(pos, one_u, u * one_u + v * v)
    re /= den
    v /= den  # the imaginary part, the same in both cases: +v / |1 + w|^2
    return re, v


def tanh(z: Pair, exact: bool = False) -> Pair:
    """tanh(a + ib) = (t + i tan b) / (1 + i t tan b), t = tanh(a).

    ``exact`` forces the full formulas even for tiny angles (tests compare both).
    """
    a, b = z
    e = np.exp(-2.0 * np.abs(a))  # <= 1
    one_e = 1.0 + e
    t = np.copysign((1.0 - e) / one_e, a)  # tanh(a)
    sech2 = 4.0 * e
    sech2 /= one_e * one_e  # 1 - t^2 without cancellation
    if _tiny(b) and not exact:
        # tan b = b, and b^2, t^2 b^2 < 2^-54 leave 1 + b^2 and 1 + t^2 b^2 at exactly 1.
        # (Not in place: a shared real part, a of shape (1, H), may meet b of shape (P, H).)
        return t, sech2 * b
    s = np.tan(b)
    ts = t * s
    den = 1.0 + ts * ts
    re = 1.0 + s * s
    re *= t
    re /= den
    im = sech2 * s
    im /= den
    return re, im


def cross_entropy(yr: np.ndarray, yi: np.ndarray, target: int) -> Pair:
    """log(sum_k exp(y_k)) - y_target for each row of complex logits y = yr + i yi (P, V)."""
    m = yr.max(axis=1, keepdims=True)  # a real shift: exp cannot overflow
    mag = np.exp(yr - m)
    cb, sb = cos_sin(yi)
    Sr = (mag * cb).sum(axis=1)
    Si = (mag * sb).sum(axis=1)
    log_r = np.log(np.hypot(Sr, Si)) + m[:, 0]
    log_i = np.arctan2(Si, Sr)
    return log_r - yr[:, target], log_i - yi[:, target]
