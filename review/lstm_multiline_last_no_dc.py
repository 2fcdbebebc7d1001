"""An LSTM (tests/fix_models/lstm_ok.py) whose backward loop ends in a statement written over two
lines, with one bug: the cell-state carry `dc_next = dc * f[t]` deleted after it."""
import numpy as np

hidden_size, vocab_size = 4, 3
Wf = np.zeros((hidden_size, hidden_size + vocab_size))
Wi = np.zeros((hidden_size, hidden_size + vocab_size))
Wc = np.zeros((hidden_size, hidden_size + vocab_size))
Wo = np.zeros((hidden_size, hidden_size + vocab_size))
bf, bi, bc, bo = (np.zeros((hidden_size, 1)) for _ in range(4))
Why = np.zeros((vocab_size, hidden_size))
by = np.zeros((vocab_size, 1))


def sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def lossFun(inputs, targets, hprev, cprev):
    H = hprev.shape[0]
    h, c = {-1: hprev.copy()}, {-1: cprev.copy()}
    zz, f, i, g, o, p = {}, {}, {}, {}, {}, {}
    loss = 0.0
    for t in range(len(inputs)):
        x = np.zeros((Why.shape[0], 1))
        x[inputs[t]] = 1.0
        zz[t] = np.concatenate([h[t - 1], x])
        f[t] = sig(Wf @ zz[t] + bf)
        i[t] = sig(Wi @ zz[t] + bi)
        g[t] = np.tanh(Wc @ zz[t] + bc)
        o[t] = sig(Wo @ zz[t] + bo)
        c[t] = f[t] * c[t - 1] + i[t] * g[t]
        h[t] = o[t] * np.tanh(c[t])
        y = Why @ h[t] + by
        e = np.exp(y - y.max())
        p[t] = e / e.sum()
        loss -= np.log(p[t][targets[t], 0])
    grads = {k: np.zeros_like(v) for k, v in (("Wf", Wf), ("Wi", Wi), ("Wc", Wc), ("Wo", Wo),
                                              ("bf", bf), ("bi", bi), ("bc", bc), ("bo", bo),
                                              ("Why", Why), ("by", by))}
    dh_next = np.zeros((H, 1))
    dc_next = np.zeros((H, 1))
    for t in reversed(range(len(inputs))):
        dy = p[t].copy()
        dy[targets[t]] -= 1.0
        grads["Why"] += dy @ h[t].T
        grads["by"] += dy
        dh = Why.T @ dy + dh_next
        tc = np.tanh(c[t])
        dc = dh * o[t] * (1 - tc ** 2) + dc_next
        da_o = dh * tc * o[t] * (1 - o[t])
        da_f = dc * c[t - 1] * f[t] * (1 - f[t])
        da_i = dc * g[t] * i[t] * (1 - i[t])
        da_g = dc * i[t] * (1 - g[t] ** 2)
        dz = np.zeros_like(zz[t])
        for W, b, da, Wq in (("Wf", "bf", da_f, Wf), ("Wi", "bi", da_i, Wi),
                             ("Wc", "bc", da_g, Wc), ("Wo", "bo", da_o, Wo)):
            grads[W] += da @ zz[t].T
            grads[b] += da
            dz += Wq.T @ da
        dh_next = np.asarray(
            dz[:H])
    T = len(inputs)
    return loss, grads, h[T - 1], c[T - 1]
