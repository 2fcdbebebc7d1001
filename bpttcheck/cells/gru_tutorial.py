"""The GRU's backward pass as course material writes it: one walk back, carrying dhnext.

At step t, ``dh`` holds dL/dh_t from every loss step t' >= t: this step's
``Why.T @ dy`` plus ``dhnext``. h_{t-1} reaches h_t four ways -- directly
through u * h_{t-1}, through the reset product r * h_{t-1} inside the
candidate, and through the pre-activations of u and r -- and ``dhnext`` sums
all four, so the double sum over k <= t is regrouped by k as in min-char-rnn.
"""

from __future__ import annotations

import numpy as np

from ..engines.base import Gradients, Options
from ..model import Batch, Params
from .common import sigmoid
from .gru import PARAMS
from .lstm_tutorial import finish


def gradients(params: Params, batch: Batch, options: Options) -> Gradients:
    Wz, Wr, Wn, bz, br, bn, Why, by = (params[n] for n in PARAMS)
    inputs, targets, hprev = batch.inputs, batch.targets, batch.hprev
    vocab_size, hidden_size = Why.shape
    xs, zs, zns, us, rs, ns, hs, ys, ps = {}, {}, {}, {}, {}, {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0.0
    for t in range(len(inputs)):  # forward pass
        xs[t] = np.zeros((vocab_size, 1))  # encode in 1-of-k representation
        xs[t][inputs[t]] = 1
        zs[t] = np.vstack((hs[t - 1], xs[t]))  # z = [h_{t-1}; x_t]
        us[t] = sigmoid(np.dot(Wz, zs[t]) + bz)  # update gate
        rs[t] = sigmoid(np.dot(Wr, zs[t]) + br)  # reset gate
        zns[t] = np.vstack((rs[t] * hs[t - 1], xs[t]))  # [r * h_{t-1}; x_t]
        ns[t] = np.tanh(np.dot(Wn, zns[t]) + bn)  # candidate
        hs[t] = us[t] * hs[t - 1] + (1 - us[t]) * ns[t]  # hidden state
        ys[t] = np.dot(Why, hs[t]) + by  # unnormalized log probabilities
        shifted = np.exp(ys[t] - np.max(ys[t]))
        ps[t] = shifted / np.sum(shifted)  # probabilities for next chars
        loss += float(np.log(np.sum(shifted)) + np.max(ys[t]) - ys[t][targets[t], 0])
    dWz, dWr, dWn = (np.zeros_like(W) for W in (Wz, Wr, Wn))
    dbz, dbr, dbn = (np.zeros_like(b) for b in (bz, br, bn))
    dWhy, dby = np.zeros_like(Why), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    steps = ({n: np.zeros((len(inputs), *p.shape)) for n, p in params.items()}
             if options.record_steps else None)
    for t in reversed(range(len(inputs))):  # backward pass
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1  # backprop into y
        dWhy += np.dot(dy, hs[t].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dhnext  # backprop into h: this step's loss plus all later
        du_raw = dh * (hs[t - 1] - ns[t]) * us[t] * (1 - us[t])  # update gate, its sigmoid
        dn_raw = dh * (1 - us[t]) * (1 - ns[t] * ns[t])  # candidate, through tanh
        dzn = np.dot(Wn.T, dn_raw)  # back into [r * h_{t-1}; x_t]
        drh = dzn[:hidden_size]  # into r * h_{t-1}
        dr_raw = drh * hs[t - 1] * rs[t] * (1 - rs[t])  # reset gate, through its sigmoid
        dWz += np.dot(du_raw, zs[t].T)
        dWr += np.dot(dr_raw, zs[t].T)
        dWn += np.dot(dn_raw, zns[t].T)
        dbz += du_raw
        dbr += dr_raw
        dbn += dn_raw
        dz = np.dot(Wz.T, du_raw) + np.dot(Wr.T, dr_raw)  # back into z = [h_{t-1}; x_t]
        dhnext = dh * us[t] + drh * rs[t] + dz[:hidden_size]  # carried to step t-1
        if steps is not None:
            for name, term in (("Wz", np.dot(du_raw, zs[t].T)), ("Wr", np.dot(dr_raw, zs[t].T)),
                               ("Wn", np.dot(dn_raw, zns[t].T)), ("bz", du_raw),
                               ("br", dr_raw), ("bn", dn_raw), ("Why", np.dot(dy, hs[t].T)),
                               ("by", dy)):
                steps[name][t] = term
    grads = {"Wz": dWz, "Wr": dWr, "Wn": dWn, "bz": dbz, "br": dbr, "bn": dbn, "Why": dWhy,
             "by": dby}
    return finish("tutorial", loss, grads, dhnext, options, steps)
