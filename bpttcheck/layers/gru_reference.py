"""The GRU layer, in our layout, and its gradient as the explicit double sum over k <= t.

Our layout: a batch of N sequences of T dense inputs of size D, hidden size H::

    x (N, T, D), h0 (N, H), Wz Wr Wn (H, H + D), bz br bn (H,)
    u = sigma([h_{k-1}; x_k] Wz^T + bz)           update gate (its parameters Wz, bz)
    r = sigma([h_{k-1}; x_k] Wr^T + br)           reset gate
    n = tanh([r * h_{k-1}; x_k] Wn^T + bn)        candidate
    h_k = u * h_{k-1} + (1 - u) * n,              h_{-1} = h0

the issue's GRU with dense inputs (a cs231n-like layer stacks the three gates
z, r, n in Wx (D, 3H), Wh (H, 3H), b (3H,); Wh's n block multiplies r * h).
It is checked with L = <G, h> for a fixed upstream gradient G (N, T, H).

The gradient, as the lecture writes BPTT, with the state s_k = h_k::

    dL/dtheta = sum_t sum_{k <= t} G_t (prod_{j = k+1..t} J_j) d+h_k/dtheta

    J_j = dh_j/dh_{j-1} = u* + ((h_{j-1} - n) u (1-u))* Wz_h
                          + ((1-u)(1-n^2))* Wn_h (r* + (h_{j-1} r (1-r))* Wr_h)

(v* = diag(v), W_h the first H columns of W). The immediate derivatives go
through the pre-activations: dh_k/da_z = ((h_{k-1} - n) u (1-u))*,
dh_k/da_n = ((1-u)(1-n^2))*, dh_k/da_r = dh_k/da_n Wn_h (h_{k-1} r (1-r))*;
the (t, k) term of dL/dWq is dL_t/da_q^T [h_{k-1}; x_k] ([r * h_{k-1}; x_k]
for n). Each J_j is formed as an (H, H) matrix per sequence and every (t, k)
term is added on its own; nothing is shared with any backward pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from .lstm_reference import gated_point, sigmoid

GATES = ("z", "r", "n")
WEIGHT = {"z": "Wz", "r": "Wr", "n": "Wn"}
BIAS = {"z": "bz", "r": "br", "n": "bn"}
GATE_LABEL = {"z": "update", "r": "reset", "n": "candidate"}
OURS = ("x", "h0", *WEIGHT.values(), *BIAS.values())
EQUATION = "h_t = u * h_(t-1) + (1 - u) * n, n = tanh(Wn [r * h_(t-1); x_t] + bn)"
LAYER_STREAM = 15  # seed word of the GRU layer's point and upstream gradient


@dataclasses.dataclass(frozen=True)
class Variant:
    """One departure from the exact sum, the way a known bug computes the gradient.

    ``flip_u``: the backward of h = (1 - u) h_{k-1} + u n (the update gate's
    roles swapped); ``reset_grad`` False: nothing reaches the reset gate
    (dL/da_r = 0); ``window`` w: only the terms with t - k < w.
    """

    flip_u: bool = False
    reset_grad: bool = True
    window: int | None = None


EXACT = Variant()


@dataclasses.dataclass(frozen=True)
class GRULayerForward:
    hs: np.ndarray  # (N, T, H)
    z: np.ndarray  # the update gate u
    r: np.ndarray
    n: np.ndarray
    before: np.ndarray  # (N, T, H): h_{k-1}


def run(p: Mapping[str, np.ndarray]) -> GRULayerForward:
    """The forward pass on our parameters ``p`` (complex-safe)."""
    x, h = p["x"], p["h0"]
    N, T, _ = x.shape
    H = p["Wz"].shape[0]
    kind = np.result_type(x, h, *(p[n] for n in OURS[2:]))
    out = {n: np.empty((N, T, H), dtype=kind) for n in ("hs", "z", "r", "n", "before")}
    for t in range(T):
        zx = np.concatenate([h, x[:, t]], axis=1)  # [h_{t-1}; x_t]
        u = sigmoid(zx @ p["Wz"].T + p["bz"])  # update gate
        r = sigmoid(zx @ p["Wr"].T + p["br"])  # reset gate
        n = np.tanh(np.concatenate([r * h, x[:, t]], axis=1) @ p["Wn"].T + p["bn"])  # candidate
        out["before"][:, t] = h
        h = u * h + (1 - u) * n  # h_t
        for name, v in (("hs", h), ("z", u), ("r", r), ("n", n)):
            out[name][:, t] = v
    return GRULayerForward(**out)


def forward(p: Mapping[str, np.ndarray]) -> np.ndarray:
    return run(p).hs


def point(sizes: Mapping[str, int], seed: int) -> tuple[dict[str, np.ndarray], np.ndarray,
                                                         dict[str, np.ndarray]]:
    """Our parameters and G: inputs standard normal, weights randn / sqrt(H + D), biases
    0.1 randn, h0 squashed by tanh (as for the other layers)."""
    ours, G, _ = gated_point(sizes, seed, [WEIGHT[q] for q in GATES], [BIAS[q] for q in GATES])
    return ours, G, {}


def _local(p: Mapping[str, np.ndarray], fw: GRULayerForward, k: int, v: Variant
           ) -> dict[str, np.ndarray]:
    """dh_k/da_q (N, H) for q = z, n as diagonals; for r, dh_k/da_r (N, H, H) in full."""
    u, r, n, h = fw.z[:, k], fw.r[:, k], fw.n[:, k], fw.before[:, k]
    H = h.shape[1]
    Wn_h = p["Wn"][:, :H]
    gate = (n - h) if v.flip_u else (h - n)  # dh_k/du
    keep = u if v.flip_u else 1 - u  # the candidate's share of h_k
    dn = keep * (1 - n**2)  # dh_k/da_n
    dr = dn[:, :, None] * Wn_h[None] * (h * r * (1 - r))[:, None, :]  # dh_k/da_r
    if not v.reset_grad:
        dr = np.zeros_like(dr)
    return {"z": gate * u * (1 - u), "n": dn, "r": dr}


def jacobians(p: Mapping[str, np.ndarray], fw: GRULayerForward, k: int, v: Variant
              ) -> tuple[np.ndarray, np.ndarray]:
    """(J_k (N, H, H) = dh_k/dh_{k-1}, dh_k/dx_k (N, H, D)), one matrix per sequence."""
    u, r, h = fw.z[:, k], fw.r[:, k], fw.before[:, k]
    N, H = h.shape
    loc = _local(p, fw, k, v)
    W = {q: p[WEIGHT[q]] for q in GATES}
    direct = 1 - u if v.flip_u else u  # h_k's share of h_{k-1}
    J = direct[:, :, None] * np.eye(H)[None]
    J = J + loc["z"][:, :, None] * W["z"][None, :, :H]  # through u
    J = J + loc["n"][:, :, None] * W["n"][None, :, :H] * r[:, None, :]  # through r * h in n
    J = J + loc["r"] @ W["r"][:, :H]  # through r
    dx = (loc["z"][:, :, None] * W["z"][None, :, H:] + loc["n"][:, :, None] * W["n"][None, :, H:]
          + loc["r"] @ W["r"][:, H:])
    return J, dx


def gradients(p: Mapping[str, np.ndarray], G: np.ndarray, steps: bool = False,
              variant: Variant = EXACT
              ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
    """dL/dtheta for L = <G, h>; with ``steps``, also each loss step's own gradient."""
    fw = run(p)
    N, T, H = fw.hs.shape
    x = p["x"]
    local = [_local(p, fw, k, variant) for k in range(T)]
    jac = [jacobians(p, fw, k, variant) for k in range(T)]
    total = {n: np.zeros(p[n].shape) for n in OURS}
    per = {n: np.zeros((T, *p[n].shape)) for n in OURS} if steps else None
    for t in range(T):  # the loss at step t ...
        term = {n: np.zeros(p[n].shape) for n in OURS}
        dh = G[:, t]  # dL_t/dh_t
        last = 0 if variant.window is None else max(0, t - variant.window + 1)
        for k in range(t, last - 1, -1):  # ... reaches every step k <= t
            loc = local[k]
            h_before, r = fw.before[:, k], fw.r[:, k]
            z_plain = np.concatenate([h_before, x[:, k]], axis=1)
            z_reset = np.concatenate([r * h_before, x[:, k]], axis=1)
            da = {"z": dh * loc["z"], "n": dh * loc["n"],
                  "r": np.einsum("nh,nhj->nj", dh, loc["r"])}
            for q in GATES:
                term[WEIGHT[q]] += da[q].T @ (z_reset if q == "n" else z_plain)  # da^T z_k
                term[BIAS[q]] += da[q].sum(axis=0)
            term["x"][:, k] += np.einsum("nh,nhd->nd", dh, jac[k][1])  # dh_k/dx_k
            dh = np.einsum("nh,nhj->nj", dh, jac[k][0])  # on to h_{k-1}
        if last == 0:
            term["h0"] += dh  # what reached h_{-1}
        for n in OURS:
            total[n] += term[n]
            if per is not None:
                per[n][t] = term[n]
    return total, per
