# selftest-expect: ok
# selftest-target: Model.gradient
# selftest-factory: make_model
# The lecture's double sum written out (for t, for k <= t), on a class whose
# constructor takes a config dict, built by a factory.
import numpy as np


class Model:
    def __init__(self, config):
        H, V = config["hidden"], config["vocab"]
        self.Wxh, self.Whh, self.Why = np.zeros((H, V)), np.zeros((H, H)), np.zeros((V, H))
        self.bh, self.by = np.zeros((H, 1)), np.zeros((V, 1))

    def gradient(self, inputs, targets, hprev):
        T = len(inputs)
        hs, ps = [], []
        h = hprev
        loss = 0.0
        for t in range(T):
            h = np.tanh(self.Wxh[:, [inputs[t]]] + self.Whh @ h + self.bh)
            y = self.Why @ h + self.by
            p = np.exp(y - y.max())
            p /= p.sum()
            loss += -np.log(p[targets[t], 0])
            hs.append(h)
            ps.append(p)
        dWxh, dWhh = np.zeros_like(self.Wxh), np.zeros_like(self.Whh)
        dWhy, dbh, dby = np.zeros_like(self.Why), np.zeros_like(self.bh), np.zeros_like(self.by)
        for t in range(T):
            dy = ps[t].copy()
            dy[targets[t]] -= 1
            dWhy += dy @ hs[t].T
            dby += dy
            g = self.Why.T @ dy  # dL_t/dh_t
            for k in range(t, -1, -1):
                g = g * (1 - hs[k] ** 2)  # dL_t/da_k
                dbh += g
                dWxh[:, [inputs[k]]] += g
                dWhh += g @ (hs[k - 1] if k > 0 else hprev).T
                g = self.Whh.T @ g  # dL_t/dh_{k-1}
        return loss, {"dWxh": dWxh, "dWhh": dWhh, "dWhy": dWhy, "dbh": dbh, "dby": dby}, h


def make_model(hidden_size, vocab_size):
    return Model({"hidden": hidden_size, "vocab": vocab_size})
