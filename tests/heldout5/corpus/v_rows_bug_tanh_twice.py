import math

import numpy as np


def bptt(params, inputs, targets, h_init):
    """Loss and gradients of a vanilla RNN (Goodfellow's names: a = b + W h + U x,
    h = tanh(a), o = c + V h), the backward pass written row by row."""
    U, W, V, b, c = (params[k] for k in ("U", "W", "V", "b", "c"))
    n_h, n_v = U.shape
    hs = [h_init[:, 0].copy()]
    probs = []
    loss = 0.0
    for t in range(len(inputs)):
        a = U[:, inputs[t]] + W.dot(hs[-1]) + b[:, 0]
        hs.append(np.tanh(a))
        o = V.dot(hs[-1]) + c[:, 0]
        m = max(o)
        ex = [math.exp(v - m) for v in o]
        z = sum(ex)
        probs.append([e / z for e in ex])
        loss += -math.log(probs[-1][targets[t]])
    dU, dW, dV = np.zeros((n_h, n_v)), np.zeros((n_h, n_h)), np.zeros((n_v, n_h))
    db, dc = np.zeros((n_h, 1)), np.zeros((n_v, 1))
    future = np.zeros(n_h)
    for t in reversed(range(len(inputs))):
        do = np.array(probs[t])
        do[targets[t]] -= 1.0
        for i in range(len(do)):
            dV[i, :] += do[i] * hs[t + 1]
            dc[i, 0] += do[i]
        dh = future.copy()
        for i in range(n_v):
            dh += do[i] * V[i, :]
        da = dh * (1.0 - np.tanh(hs[t + 1]) ** 2)
        for i in range(n_h):
            dU[i, inputs[t]] += da[i]
            dW[i, :] += da[i] * hs[t]
            db[i, 0] += da[i]
        future = np.zeros(n_h)
        for j in range(n_h):
            future += da[j] * W[j, :]
    grads = {"dU": dU, "dW": dW, "dV": dV, "db": db, "dc": dc}
    return loss, grads, hs[-1].reshape(-1, 1)
