"""Character-level LSTM with the four gates stacked into one matrix.

z_t = [h_{t-1}; x_t]; a = [Wf; Wi; Wc; Wo] z_t + [bf; bi; bc; bo], cut in four blocks of
H rows: f, i, o through a sigmoid, the candidate g through tanh.
"""
import numpy as np

hidden_size = 64
vocab_size = 30
seq_length = 20
n_z = hidden_size + vocab_size
Wf, Wi, Wc, Wo = [np.random.randn(hidden_size, n_z) * 0.1 for _ in range(4)]
bf, bi, bc, bo = [np.zeros((hidden_size, 1)) for _ in range(4)]
bf += 1.0
Why = np.random.randn(vocab_size, hidden_size) * 0.1
by = np.zeros((vocab_size, 1))


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lossFun(inputs, targets, hprev, cprev):
    H = hidden_size
    W = np.concatenate([Wf, Wi, Wc, Wo])  # (4H, H + V)
    b = np.concatenate([bf, bi, bc, bo])
    xs, zs, acts, cs, hs, ps = {}, {}, {}, {}, {}, {}
    hs[-1], cs[-1] = hprev.copy(), cprev.copy()
    loss = 0.0
    for t, ix in enumerate(inputs):
        xs[t] = np.zeros((vocab_size, 1))
        xs[t][ix] = 1
        zs[t] = np.vstack((hs[t - 1], xs[t]))
        a = W @ zs[t] + b
        gates = np.empty_like(a)
        gates[:2 * H] = sigmoid(a[:2 * H])
        gates[2 * H:3 * H] = np.tanh(a[2 * H:3 * H])
        gates[3 * H:] = sigmoid(a[3 * H:])
        acts[t] = gates
        f, i, g, o = np.split(gates, 4)
        cs[t] = f * cs[t - 1] + i * g
        hs[t] = o * np.tanh(cs[t])
        y = Why @ hs[t] + by
        ps[t] = np.exp(y - y.max()) / np.sum(np.exp(y - y.max()))
        loss += -np.log(ps[t][targets[t], 0])
    dW, db = np.zeros_like(W), np.zeros_like(b)
    dWhy, dby = np.zeros_like(Why), np.zeros_like(by)
    dh_next, dc_next = np.zeros_like(hprev), np.zeros_like(cprev)
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        dWhy += dy @ hs[t].T
        dby += dy
        dh = Why.T @ dy + dh_next
        f, i, g, o = np.split(acts[t], 4)
        tc = np.tanh(cs[t])
        dc = dh * o * (1 - tc ** 2) + dc_next
        da = np.vstack((dc * cs[t - 1] * f * (1 - f),
                        dc * g * i * (1 - i),
                        dc * i * g * (1 - g),
                        dh * tc * o * (1 - o)))
        dW += da @ zs[t].T
        db += da
        dz = W.T @ da
        dh_next = dz[:H]
        dc_next = f * dc
    dWf, dWi, dWc, dWo = np.split(dW, 4)
    dbf, dbi, dbc, dbo = np.split(db, 4)
    T = len(inputs)
    return loss, dWf, dWi, dWc, dWo, dbf, dbi, dbc, dbo, dWhy, dby, hs[T - 1], cs[T - 1]
