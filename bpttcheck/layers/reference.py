"""The vanilla tanh RNN layer, in our layout, and its gradient as the explicit double sum.

Our layout: a batch of N sequences of T dense inputs of size D and hidden size H::

    x (N, T, D), h0 (N, H), Wxh (H, D), Whh (H, H), bh (H,)
    h_t = tanh(x_t Wxh^T + h_{t-1} Whh^T + bh)        rows are sequences, h_{-1} = h0

A layer has no loss of its own: it is checked with L = <G, h> = sum G[n, t, j]
h[n, t, j] for a fixed upstream gradient G (N, T, H), so dL/dh_t = G_t.

The gradient, written as the lecture writes BPTT: the loss at step t reaches
every step k <= t through the chain h_t <- h_{t-1} <- ... <- h_k::

    dL/dtheta = sum_t sum_{k <= t} (dL_t/dh_t) (prod_{j = k+1..t} dh_j/dh_{j-1}) dh_k/dtheta

computed literally: for each loss step t, the error G_t is carried back from
step t to step 0 alone (no running ``dhnext`` shared between loss steps), each
k adding its term. O(T^2) steps; a layer check is small.
"""

from __future__ import annotations

import numpy as np

OURS = ("x", "h0", "Wxh", "Whh", "bh")  # every input of the layer is differentiated


def forward(p: dict[str, np.ndarray]) -> np.ndarray:
    """h (N, T, H) for our parameters ``p`` (complex-safe: tanh and products only)."""
    x, h = p["x"], p["h0"]
    N, T, _ = x.shape
    out = np.empty((N, T, p["Whh"].shape[0]), dtype=np.result_type(x, h, p["Wxh"], p["Whh"]))
    for t in range(T):
        h = np.tanh(x[:, t] @ p["Wxh"].T + h @ p["Whh"].T + p["bh"])  # h_t
        out[:, t] = h
    return out


def gradients(p: dict[str, np.ndarray], G: np.ndarray, steps: bool = False, *,
              window: int | None = None, carry_transposed: bool = False
              ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
    """dL/dtheta for L = <G, h>, every input included; with ``steps``, also each loss
    step's own gradient dL_t/dtheta (row t of a (T, *shape) array per name).

    Two deliberate departures, for naming a user's bug exactly: ``window`` w
    keeps only the terms with t - k < w (w = 1: nothing carried back in time);
    ``carry_transposed`` carries the error back through Whh^T instead of Whh
    (row layout), the missing transpose in ``dh_{k-1} = dh_k Whh``.
    """
    hs = forward(p)
    x, h0, Wxh, Whh = p["x"], p["h0"], p["Wxh"], p["Whh"]
    T = x.shape[1]
    total = {n: np.zeros_like(p[n]) for n in OURS}
    per = {n: np.zeros((T, *p[n].shape)) for n in OURS} if steps else None
    for t in range(T):  # the loss at step t ...
        g = {n: np.zeros_like(p[n]) for n in OURS}
        dh = G[:, t]  # dL_t/dh_t
        last = 0 if window is None else max(0, t - window + 1)
        carry = Whh.T if carry_transposed else Whh
        for k in range(t, last - 1, -1):  # ... reaches every step k <= t
            h_before = h0 if k == 0 else hs[:, k - 1]
            draw = dh * (1 - hs[:, k] ** 2)  # through tanh at step k
            g["Wxh"] += draw.T @ x[:, k]  # dh_k/dWxh
            g["Whh"] += draw.T @ h_before  # dh_k/dWhh
            g["bh"] += draw.sum(axis=0)  # dh_k/dbh
            g["x"][:, k] += draw @ Wxh  # dh_k/dx_k
            dh = draw @ carry  # on to h_{k-1}
        if last == 0:
            g["h0"] += dh  # what reached h_{-1}
        for n in OURS:
            total[n] += g[n]
            if per is not None:
                per[n][t] = g[n]
    return total, per
