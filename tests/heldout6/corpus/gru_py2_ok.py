"""
Minimal character-level GRU, written along the lines of min-char-rnn.py.
"""
import numpy as np

data = open('input.txt', 'r').read()
chars = list(set(data))
data_size, vocab_size = len(data), len(chars)

hidden_size = 100
seq_length = 25

Wz = np.random.randn(hidden_size, hidden_size + vocab_size) * 0.01
Wr = np.random.randn(hidden_size, hidden_size + vocab_size) * 0.01
Wn = np.random.randn(hidden_size, hidden_size + vocab_size) * 0.01
Why = np.random.randn(vocab_size, hidden_size) * 0.01
bz, br, bn = np.zeros((hidden_size, 1)), np.zeros((hidden_size, 1)), np.zeros((hidden_size, 1))
by = np.zeros((vocab_size, 1))


def sigmoid(x):
  return 1. / (1. + np.exp(-x))


def lossFun(inputs, targets, hprev):
  xs, hs, zs, rs, ns, xhs, xrhs, ps = {}, {}, {}, {}, {}, {}, {}, {}
  hs[-1] = np.copy(hprev)
  loss = 0
  for t in range(len(inputs)):
    xs[t] = np.zeros((vocab_size, 1))
    xs[t][inputs[t]] = 1
    xhs[t] = np.vstack((hs[t-1], xs[t]))
    zs[t] = sigmoid(np.dot(Wz, xhs[t]) + bz)
    rs[t] = sigmoid(np.dot(Wr, xhs[t]) + br)
    xrhs[t] = np.vstack((rs[t] * hs[t-1], xs[t]))
    ns[t] = np.tanh(np.dot(Wn, xrhs[t]) + bn)
    hs[t] = zs[t] * hs[t-1] + (1 - zs[t]) * ns[t]
    ys = np.dot(Why, hs[t]) + by
    ps[t] = np.exp(ys) / np.sum(np.exp(ys))
    loss += -np.log(ps[t][targets[t], 0])
  dWz, dWr, dWn = np.zeros_like(Wz), np.zeros_like(Wr), np.zeros_like(Wn)
  dbz, dbr, dbn = np.zeros_like(bz), np.zeros_like(br), np.zeros_like(bn)
  dWhy, dby = np.zeros_like(Why), np.zeros_like(by)
  dhnext = np.zeros_like(hs[0])
  for t in reversed(range(len(inputs))):
    dy = ps[t].copy()
    dy[targets[t]] -= 1
    dWhy += np.dot(dy, hs[t].T)
    dby += dy
    dh = np.dot(Why.T, dy) + dhnext
    dn = dh * (1 - zs[t]) * (1 - ns[t] * ns[t])
    dWn += np.dot(dn, xrhs[t].T)
    dbn += dn
    dxrh = np.dot(Wn.T, dn)
    dr = dxrh[:hidden_size] * hs[t-1] * rs[t] * (1 - rs[t])
    dz = dh * (hs[t-1] - ns[t]) * zs[t] * (1 - zs[t])
    dWz += np.dot(dz, xhs[t].T)
    dbz += dz
    dWr += np.dot(dr, xhs[t].T)
    dbr += dr
    dhnext = dh * zs[t] + dxrh[:hidden_size] * rs[t]
    dhnext += np.dot(Wz.T, dz)[:hidden_size] + np.dot(Wr.T, dr)[:hidden_size]
  return loss, dWz, dWr, dWn, dbz, dbr, dbn, dWhy, dby, hs[len(inputs)-1]
