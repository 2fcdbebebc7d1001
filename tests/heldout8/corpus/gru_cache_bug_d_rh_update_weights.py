import numpy as np

CACHE_KEYS = ("h_prev", "x", "u", "r", "n", "h", "p")
PARAM_NAMES = ("Wz", "Wr", "Wn", "bz", "br", "bn", "Why", "by")


class GRUModel:
    def __init__(self, hidden_size, vocab_size):
        self.hidden_size = hidden_size
        self.vocab_size = vocab_size
        self.Wz = np.zeros((hidden_size, hidden_size + vocab_size))
        self.Wr = np.zeros((hidden_size, hidden_size + vocab_size))
        self.Wn = np.zeros((hidden_size, hidden_size + vocab_size))
        self.bz = np.zeros((hidden_size, 1))
        self.br = np.zeros((hidden_size, 1))
        self.bn = np.zeros((hidden_size, 1))
        self.Why = np.zeros((vocab_size, hidden_size))
        self.by = np.zeros((vocab_size, 1))
        self.cache = {}

    @staticmethod
    def sigmoid(a):
        return 1.0 / (1.0 + np.exp(-a))

    def _reset_cache(self):
        self.cache = {key: [] for key in CACHE_KEYS}

    def loss(self, inputs, targets, hprev):
        self._reset_cache()
        h = hprev
        loss = 0.0
        for ix, tg in zip(inputs, targets):
            x = np.zeros((self.vocab_size, 1))
            x[ix] = 1
            hx = np.vstack((h, x))
            u = self.sigmoid(self.Wz.dot(hx) + self.bz)
            r = self.sigmoid(self.Wr.dot(hx) + self.br)
            n = np.tanh(self.Wn.dot(np.vstack((r * h, x))) + self.bn)
            h_new = u * h + (1 - u) * n
            logits = self.Why.dot(h_new) + self.by
            p = np.exp(logits - logits.max())
            p /= p.sum()
            loss += -np.log(p[tg, 0])
            for key, value in zip(CACHE_KEYS, (h, x, u, r, n, h_new, p)):
                self.cache[key].append(value)
            h = h_new
        grads = self.backward(targets)
        return loss, grads, h

    def backward(self, targets):
        c = self.cache
        H = self.hidden_size
        grads = {"d" + k: np.zeros_like(getattr(self, k)) for k in PARAM_NAMES}
        dh_next = np.zeros((H, 1))
        for t in reversed(range(len(targets))):
            h_prev, x, u, r, n, h = (c[k][t] for k in CACHE_KEYS[:6])
            dy = c["p"][t].copy()
            dy[targets[t]] -= 1
            grads["dWhy"] += dy.dot(h.T)
            grads["dby"] += dy
            dh = self.Why.T.dot(dy) + dh_next
            dn_raw = dh * (1 - u) * (1 - n ** 2)
            du_raw = dh * (h_prev - n) * u * (1 - u)
            grads["dWn"] += dn_raw.dot(np.vstack((r * h_prev, x)).T)
            grads["dbn"] += dn_raw
            d_rh = self.Wz[:, :H].T.dot(dn_raw)
            dr_raw = d_rh * h_prev * r * (1 - r)
            grads["dWz"] += du_raw.dot(np.vstack((h_prev, x)).T)
            grads["dWr"] += dr_raw.dot(np.vstack((h_prev, x)).T)
            grads["dbz"] += du_raw
            grads["dbr"] += dr_raw
            dh_next = dh * u + d_rh * r + self.Wz[:, :H].T.dot(du_raw) + self.Wr[:, :H].T.dot(dr_raw)
        return grads
