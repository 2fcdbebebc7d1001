"""Plain finite differences: losses of the forward pass at theta + delta e_i, batched.

These are the classic cross-checks. Each perturbed copy of the network is run
through the real forward pass (tanh, shifted softmax, -log p) in float64; the
only liberties are ones that change no value beyond rounding:

- **Shared prefix.** Before the first step that feels theta_i (see
  :mod:`bpttcheck.engines.complex_step` for "start"), the perturbed network
  is the unperturbed one, so its losses L_t for t < start are the same numbers
  and are not recomputed. What is returned is sum_{t >= start} (L~_t - L_t).
- **Perturbed weights are never formed.** (Whh + delta E_ij) h~ is computed
  as Whh h~ plus delta h~[j] added to row i, so delta is exactly the step
  taken (no (theta + delta) - theta rounding of the step).
- **One product per step.** h~_{t-1} [Whh^T | Why^T] gives the next
  pre-activation and step t-1's logits at once, for P copies.
- **Output layer.** Why and by do not change the hidden states; moving one
  logit by u changes one term of the softmax sum, S_t - E_tk + exp(y_tk + u - m).

The differences themselves (central, forward, Richardson) and their error
bars are formed in :mod:`bpttcheck.engines.numeric`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..model import Batch, Forward, Params


@dataclasses.dataclass(frozen=True)
class Plain:
    """What every perturbed forward pass shares with the unperturbed one."""

    N: np.ndarray  # (H, H + V): [Whh^T | Why^T]
    base: np.ndarray  # (T, H): Wxh x_t + bh
    whh_prev: np.ndarray  # (T, H): Whh h_{t-1} (unperturbed)
    prev: np.ndarray  # (T, H): h_{t-1}
    by: np.ndarray  # (V,)
    m: np.ndarray  # (T,): max logit, the softmax shift
    losses: np.ndarray  # (T,): L_t
    targets: np.ndarray  # (T,)


def plain(params: Params, fw: Forward, batch: Batch, prev: np.ndarray) -> Plain:
    Wxh, Whh, Why = params["Wxh"], params["Whh"], params["Why"]
    N = np.ascontiguousarray(np.hstack([Whh.T, Why.T]))
    base = Wxh[:, list(batch.inputs)].T + params["bh"][:, 0]
    return Plain(N, base, prev @ Whh.T, prev, params["by"][:, 0], fw.ys.max(axis=1),
                 fw.losses, np.array(batch.targets))


def _step_losses(logits: np.ndarray, pl: Plain, t: int) -> np.ndarray:
    """L~_t = log(sum exp(y~ - m)) + m - y~[target] for rows of logits (modified in place)."""
    target = logits[:, pl.targets[t]].copy()
    np.subtract(logits, pl.m[t], out=logits)
    np.exp(logits, out=logits)
    losses: np.ndarray = np.log(logits.sum(axis=1)) + pl.m[t] - target
    return losses


def loss_changes(name: str, rows: np.ndarray, cols: np.ndarray, start: np.ndarray,
                 delta: np.ndarray, pl: Plain, inputs: tuple[int, ...]) -> np.ndarray:
    """sum_{t >= start} (L~_t - L_t) for hidden-layer elements moved by delta (sorted by start)."""
    P = len(rows)
    T, H = pl.base.shape
    V = pl.N.shape[1] - H
    S = np.empty((P, H))  # perturbed hidden states h~_t
    Z = np.empty((P, H + V))  # [Whh h~_{t-1} | logits of step t-1 without by]
    change = np.zeros(P)
    active = np.searchsorted(start, np.arange(T), side="right")
    ar = np.arange(P)
    n_prev = 0
    for t in range(int(start[0]) if P else T, T):
        n = int(active[t])
        if n_prev:
            np.matmul(S[:n_prev], pl.N, out=Z[:n_prev])
            logits = Z[:n_prev, H:]
            logits += pl.by
            change[:n_prev] += _step_losses(logits, pl, t - 1) - pl.losses[t - 1]
        S[n_prev:n] = pl.prev[t]  # rows starting now: h~_{t-1} = h_{t-1}
        Z[n_prev:n, :H] = pl.whh_prev[t]
        pre = Z[:n, :H]
        pre += pl.base[t]  # Wxh x_t + Whh h~_{t-1} + bh
        if name == "Whh":
            pre[ar[:n], rows[:n]] += delta[:n] * S[ar[:n], cols[:n]]  # + delta E_ij h~_{t-1}
        elif name == "Wxh":
            hit = cols[:n] == inputs[t]  # + delta E_ij x_t
            pre[ar[:n][hit], rows[:n][hit]] += delta[:n][hit]
        else:  # bh
            pre[ar[:n], rows[:n]] += delta[:n]
        np.tanh(pre, out=S[:n])
        n_prev = n
    if n_prev:
        logits = S[:n_prev] @ pl.N[:, H:] + pl.by
        change[:n_prev] += _step_losses(logits, pl, T - 1) - pl.losses[T - 1]
    return change


def output_loss_changes(name: str, flat: np.ndarray, delta: np.ndarray, fw: Forward,
                        pl: Plain) -> np.ndarray:
    """sum_t (L~_t - L_t) when Why or by (flat indices) moves by delta: one logit per step."""
    T, V = fw.ys.shape
    H = fw.hs.shape[1]
    if name == "by":
        k = flat
        u = np.broadcast_to(delta, (T, len(flat)))  # y_t[k] + delta
    else:
        k, j = np.unravel_index(flat, (V, H))
        u = fw.hs[:, j] * delta  # y_t[k] + delta h_t[j]
    E = np.exp(fw.ys - pl.m[:, None])
    S = E.sum(axis=1)
    yk = fw.ys[:, k]
    moved_sum = S[:, None] - E[:, k] + np.exp(yk + u - pl.m[:, None])
    target_moves = (k[None, :] == pl.targets[:, None]) * u
    losses = (np.log(moved_sum) + pl.m[:, None]
              - (fw.ys[np.arange(T), pl.targets][:, None] + target_moves))
    change: np.ndarray = (losses - pl.losses[:, None]).sum(axis=0)
    return change
