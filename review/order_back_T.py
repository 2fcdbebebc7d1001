"""ok_order.py (bpttcheck/selftest/corpus) with one bug: the gradient carried to the step before
(named `back`) goes through Whh instead of Whh.T."""
# Module globals, gradients returned output layer first (declared with --impl-order).
import numpy as np

vocab_size, hidden_size = 65, 100
Wxh = Whh = Why = bh = by = None


def lossFun(inputs, targets, hprev):
    T = len(inputs)
    h = [None] * T
    p = [None] * T
    prev = hprev
    loss = 0.0
    for t in range(T):
        h[t] = np.tanh(Wxh[:, inputs[t]:inputs[t] + 1] + Whh.dot(prev) + bh)
        y = Why.dot(h[t]) + by
        m = y.max()
        p[t] = np.exp(y - m) / np.exp(y - m).sum()
        loss += float(m + np.log(np.exp(y - m).sum()) - y[targets[t], 0])
        prev = h[t]
    gWxh, gWhh, gWhy = np.zeros(Wxh.shape), np.zeros(Whh.shape), np.zeros(Why.shape)
    gbh, gby = np.zeros(bh.shape), np.zeros(by.shape)
    back = np.zeros((hidden_size, 1))
    for t in range(T - 1, -1, -1):
        g = p[t].copy()
        g[targets[t], 0] -= 1.0
        gWhy += g.dot(h[t].T)
        gby += g
        raw = (Why.T.dot(g) + back) * (1.0 - h[t] * h[t])
        gbh += raw
        gWxh[:, inputs[t]] += raw[:, 0]
        gWhh += raw.dot((h[t - 1] if t > 0 else hprev).T)
        back = Whh.dot(raw)
    return loss, gWhy, gby, gWxh, gWhh, gbh, h[-1]
