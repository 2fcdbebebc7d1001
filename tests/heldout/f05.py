import numpy as np


class TinyCharRNN:
    """Vanilla RNN over one-hot characters, with zero_grad / forward / backward."""

    PARAMS = ("Wxh", "Whh", "Why", "bh", "by")

    def __init__(self, input_dim, hidden_dim):
        self.Wxh = np.zeros((hidden_dim, input_dim))
        self.Whh = np.zeros((hidden_dim, hidden_dim))
        self.Why = np.zeros((input_dim, hidden_dim))
        self.bh = np.zeros((hidden_dim, 1))
        self.by = np.zeros((input_dim, 1))
        self.grads = {}

    def zero_grad(self):
        self.grads = {name: np.zeros_like(getattr(self, name)) for name in self.PARAMS}

    def forward(self, tokens, h):
        self.tokens = list(tokens)
        self.h_in = h
        self.pre, self.hid, self.logp = [], [], []
        for tok in self.tokens:
            a = self.Wxh[:, [tok]] + self.Whh @ h + self.bh
            h = np.tanh(a)
            y = self.Why @ h + self.by
            m = y.max()
            self.pre.append(a)
            self.hid.append(h)
            self.logp.append(y - m - np.log(np.sum(np.exp(y - m))))
        return h

    def backward(self, labels):
        g = self.grads
        dlogits = [np.exp(lp) for lp in self.logp]
        for t, lab in enumerate(labels):
            dlogits[t][lab] -= 1
        dnext = np.zeros_like(self.h_in)
        for t in range(len(labels) - 1, -1, -1):
            h_prev = self.hid[t - 1] if t else self.h_in
            g["Why"] += dlogits[t] @ self.hid[t].T
            g["by"] += dlogits[t]
            dh = self.Why.T @ dlogits[t] + dnext
            da = dh / np.cosh(self.pre[t]) ** 2
            g["bh"] = da
            g["Wxh"][:, [self.tokens[t]]] += da
            g["Whh"] += da @ h_prev.T
            dnext = self.Whh.T @ da
        return dnext

    def objective(self, inputs, targets, hprev):
        self.zero_grad()
        h_last = self.forward(inputs, hprev)
        loss = -sum(lp[y, 0] for lp, y in zip(self.logp, targets))
        self.backward(targets)
        return loss, {"d" + k: v for k, v in self.grads.items()}, h_last
