"""The LSTM's backward pass as course material writes it: one walk back, carrying dhnext and dcnext.

The same shape as min-char-rnn's ``lossFun``: a forward pass that keeps every
step in dicts (``xs``, ``zs``, ``hs``, ``cs``, the gates), then one walk
backwards. At step t, ``dh`` holds dL/dh_t from every loss step t' >= t: this
step's ``Why.T @ dy`` plus ``dhnext``, which the step after carried back through
all four gates' weights. ``dc`` holds dL/dc_t: the share arriving through
h_t = o * tanh(c_t) plus ``dcnext = f_{t+1} * dc_{t+1}``, the cell state's own
path. So the double sum over k <= t is again regrouped by k, with two carried
vectors instead of one.
"""

from __future__ import annotations

import numpy as np

from ..engines.base import Gradients, Options
from ..model import Batch, Params
from .common import sigmoid
from .lstm import PARAMS


def gradients(params: Params, batch: Batch, options: Options) -> Gradients:
    Wf, Wi, Wc, Wo, bf, bi, bc, bo, Why, by = (params[n] for n in PARAMS)
    inputs, targets, hprev, cprev = batch.inputs, batch.targets, batch.hprev, batch.cprev
    assert cprev is not None
    vocab_size, hidden_size = Why.shape
    xs, zs, fs, is_, gs, os_, hs, cs, ys, ps = {}, {}, {}, {}, {}, {}, {}, {}, {}, {}
    hs[-1], cs[-1] = np.copy(hprev), np.copy(cprev)
    loss = 0.0
    for t in range(len(inputs)):  # forward pass
        xs[t] = np.zeros((vocab_size, 1))  # encode in 1-of-k representation
        xs[t][inputs[t]] = 1
        zs[t] = np.vstack((hs[t - 1], xs[t]))  # z = [h_{t-1}; x_t]
        fs[t] = sigmoid(np.dot(Wf, zs[t]) + bf)  # forget gate
        is_[t] = sigmoid(np.dot(Wi, zs[t]) + bi)  # input gate
        gs[t] = np.tanh(np.dot(Wc, zs[t]) + bc)  # candidate cell state
        os_[t] = sigmoid(np.dot(Wo, zs[t]) + bo)  # output gate
        cs[t] = fs[t] * cs[t - 1] + is_[t] * gs[t]  # cell state
        hs[t] = os_[t] * np.tanh(cs[t])  # hidden state
        ys[t] = np.dot(Why, hs[t]) + by  # unnormalized log probabilities
        shifted = np.exp(ys[t] - np.max(ys[t]))
        ps[t] = shifted / np.sum(shifted)  # probabilities for next chars
        loss += float(np.log(np.sum(shifted)) + np.max(ys[t]) - ys[t][targets[t], 0])
    dWf, dWi, dWc, dWo = (np.zeros_like(W) for W in (Wf, Wi, Wc, Wo))
    dbf, dbi, dbc, dbo = (np.zeros_like(b) for b in (bf, bi, bc, bo))
    dWhy, dby = np.zeros_like(Why), np.zeros_like(by)
    dhnext, dcnext = np.zeros_like(hs[0]), np.zeros_like(cs[0])
    steps = ({n: np.zeros((len(inputs), *p.shape)) for n, p in params.items()}
             if options.record_steps else None)
    for t in reversed(range(len(inputs))):  # backward pass
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1  # backprop into y
        dWhy += np.dot(dy, hs[t].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dhnext  # backprop into h: this step's loss plus all later
        tanh_c = np.tanh(cs[t])
        do = dh * tanh_c  # into the output gate
        do_raw = do * os_[t] * (1 - os_[t])  # through its sigmoid
        dc = dh * os_[t] * (1 - tanh_c * tanh_c) + dcnext  # into c: through h, plus carried
        df_raw = dc * cs[t - 1] * fs[t] * (1 - fs[t])  # forget gate, through its sigmoid
        di_raw = dc * gs[t] * is_[t] * (1 - is_[t])  # input gate, through its sigmoid
        dg_raw = dc * is_[t] * (1 - gs[t] * gs[t])  # candidate, through tanh
        dWf += np.dot(df_raw, zs[t].T)
        dWi += np.dot(di_raw, zs[t].T)
        dWc += np.dot(dg_raw, zs[t].T)
        dWo += np.dot(do_raw, zs[t].T)
        dbf += df_raw
        dbi += di_raw
        dbc += dg_raw
        dbo += do_raw
        dz = (np.dot(Wf.T, df_raw) + np.dot(Wi.T, di_raw) + np.dot(Wc.T, dg_raw)
              + np.dot(Wo.T, do_raw))  # back into z = [h_{t-1}; x_t]
        dhnext = dz[:hidden_size]  # carried to step t-1 through the gates
        dcnext = fs[t] * dc  # carried to step t-1 along the cell state
        if steps is not None:
            for name, term in (("Wf", np.dot(df_raw, zs[t].T)), ("Wi", np.dot(di_raw, zs[t].T)),
                               ("Wc", np.dot(dg_raw, zs[t].T)), ("Wo", np.dot(do_raw, zs[t].T)),
                               ("bf", df_raw), ("bi", di_raw), ("bc", dg_raw), ("bo", do_raw),
                               ("Why", np.dot(dy, hs[t].T)), ("by", dy)):
                steps[name][t] = term
    grads = {"Wf": dWf, "Wi": dWi, "Wc": dWc, "Wo": dWo, "bf": dbf, "bi": dbi, "bc": dbc,
             "bo": dbo, "Why": dWhy, "by": dby}
    return finish("tutorial", loss, grads, dhnext, options, steps)


def finish(engine: str, loss: float, grads: dict[str, np.ndarray], dhprev: np.ndarray,
           options: Options, steps: dict[str, np.ndarray] | None) -> Gradients:
    """Clip (``Options.clip``, as min-char-rnn does) and wrap up."""
    clipped = None
    if options.clip is not None:
        clipped = {}
        for name, dparam in grads.items():
            clipped[name] = np.abs(dparam) > options.clip
            np.clip(dparam, -options.clip, options.clip, out=dparam)
    return Gradients(engine, loss, grads, dhprev=dhprev, clipped=clipped, clip=options.clip,
                     steps=steps)
