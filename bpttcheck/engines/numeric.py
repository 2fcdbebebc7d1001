"""Numerical differentiation: central differences of the loss, every element.

For each parameter element theta_i the engine evaluates::

    g_i ~ (L(theta + d e_i) - L(theta - d e_i)) / (2 d),   d = STEP * max(1, |theta_i|)

It knows nothing of any backward pass: only the forward pass of
:mod:`bpttcheck.model`, run on perturbed weights.

**Difference form.** Plain central differences subtract two losses of size
|L| (about T log V) to find a change of size |g| d, so rounding costs about
eps |L| / d; with the usual d ~ eps^(1/3) that leaves 1e-9 or so of absolute
error, which is a *relative* error of 1e-3 and worse on small gradient entries.
Here the change itself is propagated instead of the perturbed state, with
exact identities and no subtraction of nearly equal numbers:

    dh_t = tanh(a_t + da_t) - tanh(a_t) = tanh(da_t) sech^2(a_t) / (1 + h_t tanh(da_t))
    dL_t = log(sum_i p_i exp(dy_i)) - dy_target = log1p(sum_i p_i expm1(dy_i)) - dy_target

with da_t the change of the pre-activation (Whh dh_{t-1} plus the perturbed
element's own term) and dy_t = Why dh_t (plus the output layer's own term).
Rounding is then relative to the change, about eps |dy| / d per step, and no
longer grows as d shrinks, so d can be small enough that the O(d^2)
truncation error is negligible too. Measured on the default spec and on a
saturated one (init_scale 0.5): the largest error against the reference
engine, relative to the parameter's largest entry, falls as d^2 from 3e-9 at
d = 1e-4 to 3e-13 at 1e-6, and sits at rounding level (1e-16 to 7e-16) from
d = 1e-8 down to 1e-10. :func:`difference_losses` is tested
against L(theta + d e_i) - L(theta) from the plain forward pass.

**Batching.** Perturbations are processed in chunks: a chunk of P perturbed
copies of the hidden state advances through time as one (P, H) array, one
matrix product per step, instead of one forward pass per element. Perturbing
Why or by leaves the hidden states alone, so those need no recurrence at all.

**Error bar.** Each value carries an estimate of its rounding error,
NOISE_SAFETY * eps * (sum over steps of |dy_target| + sum_i p_i |dy_i|) / d,
which compare.py uses to tell "limited by numerical precision" from a failure.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..model import Batch, Forward, Params, forward
from .base import Gradients, Options

STEP = 1e-8  # relative step: truncation ~ STEP^2 is below rounding (see "Difference form")
NOISE_SAFETY = 64.0  # rounding estimate multiplier: a few ulps per operation, T steps
EPS = float(np.finfo(np.float64).eps)


def _sech2(a: np.ndarray) -> np.ndarray:
    """1 - tanh(a)^2, computed from a so that it stays accurate when |tanh(a)| ~ 1."""
    e = np.exp(-2.0 * np.abs(a))  # never overflows
    return 4.0 * e / (1.0 + e) ** 2


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
    sech2 = _sech2(_preactivations(params, fw, batch))
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


def _preactivations(params: Params, fw: Forward, batch: Batch) -> np.ndarray:
    """a_t = Wxh x_t + Whh h_{t-1} + bh for every step, from the stored states."""
    prev = np.vstack([fw.hprev[None, :], fw.hs[:-1]])
    return params["Wxh"][:, list(batch.inputs)].T + prev @ params["Whh"].T + params["bh"][:, 0]


def _chunk_size(params: Params, max_memory: int) -> int:
    """Perturbations per chunk so that the work arrays stay within max_memory bytes."""
    H, V = params["Whh"].shape[0], params["Why"].shape[0]
    per_item = 8 * (6 * H + 4 * V) * 2  # dh, da, s, products and logits, for +d and -d
    return max(1, min(65536, max_memory // per_item))


def gradients(params: Params, batch: Batch, options: Options) -> Gradients:
    fw = forward(params, batch)
    rel_step = options.step if options.step is not None else STEP
    chunk = _chunk_size(params, options.max_memory)
    todo = {
        name: (np.asarray(options.sample[name]) if options.sample is not None
               else np.arange(p.size))
        for name, p in params.items()
    }
    total = sum(len(idx) for idx in todo.values())
    done = 0
    grads: dict[str, np.ndarray] = {}
    noise: dict[str, np.ndarray] = {}
    report: Callable[[int, int], None] = options.progress or (lambda done, total: None)
    for name, p in params.items():
        g = np.full(p.size, np.nan)
        err = np.full(p.size, np.nan)
        flat_theta = p.reshape(-1)
        idx = todo[name]
        for start in range(0, len(idx), chunk):
            part = idx[start : start + chunk]
            d = rel_step * np.maximum(1.0, np.abs(flat_theta[part]))
            both = np.concatenate([part, part])
            change, mag = difference_losses(params, fw, batch, name, both,
                                            np.concatenate([d, -d]))
            n = len(part)
            g[part] = (change[:n] - change[n:]) / (2 * d)  # central difference
            err[part] = NOISE_SAFETY * EPS * (mag[:n] + mag[n:]) / (2 * d)
            done += n
            report(done, total)
        grads[name] = g.reshape(p.shape)
        noise[name] = err.reshape(p.shape)
    covered = None if options.sample is None else {n: np.sort(i) for n, i in todo.items()}
    return Gradients("numeric", fw.loss, grads, noise=noise, covered=covered)
