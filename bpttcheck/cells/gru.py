"""The GRU cell: parameters, forward pass, and the forward pass on perturbed complex copies.

For t = 0 .. T-1, with x_t the one-hot input over the vocabulary V,
z_t = [h_{t-1}; x_t] of size H + V and h_{-1} = hprev::

    u_t = sigmoid(Wz z_t + bz)                         update gate
    r_t = sigmoid(Wr z_t + br)                         reset gate
    n_t = tanh(Wn [r_t * h_{t-1}; x_t] + bn)          candidate
    h_t = u_t * h_{t-1} + (1 - u_t) * n_t
    y_t = Why h_t + by,   L = sum_t -log softmax(y_t)[target_t]

Shapes: Wz, Wr, Wn (H, H+V); bz, br, bn (H, 1); Why (V, H); by (V, 1);
hprev (H, 1). The names avoid the vanilla cell's ``bh`` and cs231n's ``Wh``.
Weights are ``init_scale * randn`` drawn in the order Wz Wr Wn Why, biases zero.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..model import Batch, Params
from . import splitcomplex as sc
from .common import bmv, csigmoid, init_gated, one_hot, sigmoid, softmax_losses
from .lstm import output_losses

PARAMS = ("Wz", "Wr", "Wn", "bz", "br", "bn", "Why", "by")
WEIGHTS = ("Wz", "Wr", "Wn")
BIASES = ("bz", "br", "bn")
RECURRENT = WEIGHTS + BIASES
STATES = ("hprev",)


def init_params(hidden: int, vocab: int, scale: float, rng: np.random.Generator
                ) -> dict[str, np.ndarray]:
    """Weights ``scale * randn`` in the order Wz Wr Wn Why, biases zero."""
    return init_gated(WEIGHTS, BIASES, PARAMS, hidden, vocab, scale, rng)


@dataclasses.dataclass(frozen=True)
class GRUForward:
    """The forward pass, one row per time step."""

    hs: np.ndarray  # (T, H)
    u: np.ndarray  # (T, H) update gate
    r: np.ndarray  # (T, H) reset gate
    n: np.ndarray  # (T, H) candidate
    zs: np.ndarray  # (T, H + V): [h_{t-1}; x_t], what Wz and Wr multiply
    zns: np.ndarray  # (T, H + V): [r_t * h_{t-1}; x_t], what Wn multiplies
    hprev: np.ndarray  # (H,)
    ys: np.ndarray
    ps: np.ndarray
    losses: np.ndarray

    @property
    def loss(self) -> float:
        return float(self.losses.sum())

    @property
    def hs_before(self) -> np.ndarray:
        out: np.ndarray = np.vstack([self.hprev[None, :], self.hs[:-1]])
        return out


def forward(params: Params, batch: Batch) -> GRUForward:
    """Run the GRU over the sequence: states, gates, probabilities, losses."""
    Wz, Wr, Wn = (params[n] for n in WEIGHTS)
    bz, br, bn = (params[n][:, 0] for n in BIASES)
    Why, by = params["Why"], params["by"][:, 0]
    T, H = batch.seq, Wz.shape[0]
    xs = one_hot(batch.inputs, Why.shape[0])
    hs, us, rs, ns = (np.empty((T, H)) for _ in range(4))
    zs, zns = np.empty((T, Wz.shape[1])), np.empty((T, Wz.shape[1]))
    h = batch.hprev[:, 0]
    for t in range(T):
        z = zs[t] = np.concatenate([h, xs[t]])
        u = us[t] = sigmoid(Wz @ z + bz)
        r = rs[t] = sigmoid(Wr @ z + br)
        zn = zns[t] = np.concatenate([r * h, xs[t]])
        n = ns[t] = np.tanh(Wn @ zn + bn)
        h = hs[t] = u * h + (1 - u) * n
    ys = hs @ Why.T + by
    ps, losses = softmax_losses(ys, batch.targets)
    return GRUForward(hs, us, rs, ns, zs, zns, batch.hprev[:, 0].copy(), ys, ps, losses)


def complex_losses(params: dict[str, np.ndarray], batch: Batch) -> np.ndarray:
    """The forward pass above on P complex copies: every parameter has a leading axis P."""
    Wz, Wr, Wn = (params[n] for n in WEIGHTS)
    bz, br, bn = (params[n][:, :, 0] for n in BIASES)
    Why, by = params["Why"], params["by"][:, :, 0]
    P, V = Wz.shape[0], Why.shape[1]
    h = np.repeat(batch.hprev[None, :, 0], P, axis=0).astype(np.complex128)
    total = np.zeros(P, dtype=np.complex128)
    for t in range(batch.seq):
        x = np.zeros((P, V))
        x[:, batch.inputs[t]] = 1.0
        z = np.concatenate([h, x], axis=1)
        u = csigmoid(bmv(Wz, z) + bz)
        r = csigmoid(bmv(Wr, z) + br)
        n = np.tanh(bmv(Wn, np.concatenate([r * h, x], axis=1)) + bn)
        h = u * h + (1 - u) * n
        y = bmv(Why, h) + by
        m = y.real.max(axis=1, keepdims=True)
        total += np.log(np.exp(y - m).sum(axis=1)) + m[:, 0] - y[:, batch.targets[t]]
    return total


def complex_loss(params: dict[str, np.ndarray], batch: Batch) -> complex:
    """:func:`complex_losses` at one complex point."""
    return complex(complex_losses({n: p[None] for n, p in params.items()}, batch)[0])


def start_steps(name: str, flat: np.ndarray, params: Params, fw: GRUForward,
                batch: Batch) -> np.ndarray:
    """First step whose forward pass reads each element (T: never; its gradient is 0)."""
    T = batch.seq
    if name not in WEIGHTS:
        return np.zeros(len(flat), dtype=np.intp)
    cols = np.unravel_index(flat, params[name].shape)[1]
    nonzero = (fw.zns if name == "Wn" else fw.zs) != 0
    first = np.where(nonzero.any(axis=0), nonzero.argmax(axis=0), T).astype(np.intp)
    return first[cols]


def perturbed_losses(params: Params, fw: GRUForward, batch: Batch, name: str,
                     flat: np.ndarray, step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Re L, Im L) of P copies, copy p with element flat[p] of ``name`` moved by step[p].

    As :func:`bpttcheck.cells.lstm.perturbed_losses`: copies join at the first step
    that reads their element; two matrix products per step (gates, then candidate).
    """
    T, H = fw.hs.shape
    P = len(flat)
    sr, si = np.real(step).astype(np.float64), np.imag(step).astype(np.float64)
    if name in ("Why", "by"):  # the states do not read these: only the logits move
        return output_losses(params, fw.hs, fw.ys, batch, name, flat, sr, si)
    prefix = np.concatenate([[0.0], np.cumsum(fw.losses)])
    start = start_steps(name, flat, params, fw, batch)
    order = np.argsort(start, kind="stable")
    flat, start, sr, si = flat[order], start[order], sr[order], si[order]
    rows, cols = np.unravel_index(flat, params[name].shape)
    Wur = np.concatenate([params["Wz"], params["Wr"]])  # (2H, H + V): update, reset
    WurT = np.ascontiguousarray(Wur[:, :H].T)
    bur = np.concatenate([params["bz"][:, 0], params["br"][:, 0]])
    Wn = params["Wn"]
    WnT = np.ascontiguousarray(Wn[:, :H].T)
    bn = params["bn"][:, 0]
    WhyT = np.ascontiguousarray(params["Why"].T)
    by = params["by"][:, 0]
    hb = fw.hs_before
    hr, hi = np.zeros((P, H)), np.zeros((P, H))
    Lr, Li = prefix[np.minimum(start, T)].copy(), np.zeros(P)
    active = np.searchsorted(start, np.arange(T), side="right")
    ar = np.arange(P)
    gate_col = (0 if name in ("Wz", "bz") else H) + rows  # column in [u | r]
    n_prev = 0
    for t in range(int(start[0]) if P else T, T):
        n = int(active[t])
        a = ar[:n]
        hr[n_prev:n] = hb[t]  # joining copies: the unperturbed state
        x_t = batch.inputs[t]
        Gr = hr[:n] @ WurT + (Wur[:, H + x_t] + bur)
        Gi = hi[:n] @ WurT
        if name in ("Wz", "Wr", "bz", "br"):
            if name in ("Wz", "Wr"):  # (W + s E_im) z_t adds s z_t[m] to row i
                m = cols[:n]
                is_h = m < H
                zr = np.where(is_h, hr[a, np.minimum(m, H - 1)],
                              (m - H == x_t).astype(np.float64))
                zi = np.where(is_h, hi[a, np.minimum(m, H - 1)], 0.0)
                dr, di = sc.mul((sr[:n], si[:n]), (zr, zi))
            else:
                dr, di = sr[:n], si[:n]
            Gr[a, gate_col[:n]] += dr
            Gi[a, gate_col[:n]] += di
        sr2, si2 = sc.sigmoid((Gr, Gi))
        ur, ui, rr, ri = sr2[:, :H], si2[:, :H], sr2[:, H:], si2[:, H:]
        rhr, rhi = sc.mul((rr, ri), (hr[:n], hi[:n]))  # r * h_{t-1}
        Nr = rhr @ WnT + (Wn[:, H + x_t] + bn)
        Ni = rhi @ WnT
        if name in ("Wn", "bn"):
            if name == "Wn":  # adds s [r * h_{t-1}; x_t][m] to row i
                m = cols[:n]
                is_h = m < H
                zr = np.where(is_h, rhr[a, np.minimum(m, H - 1)],
                              (m - H == x_t).astype(np.float64))
                zi = np.where(is_h, rhi[a, np.minimum(m, H - 1)], 0.0)
                dr, di = sc.mul((sr[:n], si[:n]), (zr, zi))
            else:
                dr, di = sr[:n], si[:n]
            Nr[a, rows[:n]] += dr
            Ni[a, rows[:n]] += di
        nr, ni = sc.tanh((Nr, Ni))
        uh = sc.mul((ur, ui), (hr[:n], hi[:n]))  # u * h_{t-1}
        un = sc.mul((1.0 - ur, -ui), (nr, ni))  # (1 - u) * n
        hr[:n], hi[:n] = uh[0] + un[0], uh[1] + un[1]
        yr = hr[:n] @ WhyT + by
        yi = hi[:n] @ WhyT
        lr, li = sc.cross_entropy(yr, yi, batch.targets[t])
        Lr[:n] += lr
        Li[:n] += li
        n_prev = n
    back = np.empty(P, dtype=np.intp)
    back[order] = np.arange(P)
    return Lr[back], Li[back]
