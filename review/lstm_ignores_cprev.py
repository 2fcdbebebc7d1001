"""A min-char-rnn-style LSTM: lossFun reads the weights as module globals."""
import numpy as np

data = open('input.txt', 'r').read()  # the usual training script; bpttcheck skips this line
hidden_size = 100
vocab_size = 65
Wf = np.random.randn(hidden_size, hidden_size + vocab_size) * 0.01
Wi = np.random.randn(hidden_size, hidden_size + vocab_size) * 0.01
Wc = np.random.randn(hidden_size, hidden_size + vocab_size) * 0.01
Wo = np.random.randn(hidden_size, hidden_size + vocab_size) * 0.01
bf = np.zeros((hidden_size, 1))
bi = np.zeros((hidden_size, 1))
bc = np.zeros((hidden_size, 1))
bo = np.zeros((hidden_size, 1))
Why = np.random.randn(vocab_size, hidden_size) * 0.01
by = np.zeros((vocab_size, 1))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lossFun(inputs, targets, hprev, cprev):
    xs, zs, hs, cs, fs, is_, gs, os_, ps = {}, {}, {}, {}, {}, {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    cs[-1] = np.zeros_like(cprev)
    loss = 0
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))
        xs[t][inputs[t]] = 1
        zs[t] = np.vstack((hs[t - 1], xs[t]))
        fs[t] = sigmoid(np.dot(Wf, zs[t]) + bf)
        is_[t] = sigmoid(np.dot(Wi, zs[t]) + bi)
        gs[t] = np.tanh(np.dot(Wc, zs[t]) + bc)
        os_[t] = sigmoid(np.dot(Wo, zs[t]) + bo)
        cs[t] = fs[t] * cs[t - 1] + is_[t] * gs[t]
        hs[t] = os_[t] * np.tanh(cs[t])
        y = np.dot(Why, hs[t]) + by
        ps[t] = np.exp(y) / np.sum(np.exp(y))
        loss += -np.log(ps[t][targets[t], 0])
    dWf, dWi, dWc, dWo = np.zeros_like(Wf), np.zeros_like(Wi), np.zeros_like(Wc), np.zeros_like(Wo)
    dbf, dbi, dbc, dbo = np.zeros_like(bf), np.zeros_like(bi), np.zeros_like(bc), np.zeros_like(bo)
    dWhy, dby = np.zeros_like(Why), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    dcnext = np.zeros_like(cs[0])
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += np.dot(dy, hs[t].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dhnext
        do = dh * np.tanh(cs[t])
        do = do * os_[t] * (1 - os_[t])
        dc = dh * os_[t] * (1 - np.tanh(cs[t]) ** 2) + dcnext
        df = dc * cs[t - 1] * fs[t] * (1 - fs[t])
        di = dc * gs[t] * is_[t] * (1 - is_[t])
        dg = dc * is_[t] * (1 - gs[t] ** 2)
        dWf += np.dot(df, zs[t].T)
        dWi += np.dot(di, zs[t].T)
        dWc += np.dot(dg, zs[t].T)
        dWo += np.dot(do, zs[t].T)
        dbf += df
        dbi += di
        dbc += dg
        dbo += do
        dz = np.dot(Wf.T, df) + np.dot(Wi.T, di) + np.dot(Wc.T, dg) + np.dot(Wo.T, do)
        dhnext = dz[:hidden_size]
        dcnext = fs[t] * dc
    return loss, dWf, dWi, dWc, dWo, dbf, dbi, dbc, dbo, dWhy, dby, hs[len(inputs) - 1], cs[len(inputs) - 1]
