"""The tutorial's backward pass (min-char-rnn ``lossFun``), reproduced faithfully.

The lecture writes the gradient as a double sum over loss steps t and the
steps k <= t that each loss reaches back to::

    dL/dW = sum_t sum_{k<=t} dL_t/dh_t . dh_t/dh_k . dh_k/dW

The tutorial never forms that double sum. It walks backwards once, and at
step k the vector ``dh`` already holds ``sum_{t>=k} dL_t/dh_k``: the local
term ``Why.T @ dy`` (t = k) plus ``dhnext``, which carries every later loss
step's share back through ``Whh.T`` and the tanh derivative. Swapping the
order of summation, sum_t sum_{k<=t} = sum_k sum_{t>=k}, is all it does.

The only departure from the original is the softmax, shifted by the max logit
(the same numbers, without overflow; see :mod:`bpttcheck.model`). ``xrange`` is
``range``. Clipping (``np.clip(dparam, -5, 5)``) happens only when
``Options.clip`` is set.
"""

from __future__ import annotations

import numpy as np

from ..model import Batch, Params, softmax_would_overflow, with_biases
from .base import Gradients, Options, restricted


def gradients(params: Params, batch: Batch, options: Options) -> Gradients:
    if batch.width is not None:  # a batch: each column on its own, summed (.batched)
        from .batched import per_column

        return per_column(gradients, params, batch, options)
    if "bh" not in params:  # a bias-free model: bh = by = 0 held fixed, their gradients dropped
        return restricted(gradients(with_biases(params), batch, options), params)
    Wxh, Whh, Why, bh, by = (params[n] for n in ("Wxh", "Whh", "Why", "bh", "by"))
    inputs, targets, hprev = batch.inputs, batch.targets, batch.hprev
    vocab_size = Why.shape[0]
    xs, hs, ys, ps = {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0.0
    overflow = False
    for t in range(len(inputs)):  # forward pass
        xs[t] = np.zeros((vocab_size, 1))  # encode in 1-of-k representation
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)  # hidden state
        ys[t] = np.dot(Why, hs[t]) + by  # unnormalized log probabilities
        shifted = np.exp(ys[t] - np.max(ys[t]))  # exp(ys[t]) without overflow
        ps[t] = shifted / np.sum(shifted)  # probabilities for next chars
        loss += float(np.log(np.sum(shifted)) + np.max(ys[t]) - ys[t][targets[t], 0])  # -log p
        overflow = overflow or softmax_would_overflow(ys[t])  # had it been unshifted
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    steps = _empty_steps(params, len(inputs)) if options.record_steps else None
    for t in reversed(range(len(inputs))):  # backward pass
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1  # backprop into y
        dWhy += np.dot(dy, hs[t].T)  # output weights
        dby += dy  # output bias
        dh = np.dot(Why.T, dy) + dhnext  # backprop into h: this step's loss plus all later
        dhraw = (1 - hs[t] * hs[t]) * dh  # backprop through tanh nonlinearity
        dbh += dhraw  # hidden bias
        dWxh += np.dot(dhraw, xs[t].T)  # input to hidden
        dWhh += np.dot(dhraw, hs[t - 1].T)  # hidden to hidden
        dhnext = np.dot(Whh.T, dhraw)  # carried to step t-1
        if steps is not None:
            for name, term in (("Wxh", np.dot(dhraw, xs[t].T)), ("Whh", np.dot(dhraw, hs[t - 1].T)),
                               ("Why", np.dot(dy, hs[t].T)), ("bh", dhraw), ("by", dy)):
                steps[name][t] = term
    grads = {"Wxh": dWxh, "Whh": dWhh, "Why": dWhy, "bh": dbh, "by": dby}
    clipped = None
    if options.clip is not None:
        clipped = {}
        for name, dparam in grads.items():
            clipped[name] = np.abs(dparam) > options.clip
            np.clip(dparam, -options.clip, options.clip, out=dparam)  # mitigate explosions
    notes = ("the tutorial's unshifted softmax np.exp(ys[t]) / np.sum(np.exp(ys[t])) would "
             "overflow here (a logit near or above 709); bpttcheck shifts it by the largest "
             "logit, which changes nothing else",) if overflow else ()
    return Gradients("tutorial", loss, grads, dhprev=dhnext, clipped=clipped,
                     clip=options.clip, steps=steps, notes=notes)


def _empty_steps(params: Params, seq: int) -> dict[str, np.ndarray]:
    return {name: np.zeros((seq, *p.shape)) for name, p in params.items()}
