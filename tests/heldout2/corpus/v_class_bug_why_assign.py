import numpy as np


class CharRNN:
    """A character-level vanilla RNN whose weights live on the instance."""

    def __init__(self, hidden_size, vocab_size, seq_length=25, learning_rate=0.1):
        self.hidden_size = hidden_size
        self.vocab_size = vocab_size
        self.seq_length = seq_length
        self.learning_rate = learning_rate
        rng = np.random.default_rng(0)
        self.Wxh = rng.standard_normal((hidden_size, vocab_size)) * 0.01
        self.Whh = rng.standard_normal((hidden_size, hidden_size)) * 0.01
        self.Why = rng.standard_normal((vocab_size, hidden_size)) * 0.01
        self.bh = np.zeros((hidden_size, 1))
        self.by = np.zeros((vocab_size, 1))

    def step(self, x, h_prev):
        h = np.tanh(self.Wxh @ x + self.Whh @ h_prev + self.bh)
        y = self.Why @ h + self.by
        return h, y

    def lossFun(self, inputs, targets, hprev):
        x, h, p = {}, {}, {}
        h[-1] = hprev.copy()
        loss = 0.0
        for t, (i, j) in enumerate(zip(inputs, targets)):
            x[t] = np.zeros((self.vocab_size, 1))
            x[t][i] = 1.0
            h[t], y = self.step(x[t], h[t - 1])
            y = y - y.max()
            p[t] = np.exp(y) / np.exp(y).sum()
            loss -= np.log(p[t][j, 0])
        names = ("Wxh", "Whh", "Why", "bh", "by")
        grads = {k: np.zeros_like(getattr(self, k)) for k in names}
        dh_next = np.zeros((self.hidden_size, 1))
        for t in range(len(inputs) - 1, -1, -1):
            dy = p[t].copy()
            dy[targets[t]] -= 1.0
            grads["Why"] = dy @ h[t].T
            grads["by"] += dy
            dh = self.Why.T @ dy + dh_next
            da = (1.0 - h[t] ** 2) * dh
            grads["bh"] += da
            grads["Wxh"] += da @ x[t].T
            grads["Whh"] += da @ h[t - 1].T
            dh_next = self.Whh.T @ da
        return (loss, *(grads[k] for k in names), h[len(inputs) - 1])

    def update(self, grads, memory):
        for k, g in zip(("Wxh", "Whh", "Why", "bh", "by"), grads):
            memory[k] = memory.get(k, 0.0) + g * g
            setattr(self, k, getattr(self, k) - self.learning_rate * g / np.sqrt(memory[k] + 1e-8))

    def sample(self, h, seed_ix, n, rng):
        x = np.zeros((self.vocab_size, 1))
        x[seed_ix] = 1.0
        out = []
        for _ in range(n):
            h, y = self.step(x, h)
            p = np.exp(y - y.max())
            p /= p.sum()
            ix = int(rng.choice(self.vocab_size, p=p.ravel()))
            x = np.zeros_like(x)
            x[ix] = 1.0
            out.append(ix)
        return out
