from collections import namedtuple

import numpy as np

# everything is a (1, n) row vector; weights are (out, in), so products read z @ W.T
Step = namedtuple("Step", "z f i g o c_prev c h")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_loss(inputs, targets, hprev, cprev):
    H = Wf.shape[0]
    V = Wf.shape[1] - H
    h = hprev.T
    c = cprev.T
    tape = []
    loss = 0.0
    for ix, tg in zip(inputs, targets):
        x = np.zeros((1, V))
        x[0, ix] = 1.0
        z = np.hstack([h, x])
        f = sigmoid(z @ Wf.T + bf.T)
        i = sigmoid(z @ Wi.T + bi.T)
        g = np.tanh(z @ Wc.T + bc.T)
        o = sigmoid(z @ Wo.T + bo.T)
        c_prev = c
        c = f * c_prev + i * g
        h = o * np.tanh(c)
        s = h @ Why.T + by.T
        s = s - s.max()
        logp = s - np.log(np.exp(s).sum())
        loss -= logp[0, tg]
        tape.append((Step(z, f, i, g, o, c_prev, c, h), np.exp(logp), tg))

    dWf, dWi, dWc, dWo = (np.zeros_like(W) for W in (Wf, Wi, Wc, Wo))
    dbf, dbi, dbc, dbo = (np.zeros_like(b) for b in (bf, bi, bc, bo))
    dWhy = np.zeros_like(Why)
    dby = np.zeros_like(by)
    dh_next = np.zeros((1, H))
    dc_next = np.zeros((1, H))
    for st, p, tg in reversed(tape):
        dy = p.copy()
        dy[0, tg] -= 1.0
        dWhy += dy.T @ st.h
        dby += dy.T
        dh = dy @ Why + dh_next
        tc = np.tanh(st.c)
        do = dh * tc * st.o * (1 - st.o)
        dc = dh * st.o * (1 - tc ** 2) + dc_next
        df = dc * st.c_prev * st.f * (1 - st.f)
        di = dc * st.g * st.i * (1 - st.i)
        dg = dc * st.i * (1 - st.g ** 2)
        dWf += df.T @ st.z
        dWi += di.T @ st.z
        dWc += dg.T @ st.z
        dWo += do.T @ st.z
        dbf += df.T
        dbi += di.T
        dbc += dg.T
        dbo += do.T
        dz = df @ Wf + di @ Wi + dg @ Wc + do @ Wo
        dh_next = dz[:, :H]
        dc_next = dc * st.f
    return loss, dWf, dWi, dWc, dWo, dbf, dbi, dbc, dbo, dWhy, dby, h.T, c.T
