import numpy as np


class Elman:
    """Vanilla RNN; loss_and_grad clips its gradients to [-10, 10] against explosions."""

    def __init__(self, hidden_size, vocab_size, scale=0.01):
        rng = np.random.default_rng(0)
        self.Wxh = rng.standard_normal((hidden_size, vocab_size)) * scale
        self.Whh = rng.standard_normal((hidden_size, hidden_size)) * scale
        self.Why = rng.standard_normal((vocab_size, hidden_size)) * scale
        self.bh = np.zeros((hidden_size, 1))
        self.by = np.zeros((vocab_size, 1))
        self.vocab_size = vocab_size

    def one_hot(self, i):
        v = np.zeros((self.vocab_size, 1))
        v[i] = 1
        return v

    def loss_and_grad(self, inputs, targets, h0):
        T = len(inputs)
        xs, acts, hs, ps = [], [], [h0], []
        loss = 0.0
        for t in range(T):
            xs.append(self.one_hot(inputs[t]))
            acts.append(np.matmul(self.Wxh, xs[t]) + np.matmul(self.Whh, hs[-1]) + self.bh)
            hs.append(np.tanh(acts[t]))
            y = np.matmul(self.Why, hs[-1]) + self.by
            ey = np.exp(y - y.max())
            ps.append(ey / ey.sum())
            loss -= float(np.log(ps[t][targets[t], 0]))
        dWxh = np.zeros_like(self.Wxh)
        dWhh = np.zeros_like(self.Whh)
        dWhy = np.zeros_like(self.Why)
        dbh = np.zeros_like(self.bh)
        dby = np.zeros_like(self.by)
        delta = np.zeros_like(h0)
        t = T
        while t > 0:
            t -= 1
            dy = ps[t] - self.one_hot(targets[t])
            dWhy += np.matmul(dy, hs[t + 1].T)
            dby += dy
            delta = np.matmul(self.Why.T, dy) + delta
            delta = delta * (1 - np.tanh(acts[t]) ** 2)
            dbh += delta
            dWxh += np.matmul(delta, xs[t].T)
            dWhh += np.matmul(delta, hs[t + 1].T)
            delta = np.matmul(self.Whh.T, delta)
        grads = [dWxh, dWhh, dWhy, dbh, dby]
        for g in grads:
            np.clip(g, -10, 10, out=g)
        return (loss, *grads, hs[T])


if __name__ == "__main__":
    text = open("input.txt").read()
    chars = sorted(set(text))
    ix = {c: i for i, c in enumerate(chars)}
    net = Elman(64, len(chars))
    h = np.zeros((64, 1))
    for it in range(1000):
        start = (it * 16) % (len(text) - 17)
        seq = [ix[c] for c in text[start:start + 17]]
        loss, *grads, h = net.loss_and_grad(seq[:-1], seq[1:], h)
        for name, g in zip(("Wxh", "Whh", "Why", "bh", "by"), grads):
            setattr(net, name, getattr(net, name) - 0.1 * g)
        if it % 100 == 0:
            print(it, loss)
