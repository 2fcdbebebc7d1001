# Gradient-only BPTT with module globals U, V, W (no biases), in the WildML style:
# bptt(x, y) takes no initial state (it starts from zero) and returns [dU, dV, dW], no loss.
# Full BPTT: every earlier step. Correct.
import numpy as np

U = V = W = None  # set by the caller


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def bptt(x, y):
    T = len(y)
    H = W.shape[0]
    s = np.zeros((T + 1, H))  # s[-1] is the initial state: zero
    o = np.zeros((T, V.shape[0]))
    for t in range(T):
        s[t] = np.tanh(U[:, x[t]] + W.dot(s[t - 1]))
        o[t] = softmax(V.dot(s[t]))
    dU, dV, dW = np.zeros_like(U), np.zeros_like(V), np.zeros_like(W)
    delta_o = o.copy()
    delta_o[np.arange(T), y] -= 1.0
    for t in reversed(range(T)):
        dV += np.outer(delta_o[t], s[t])
        delta_t = V.T.dot(delta_o[t]) * (1 - s[t] ** 2)
        for k in reversed(range(t + 1)):
            dW += np.outer(delta_t, s[k - 1])
            dU[:, x[k]] += delta_t
            delta_t = W.T.dot(delta_t) * (1 - s[k - 1] ** 2)
    return [dU, dV, dW]
