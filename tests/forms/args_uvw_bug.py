# U/V/W weights first, data last, keyword-style names; truncated BPTT (3 steps back).
import numpy as np

BPTT_TRUNCATE = 3


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()


def bptt(U, W, V, b, c, x, y, h0):
    n = len(x)
    H = W.shape[0]
    hs = np.zeros((n + 1, H, 1))
    hs[-1] = h0
    onehot = np.zeros((n, U.shape[1], 1))
    probs = []
    loss = 0.0
    for t in range(n):
        onehot[t, x[t]] = 1.0
        hs[t] = np.tanh(U @ onehot[t] + W @ hs[t - 1] + b)
        probs.append(softmax(V @ hs[t] + c))
        loss += -np.log(probs[t][y[t], 0])
    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    db, dc = np.zeros_like(b), np.zeros_like(c)
    for t in range(n - 1, -1, -1):
        do = probs[t].copy()
        do[y[t]] -= 1.0
        dV += do @ hs[t].T
        dc += do
        delta = (V.T @ do) * (1 - hs[t] ** 2)
        for k in range(t, max(-1, t - BPTT_TRUNCATE - 1), -1):
            dW += delta @ hs[k - 1].T
            dU += delta @ onehot[k].T
            db += delta
            delta = (W.T @ delta) * (1 - hs[k - 1] ** 2)
    return loss, {"dU": dU, "dW": dW, "dV": dV, "db": db, "dc": dc}, hs[n - 1]
