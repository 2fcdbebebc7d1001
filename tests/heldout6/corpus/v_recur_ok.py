import numpy as np


def sequence_loss(Wxh, Whh, Why, bh, by, inputs, targets, hprev):
    """Row-vector RNN (h is 1 x H); the backward pass recurses from the last step."""
    V = Wxh.shape[1]
    X = np.eye(V)[inputs]
    hs = [hprev.T]
    ps = []
    total = 0.0
    for x, y in zip(X, targets):
        h = np.tanh(x[None, :] @ Wxh.T + hs[-1] @ Whh.T + bh.T)
        s = h @ Why.T + by.T
        s = np.exp(s - s.max())
        p = s / s.sum()
        total -= np.log(p[0, y])
        hs.append(h)
        ps.append(p)
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)

    def back(t, dh_from_next):
        nonlocal dWxh, dWhh, dWhy, dbh, dby
        if t < 0:
            return
        g = ps[t].copy()
        g[0, targets[t]] -= 1
        dWhy += g.T @ hs[t + 1]
        dby += g.T
        dh = g @ Why + dh_from_next
        dz = dh * (1 - hs[t + 1] ** 2)
        dWxh += dz.T @ X[t][None, :]
        dWhh += dz.T @ hs[t]
        dbh += dz.T
        back(t - 1, dz @ Whh)

    back(len(targets) - 1, np.zeros_like(hs[0]))
    return total, dWxh, dWhh, dWhy, dbh, dby, hs[-1].T
