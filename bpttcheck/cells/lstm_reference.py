"""Reference BPTT for the LSTM: the double sum over k <= t through explicit state Jacobians.

The state is s_k = (h_k, c_k), 2H numbers. For a parameter theta of the gates::

    dL/dtheta = sum_t sum_{k<=t} dL_t/ds_t . ds_t/ds_k . d+s_k/dtheta

    ds_t/ds_k = prod_{j=k+1}^{t} J_j,    J_j = ds_j/ds_{j-1}  (2H x 2H)

where dL_t/ds_t = (Why^T dy_t, 0) and d+s_k/dtheta is the immediate derivative
(s_{k-1} held fixed). Written in blocks, with tc_j = tanh(c_j) and
diag(v) written v*::

    dc_j/dc_{j-1} = f_j*
    dc_j/dh_{j-1} = (c_{j-1} f_j (1-f_j))* Wf_h + (g_j i_j (1-i_j))* Wi_h + (i_j (1-g_j^2))* Wc_h
    dh_j/dc_{j-1} = (o_j (1-tc_j^2))* dc_j/dc_{j-1}
    dh_j/dh_{j-1} = (tc_j o_j (1-o_j))* Wo_h + (o_j (1-tc_j^2))* dc_j/dh_{j-1}

(W_h is the first H columns of W, the part that multiplies h_{j-1}). The
immediate derivatives go through the gates' pre-activations a = W z_k + b:

    dc_k/da_f = (c_{k-1} f (1-f))*,  dc_k/da_i = (g i (1-i))*,  dc_k/da_g = (i (1-g^2))*,
    dh_k/da_(f,i,g) = (o (1-tc^2))* dc_k/da_(f,i,g),   dh_k/da_o = (tc o (1-o))*,

and the (t, k) term of dL/dW is outer(dL_t/da_k, z_k), of dL/db dL_t/da_k. The
output layer has no recurrence: Why and by only get the k = t terms.

Every J_j is formed as a matrix and every (t, k) term on its own: O(T^2 H^2)
work, the way the sum is written, not the way to compute it fast. Nothing is
shared with the tutorial engine but the forward pass of :mod:`bpttcheck.cells.lstm`.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..engines.base import Gradients, Options
from ..model import Batch, Params
from .lstm import BIASES, WEIGHTS, LSTMForward, forward
from .lstm_tutorial import finish

GATES = ("f", "i", "g", "o")  # the pre-activation of gate g is W{f,i,c,o} z + b{f,i,c,o}


def state_jacobians(params: Params, fw: LSTMForward) -> np.ndarray:
    """(T, 2H, 2H): J_j = d(h_j, c_j)/d(h_{j-1}, c_{j-1})."""
    T, H = fw.hs.shape
    Wf_h, Wi_h, Wc_h, Wo_h = (params[n][:, :H] for n in WEIGHTS)
    c_before = fw.cs_before
    J = np.zeros((T, 2 * H, 2 * H))
    for j in range(T):
        f, i, g, o = fw.f[j], fw.i[j], fw.g[j], fw.o[j]
        tc = np.tanh(fw.cs[j])
        dc_dcprev = np.diag(f)
        dc_dhprev = ((c_before[j] * f * (1 - f))[:, None] * Wf_h
                     + (g * i * (1 - i))[:, None] * Wi_h
                     + (i * (1 - g**2))[:, None] * Wc_h)
        dh_dc = np.diag(o * (1 - tc**2))
        J[j, :H, :H] = (tc * o * (1 - o))[:, None] * Wo_h + dh_dc @ dc_dhprev  # dh_j/dh_{j-1}
        J[j, :H, H:] = dh_dc @ dc_dcprev  # dh_j/dc_{j-1}
        J[j, H:, :H] = dc_dhprev  # dc_j/dh_{j-1}
        J[j, H:, H:] = dc_dcprev  # dc_j/dc_{j-1}
    return J


def immediate(fw: LSTMForward, k: int) -> np.ndarray:
    """(4, 2H, H): d+s_k/da_gate for gates f, i, g, o (s_{k-1} fixed), diagonal blocks."""
    H = fw.hs.shape[1]
    f, i, g, o = fw.f[k], fw.i[k], fw.g[k], fw.o[k]
    tc = np.tanh(fw.cs[k])
    c_before = fw.cs_before[k]
    dc_da = {"f": c_before * f * (1 - f), "i": g * i * (1 - i), "g": i * (1 - g**2),
             "o": np.zeros(H)}
    dh_da = {q: o * (1 - tc**2) * dc_da[q] for q in "fig"}
    dh_da["o"] = tc * o * (1 - o)
    out = np.zeros((4, 2 * H, H))
    for n, q in enumerate(GATES):
        out[n, :H] = np.diag(dh_da[q])
        out[n, H:] = np.diag(dc_da[q])
    return out


def contributions(params: Params, fw: LSTMForward, batch: Batch
                  ) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """Yield (t, k, dL_t/ds_k, dL_t/da_k) for every term, t outer, k = t down to 0.

    dL_t/ds_k is (2H,) = (dL_t/dh_k, dL_t/dc_k); dL_t/da_k is (4, H), gates f, i, g, o.
    """
    T, H = fw.hs.shape
    J = state_jacobians(params, fw)
    local = [immediate(fw, k) for k in range(T)]
    Why = params["Why"]
    for t in range(T):
        dy = fw.ps[t].copy()
        dy[batch.targets[t]] -= 1  # dL_t/dy_t
        dLt_ds = np.concatenate([Why.T @ dy, np.zeros(H)])  # dL_t/ds_t: c_t is not read by y_t
        for k in range(t, -1, -1):
            dLt_da = np.einsum("s,nsh->nh", dLt_ds, local[k])  # through the immediate part
            yield t, k, dLt_ds, dLt_da
            dLt_ds = dLt_ds @ J[k]  # one more factor: ds_k/ds_{k-1}


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
    J0 = state_jacobians(params, fw)[0] if T else np.zeros((2 * H, 2 * H))
    dsprev = np.zeros(2 * H)
    for _t, k, dLt_ds, dLt_da in contributions(params, fw, batch):  # every k <= t
        for n, (W, b) in enumerate(zip(WEIGHTS, BIASES, strict=True)):
            grads[W] += np.outer(dLt_da[n], fw.zs[k])  # immediate dW: outer(da, z_k)
            grads[b][:, 0] += dLt_da[n]
            if steps is not None:
                steps[W][k] += np.outer(dLt_da[n], fw.zs[k])
                steps[b][k, :, 0] += dLt_da[n]
        if k == 0:
            dsprev += dLt_ds @ J0  # the last factor, ds_0/ds_{-1}
    return finish("reference", fw.loss, grads, dsprev[:H, None], options, steps)
