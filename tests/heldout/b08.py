import numpy as np


def dtanh(z):
    """Derivative of tanh at the pre-activation z."""
    return 1.0 - np.tanh(z) ** 2


class ElmanRNN:
    def __init__(self, n_hidden, n_vocab, seed=1):
        rng = np.random.default_rng(seed)
        self.n_hidden, self.n_vocab = n_hidden, n_vocab
        self.W_in = rng.standard_normal((n_hidden, n_vocab)) * 0.01
        self.W_rec = rng.standard_normal((n_hidden, n_hidden)) * 0.01
        self.W_out = rng.standard_normal((n_vocab, n_hidden)) * 0.01
        self.b_rec = np.zeros((n_hidden, 1))
        self.b_out = np.zeros((n_vocab, 1))

    def forward(self, inputs, h0):
        cache = {"x": [], "z": [], "h": [h0], "p": []}
        for i in inputs:
            x = np.zeros((self.n_vocab, 1))
            x[i] = 1.0
            z = self.W_in @ x + self.W_rec @ cache["h"][-1] + self.b_rec
            h = np.tanh(z)
            o = self.W_out @ h + self.b_out
            p = np.exp(o - o.max())
            p /= p.sum()
            cache["x"].append(x)
            cache["z"].append(z)
            cache["h"].append(h)
            cache["p"].append(p)
        return cache

    def backward(self, cache, targets):
        dW_in = np.zeros_like(self.W_in)
        dW_rec = np.zeros_like(self.W_rec)
        dW_out = np.zeros_like(self.W_out)
        db_rec = np.zeros_like(self.b_rec)
        db_out = np.zeros_like(self.b_out)
        delta_future = np.zeros((self.n_hidden, 1))
        for t in reversed(range(len(targets))):
            do = cache["p"][t].copy()
            do[targets[t]] -= 1.0
            dW_out += cache["h"][t + 1] @ do.T
            db_out += do
            dh = self.W_out.T @ do + delta_future
            dz = dh * dtanh(cache["z"][t])
            db_rec += dz
            dW_in += dz @ cache["x"][t].T
            dW_rec += dz @ cache["h"][t].T
            delta_future = self.W_rec.T @ dz
        return dW_in, dW_rec, dW_out, db_rec, db_out

    def loss_and_grad(self, inputs, targets, hprev):
        cache = self.forward(inputs, hprev)
        loss = -sum(np.log(p[y, 0]) for p, y in zip(cache["p"], targets))
        grads = self.backward(cache, targets)
        return (loss, *grads, cache["h"][-1])
