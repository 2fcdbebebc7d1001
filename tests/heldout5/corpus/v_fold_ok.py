# A vanilla RNN's loss and gradient as two folds: functools.reduce runs the forward
# pass over the steps and the backward pass over the reversed tape.
from functools import reduce

import numpy as np


def _onehot(ix, n):
    v = np.zeros((n, 1))
    v[ix] = 1.0
    return v


def rnn_grads(Wxh, Whh, Why, bh, by, inputs, targets, hprev):
    V = Wxh.shape[1]

    def forward(acc, pair):
        tape, loss = acc
        ix, tg = pair
        h_prev = tape[-1][2] if tape else hprev
        x = _onehot(ix, V)
        h = np.tanh(Wxh @ x + Whh @ h_prev + bh)
        logits = Why @ h + by
        e = np.exp(logits - logits.max())
        p = e / e.sum()
        return tape + [(x, h_prev, h, p, tg)], loss - np.log(p[tg, 0])

    tape, loss = reduce(forward, zip(inputs, targets), ([], 0.0))

    def backward(acc, rec):
        (gWxh, gWhh, gWhy, gbh, gby), dh_next = acc
        x, h_prev, h, p, tg = rec
        dlogits = p - _onehot(tg, p.shape[0])
        dh = Why.T @ dlogits + dh_next
        dpre = dh * (1 - h * h)
        grads = (gWxh + dpre @ x.T,
                 gWhh + dpre @ h_prev.T,
                 gWhy + dlogits @ h.T,
                 gbh + dpre,
                 gby + dlogits)
        return grads, Whh.T @ dpre

    zeros = tuple(np.zeros_like(w) for w in (Wxh, Whh, Why, bh, by))
    grads, _ = reduce(backward, reversed(tape), (zeros, np.zeros_like(hprev)))
    return (loss,) + grads + (tape[-1][2],)
