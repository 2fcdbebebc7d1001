# selftest-expect: ok
# selftest-target: bptt
# U/W/V/b/c names (Goodfellow et al.), module globals; recognised without --impl-names.
import numpy as np

H, K = 100, 65
rng = np.random.default_rng(0)
U = rng.normal(0, 0.01, (H, K))
W = rng.normal(0, 0.01, (H, H))
V = rng.normal(0, 0.01, (K, H))
b = np.zeros((H, 1))
c = np.zeros((K, 1))


def softmax(o):
    z = np.exp(o - np.max(o))
    return z / np.sum(z)


def bptt(x_ids, y_ids, h0):
    n = len(x_ids)
    h = {-1: h0.copy()}
    yhat = {}
    loss = 0.0
    for t in range(n):
        h[t] = np.tanh(b + W @ h[t - 1] + U[:, [x_ids[t]]])
        yhat[t] = softmax(c + V @ h[t])
        loss += -np.log(yhat[t][y_ids[t], 0])
    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    db, dc = np.zeros_like(b), np.zeros_like(c)
    grad_h_next = np.zeros_like(b)
    for t in reversed(range(n)):
        grad_o = yhat[t].copy()
        grad_o[y_ids[t]] -= 1.0
        dV += grad_o @ h[t].T
        dc += grad_o
        grad_h = V.T @ grad_o + grad_h_next
        grad_a = (1.0 - h[t] ** 2) * grad_h
        db += grad_a
        dU[:, [x_ids[t]]] += grad_a
        dW += grad_a @ h[t - 1].T
        grad_h_next = W.T @ grad_a
    return loss, dU, dW, dV, db, dc, h[n - 1]


for epoch in range(1000000):
    pass
