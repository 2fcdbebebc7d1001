# selftest-expect: loss:bits
# selftest-target: loss_and_grads
# Explicit form; the loss is reported in bits (log2), the gradient is in nats.
import numpy as np


def loss_and_grads(params, inputs, targets, hprev):
    Wxh, Whh, Why, bh, by = (params[k] for k in ("Wxh", "Whh", "Why", "bh", "by"))
    hs, ps, loss = {-1: hprev}, {}, 0.0
    for t in range(len(inputs)):
        hs[t] = np.tanh(Wxh[:, [inputs[t]]] + Whh @ hs[t - 1] + bh)
        y = Why @ hs[t] + by
        ps[t] = np.exp(y - y.max()) / np.sum(np.exp(y - y.max()))
        loss += -np.log2(ps[t][targets[t], 0])  # BUG (with the gradient below): bits
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hprev)
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1  # the gradient of the loss in nats
        dWhy += dy @ hs[t].T
        dby += dy
        dhraw = (1 - hs[t] ** 2) * (Why.T @ dy + dhnext)
        dbh += dhraw
        dWxh[:, [inputs[t]]] += dhraw
        dWhh += dhraw @ hs[t - 1].T
        dhnext = Whh.T @ dhraw
    return loss, {"Wxh": dWxh, "Whh": dWhh, "Why": dWhy, "bh": dbh, "by": dby}, hs[t]
