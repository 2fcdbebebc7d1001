# min-char-rnn with a GRU cell.
#   z = [h_prev; x]
#   u = sigmoid(Wz z + bz)              update gate
#   r = sigmoid(Wr z + br)              reset gate
#   n = tanh(Wn [r * h_prev; x] + bn)   candidate
#   h = u * h_prev + (1 - u) * n
import numpy as np

hidden_size = 50
vocab_size = 27
Wz = np.random.randn(hidden_size, hidden_size + vocab_size) * 0.1
Wr = np.random.randn(hidden_size, hidden_size + vocab_size) * 0.1
Wn = np.random.randn(hidden_size, hidden_size + vocab_size) * 0.1
bz = np.zeros((hidden_size, 1))
br = np.zeros((hidden_size, 1))
bn = np.zeros((hidden_size, 1))
Why = np.random.randn(vocab_size, hidden_size) * 0.01
by = np.zeros((vocab_size, 1))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lossFun(inputs, targets, hprev):
    xs, zs, rhs, us, rs, ns, hs, ps = {}, {}, {}, {}, {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))
        xs[t][inputs[t]] = 1
        zs[t] = np.vstack((hs[t-1], xs[t]))
        us[t] = sigmoid(Wz @ zs[t] + bz)
        rs[t] = sigmoid(Wr @ zs[t] + br)
        rhs[t] = np.vstack((rs[t] * hs[t-1], xs[t]))
        ns[t] = np.tanh(Wn @ rhs[t] + bn)
        hs[t] = us[t] * hs[t-1] + (1 - us[t]) * ns[t]
        ys = Why @ hs[t] + by
        ps[t] = np.exp(ys) / np.sum(np.exp(ys))
        loss += -np.log(ps[t][targets[t], 0])
    dWz, dWr, dWn = np.zeros_like(Wz), np.zeros_like(Wr), np.zeros_like(Wn)
    dbz, dbr, dbn = np.zeros_like(bz), np.zeros_like(br), np.zeros_like(bn)
    dWhy, dby = np.zeros_like(Why), np.zeros_like(by)
    dhnext = np.zeros_like(hprev)
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += dy @ hs[t].T
        dby += dy
        dh = Why.T @ dy + dhnext
        du = dh * (hs[t-1] - ns[t])
        dn = dh * (1 - us[t])
        dnraw = dn * (1 - ns[t] ** 2)
        dWn += dnraw @ rhs[t].T
        dbn += dnraw
        drh = (Wn.T @ dnraw)[:hidden_size]
        dr = drh * hs[t-1]
        drraw = dr * rs[t] * (1 - rs[t])
        duraw = du * us[t] * (1 - us[t])
        dWr += drraw @ zs[t].T
        dbr += drraw
        dWz += duraw @ zs[t].T
        dbz += duraw
        dz = Wz.T @ duraw + Wr.T @ drraw
        dhnext = dh * us[t] + drh * rs[t] + dz[:hidden_size]
    return loss, dWz, dWr, dWn, dbz, dbr, dbn, dWhy, dby, hs[len(inputs)-1]
