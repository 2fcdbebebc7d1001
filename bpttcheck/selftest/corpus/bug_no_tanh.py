# selftest-expect: tanh-derivative
# selftest-target: RNN.backward
# Class-based; the tanh derivative is missing from the backward pass.
import numpy as np


class RNN:
    def __init__(self, vocab_size, hidden_size):
        self.V, self.H = vocab_size, hidden_size
        self.Wxh = np.random.randn(hidden_size, vocab_size) * 0.01
        self.Whh = np.random.randn(hidden_size, hidden_size) * 0.01
        self.Why = np.random.randn(vocab_size, hidden_size) * 0.01
        self.bh = np.zeros((hidden_size, 1))
        self.by = np.zeros((vocab_size, 1))

    def backward(self, inputs, targets, hprev):
        hs, ps = {-1: hprev}, {}
        loss = 0.0
        for t, (i, j) in enumerate(zip(inputs, targets)):
            hs[t] = np.tanh(self.Wxh[:, [i]] + self.Whh @ hs[t - 1] + self.bh)
            y = self.Why @ hs[t] + self.by
            ps[t] = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
            loss -= np.log(ps[t][j, 0])
        dWxh, dWhh, dWhy = (np.zeros_like(w) for w in (self.Wxh, self.Whh, self.Why))
        dbh, dby = np.zeros_like(self.bh), np.zeros_like(self.by)
        dhnext = np.zeros((self.H, 1))
        for t in reversed(range(len(inputs))):
            dy = ps[t].copy()
            dy[targets[t]] -= 1
            dWhy += dy @ hs[t].T
            dby += dy
            dh = self.Why.T @ dy + dhnext
            dhraw = dh  # BUG: missing (1 - hs[t] ** 2) *
            dbh += dhraw
            dWxh[:, [inputs[t]]] += dhraw
            dWhh += dhraw @ hs[t - 1].T
            dhnext = self.Whh.T @ dhraw
        return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]
