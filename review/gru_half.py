"""A min-char-rnn-style GRU: lossFun reads the weights as module globals."""
import numpy as np

hidden_size = 100
vocab_size = 65
Wz = np.random.randn(hidden_size, hidden_size + vocab_size) * 0.01
Wr = np.random.randn(hidden_size, hidden_size + vocab_size) * 0.01
Wn = np.random.randn(hidden_size, hidden_size + vocab_size) * 0.01
bz, br, bn = np.zeros((hidden_size, 1)), np.zeros((hidden_size, 1)), np.zeros((hidden_size, 1))
Why = np.random.randn(vocab_size, hidden_size) * 0.01
by = np.zeros((vocab_size, 1))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lossFun(inputs, targets, hprev):
    xs, zs, rhs, us, rs, ns, hs, ps = {}, {}, {}, {}, {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))
        xs[t][inputs[t]] = 1
        zs[t] = np.vstack((hs[t - 1], xs[t]))
        us[t] = sigmoid(np.dot(Wz, zs[t]) + bz)
        rs[t] = sigmoid(np.dot(Wr, zs[t]) + br)
        rhs[t] = np.vstack((rs[t] * hs[t - 1], xs[t]))
        ns[t] = np.tanh(np.dot(Wn, rhs[t]) + bn)
        hs[t] = us[t] * hs[t - 1] + (1 - us[t]) * ns[t]
        y = np.dot(Why, hs[t]) + by
        ps[t] = np.exp(y) / np.sum(np.exp(y))
        loss += -np.log(ps[t][targets[t], 0])
    dWz, dWr, dWn = np.zeros_like(Wz), np.zeros_like(Wr), np.zeros_like(Wn)
    dbz, dbr, dbn = np.zeros_like(bz), np.zeros_like(br), np.zeros_like(bn)
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
        drh = np.dot(Wn.T, dn)[:hidden_size]
        dr = drh * hs[t - 1] * rs[t] * (1 - rs[t])
        dWz += np.dot(du, zs[t].T)
        dWr += np.dot(dr, zs[t].T)
        dWn += np.dot(dn, rhs[t].T)
        dbz += du * 0.5
        dbr += dr
        dbn += dn
        dz = np.dot(Wz.T, du) + np.dot(Wr.T, dr)
        dhnext = dh * us[t] + drh * rs[t] + dz[:hidden_size]
    return loss, dWz, dWr, dWn, dbz, dbr, dbn, dWhy, dby, hs[len(inputs) - 1]
