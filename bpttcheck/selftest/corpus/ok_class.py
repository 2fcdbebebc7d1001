# selftest-expect: ok
# selftest-target: CharRNN.loss_and_grads
# Weights as attributes of an instance; the constructor takes the sizes by name.
import numpy as np


class CharRNN:
    def __init__(self, hidden_size, vocab_size, seq_length=25, learning_rate=0.1):
        self.hidden_size, self.vocab_size = hidden_size, vocab_size
        self.seq_length, self.learning_rate = seq_length, learning_rate
        self.Wxh = np.random.randn(hidden_size, vocab_size) * 0.01
        self.Whh = np.random.randn(hidden_size, hidden_size) * 0.01
        self.Why = np.random.randn(vocab_size, hidden_size) * 0.01
        self.bh = np.zeros((hidden_size, 1))
        self.by = np.zeros((vocab_size, 1))

    def step(self, x, h):
        return np.tanh(self.Wxh @ x + self.Whh @ h + self.bh)

    def loss_and_grads(self, inputs, targets, hprev):
        xs, hs, ps = [], [np.copy(hprev)], []
        loss = 0.0
        for i, target in zip(inputs, targets):
            x = np.zeros((self.vocab_size, 1))
            x[i] = 1
            h = self.step(x, hs[-1])
            y = self.Why @ h + self.by
            e = np.exp(y - y.max())
            p = e / e.sum()
            loss -= np.log(p[target, 0])
            xs.append(x)
            hs.append(h)
            ps.append(p)
        grads = {k: np.zeros_like(getattr(self, k)) for k in ("Wxh", "Whh", "Why", "bh", "by")}
        carry = np.zeros((self.hidden_size, 1))
        for t in range(len(inputs) - 1, -1, -1):
            dy = ps[t].copy()
            dy[targets[t]] -= 1
            grads["Why"] += dy @ hs[t + 1].T
            grads["by"] += dy
            dh = self.Why.T @ dy + carry
            da = dh * (1 - hs[t + 1] ** 2)
            grads["bh"] += da
            grads["Wxh"] += da @ xs[t].T
            grads["Whh"] += da @ hs[t].T
            carry = self.Whh.T @ da
        return (loss, grads["Wxh"], grads["Whh"], grads["Why"], grads["bh"], grads["by"],
                hs[-1])


if __name__ == "__main__":
    model = CharRNN(100, 65)
    print(model.loss_and_grads([1, 2, 3], [2, 3, 4], np.zeros((100, 1)))[0])
