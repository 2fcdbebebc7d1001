"""A small character RNN as a class: weights are attributes, the gradient buffers a dict
built from the list of parameter names."""
import numpy as np


class CharRNN(object):
    names = ("Wxh", "Whh", "Why", "bh", "by")

    def __init__(self, hidden_size, vocab_size, seed=0):
        rng = np.random.RandomState(seed)
        self.H, self.V = hidden_size, vocab_size
        self.Wxh = rng.randn(hidden_size, vocab_size) * 0.01
        self.Whh = rng.randn(hidden_size, hidden_size) * 0.01
        self.Why = rng.randn(vocab_size, hidden_size) * 0.01
        self.bh = np.zeros((hidden_size, 1))
        self.by = np.zeros((vocab_size, 1))

    @staticmethod
    def _softmax(z):
        z = z - z.max()
        return np.exp(z) / np.exp(z).sum()

    def _onehot(self, i):
        v = np.zeros((self.V, 1))
        v[i, 0] = 1.0
        return v

    def loss(self, inputs, targets, hprev):
        grads = {k: np.zeros_like(getattr(self, k)) for k in self.names}
        xs = [self._onehot(i) for i in inputs]
        hs, ps = {-1: hprev.copy()}, {}
        total = 0.0
        for t, x in enumerate(xs):
            hs[t] = np.tanh(self.Wxh @ x + self.Whh @ hs[t - 1] + self.bh)
            ps[t] = self._softmax(self.Why @ hs[t] + self.by)
            total += -np.log(ps[t][targets[t], 0])
        carry = np.zeros((self.H, 1))
        for t in range(len(inputs))[::-1]:
            g = ps[t].copy()
            g[targets[t]] -= 1
            grads["Why"] += g @ hs[t].T
            grads["by"] += g
            gh = self.Why.T @ g - carry
            graw = gh * (1 - hs[t] * hs[t])
            grads["bh"] += graw
            grads["Wxh"] += graw @ xs[t].T
            grads["Whh"] += graw @ hs[t - 1].T
            carry = self.Whh.T @ graw
        return (total,) + tuple(grads[k] for k in self.names) + (hs[len(inputs) - 1],)

    def train_step(self, inputs, targets, hprev, lr=0.1):
        out = self.loss(inputs, targets, hprev)
        for k, g in zip(self.names, out[1:6]):
            setattr(self, k, getattr(self, k) - lr * g)
        return out[0], out[-1]
