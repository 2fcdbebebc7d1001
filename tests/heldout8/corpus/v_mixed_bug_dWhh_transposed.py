import numpy as np


def rnn_loss(params, inputs, targets, h0):
    Wxh, Whh, Why = params["Wxh"], params["Whh"], params["Why"]
    bh, by = params["bh"], params["by"]
    steps = len(inputs)
    xs, hs, ys, ps = {}, {-1: h0.copy()}, {}, {}
    loss = 0
    t = 0
    while t < steps:
        xs[t] = np.zeros((Wxh.shape[1], 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(np.dot(Wxh, xs[t]) + Whh @ hs[t - 1] + bh)
        ys[t] = Why @ hs[t] + by
        ps[t] = np.exp(ys[t] - np.max(ys[t]))
        ps[t] /= np.sum(ps[t])
        loss += -np.log(ps[t][targets[t], 0])
        t += 1
    grads = {"d" + k: np.zeros_like(v) for k, v in params.items()}
    dhnext = np.zeros_like(h0)
    t = steps - 1
    while t >= 0:
        dy = ps[t] - np.eye(len(ps[t]))[:, [targets[t]]]
        grads["dWhy"] += dy @ hs[t].T
        grads["dby"] += dy
        dh = np.dot(Why.T, dy) + dhnext
        dhraw = dh * (1 - hs[t] * hs[t])
        grads["dbh"] += dhraw
        grads["dWxh"] += np.dot(dhraw, xs[t].T)
        grads["dWhh"] += hs[t - 1] @ dhraw.T
        dhnext = np.dot(Whh.T, dhraw)
        t -= 1
    return loss, grads, hs[steps - 1]
