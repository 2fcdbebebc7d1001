"""An LSTM written with one stacked weight (np.vstack of the four gates) split by
np.split, its steps kept as tuples and unpacked by the backward loop."""
import numpy as np


def _sg(a):
    return 1.0 / (1.0 + np.exp(-a))


def lstm_loss(inputs, targets, hprev, cprev, Wf, Wi, Wc, Wo, bf, bi, bc, bo, Why, by):
    H = hprev.shape[0]
    V = Why.shape[0]
    W = np.vstack([Wf, Wi, Wc, Wo])
    b = np.vstack([bf, bi, bc, bo])
    h, c = hprev, cprev
    steps = []
    loss = 0.0
    for ch, tg in zip(inputs, targets, strict=True):
        x = np.zeros((V, 1))
        x[ch] = 1.0
        z = np.vstack([h, x])
        a = W @ z + b
        f, i, g, o = np.split(a, 4)
        f, i, g, o = _sg(f), _sg(i), np.tanh(g), _sg(o)
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        y = Why @ h_new + by
        p = np.exp(y - y.max())
        p /= p.sum()
        loss += -np.log(p[tg, 0])
        steps.append((z, c, f, i, g, o, c_new, h_new, p, tg))
        h, c = h_new, c_new
    dW = np.zeros_like(W)
    db = np.zeros_like(b)
    dWhy = np.zeros_like(Why)
    dby = np.zeros_like(by)
    dh_next = np.zeros((H, 1))
    dc_next = np.zeros((H, 1))
    for z, c_old, f, i, g, o, c_t, h_t, p, tg in reversed(steps):
        dy = p.copy()
        dy[tg] -= 1.0
        dWhy += dy @ h_t.T
        dby += dy
        dh = Why.T @ dy + dh_next
        tc = np.tanh(c_t)
        dc = dh * o * (1.0 - tc ** 2) + dc_next
        d_f = dc * c_old * f * (1.0 - f)
        d_i = dc * g * i * (1.0 - i)
        d_g = dc * i * (1.0 - g ** 2)
        d_o = dh * tc * o * (1.0 - o)
        da = np.vstack([d_f, d_i, d_g, d_o])
        dW += da @ z.T
        db += da
        dz = W.T @ da
        dh_next = dz[:H]
        dc_next = dc * f
    dWf, dWi, dWc, dWo = np.split(dW, 4)
    dbf, dbi, dbc, dbo = np.split(db, 4)
    return loss, dWf, dWi, dWc, dWo, dbf, dbi, dbc, dbo, dWhy, dby, h, c
