import numpy as np

# GRU with h_t = u * h_{t-1} + (1 - u) * n. The three gate matrices are stacked into
# one (3H, H + V) matrix inside the loss and sliced; states are rows of one array.
H, V = 32, 27
Wz = np.random.randn(H, H + V) * 0.1
Wr = np.random.randn(H, H + V) * 0.1
Wn = np.random.randn(H, H + V) * 0.1
bz, br, bn = np.zeros((H, 1)), np.zeros((H, 1)), np.zeros((H, 1))
Why = np.random.randn(V, H) * 0.1
by = np.zeros((V, 1))


def gru_loss(inputs, targets, h0):
    W = np.vstack([Wz, Wr, Wn])
    b = np.vstack([bz, br, bn])[:, 0]
    H = Wz.shape[0]
    V = Why.shape[0]
    T = len(inputs)
    hs = np.zeros((T + 1, H))  # row t + 1: the state after step t
    hs[0] = h0[:, 0]
    gates = np.zeros((T, 3, H))  # u, r, n per step
    xs = np.zeros((T, V))
    probs = np.zeros((T, V))
    loss = 0.0
    for t in range(T):
        xs[t, inputs[t]] = 1.0
        zt = np.concatenate([hs[t], xs[t]])
        ur = 1.0 / (1.0 + np.exp(-(W[:2 * H] @ zt + b[:2 * H])))
        u, r = ur[:H], ur[H:]
        n = np.tanh(W[2 * H:] @ np.concatenate([r * hs[t], xs[t]]) + b[2 * H:])
        gates[t] = u, r, n
        hs[t + 1] = u * hs[t] + (1.0 - u) * n
        y = Why @ hs[t + 1] + by[:, 0]
        e = np.exp(y - y.max())
        probs[t] = e / e.sum()
        loss -= np.log(probs[t, targets[t]])
    dW = np.zeros_like(W)
    db = np.zeros_like(b)
    dWhy = np.zeros_like(Why)
    dby = np.zeros_like(by)
    dh = np.zeros(H)
    for t in reversed(range(T)):
        u, r, n = gates[t]
        dy = probs[t].copy()
        dy[targets[t]] -= 1.0
        dWhy += np.outer(dy, hs[t + 1])
        dby[:, 0] += dy
        dh = dh + Why.T @ dy
        dn = dh * (1.0 - u) * (1.0 - n ** 2)
        du = dh * (n - hs[t]) * u * (1.0 - u)
        dzn = W[2 * H:].T @ dn
        dr = dzn[:H] * hs[t] * r * (1.0 - r)
        da = np.concatenate([du, dr, dn])
        zt = np.concatenate([hs[t], xs[t]])
        dW[:2 * H] += np.outer(da[:2 * H], zt)
        dW[2 * H:] += np.outer(dn, np.concatenate([r * hs[t], xs[t]]))
        db += da
        dh = dh * u + dzn[:H] * r + W[:2 * H, :H].T @ da[:2 * H]
    dWz, dWr, dWn = np.split(dW, 3)
    dbz, dbr, dbn = (v.reshape(-1, 1) for v in np.split(db, 3))
    return loss, dWz, dWr, dWn, dbz, dbr, dbn, dWhy, dby, hs[T].reshape(-1, 1)
