"""A correct GRU backward pass in a class (weights as attributes, hidden states as rows of
one array), candidate spelled Wh/bh and the output layer Wy/by."""
import numpy as np

CELL = "gru"
TARGET = "GRU.loss"
GRADS = {"dWz": "Wz", "dWr": "Wr", "dWh": "Wn", "dbz": "bz", "dbr": "br", "dbh": "bn",
         "dWy": "Why", "dby": "by"}
SAME_SHAPE = (("du", "dr", "dn", "dh", "dnext", "drh"), ("dWz", "dWr", "dWh"))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class GRU:
    def __init__(self, hidden_size, vocab_size):
        n = hidden_size + vocab_size
        self.Wz, self.Wr, self.Wh = (np.random.randn(hidden_size, n) * 0.01 for _ in range(3))
        self.bz, self.br, self.bh = (np.zeros((hidden_size, 1)) for _ in range(3))
        self.Wy = np.random.randn(vocab_size, hidden_size) * 0.01
        self.by = np.zeros((vocab_size, 1))

    def loss(self, inputs, targets, hprev):
        Wz, Wr, Wh, Wy = self.Wz, self.Wr, self.Wh, self.Wy
        H, V, T = Wz.shape[0], Wy.shape[0], len(inputs)
        hs = np.zeros((T + 1, H, 1))
        hs[0] = hprev
        zs, zrs, us, rs, ns, ps = [], [], [], [], [], []
        loss = 0.0
        for t in range(T):
            x = np.zeros((V, 1))
            x[inputs[t]] = 1
            zs.append(np.vstack((hs[t], x)))
            us.append(sigmoid(Wz @ zs[t] + self.bz))
            rs.append(sigmoid(Wr @ zs[t] + self.br))
            zrs.append(np.vstack((rs[t] * hs[t], x)))
            ns.append(np.tanh(Wh @ zrs[t] + self.bh))
            hs[t + 1] = us[t] * hs[t] + (1 - us[t]) * ns[t]
            y = Wy @ hs[t + 1] + self.by
            y = y - y.max()
            ps.append(np.exp(y) / np.exp(y).sum())
            loss -= np.log(ps[t][targets[t], 0])
        dWz, dWr, dWh = np.zeros_like(Wz), np.zeros_like(Wr), np.zeros_like(Wh)
        dbz, dbr, dbh = np.zeros_like(self.bz), np.zeros_like(self.br), np.zeros_like(self.bh)
        dWy, dby = np.zeros_like(Wy), np.zeros_like(self.by)
        dnext = np.zeros((H, 1))
        # backward:begin
        for t in range(T - 1, -1, -1):
            dy = ps[t].copy()
            dy[targets[t]] -= 1
            dWy += dy @ hs[t + 1].T
            dby += dy
            dh = Wy.T @ dy + dnext
            du = dh * (hs[t] - ns[t]) * us[t] * (1 - us[t])
            dn = dh * (1 - us[t]) * (1 - ns[t] ** 2)
            drh = (Wh.T @ dn)[:H]
            dr = drh * hs[t] * rs[t] * (1 - rs[t])
            dWz += du @ zs[t].T
            dWr += dr @ zs[t].T
            dWh += dn @ zrs[t].T
            dbz += du
            dbr += dr
            dbh += dn
            dnext = dh * us[t] + drh * rs[t] + (Wz.T @ du + Wr.T @ dr)[:H]
        # backward:end
        grads = {"dWz": dWz, "dWr": dWr, "dWh": dWh, "dbz": dbz, "dbr": dbr, "dbh": dbh,
                 "dWy": dWy, "dby": dby}
        return loss, grads, hs[T]


def bench_call(params, inputs, targets, hprev):
    """The harness's adapter: an instance with our weights under the class's names."""
    model = GRU.__new__(GRU)
    for ours, theirs in (("Wz", "Wz"), ("Wr", "Wr"), ("Wn", "Wh"), ("bz", "bz"), ("br", "br"),
                         ("bn", "bh"), ("Why", "Wy"), ("by", "by")):
        setattr(model, theirs, params[ours])
    loss, grads, _ = model.loss(inputs, targets, hprev)
    return loss, {GRADS[k]: v for k, v in grads.items()}
