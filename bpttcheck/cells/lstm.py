"""The LSTM cell: parameters, forward pass, and the forward pass on perturbed complex copies.

For t = 0 .. T-1, with x_t the one-hot input over the vocabulary V,
z_t = [h_{t-1}; x_t] of size H + V, h_{-1} = hprev and c_{-1} = cprev::

    f_t = sigmoid(Wf z_t + bf)        forget gate
    i_t = sigmoid(Wi z_t + bi)        input gate
    g_t = tanh(Wc z_t + bc)           candidate
    o_t = sigmoid(Wo z_t + bo)        output gate
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)
    y_t = Why h_t + by,   L = sum_t -log softmax(y_t)[target_t]

Shapes: Wf, Wi, Wc, Wo (H, H+V); bf, bi, bc, bo (H, 1); Why (V, H); by (V, 1);
hprev, cprev (H, 1). Weights are ``init_scale * randn`` drawn in that order, biases zero.

:func:`perturbed_losses` is what numerical differentiation calls: the same
equations on P copies at once, each with one parameter element moved by a
(complex) step, in the split complex arithmetic of
:mod:`bpttcheck.cells.splitcomplex`. :func:`complex_losses` is the plain NumPy
complex128 version on P copies with any complex parameters (a leading axis P on
every parameter), used along random directions and by the tests to hold the
element-batched version to it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..model import Batch, Params
from . import splitcomplex as sc
from .common import bmv, csigmoid, init_gated, one_hot, sigmoid, softmax_losses

PARAMS = ("Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo", "Why", "by")
WEIGHTS = ("Wf", "Wi", "Wc", "Wo")
BIASES = ("bf", "bi", "bc", "bo")
RECURRENT = WEIGHTS + BIASES  # parameters that change the states
STATES = ("hprev", "cprev")
# Row blocks of the stacked gate matrix used by the batched forward: the three sigmoid
# gates first, so that one call squashes them, then the tanh candidate.
STACK = ("Wf", "Wi", "Wo", "Wc")


def init_params(hidden: int, vocab: int, scale: float, rng: np.random.Generator
                ) -> dict[str, np.ndarray]:
    """Weights ``scale * randn`` in the order Wf Wi Wc Wo Why, biases zero."""
    return init_gated(WEIGHTS, BIASES, PARAMS, hidden, vocab, scale, rng)


@dataclasses.dataclass(frozen=True)
class LSTMForward:
    """The forward pass, one row per time step."""

    hs: np.ndarray  # (T, H)
    cs: np.ndarray  # (T, H)
    f: np.ndarray  # (T, H) gates
    i: np.ndarray
    g: np.ndarray
    o: np.ndarray
    zs: np.ndarray  # (T, H + V): z_t = [h_{t-1}; x_t]
    hprev: np.ndarray  # (H,)
    cprev: np.ndarray  # (H,)
    ys: np.ndarray  # (T, V)
    ps: np.ndarray  # (T, V)
    losses: np.ndarray  # (T,)

    @property
    def loss(self) -> float:
        return float(self.losses.sum())

    @property
    def hs_before(self) -> np.ndarray:
        """(T, H): row t is h_{t-1}."""
        out: np.ndarray = np.vstack([self.hprev[None, :], self.hs[:-1]])
        return out

    @property
    def cs_before(self) -> np.ndarray:
        """(T, H): row t is c_{t-1}."""
        out: np.ndarray = np.vstack([self.cprev[None, :], self.cs[:-1]])
        return out


def _cprev(batch: Batch) -> np.ndarray:
    if batch.cprev is None:
        raise ValueError("the LSTM needs a batch with cprev")
    return batch.cprev


def forward(params: Params, batch: Batch) -> LSTMForward:
    """Run the LSTM over the sequence: states, gates, probabilities, losses."""
    Wf, Wi, Wc, Wo = (params[n] for n in WEIGHTS)
    bf, bi, bc, bo = (params[n][:, 0] for n in BIASES)
    Why, by = params["Why"], params["by"][:, 0]
    T, H = batch.seq, Wf.shape[0]
    xs = one_hot(batch.inputs, Why.shape[0])
    hs, cs, zs = np.empty((T, H)), np.empty((T, H)), np.empty((T, Wf.shape[1]))
    gates = {k: np.empty((T, H)) for k in "figo"}
    h, c = batch.hprev[:, 0], _cprev(batch)[:, 0]
    for t in range(T):
        z = zs[t] = np.concatenate([h, xs[t]])
        f = gates["f"][t] = sigmoid(Wf @ z + bf)
        i = gates["i"][t] = sigmoid(Wi @ z + bi)
        g = gates["g"][t] = np.tanh(Wc @ z + bc)
        o = gates["o"][t] = sigmoid(Wo @ z + bo)
        c = cs[t] = f * c + i * g
        h = hs[t] = o * np.tanh(c)
    ys = hs @ Why.T + by
    ps, losses = softmax_losses(ys, batch.targets)
    return LSTMForward(hs, cs, gates["f"], gates["i"], gates["g"], gates["o"], zs,
                       batch.hprev[:, 0].copy(), _cprev(batch)[:, 0].copy(), ys, ps, losses)


def complex_losses(params: dict[str, np.ndarray], batch: Batch) -> np.ndarray:
    """The forward pass above on P complex copies: every parameter has a leading axis P.

    Returns the (P,) complex losses. Written as the equations, in complex128; the
    copies advance together (one batched product per gate and step).
    """
    Wf, Wi, Wc, Wo = (params[n] for n in WEIGHTS)
    bf, bi, bc, bo = (params[n][:, :, 0] for n in BIASES)
    Why, by = params["Why"], params["by"][:, :, 0]
    P, V = Wf.shape[0], Why.shape[1]
    h = np.repeat(batch.hprev[None, :, 0], P, axis=0).astype(np.complex128)
    c = np.repeat(_cprev(batch)[None, :, 0], P, axis=0).astype(np.complex128)
    total = np.zeros(P, dtype=np.complex128)
    for t in range(batch.seq):
        x = np.zeros((P, V))
        x[:, batch.inputs[t]] = 1.0
        z = np.concatenate([h, x], axis=1)  # (P, H + V)
        f = csigmoid(bmv(Wf, z) + bf)
        i = csigmoid(bmv(Wi, z) + bi)
        g = np.tanh(bmv(Wc, z) + bc)
        o = csigmoid(bmv(Wo, z) + bo)
        c = f * c + i * g
        h = o * np.tanh(c)
        y = bmv(Why, h) + by
        m = y.real.max(axis=1, keepdims=True)  # a real shift
        total += np.log(np.exp(y - m).sum(axis=1)) + m[:, 0] - y[:, batch.targets[t]]
    return total


def complex_loss(params: dict[str, np.ndarray], batch: Batch) -> complex:
    """:func:`complex_losses` at one complex point."""
    return complex(complex_losses({n: p[None] for n, p in params.items()}, batch)[0])


def start_steps(name: str, flat: np.ndarray, params: Params, fw: LSTMForward,
                batch: Batch) -> np.ndarray:
    """First step whose forward pass reads each element (T: never; its gradient is 0)."""
    T = batch.seq
    if name not in WEIGHTS:
        return np.zeros(len(flat), dtype=np.intp)
    cols = np.unravel_index(flat, params[name].shape)[1]
    nonzero = fw.zs != 0  # W[i, m] multiplies z_t[m]
    first = np.where(nonzero.any(axis=0), nonzero.argmax(axis=0), T).astype(np.intp)
    return first[cols]


def perturbed_losses(params: Params, fw: LSTMForward, batch: Batch, name: str,
                     flat: np.ndarray, step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Re L, Im L) of P copies, copy p with element flat[p] of ``name`` moved by step[p].

    Copies join the batch at the first step that reads their element (before it,
    they are the unperturbed forward pass); one matrix product per step advances
    every active copy's real and imaginary parts.
    """
    T, H = fw.hs.shape
    P = len(flat)
    sr, si = np.real(step).astype(np.float64), np.imag(step).astype(np.float64)
    prefix = np.concatenate([[0.0], np.cumsum(fw.losses)])  # sum_{t < s} L_t
    if name in ("Why", "by"):  # the states do not read these: only the logits move
        return _output_losses(params, fw, batch, name, flat, sr, si)
    start = start_steps(name, flat, params, fw, batch)
    order = np.argsort(start, kind="stable")
    flat, start, sr, si = flat[order], start[order], sr[order], si[order]
    rows, cols = np.unravel_index(flat, params[name].shape)
    block = STACK.index("W" + name[1])  # Wf and bf both move the forget gate
    unit = block * H + rows  # the perturbed pre-activation's column in the stacked gates
    W = np.concatenate([params[n] for n in STACK])  # (4H, H + V)
    WhT = np.ascontiguousarray(W[:, :H].T)  # (H, 4H)
    Wx = W[:, H:]
    b = np.concatenate([params["b" + n[1]][:, 0] for n in STACK])
    WhyT = np.ascontiguousarray(params["Why"].T)
    by = params["by"][:, 0]
    hb, cb = fw.hs_before, fw.cs_before
    hr, hi = np.zeros((P, H)), np.zeros((P, H))
    cr, ci = np.zeros((P, H)), np.zeros((P, H))
    Lr, Li = prefix[np.minimum(start, T)].copy(), np.zeros(P)
    active = np.searchsorted(start, np.arange(T), side="right")
    ar = np.arange(P)
    if P and not sr.any():  # complex steps: the real parts are the unperturbed pass's
        Li = _imaginary_steps(fw, batch, cols, unit, si, start, W, b, WhyT, name in WEIGHTS)
        back = np.empty(P, dtype=np.intp)
        back[order] = np.arange(P)
        return np.full(P, prefix[T]), Li[back]  # Re L: the unperturbed loss, to O(s^2)
    n_prev = 0
    for t in range(int(start[0]) if P else T, T):
        n = int(active[t])
        hr[n_prev:n], cr[n_prev:n] = hb[t], cb[t]  # joining copies: the unperturbed state
        Gr = hr[:n] @ WhT + (Wx[:, batch.inputs[t]] + b)  # [Wf; Wi; Wo; Wc] z_t + b
        Gi = hi[:n] @ WhT
        if name in WEIGHTS:  # (W + s E_im) z_t adds s z_t[m] to row i
            m = cols[:n]
            is_h = m < H
            zr = np.where(is_h, hr[ar[:n], np.minimum(m, H - 1)],
                          (m - H == batch.inputs[t]).astype(np.float64))
            zi = np.where(is_h, hi[ar[:n], np.minimum(m, H - 1)], 0.0)
            dr, di = sc.mul((sr[:n], si[:n]), (zr, zi))
        else:  # a bias: adds s
            dr, di = sr[:n], si[:n]
        Gr[ar[:n], unit[:n]] += dr
        Gi[ar[:n], unit[:n]] += di
        sr3, si3 = sc.sigmoid((Gr[:, : 3 * H], Gi[:, : 3 * H]))  # f, i, o
        gr, gi = sc.tanh((Gr[:, 3 * H :], Gi[:, 3 * H :]))  # g
        fc = sc.mul((sr3[:, :H], si3[:, :H]), (cr[:n], ci[:n]))  # f * c_{t-1}
        ig = sc.mul((sr3[:, H : 2 * H], si3[:, H : 2 * H]), (gr, gi))  # i * g
        cr[:n], ci[:n] = fc[0] + ig[0], fc[1] + ig[1]  # c_t
        tc = sc.tanh((cr[:n], ci[:n]))
        hr[:n], hi[:n] = sc.mul((sr3[:, 2 * H :], si3[:, 2 * H :]), tc)  # h_t = o * tanh(c_t)
        yr = hr[:n] @ WhyT + by
        yi = hi[:n] @ WhyT
        lr, li = sc.cross_entropy(yr, yi, batch.targets[t])
        Lr[:n] += lr
        Li[:n] += li
        n_prev = n
    back = np.empty(P, dtype=np.intp)
    back[order] = np.arange(P)
    return Lr[back], Li[back]


def _imaginary_steps(fw: LSTMForward, batch: Batch, cols: np.ndarray, unit: np.ndarray,
                     si: np.ndarray, start: np.ndarray, W: np.ndarray, b: np.ndarray,
                     WhyT: np.ndarray, weight: bool) -> np.ndarray:
    """Im L of P copies moved by i si[p] (sorted by start), real parts shared.

    With a purely imaginary step, every real part (pre-activations, gates, c_t,
    h_t, logits) differs from the unperturbed forward pass's by O(si^2), as the
    vanilla cell's literal complex step uses (engines/complex_step.py): they are
    taken from ``fw``, once per step for all copies, and only the imaginary parts
    are carried, through the same complex functions (:mod:`.splitcomplex`) and one
    real product per step. Re L is the unperturbed loss (the caller's prefix sums).
    """
    T, H = fw.hs.shape
    P = len(si)
    WhT = np.ascontiguousarray(W[:, :H].T)  # (H, 4H)
    base = fw.zs @ W.T + b  # (T, 4H): the stacked pre-activations [f; i; o; c]
    hb, cb = fw.hs_before, fw.cs_before
    hi, ci = np.zeros((P, H)), np.zeros((P, H))  # Im h_{t-1}, Im c_{t-1}
    Li = np.zeros(P)
    active = np.searchsorted(start, np.arange(T), side="right")
    ar = np.arange(P)
    for t in range(int(start[0]), T):
        n = int(active[t])  # copies joining now carry Im = 0, as initialised
        Gi = hi[:n] @ WhT  # Im [Wf; Wi; Wo; Wc] z_t
        if weight:  # (W + i s E_im) z_t adds i s z_t[m] to row i (Re: O(s^2))
            m = cols[:n]
            is_h = m < H
            zr = np.where(is_h, hb[t][np.minimum(m, H - 1)],
                          (m - H == batch.inputs[t]).astype(np.float64))
            Gi[ar[:n], unit[:n]] += si[:n] * zr
        else:  # a bias: adds i s
            Gi[ar[:n], unit[:n]] += si[:n]
        Gr = base[t][None, :]
        sr3, si3 = sc.sigmoid((Gr[:, : 3 * H], Gi[:, : 3 * H]))  # f, i, o
        gi = sc.tanh((Gr[:, 3 * H :], Gi[:, 3 * H :]))[1]  # g
        gr = fw.g[t][None, :]
        fc = sc.mul((sr3[:, :H], si3[:, :H]), (cb[t][None, :], ci[:n]))  # f * c_{t-1}
        ig = sc.mul((sr3[:, H : 2 * H], si3[:, H : 2 * H]), (gr, gi))  # i * g
        ci[:n] = fc[1] + ig[1]  # Im c_t
        tc = sc.tanh((fw.cs[t][None, :], ci[:n]))
        hi[:n] = sc.mul((sr3[:, 2 * H :], si3[:, 2 * H :]), tc)[1]  # Im h_t, h_t = o tanh(c_t)
        yi = hi[:n] @ WhyT  # Im y_t
        Li[:n] += sc.cross_entropy(np.broadcast_to(fw.ys[t], yi.shape), yi,
                                   batch.targets[t])[1]
    return Li


def _output_losses(params: Params, fw: LSTMForward, batch: Batch, name: str, flat: np.ndarray,
                   sr: np.ndarray, si: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Why and by: the hidden states are the unperturbed ones; only y_t moves."""
    return output_losses(params, fw.hs, fw.ys, batch, name, flat, sr, si)


def output_losses(params: Params, hs: np.ndarray, ys: np.ndarray, batch: Batch, name: str,
                  flat: np.ndarray, sr: np.ndarray, si: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(Re L, Im L) of copies with Why[k, j] moved by s (y_t[k] += s h_t[j]) or by[k] (+= s)."""
    P = len(flat)
    if name == "Why":
        k, j = np.unravel_index(flat, params["Why"].shape)
    else:
        k, j = flat, np.zeros(P, dtype=np.intp)
    Lr, Li = np.zeros(P), np.zeros(P)
    ar = np.arange(P)
    for t in range(batch.seq):
        yr = np.repeat(ys[t][None, :], P, axis=0)
        yi = np.zeros_like(yr)
        coef = hs[t][j] if name == "Why" else np.ones(P)
        yr[ar, k] += sr * coef
        yi[ar, k] += si * coef
        lr, li = sc.cross_entropy(yr, yi, batch.targets[t])
        Lr += lr
        Li += li
    return Lr, Li
