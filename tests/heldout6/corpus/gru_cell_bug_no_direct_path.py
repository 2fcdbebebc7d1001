import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def gru_step_forward(x, h_prev, Wz, Wr, Wn, bz, br, bn):
    """One GRU step on 1-D vectors; returns (h, cache)."""
    xh = np.concatenate([h_prev, x])
    z = sigmoid(Wz @ xh + bz)
    r = sigmoid(Wr @ xh + br)
    xrh = np.concatenate([r * h_prev, x])
    n = np.tanh(Wn @ xrh + bn)
    h = z * h_prev + (1.0 - z) * n
    return h, (x, h_prev, xh, xrh, z, r, n)


def gru_step_backward(dh, cache, Wz, Wr, Wn):
    """Returns (dh_prev, (dWz, dWr, dWn, dbz, dbr, dbn)) for one step."""
    x, h_prev, xh, xrh, z, r, n = cache
    H = h_prev.shape[0]
    dn = dh * (1.0 - z) * (1.0 - n * n)
    dz = dh * (h_prev - n) * z * (1.0 - z)
    dxrh = Wn.T @ dn
    dr = dxrh[:H] * h_prev * r * (1.0 - r)
    dh_prev = dxrh[:H] * r
    dh_prev += Wz.T[:H] @ dz
    dh_prev += Wr.T[:H] @ dr
    grads = (np.outer(dz, xh), np.outer(dr, xh), np.outer(dn, xrh), dz, dr, dn)
    return dh_prev, grads


def gru_loss(inputs, targets, h0, Wz, Wr, Wn, bz, br, bn, Why, by):
    V = Why.shape[0]
    weights = (Wz, Wr, Wn, bz[:, 0], br[:, 0], bn[:, 0])
    h = h0[:, 0]
    caches, probs, hs = [], [], []
    loss = 0.0
    for t in range(len(inputs)):
        x = np.zeros(V)
        x[inputs[t]] = 1.0
        h, cache = gru_step_forward(x, h, *weights)
        caches.append(cache)
        hs.append(h)
        logits = Why @ h + by[:, 0]
        e = np.exp(logits - np.max(logits))
        probs.append(e / e.sum())
        loss += -np.log(probs[-1][targets[t]])
    sums = [np.zeros_like(w) for w in weights]
    dWhy = np.zeros_like(Why)
    dby = np.zeros(V)
    dh_next = np.zeros_like(h)
    for t in reversed(range(len(inputs))):
        dlogits = probs[t].copy()
        dlogits[targets[t]] -= 1.0
        dWhy += np.outer(dlogits, hs[t])
        dby += dlogits
        dh = Why.T @ dlogits + dh_next
        dh_next, step_grads = gru_step_backward(dh, caches[t], Wz, Wr, Wn)
        for acc, g in zip(sums, step_grads):
            acc += g
    dWz, dWr, dWn, dbz, dbr, dbn = sums
    return (loss, dWz, dWr, dWn, dbz[:, None], dbr[:, None], dbn[:, None],
            dWhy, dby[:, None], h[:, None])
