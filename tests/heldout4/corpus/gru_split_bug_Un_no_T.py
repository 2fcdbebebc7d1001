"""GRU, with each gate's weight cut into its recurrent block (U*) and its input block
(W*x): no [h; x] vector is ever built, the input block's column is looked up, and the
gradient blocks are glued back together at the end."""
import numpy as np

hidden_size = 50
vocab_size = 26
seq_length = 25
Wz = np.random.randn(hidden_size, hidden_size + vocab_size) * 0.05
Wr = np.random.randn(hidden_size, hidden_size + vocab_size) * 0.05
Wn = np.random.randn(hidden_size, hidden_size + vocab_size) * 0.05
bz = np.zeros((hidden_size, 1))
br = np.zeros((hidden_size, 1))
bn = np.zeros((hidden_size, 1))
Why = np.random.randn(vocab_size, hidden_size) * 0.05
by = np.zeros((vocab_size, 1))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def lossFun(inputs, targets, hprev):
    H = hprev.shape[0]
    Uz, Wzx = Wz[:, :H], Wz[:, H:]
    Ur, Wrx = Wr[:, :H], Wr[:, H:]
    Un, Wnx = Wn[:, :H], Wn[:, H:]
    h = hprev
    steps = []
    loss = 0.0
    for ix, tg in zip(inputs, targets):
        u = sigmoid(np.dot(Uz, h) + Wzx[:, [ix]] + bz)
        r = sigmoid(np.dot(Ur, h) + Wrx[:, [ix]] + br)
        n = np.tanh(np.dot(Un, r * h) + Wnx[:, [ix]] + bn)
        h_new = u * h + (1 - u) * n
        p = softmax(np.dot(Why, h_new) + by)
        loss += -np.log(p[tg, 0])
        steps.append((ix, tg, h, u, r, n, h_new, p))
        h = h_new
    dUz, dUr, dUn = np.zeros_like(Uz), np.zeros_like(Ur), np.zeros_like(Un)
    dWzx, dWrx, dWnx = np.zeros_like(Wzx), np.zeros_like(Wrx), np.zeros_like(Wnx)
    dbz, dbr, dbn = np.zeros_like(bz), np.zeros_like(br), np.zeros_like(bn)
    dWhy, dby = np.zeros_like(Why), np.zeros_like(by)
    dh_after = np.zeros_like(h)
    for ix, tg, h_prev, u, r, n, h_t, p in reversed(steps):
        dlog = p.copy()
        dlog[tg] -= 1
        dWhy += np.dot(dlog, h_t.T)
        dby += dlog
        dh = np.dot(Why.T, dlog) + dh_after
        dn = dh * (1 - u) * (1 - n * n)
        du = dh * (h_prev - n) * u * (1 - u)
        drh = np.dot(Un, dn)
        dr = drh * h_prev * r * (1 - r)
        dUn += np.dot(dn, (r * h_prev).T)
        dWnx[:, ix] += dn[:, 0]
        dbn += dn
        dUz += np.dot(du, h_prev.T)
        dWzx[:, ix] += du[:, 0]
        dbz += du
        dUr += np.dot(dr, h_prev.T)
        dWrx[:, ix] += dr[:, 0]
        dbr += dr
        dh_after = dh * u + drh * r + np.dot(Uz.T, du) + np.dot(Ur.T, dr)
    dWz = np.hstack((dUz, dWzx))
    dWr = np.hstack((dUr, dWrx))
    dWn = np.hstack((dUn, dWnx))
    return loss, dWz, dWr, dWn, dbz, dbr, dbn, dWhy, dby, h
