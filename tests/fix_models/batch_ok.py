"""A vanilla RNN on a batch: inputs and targets (T, B) ints, hprev (H, B), loss summed."""
import numpy as np


def loss_and_grads(inputs, targets, hprev, Wxh, Whh, Why, bh, by):
    T, B = inputs.shape
    V = Why.shape[0]
    hs, ps = [hprev], []
    loss = 0.0
    for t in range(T):
        X = np.zeros((V, B))
        X[inputs[t], np.arange(B)] = 1.0
        hs.append(np.tanh(Wxh @ X + Whh @ hs[-1] + bh))
        y = Why @ hs[-1] + by
        y = y - y.max(axis=0, keepdims=True)
        P = np.exp(y) / np.exp(y).sum(axis=0, keepdims=True)
        ps.append(P)
        loss -= np.log(P[targets[t], np.arange(B)]).sum()
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dh_next = np.zeros_like(hprev)
    for t in range(T - 1, -1, -1):
        dy = ps[t].copy()
        dy[targets[t], np.arange(B)] -= 1.0
        dWhy += dy @ hs[t + 1].T
        dby += dy.sum(axis=1, keepdims=True)
        da = (Why.T @ dy + dh_next) * (1 - hs[t + 1] ** 2)
        X = np.zeros((V, B))
        X[inputs[t], np.arange(B)] = 1.0
        dWxh += da @ X.T
        dWhh += da @ hs[t].T
        dbh += da.sum(axis=1, keepdims=True)
        dh_next = Whh.T @ da
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[-1]
