"""Reference BPTT for the GRU: the double sum over k <= t through explicit state Jacobians.

The state is h. For a parameter theta of the gates::

    dL/dtheta = sum_t sum_{k<=t} dL_t/dh_t . dh_t/dh_k . d+h_k/dtheta,
    dh_t/dh_k = prod_{j=k+1}^{t} J_j,

with, writing diag(v) as v*, W_h for the first H columns of W, and
d = (1 - u_j)(1 - n_j^2) (the candidate's weight in h_j times tanh')::

    J_j = u_j* + ((h_{j-1} - n_j) u_j (1-u_j))* Wz_h
               + d* Wn_h (r_j* + (h_{j-1} r_j (1-r_j))* Wr_h)

The immediate derivatives (h_{k-1} fixed) through the pre-activations:
dh_k/da_u = ((h_{k-1} - n_k) u_k (1-u_k))*, dh_k/da_n = d*, and
dh_k/da_r = d* Wn_h (h_{k-1} r_k (1-r_k))*, a full matrix: the reset gate acts
through the candidate's product. The (t, k) terms are outer(dL_t/da_u, z_k) for
Wz, outer(dL_t/da_r, z_k) for Wr and outer(dL_t/da_n, [r_k h_{k-1}; x_k]) for Wn.

Every J_j is formed as a matrix and every (t, k) term on its own: O(T^2 H^2).
Nothing is shared with the tutorial engine but the forward pass of
:mod:`bpttcheck.cells.gru`.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..engines.base import Gradients, Options
from ..model import Batch, Params
from .gru import BIASES, WEIGHTS, GRUForward, forward
from .lstm_tutorial import finish

GATES = ("u", "r", "n")  # pre-activations of Wz, Wr, Wn


def state_jacobians(params: Params, fw: GRUForward) -> np.ndarray:
    """(T, H, H): J_j = dh_j/dh_{j-1}."""
    T, H = fw.hs.shape
    Wz_h, Wr_h, Wn_h = (params[n][:, :H] for n in WEIGHTS)
    h_before = fw.hs_before
    J = np.zeros((T, H, H))
    for j in range(T):
        u, r, n, hp = fw.u[j], fw.r[j], fw.n[j], h_before[j]
        d = (1 - u) * (1 - n**2)
        dr_dh = (r * (1 - r))[:, None] * Wr_h  # dr_j/dh_{j-1}
        drh_dh = np.diag(r) + hp[:, None] * dr_dh  # d(r_j h_{j-1})/dh_{j-1}
        J[j] = np.diag(u) + ((hp - n) * u * (1 - u))[:, None] * Wz_h + d[:, None] * (Wn_h @ drh_dh)
    return J


def immediate(params: Params, fw: GRUForward, k: int) -> np.ndarray:
    """(3, H, H): d+h_k/da for the u, r and n pre-activations (h_{k-1} fixed)."""
    H = fw.hs.shape[1]
    u, r, n, hp = fw.u[k], fw.r[k], fw.n[k], fw.hs_before[k]
    d = (1 - u) * (1 - n**2)
    out = np.zeros((3, H, H))
    out[0] = np.diag((hp - n) * u * (1 - u))
    out[1] = d[:, None] * params["Wn"][:, :H] * (hp * r * (1 - r))[None, :]
    out[2] = np.diag(d)
    return out


def contributions(params: Params, fw: GRUForward, batch: Batch
                  ) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """Yield (t, k, dL_t/dh_k, dL_t/da_k) for every term; dL_t/da_k is (3, H): u, r, n."""
    T = fw.hs.shape[0]
    J = state_jacobians(params, fw)
    local = [immediate(params, fw, k) for k in range(T)]
    Why = params["Why"]
    for t in range(T):
        dy = fw.ps[t].copy()
        dy[batch.targets[t]] -= 1  # dL_t/dy_t
        dLt_dh = Why.T @ dy  # dL_t/dh_t
        for k in range(t, -1, -1):
            dLt_da = np.einsum("s,nsh->nh", dLt_dh, local[k])
            yield t, k, dLt_dh, dLt_da
            dLt_dh = dLt_dh @ J[k]  # one more factor: dh_k/dh_{k-1}


def gradients(params: Params, batch: Batch, options: Options) -> Gradients:
    fw = forward(params, batch)
    T, H = fw.hs.shape
    grads = {name: np.zeros_like(p) for name, p in params.items()}
    steps = ({n: np.zeros((T, *p.shape)) for n, p in params.items()}
             if options.record_steps else None)
    for t in range(T):  # the output layer: only k = t
        dy = fw.ps[t].copy()
        dy[batch.targets[t]] -= 1
        grads["Why"] += np.outer(dy, fw.hs[t])
        grads["by"][:, 0] += dy
        if steps is not None:
            steps["Why"][t] += np.outer(dy, fw.hs[t])
            steps["by"][t, :, 0] += dy
    J0 = state_jacobians(params, fw)[0] if T else np.zeros((H, H))
    dhprev = np.zeros(H)
    multiplies = {"Wz": fw.zs, "Wr": fw.zs, "Wn": fw.zns}
    for _t, k, dLt_dh, dLt_da in contributions(params, fw, batch):
        for n, (W, b) in enumerate(zip(WEIGHTS, BIASES, strict=True)):
            term = np.outer(dLt_da[n], multiplies[W][k])
            grads[W] += term
            grads[b][:, 0] += dLt_da[n]
            if steps is not None:
                steps[W][k] += term
                steps[b][k, :, 0] += dLt_da[n]
        if k == 0:
            dhprev += dLt_dh @ J0
    return finish("reference", fw.loss, grads, dhprev[:, None], options, steps)
