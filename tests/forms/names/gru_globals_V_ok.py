"""A min-char-rnn-style GRU named Wu/bu/Wc/bc, its vocabulary size the global V (correct)."""
import numpy as np

hidden_size = 100
V = 65
Wu = np.random.randn(hidden_size, hidden_size + V) * 0.01
Wr = np.random.randn(hidden_size, hidden_size + V) * 0.01
Wc = np.random.randn(hidden_size, hidden_size + V) * 0.01
bu, br, bc = np.zeros((hidden_size, 1)), np.zeros((hidden_size, 1)), np.zeros((hidden_size, 1))
Why = np.random.randn(V, hidden_size) * 0.01
by = np.zeros((V, 1))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lossFun(inputs, targets, hprev):
    xs, zs, rhs, us, rs, ns, hs, ps = {}, {}, {}, {}, {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0
    for t in range(len(inputs)):
        xs[t] = np.zeros((V, 1))
        xs[t][inputs[t]] = 1
        zs[t] = np.vstack((hs[t - 1], xs[t]))
        us[t] = sigmoid(np.dot(Wu, zs[t]) + bu)
        rs[t] = sigmoid(np.dot(Wr, zs[t]) + br)
        rhs[t] = np.vstack((rs[t] * hs[t - 1], xs[t]))
        ns[t] = np.tanh(np.dot(Wc, rhs[t]) + bc)
        hs[t] = us[t] * hs[t - 1] + (1 - us[t]) * ns[t]
        y = np.dot(Why, hs[t]) + by
        ps[t] = np.exp(y) / np.sum(np.exp(y))
        loss += -np.log(ps[t][targets[t], 0])
    dWz, dWr, dWn = np.zeros_like(Wu), np.zeros_like(Wr), np.zeros_like(Wc)
    dbz, dbr, dbn = np.zeros_like(bu), np.zeros_like(br), np.zeros_like(bc)
    dWhy, dby = np.zeros_like(Why), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += np.dot(dy, hs[t].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dhnext
        du = dh * (hs[t - 1] - ns[t]) * us[t] * (1 - us[t])
        dn = dh * (1 - us[t]) * (1 - ns[t] ** 2)
        drh = np.dot(Wc.T, dn)[:hidden_size]
        dr = drh * hs[t - 1] * rs[t] * (1 - rs[t])
        dWz += np.dot(du, zs[t].T)
        dWr += np.dot(dr, zs[t].T)
        dWn += np.dot(dn, rhs[t].T)
        dbz += du
        dbr += dr
        dbn += dn
        dz = np.dot(Wu.T, du) + np.dot(Wr.T, dr)
        dhnext = dh * us[t] + drh * rs[t] + dz[:hidden_size]
    return loss, dWz, dWr, dWn, dbz, dbr, dbn, dWhy, dby, hs[len(inputs) - 1]
