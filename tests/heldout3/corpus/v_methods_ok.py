import numpy as np


class TinyRNN(object):
    """forward() and backward() keep what they need on the instance."""

    def __init__(self, vocab, hidden):
        self.n_vocab = vocab
        self.Wxh = np.random.randn(hidden, vocab) * 0.01
        self.Whh = np.random.randn(hidden, hidden) * 0.01
        self.Why = np.random.randn(vocab, hidden) * 0.01
        self.bh = np.zeros((hidden, 1))
        self.by = np.zeros((vocab, 1))

    def forward(self, inputs, hprev):
        self.xs, self.hs, self.ps = [], [], []
        self.h0 = hprev.copy()
        h = hprev.copy()
        for ix in inputs:
            x = np.zeros((self.n_vocab, 1))
            x[ix] = 1
            np.tanh(self.Wxh.dot(x) + self.Whh.dot(h) + self.bh, out=h)
            self.xs.append(x)
            self.hs.append(h.copy())
            s = self.Why.dot(h) + self.by
            s = np.exp(s - s.max())
            self.ps.append(s / s.sum())
        return h

    def backward(self, targets):
        g = {k: np.zeros_like(getattr(self, k)) for k in ("Wxh", "Whh", "Why", "bh", "by")}
        grad_h_next = np.zeros_like(self.h0)
        prevs = [self.h0] + self.hs[:-1]
        for t, (x, h, p) in reversed(list(enumerate(zip(self.xs, self.hs, self.ps)))):
            dscore = p.copy()
            dscore[targets[t]] -= 1
            g["Why"] += dscore.dot(h.T)
            g["by"] += dscore
            grad_h = self.Why.T.dot(dscore) + grad_h_next
            grad_a = grad_h * (1 - h * h)
            g["bh"] += grad_a
            g["Wxh"] += grad_a.dot(x.T)
            g["Whh"] += grad_a.dot(prevs[t].T)
            grad_h_next = self.Whh.T.dot(grad_a)
        return g

    def loss(self, inputs, targets, hprev):
        hlast = self.forward(inputs, hprev)
        g = self.backward(targets)
        loss = sum(-np.log(p[tg, 0]) for p, tg in zip(self.ps, targets))
        return loss, g["Wxh"], g["Whh"], g["Why"], g["bh"], g["by"], hlast
