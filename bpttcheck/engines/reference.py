"""Reference BPTT: the lecture's double sum, computed literally.

For a parameter theta of the hidden layer (Wxh, Whh, bh)::

    dL/dtheta = sum_{t=0}^{T-1} sum_{k=0}^{t}  dL_t/dh_t . dh_t/dh_k . d+h_k/dtheta

    dh_t/dh_k = prod_{j=k+1}^{t} dh_j/dh_{j-1},   dh_j/dh_{j-1} = diag(1 - h_j^2) Whh

where d+h_k/dtheta is the *immediate* derivative (h_{k-1} held fixed):
diag(1 - h_k^2) times h_{k-1}^T for Whh, x_k^T for Wxh and 1 for bh. The
output layer has no recurrence, so Why and by only get the k = t term.
dL/dhprev = sum_t dL_t/dh_t . dh_t/dh_{-1}.

The outer loop is over loss steps t; the inner loop walks k from t down to 0
and multiplies one more Jacobian factor dh_k/dh_{k-1} onto the row vector
dL_t/dh_k each time, so every (t, k) term of the sum is formed on its own.
That is O(T^2) work, against the tutorial's O(T): the point is that it is
written the way the lecture writes it, not that it is fast.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..model import Batch, Forward, Params, forward, with_biases
from .base import Gradients, Options, restricted


def contributions(
    params: Params, fw: Forward, batch: Batch
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield (t, k, dL_t/da_k) for every term of the double sum, t outer, k <= t inner.

    a_k is step k's pre-activation, so the (t, k) term of dL/dWhh is
    ``outer(dL_t/da_k, h_{k-1})``, of dL/dWxh ``outer(dL_t/da_k, x_k)`` and of
    dL/dbh ``dL_t/da_k`` itself.
    """
    Whh, Why = params["Whh"], params["Why"]
    for t in range(batch.seq):
        dy = fw.ps[t].copy()
        dy[batch.targets[t]] -= 1  # dL_t/dy_t for softmax cross-entropy
        dLt_dhk = Why.T @ dy  # dL_t/dh_t: starts at k = t
        for k in range(t, -1, -1):
            dLt_dak = (1 - fw.hs[k] ** 2) * dLt_dhk  # through tanh at step k
            yield t, k, dLt_dak
            dLt_dhk = Whh.T @ dLt_dak  # one more factor: dh_k/dh_{k-1}


def gradients(params: Params, batch: Batch, options: Options) -> Gradients:
    if batch.width is not None:  # a batch: each column on its own, summed (.batched)
        from .batched import per_column

        return per_column(gradients, params, batch, options)
    if "bh" not in params:  # a bias-free model: bh = by = 0 held fixed, their gradients dropped
        return restricted(gradients(with_biases(params), batch, options), params)
    fw = forward(params, batch)
    Whh = params["Whh"]
    grads = {name: np.zeros_like(p) for name, p in params.items()}
    dWxh, dWhh, dWhy, dbh, dby = (grads[n] for n in ("Wxh", "Whh", "Why", "bh", "by"))
    dhprev = np.zeros(Whh.shape[0])
    T = batch.seq
    steps = None
    if options.record_steps:
        steps = {n: np.zeros((T, *p.shape)) for n, p in params.items()}
    for t in range(T):  # the output layer: only k = t
        dy = fw.ps[t].copy()
        dy[batch.targets[t]] -= 1  # dL_t/dy_t
        dWhy += np.outer(dy, fw.hs[t])  # dL_t/dWhy
        dby[:, 0] += dy  # dL_t/dby
        if steps is not None:
            steps["Why"][t] += np.outer(dy, fw.hs[t])
            steps["by"][t, :, 0] += dy
    for _t, k, dLt_dak in contributions(params, fw, batch):  # the hidden layer: all k <= t
        dWhh += np.outer(dLt_dak, fw.h_before(k))  # immediate dh_k/dWhh
        dWxh[:, batch.inputs[k]] += dLt_dak  # immediate dh_k/dWxh: x_k is one-hot
        dbh[:, 0] += dLt_dak  # immediate dh_k/dbh
        if k == 0:
            dhprev += Whh.T @ dLt_dak  # the last factor, dh_0/dhprev
        if steps is not None:  # column sums: everything that flows through step k
            steps["Whh"][k] += np.outer(dLt_dak, fw.h_before(k))
            steps["Wxh"][k][:, batch.inputs[k]] += dLt_dak
            steps["bh"][k, :, 0] += dLt_dak
    return Gradients("reference", fw.loss, grads, dhprev=dhprev[:, None], steps=steps)
