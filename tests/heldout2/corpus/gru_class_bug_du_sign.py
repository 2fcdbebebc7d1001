import numpy as np


class GRU:
    """GRU language model. Each gate matrix is (H, H+V); its first H columns act on
    the (reset) hidden state, the last V on the one-hot input, so the input part is
    a column lookup."""

    def __init__(self, hidden_size, vocab_size):
        self.hidden_size, self.vocab_size = hidden_size, vocab_size
        rng = np.random.default_rng(42)
        k = 1.0 / np.sqrt(hidden_size)
        for w in ("Wz", "Wr", "Wn"):
            setattr(self, w, rng.uniform(-k, k, (hidden_size, hidden_size + vocab_size)))
        for b_ in ("bz", "br", "bn"):
            setattr(self, b_, np.zeros((hidden_size, 1)))
        self.Why = rng.uniform(-k, k, (vocab_size, hidden_size))
        self.by = np.zeros((vocab_size, 1))

    @staticmethod
    def sig(a):
        return 1.0 / (1.0 + np.exp(-a))

    def lossFun(self, inputs, targets, hprev):
        H = self.hidden_size
        Uz, Ur, Un = self.Wz[:, :H], self.Wr[:, :H], self.Wn[:, :H]
        cache = []
        h = hprev.copy()
        loss = 0.0
        for ix, tg in zip(inputs, targets):
            u = self.sig(Uz @ h + self.Wz[:, H + ix, None] + self.bz)
            r = self.sig(Ur @ h + self.Wr[:, H + ix, None] + self.br)
            n = np.tanh(Un @ (r * h) + self.Wn[:, H + ix, None] + self.bn)
            h_new = u * h + (1.0 - u) * n
            logits = self.Why @ h_new + self.by
            q = np.exp(logits - logits.max())
            q /= q.sum()
            loss += -np.log(q[tg, 0])
            cache.append((ix, tg, h, u, r, n, h_new, q))
            h = h_new

        grads = {k: np.zeros_like(getattr(self, k))
                 for k in ("Wz", "Wr", "Wn", "bz", "br", "bn", "Why", "by")}
        dh_next = np.zeros((H, 1))
        for ix, tg, h_prev, u, r, n, h_t, q in reversed(cache):
            dlogits = q.copy()
            dlogits[tg, 0] -= 1.0
            grads["Why"] += dlogits @ h_t.T
            grads["by"] += dlogits
            dh = self.Why.T @ dlogits + dh_next
            dn_pre = dh * (1.0 - u) * (1.0 - n * n)
            du_pre = dh * (n - h_prev) * u * (1.0 - u)
            grads["Wn"][:, :H] += dn_pre @ (r * h_prev).T
            grads["Wn"][:, H + ix] += dn_pre[:, 0]
            grads["bn"] += dn_pre
            d_rh = Un.T @ dn_pre
            dr_pre = d_rh * h_prev * r * (1.0 - r)
            grads["Wr"][:, :H] += dr_pre @ h_prev.T
            grads["Wr"][:, H + ix] += dr_pre[:, 0]
            grads["br"] += dr_pre
            grads["Wz"][:, :H] += du_pre @ h_prev.T
            grads["Wz"][:, H + ix] += du_pre[:, 0]
            grads["bz"] += du_pre
            dh_next = dh * u + d_rh * r + Uz.T @ du_pre + Ur.T @ dr_pre
        return (loss, grads["Wz"], grads["Wr"], grads["Wn"], grads["bz"], grads["br"],
                grads["bn"], grads["Why"], grads["by"], h)
