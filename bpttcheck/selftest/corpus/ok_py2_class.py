# selftest-expect: ok
# selftest-target: RNN.lossFun
# A Python 2 class: its train() and save() use print statements and the old
# except syntax, so the file is read method by method; lossFun is valid Python 3.
import sys
import numpy as np


class RNN:
    def __init__(self, vocab_size, hidden_size=100):
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.Wxh = np.random.randn(hidden_size, vocab_size) * 0.01
        self.Whh = np.random.randn(hidden_size, hidden_size) * 0.01
        self.Why = np.random.randn(vocab_size, hidden_size) * 0.01
        self.bh = np.zeros((hidden_size, 1))
        self.by = np.zeros((vocab_size, 1))

    def save(self, path):
        try:
            np.savez(path, Wxh=self.Wxh)
        except IOError, e:
            print >>sys.stderr, "cannot save:", e

    def lossFun(self, inputs, targets, hprev):
        T = len(inputs)
        x = np.zeros((T, self.vocab_size, 1))
        h = np.zeros((T + 1, self.hidden_size, 1))
        p = np.zeros((T, self.vocab_size, 1))
        h[-1] = hprev
        loss = 0.0
        for t in range(T):
            x[t, inputs[t]] = 1.0
            h[t] = np.tanh(self.Wxh.dot(x[t]) + self.Whh.dot(h[t - 1]) + self.bh)
            y = self.Why.dot(h[t]) + self.by
            p[t] = np.exp(y) / np.exp(y).sum()
            loss -= np.log(p[t, targets[t], 0])
        dWxh = np.zeros_like(self.Wxh)
        dWhh = np.zeros_like(self.Whh)
        dWhy = np.zeros_like(self.Why)
        dbh = np.zeros_like(self.bh)
        dby = np.zeros_like(self.by)
        dhnext = np.zeros((self.hidden_size, 1))
        for t in range(T - 1, -1, -1):
            dy = p[t].copy()
            dy[targets[t]] -= 1.0
            dWhy += dy.dot(h[t].T)
            dby += dy
            dh = self.Why.T.dot(dy) + dhnext
            dhraw = (1.0 - h[t] ** 2) * dh
            dbh += dhraw
            dWxh += dhraw.dot(x[t].T)
            dWhh += dhraw.dot(h[t - 1].T)
            dhnext = self.Whh.T.dot(dhraw)
        return loss, dWxh, dWhh, dWhy, dbh, dby, h[T - 1]

    def train(self, data):
        for n in xrange(100000):
            print 'iter', n
