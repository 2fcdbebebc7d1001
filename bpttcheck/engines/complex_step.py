"""Complex-step differentiation of the RNN loss: g_i = Im L(theta + i eta e_i) / eta.

Run the forward pass on complex numbers with the parameter element theta_i
moved to theta_i + i eta. No two nearly equal numbers are ever subtracted, so
eta can be tiny (:data:`COMPLEX_STEP` = 1e-20, relative to max(1, |theta_i|))
and the O(eta^2) truncation error is far below rounding: the result agrees
with the exact derivative to a few ulps. The derivative of every nonlinear
step comes from NumPy's own complex ``tanh``, ``exp`` and ``log``; nothing
here writes down a derivative by hand.

:func:`complex_loss` is that, literally: the forward pass of
:mod:`bpttcheck.model` on complex arrays. It is what the tests and the
random-projection pre-screen use. Checking every element that way costs one
complex forward pass per element, so the engine uses the same arithmetic
with its structure made explicit (:func:`tangents`, :func:`output_gradient`):

- **Real parts are shared.** Re z differs from the unperturbed forward pass
  by O(eta^2) ~ 1e-40 relative, which is below rounding: every perturbed copy
  has the unperturbed real part, computed once.
- **Imaginary parts are linear.** With |Im| ~ eta tiny, Im f(a + i eta s) =
  s Im f(a + i eta) to rounding for each elementwise f (tanh), and for the
  loss of one step ``Im L_t(y + i eta v) = sum_k v_k Im L_t(y + i eta e_k)``.
  So the complex tanh is evaluated once per hidden unit and step, giving
  ``k_t = Im tanh(a_t + i eta) / eta``, and the complex log-sum-exp once per
  logit and step, giving ``gy_t[k] = Im L_t(y_t + i eta e_k) / eta``. Only
  one term of the softmax sum moves when one logit does, so each of those is
  ``log(S_t + exp(y_tk - m + i eta) - exp(y_tk - m)) + m``, O(V) per step.
- **Products with real matrices act on Im alone:** Im(W z) = W Im(z).

Writing B_t = Im h_t / eta for one perturbed element (row i of the
pre-activation; the *forcing* c_t is h_{t-1}[j] for Whh[i, j], [x_t == j] for
Wxh[i, j] and 1 for bh[i])::

    B_t = k_t * (Whh B_{t-1} + c_t e_i),        B_{start-1} = 0
    g   = sum_t B_t . w_t,                      w_t = Why^T gy_t

and for the output layer (hidden states unchanged)::

    dL/dWhy[k, j] = sum_t gy_t[k] h_t[j],      dL/dby[k] = sum_t gy_t[k]

A batch of P perturbations advances as one (P, H) array; one matrix product
per step, ``B_{t-1} [Whh^T | w_{t-1}]``, gives both the next pre-activation's
imaginary part and step t-1's share of the loss. Rows are sorted by the first
step whose forcing is not zero (Wxh[i, j] waits for the first input j; Whh
waits for a nonzero h_{t-1}[j], so with hprev = 0 it starts at step 1); rows
not started yet are left out of the product.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..model import Batch, Forward, Params

COMPLEX_STEP = 1e-20  # eta / max(1, |theta|): O(eta^2) truncation is ~1e-40, nothing cancels
EPS = float(np.finfo(np.float64).eps)
# Rounding error bar: each step's share is an inner product of H terms and the
# shares are summed over T steps; a few ulps per term of the summed magnitudes.
# Against an 80-bit long-double reference on a chaotic network (init_scale 1,
# hidden 30, seq 20) the actual error reached 0.22 of the bar with 4 ulps: 16 keeps
# a margin where errors are amplified through many steps.
COMPLEX_NOISE = 16.0


def complex_loss(params: dict[str, np.ndarray], batch: Batch) -> complex:
    """The forward pass of :mod:`bpttcheck.model`, on complex parameters, as it is written."""
    Wxh, Whh, Why = params["Wxh"], params["Whh"], params["Why"]
    bh, by = params["bh"][:, 0], params["by"][:, 0]
    h = batch.hprev[:, 0].astype(np.complex128)
    total = 0j
    for t in range(batch.seq):
        h = np.tanh(Wxh[:, batch.inputs[t]] + Whh @ h + bh)  # hidden state
        y = Why @ h + by  # logits
        m = float(y.real.max())  # shift by a real number: exp cannot overflow
        total += np.log(np.exp(y - m).sum()) + m - y[batch.targets[t]]  # -log p[target]
    return complex(total)


@dataclasses.dataclass(frozen=True)
class Sensitivities:
    """Per-step complex-step factors of the unperturbed forward pass."""

    k: np.ndarray  # (T, H): Im tanh(a_t + i eta) / eta
    gy: np.ndarray  # (T, V): Im L_t(y_t + i eta e_k) / eta
    M: np.ndarray  # (T, H, H + 1): [Whh^T | w_t], w_t = Why^T gy_t


def sensitivities(params: Params, fw: Forward, batch: Batch) -> Sensitivities:
    """k_t, gy_t and the per-step product matrices, each from one complex evaluation."""
    Whh, Why = params["Whh"], params["Why"]
    k = np.tanh(fw.pre + 1j * COMPLEX_STEP).imag / COMPLEX_STEP  # complex tanh, per unit
    m = fw.ys.max(axis=1, keepdims=True)
    E = np.exp(fw.ys - m)  # the terms of the softmax sum
    moved = np.exp((fw.ys - m) + 1j * COMPLEX_STEP) - E  # the one term that moves
    lse = np.log(E.sum(axis=1, keepdims=True) + moved) + m  # log-sum-exp, one logit moved
    T, V = fw.ys.shape
    moved_target = np.zeros((T, V), dtype=np.complex128)
    moved_target[np.arange(T), list(batch.targets)] = 1j * COMPLEX_STEP
    Lt = lse - (fw.ys[np.arange(T), list(batch.targets)][:, None] + moved_target)
    gy = Lt.imag / COMPLEX_STEP
    H = Whh.shape[0]
    M = np.empty((T, H, H + 1))
    M[:, :, :H] = Whh.T
    M[:, :, H] = gy @ Why  # w_t = Why^T gy_t, for every t
    return Sensitivities(k, gy, M)


def tangents(name: str, rows: np.ndarray, cols: np.ndarray, start: np.ndarray,
             sens: Sensitivities, prev: np.ndarray, inputs: tuple[int, ...]
             ) -> tuple[np.ndarray, np.ndarray]:
    """dL/dtheta and its rounding scale for hidden-layer elements (rows sorted by start).

    ``prev`` is (T, H): h_{t-1} for every step. Returns (g, scale), scale being
    the summed magnitude of the per-step shares.
    """
    P = len(rows)
    T, H = sens.k.shape
    B = np.zeros((P, H))  # Im h_t / eta, one row per perturbed element
    Z = np.empty((P, H + 1))  # [Im a_{t+1} / eta (before forcing) | step t's loss share]
    g = np.zeros(P)
    scale = np.zeros(P)
    active = np.searchsorted(start, np.arange(T), side="right")  # rows started by step t
    ar = np.arange(P)
    n_prev = 0
    for t in range(int(start[0]) if P else T, T):
        n = int(active[t])
        if n_prev:
            np.matmul(B[:n_prev], sens.M[t - 1], out=Z[:n_prev])  # Whh B_{t-1} | B_{t-1}.w_{t-1}
            share = Z[:n_prev, H]
            g[:n_prev] += share
            scale[:n_prev] += np.abs(share)
        Z[n_prev:n] = 0.0  # rows starting now: B_{t-1} = 0
        if name == "Whh":
            force = prev[t][cols[:n]]  # (Whh + i eta E_ij) h_{t-1}: Im is eta h_{t-1}[j]
        elif name == "Wxh":
            force = (cols[:n] == inputs[t]).astype(np.float64)  # x_t one-hot
        else:  # bh
            force = np.ones(n)
        Z[ar[:n], rows[:n]] += force
        np.multiply(Z[:n, :H], sens.k[t], out=B[:n])  # through the complex tanh
        n_prev = n
    if n_prev:
        share = B[:n_prev] @ sens.M[T - 1][:, H]  # the last step's loss share
        g[:n_prev] += share
        scale[:n_prev] += np.abs(share)
    return g, scale


def output_gradient(name: str, flat: np.ndarray, sens: Sensitivities, fw: Forward
                    ) -> tuple[np.ndarray, np.ndarray]:
    """dL/dWhy or dL/dby at flat indices, and the summed magnitude of the per-step shares."""
    if name == "by":
        return sens.gy.sum(axis=0)[flat], np.abs(sens.gy).sum(axis=0)[flat]
    V, H = sens.gy.shape[1], fw.hs.shape[1]
    k, j = np.unravel_index(flat, (V, H))
    shares = sens.gy[:, k] * fw.hs[:, j]  # (T, P): y_t[k] moves by i eta h_t[j]
    return shares.sum(axis=0), np.abs(shares).sum(axis=0)


def noise(scale: np.ndarray, H: int, T: int) -> np.ndarray:
    """Rounding error bar of a complex-step value whose per-step shares sum to ``scale``."""
    return COMPLEX_NOISE * EPS * (H + T) * scale
