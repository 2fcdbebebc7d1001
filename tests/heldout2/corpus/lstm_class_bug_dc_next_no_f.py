import numpy as np


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


class LSTM:
    """Character LSTM. The four gates are computed as one stacked product
    [f; i; g; o] = [Wf; Wi; Wc; Wo] z + [bf; bi; bc; bo], with z = [h_prev; x]."""

    def __init__(self, vocab_size, hidden_size, seed=0):
        rng = np.random.default_rng(seed)
        self.H, self.V = hidden_size, vocab_size
        n = hidden_size + vocab_size
        for name in ("Wf", "Wi", "Wc", "Wo"):
            setattr(self, name, rng.standard_normal((hidden_size, n)) / np.sqrt(n))
        for name in ("bf", "bi", "bc", "bo"):
            setattr(self, name, np.zeros((hidden_size, 1)))
        self.Why = rng.standard_normal((vocab_size, hidden_size)) * 0.01
        self.by = np.zeros((vocab_size, 1))

    def lossFun(self, inputs, targets, hprev, cprev):
        H = self.H
        W = np.vstack([self.Wf, self.Wi, self.Wc, self.Wo])
        b = np.vstack([self.bf, self.bi, self.bc, self.bo])
        T = len(inputs)
        h = [None] * T + [hprev.copy()]          # h[-1] is the initial state
        c = [None] * T + [cprev.copy()]
        z, gates, p = [None] * T, [None] * T, [None] * T
        loss = 0.0
        for t in range(T):
            x = np.zeros((self.V, 1))
            x[inputs[t]] = 1.0
            z[t] = np.concatenate([h[t - 1], x])
            a = W @ z[t] + b
            f, i, o = _sigmoid(a[:H]), _sigmoid(a[H:2 * H]), _sigmoid(a[3 * H:])
            g = np.tanh(a[2 * H:3 * H])
            gates[t] = (f, i, g, o)
            c[t] = f * c[t - 1] + i * g
            h[t] = o * np.tanh(c[t])
            s = self.Why @ h[t] + self.by
            s -= s.max()
            p[t] = np.exp(s) / np.exp(s).sum()
            loss -= np.log(p[t][targets[t], 0])

        dW, db = np.zeros_like(W), np.zeros_like(b)
        dWhy, dby = np.zeros_like(self.Why), np.zeros_like(self.by)
        dh_next, dc_next = np.zeros((H, 1)), np.zeros((H, 1))
        for t in reversed(range(T)):
            f, i, g, o = gates[t]
            dy = p[t].copy()
            dy[targets[t]] -= 1.0
            dWhy += dy @ h[t].T
            dby += dy
            dh = self.Why.T @ dy + dh_next
            tanh_c = np.tanh(c[t])
            dc = dc_next + dh * o * (1.0 - tanh_c ** 2)
            da = np.concatenate([
                dc * c[t - 1] * f * (1.0 - f),
                dc * g * i * (1.0 - i),
                dc * i * (1.0 - g ** 2),
                dh * tanh_c * o * (1.0 - o),
            ])
            dW += da @ z[t].T
            db += da
            dh_next = (W.T @ da)[:H]
            dc_next = dc
        dWf, dWi, dWc, dWo = np.split(dW, 4)
        dbf, dbi, dbc, dbo = np.split(db, 4)
        return (loss, dWf, dWi, dWc, dWo, dbf, dbi, dbc, dbo, dWhy, dby, h[T - 1], c[T - 1])
