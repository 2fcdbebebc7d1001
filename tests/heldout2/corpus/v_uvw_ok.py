"""Vanilla RNN in the notation of Goodfellow et al. (10.2.2):
a = b + W h + U x,  h = tanh(a),  o = c + V h,  yhat = softmax(o).
States are kept as rows of one array s; s[-1] (the extra last row) holds h0.
"""
import numpy as np


def forward_backward(x, y, h0, U, W, V, b, c):
    T = len(x)
    n_hidden = W.shape[0]
    s = np.zeros((T + 1, n_hidden))
    s[-1] = h0[:, 0]
    o = np.zeros((T, V.shape[0]))
    for t in range(T):
        s[t] = np.tanh(U[:, x[t]] + W.dot(s[t - 1]) + b[:, 0])
        logits = V.dot(s[t]) + c[:, 0]
        e = np.exp(logits - np.max(logits))
        o[t] = e / np.sum(e)
    loss = -np.sum(np.log(o[np.arange(T), y]))

    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    db, dc = np.zeros_like(b), np.zeros_like(c)
    delta_o = o.copy()
    delta_o[np.arange(T), y] -= 1.0
    carry = np.zeros(n_hidden)
    for t in reversed(range(T)):
        dV += np.outer(delta_o[t], s[t])
        dc[:, 0] += delta_o[t]
        delta = (V.T.dot(delta_o[t]) + carry) * (1 - s[t] ** 2)
        dW += np.outer(delta, s[t - 1])
        dU[:, x[t]] += delta
        db[:, 0] += delta
        carry = W.T.dot(delta)
    return loss, dU, dW, dV, db, dc, s[T - 1][:, None]


def sgd_step(params, grads, lr=0.005):
    for p, g in zip(params, grads):
        p -= lr * g
