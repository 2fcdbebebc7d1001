# selftest-expect: truncated
# selftest-target: RNNNumpy.loss_and_bptt
# U/V/W attributes, a per-step loop back at most bptt_truncate steps (truncated
# BPTT with a window of 3 steps); constructor takes word_dim and hidden_dim.
import numpy as np


class RNNNumpy:
    def __init__(self, word_dim, hidden_dim=100, bptt_truncate=2):
        self.word_dim, self.hidden_dim, self.bptt_truncate = word_dim, hidden_dim, bptt_truncate
        self.U = np.random.uniform(-0.1, 0.1, (hidden_dim, word_dim))
        self.W = np.random.uniform(-0.1, 0.1, (hidden_dim, hidden_dim))
        self.V = np.random.uniform(-0.1, 0.1, (word_dim, hidden_dim))
        self.b = np.zeros((hidden_dim, 1))
        self.c = np.zeros((word_dim, 1))

    def loss_and_bptt(self, x, y, h0):
        T = len(x)
        s = np.zeros((T + 1, self.hidden_dim))
        s[-1] = h0[:, 0]  # s[-1] is the state before step 0
        o = np.zeros((T, self.word_dim))
        for t in range(T):
            s[t] = np.tanh(self.U[:, x[t]] + self.W @ s[t - 1] + self.b[:, 0])
            z = self.V @ s[t] + self.c[:, 0]
            o[t] = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        loss = -np.sum(np.log(o[np.arange(T), y]))
        dU, dV, dW = np.zeros(self.U.shape), np.zeros(self.V.shape), np.zeros(self.W.shape)
        db, dc = np.zeros(self.b.shape), np.zeros(self.c.shape)
        delta_o = o.copy()
        delta_o[np.arange(T), y] -= 1.0
        for t in np.arange(T)[::-1]:
            dV += np.outer(delta_o[t], s[t])
            dc[:, 0] += delta_o[t]
            delta_t = (self.V.T @ delta_o[t]) * (1 - s[t] ** 2)
            for step in np.arange(max(0, t - self.bptt_truncate), t + 1)[::-1]:
                dW += np.outer(delta_t, s[step - 1])
                dU[:, x[step]] += delta_t
                db[:, 0] += delta_t
                delta_t = (self.W.T @ delta_t) * (1 - s[step - 1] ** 2)
        return loss, dU, dW, dV, db, dc, s[T - 1][:, None]
