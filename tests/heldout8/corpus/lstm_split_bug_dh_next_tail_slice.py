import numpy as np


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def lstm_loss(Wf, Wi, Wc, Wo, bf, bi, bc, bo, Why, by, inputs, targets, h0, c0):
    W = np.vstack([Wf, Wi, Wc, Wo])
    b = np.vstack([bf, bi, bc, bo])
    H = h0.shape[0]
    V = Why.shape[0]
    h, c = h0, c0
    tape = []
    loss = 0.0
    for ix, tg in zip(inputs, targets):
        x = np.zeros((V, 1))
        x[ix, 0] = 1.0
        z = np.concatenate([h, x])
        af, ai, ag, ao = np.split(W @ z + b, 4)
        f, i, o = _sig(af), _sig(ai), _sig(ao)
        g = np.tanh(ag)
        c_prev = c
        c = f * c_prev + i * g
        h = o * np.tanh(c)
        y = Why @ h + by
        p = np.exp(y - y.max())
        p = p / p.sum()
        loss -= np.log(p[tg, 0])
        tape.append((z, f, i, g, o, c_prev, c, h, p, tg))
    dW = np.zeros_like(W)
    db = np.zeros_like(b)
    dWhy = np.zeros_like(Why)
    dby = np.zeros_like(by)
    dh_next = np.zeros((H, 1))
    dc_next = np.zeros((H, 1))
    for z, f, i, g, o, c_prev, c_t, h_t, p, tg in reversed(tape):
        dy = p.copy()
        dy[tg, 0] -= 1.0
        dWhy += dy @ h_t.T
        dby += dy
        dh = Why.T @ dy + dh_next
        tanh_c = np.tanh(c_t)
        dc = dc_next + dh * o * (1.0 - tanh_c ** 2)
        da = np.concatenate([
            dc * c_prev * f * (1.0 - f),
            dc * g * i * (1.0 - i),
            dc * i * (1.0 - g ** 2),
            dh * tanh_c * o * (1.0 - o),
        ])
        dW += da @ z.T
        db += da
        dz = W.T @ da
        dh_next = dz[-H:]
        dc_next = f * dc
    dWf, dWi, dWc, dWo = np.split(dW, 4)
    dbf, dbi, dbc, dbo = np.split(db, 4)
    return loss, dWf, dWi, dWc, dWo, dbf, dbi, dbc, dbo, dWhy, dby, h, c
