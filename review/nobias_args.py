import numpy as np


def loss_and_grads(seq_in, seq_out, h0, U, W, V):
    """Bias-free RNN; weights passed in; returns loss, dU, dW, dV, last state."""
    T = len(seq_in)
    H = W.shape[0]
    h = np.zeros((T + 1, H, 1))
    h[0] = h0
    p = []
    loss = 0.0
    for k in range(T):
        x = np.eye(U.shape[1])[:, [seq_in[k]]]
        h[k + 1] = np.tanh(U @ x + W @ h[k])
        z = V @ h[k + 1]
        q = np.exp(z - z.max()); q /= q.sum()
        p.append(q)
        loss -= float(np.log(q[seq_out[k], 0]))
    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    carry = np.zeros((H, 1))
    for k in range(T - 1, -1, -1):
        g = p[k].copy()
        g[seq_out[k]] -= 1
        dV += g @ h[k + 1].T
        a = V.T @ g + carry
        a *= 1 - h[k + 1] ** 2
        dU[:, [seq_in[k]]] += a
        dW += a @ h[k + 1].T
        carry = W.T @ a
    return loss, dU, dW, dV, h[T]
