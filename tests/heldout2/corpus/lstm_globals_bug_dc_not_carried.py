"""
min-char-rnn with an LSTM cell instead of the vanilla tanh cell.
z_t = [h_{t-1}; x_t];  f, i, o = sigmoid(W. z + b.);  g = tanh(Wc z + bc)
c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)
"""
import numpy as np

data = open('input.txt', 'r').read()
chars = sorted(set(data))
vocab_size = len(chars)
hidden_size = 100
seq_length = 25
z_size = hidden_size + vocab_size

Wf = np.random.randn(hidden_size, z_size) * 0.1
Wi = np.random.randn(hidden_size, z_size) * 0.1
Wc = np.random.randn(hidden_size, z_size) * 0.1
Wo = np.random.randn(hidden_size, z_size) * 0.1
bf = np.ones((hidden_size, 1))
bi = np.zeros((hidden_size, 1))
bc = np.zeros((hidden_size, 1))
bo = np.zeros((hidden_size, 1))
Why = np.random.randn(vocab_size, hidden_size) * 0.01
by = np.zeros((vocab_size, 1))


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def lossFun(inputs, targets, hprev, cprev):
    xs, zs, hs, cs, ps = {}, {}, {}, {}, {}
    fs, igs, gs, ogs = {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    cs[-1] = np.copy(cprev)
    loss = 0
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))
        xs[t][inputs[t]] = 1
        zs[t] = np.vstack((hs[t-1], xs[t]))
        fs[t] = sigmoid(np.dot(Wf, zs[t]) + bf)
        igs[t] = sigmoid(np.dot(Wi, zs[t]) + bi)
        gs[t] = np.tanh(np.dot(Wc, zs[t]) + bc)
        ogs[t] = sigmoid(np.dot(Wo, zs[t]) + bo)
        cs[t] = fs[t] * cs[t-1] + igs[t] * gs[t]
        hs[t] = ogs[t] * np.tanh(cs[t])
        ys = np.dot(Why, hs[t]) + by
        ps[t] = np.exp(ys - np.max(ys)) / np.sum(np.exp(ys - np.max(ys)))
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
        tc = np.tanh(cs[t])
        do = dh * tc
        dc = dh * ogs[t] * (1 - tc * tc)
        df = dc * cs[t-1]
        di = dc * gs[t]
        dg = dc * igs[t]
        dfraw = df * fs[t] * (1 - fs[t])
        diraw = di * igs[t] * (1 - igs[t])
        dgraw = dg * (1 - gs[t] * gs[t])
        doraw = do * ogs[t] * (1 - ogs[t])
        dWf += np.dot(dfraw, zs[t].T)
        dWi += np.dot(diraw, zs[t].T)
        dWc += np.dot(dgraw, zs[t].T)
        dWo += np.dot(doraw, zs[t].T)
        dbf += dfraw
        dbi += diraw
        dbc += dgraw
        dbo += doraw
        dz = np.dot(Wf.T, dfraw) + np.dot(Wi.T, diraw) + np.dot(Wc.T, dgraw) + np.dot(Wo.T, doraw)
        dhnext = dz[:hidden_size]
        dcnext = fs[t] * dc
    return (loss, dWf, dWi, dWc, dWo, dbf, dbi, dbc, dbo, dWhy, dby,
            hs[len(inputs)-1], cs[len(inputs)-1])
