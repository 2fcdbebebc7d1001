# Weights passed as arguments, after the data (the min-char-rnn body, Python 3).
import numpy as np


def lossFun(inputs, targets, hprev, Wxh, Whh, Why, bh, by):
    vocab = Why.shape[0]
    xs, hs, ps = {}, {-1: np.copy(hprev)}, {}
    loss = 0.0
    for t, (i, j) in enumerate(zip(inputs, targets)):
        xs[t] = np.zeros((vocab, 1))
        xs[t][i] = 1.0
        hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
        y = Why @ hs[t] + by
        ps[t] = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
        loss -= np.log(ps[t][j, 0])
    grads = [np.zeros_like(w) for w in (Wxh, Whh, Why, bh, by)]
    dWxh, dWhh, dWhy, dbh, dby = grads
    dhnext = np.zeros_like(hprev)
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1.0
        dWhy += dy @ hs[t].T
        dby += dy
        dhraw = (1.0 - hs[t] ** 2) * (Why.T @ dy + dhnext)
        dbh += dhraw
        dWxh += dhraw @ xs[t].T
        dWhh += dhraw @ hs[t - 1].T
        dhnext = Whh.T @ dhraw
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]
