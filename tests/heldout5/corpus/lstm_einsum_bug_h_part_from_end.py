# LSTM character model, every product an np.einsum on 1-D vectors.
# Weights act on z = [h_prev; x]; lossFun(inputs, targets, hprev, cprev) returns the loss,
# the ten gradients and the last (h, c).
import numpy as np

H, V = 64, 40
Wf, Wi, Wc, Wo = (np.random.randn(H, H + V) * 0.1 for _ in range(4))
bf, bi, bc, bo = (np.zeros((H, 1)) for _ in range(4))
Why = np.random.randn(V, H) * 0.1
by = np.zeros((V, 1))


def sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def lossFun(inputs, targets, hprev, cprev):
    n = Wf.shape[0]
    V = Why.shape[0]
    h, c = hprev.ravel(), cprev.ravel()
    cache = []
    loss = 0.0
    for ix, tg in zip(inputs, targets):
        z = np.concatenate([h, np.eye(V)[ix]])
        f = sigmoid(np.einsum("ij,j->i", Wf, z) + bf[:, 0])
        i = sigmoid(np.einsum("ij,j->i", Wi, z) + bi[:, 0])
        g = np.tanh(np.einsum("ij,j->i", Wc, z) + bc[:, 0])
        o = sigmoid(np.einsum("ij,j->i", Wo, z) + bo[:, 0])
        c_prev = c
        c = f * c_prev + i * g
        tc = np.tanh(c)
        h = o * tc
        y = np.einsum("ij,j->i", Why, h) + by[:, 0]
        p = np.exp(y - y.max())
        p /= p.sum()
        loss -= np.log(p[tg])
        cache.append((z, f, i, g, o, c_prev, tc, h, p, tg))
    dWf, dWi, dWc, dWo = (np.zeros_like(W) for W in (Wf, Wi, Wc, Wo))
    dbf, dbi, dbc, dbo = (np.zeros(n) for _ in range(4))
    dWhy, dby = np.zeros_like(Why), np.zeros(V)
    dh_next, dc_next = np.zeros(n), np.zeros(n)
    for z, f, i, g, o, c_prev, tc, h_t, p, tg in reversed(cache):
        dy = p.copy()
        dy[tg] -= 1.0
        dWhy += np.einsum("i,j->ij", dy, h_t)
        dby += dy
        dh = np.einsum("ji,j->i", Why, dy) + dh_next
        do = dh * tc * o * (1 - o)
        dc = dh * o * (1 - tc ** 2) + dc_next
        df = dc * c_prev * f * (1 - f)
        di = dc * g * i * (1 - i)
        dg = dc * i * (1 - g ** 2)
        dWf += np.einsum("i,j->ij", df, z)
        dWi += np.einsum("i,j->ij", di, z)
        dWc += np.einsum("i,j->ij", dg, z)
        dWo += np.einsum("i,j->ij", do, z)
        dbf += df
        dbi += di
        dbc += dg
        dbo += do
        dz = np.einsum("ji,j->i", Wf, df)
        dz += np.einsum("ji,j->i", Wi, di)
        dz += np.einsum("ji,j->i", Wc, dg)
        dz += np.einsum("ji,j->i", Wo, do)
        dh_next = dz[-n:]
        dc_next = dc * f
    col = lambda v: v.reshape(-1, 1)  # noqa: E731
    return (loss, dWf, dWi, dWc, dWo, col(dbf), col(dbi), col(dbc), col(dbo),
            dWhy, col(dby), col(h), col(c))
