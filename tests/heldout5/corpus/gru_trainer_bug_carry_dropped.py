import numpy as np


class GRUTrainer:
    """Character-level GRU: update gate u, reset gate r, candidate hc;
    h = u * h_prev + (1 - u) * hc. Weights act on [h_prev; x]."""

    def __init__(self, hidden, vocab, lr=0.1):
        rng = np.random.default_rng(3)
        n_in = hidden + vocab
        self.Wu = rng.normal(0.0, 0.1, (hidden, n_in))
        self.Wr = rng.normal(0.0, 0.1, (hidden, n_in))
        self.Wh = rng.normal(0.0, 0.1, (hidden, n_in))
        self.bu = np.zeros((hidden, 1))
        self.br = np.zeros((hidden, 1))
        self.bh = np.zeros((hidden, 1))
        self.Wy = rng.normal(0.0, 0.1, (vocab, hidden))
        self.by = np.zeros((vocab, 1))
        self.lr = lr

    @staticmethod
    def _sigm(a):
        return 1.0 / (1.0 + np.exp(-a))

    def _forward_step(self, x, h_prev):
        xh = np.concatenate((h_prev, x))
        u = self._sigm(self.Wu @ xh + self.bu)
        r = self._sigm(self.Wr @ xh + self.br)
        xrh = np.concatenate((r * h_prev, x))
        hc = np.tanh(self.Wh @ xrh + self.bh)
        h = u * h_prev + (1 - u) * hc
        return h, (xh, xrh, u, r, hc, h_prev)

    def _backward_step(self, dh, cache):
        """Gradients of one step's gates, and the gradient into h_prev."""
        xh, xrh, u, r, hc, h_prev = cache
        H = h_prev.shape[0]
        dhc = dh * (1 - u)
        du = dh * (h_prev - hc)
        dhc_raw = dhc * (1 - hc ** 2)
        du_raw = du * u * (1 - u)
        dxrh = self.Wh.T @ dhc_raw
        dr_raw = dxrh[:H] * h_prev * r * (1 - r)
        g = {"Wu": du_raw @ xh.T, "bu": du_raw,
             "Wr": dr_raw @ xh.T, "br": dr_raw,
             "Wh": dhc_raw @ xrh.T, "bh": dhc_raw}
        dh_prev = dh * u + dxrh[:H] * r
        dh_prev += (self.Wu.T @ du_raw)[:H]
        dh_prev += (self.Wr.T @ dr_raw)[:H]
        return g, dh_prev

    def loss_and_grads(self, inputs, targets, hprev):
        """Returns (loss, grads keyed by attribute name, h_last)."""
        h = hprev
        caches, probs = [], []
        loss = 0.0
        for ix, tg in zip(inputs, targets):
            x = np.zeros((self.Wy.shape[0], 1))
            x[ix] = 1
            h, cache = self._forward_step(x, h)
            y = self.Wy @ h + self.by
            p = np.exp(y - np.max(y))
            p = p / p.sum()
            loss += -np.log(p[tg, 0])
            caches.append(cache)
            probs.append(p)
        names = ("Wu", "Wr", "Wh", "bu", "br", "bh", "Wy", "by")
        grads = {name: np.zeros_like(getattr(self, name)) for name in names}
        dh_next = np.zeros_like(hprev)
        for t in range(len(inputs) - 1, -1, -1):
            dy = probs[t].copy()
            dy[targets[t]] -= 1
            h_t = caches[t + 1][5] if t + 1 < len(caches) else h
            grads["Wy"] += dy @ h_t.T
            grads["by"] += dy
            g, dh_next = self._backward_step(self.Wy.T @ dy, caches[t])
            for name, val in g.items():
                grads[name] += val
        return loss, grads, h
