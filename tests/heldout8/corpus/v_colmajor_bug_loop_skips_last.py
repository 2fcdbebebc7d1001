import numpy as np


class CharRNN:
    def __init__(self, hidden_size, vocab_size):
        self.H = hidden_size
        self.V = vocab_size
        self.Wxh = np.zeros((hidden_size, vocab_size))
        self.Whh = np.zeros((hidden_size, hidden_size))
        self.Why = np.zeros((vocab_size, hidden_size))
        self.bh = np.zeros((hidden_size, 1))
        self.by = np.zeros((vocab_size, 1))

    def loss(self, inputs, targets, hprev):
        T = len(inputs)
        hs = np.zeros((self.H, T + 1))
        hs[:, 0] = hprev[:, 0]
        P = np.zeros((self.V, T))
        loss = 0.0
        for t in range(T):
            pre = self.Wxh[:, inputs[t]] + self.Whh @ hs[:, t] + self.bh[:, 0]
            hs[:, t + 1] = np.tanh(pre)
            logits = self.Why @ hs[:, t + 1] + self.by[:, 0]
            logits -= logits.max()
            P[:, t] = np.exp(logits) / np.exp(logits).sum()
            loss -= np.log(P[targets[t], t])
        dWxh = np.zeros_like(self.Wxh)
        dWhh = np.zeros_like(self.Whh)
        dWhy = np.zeros_like(self.Why)
        dbh = np.zeros_like(self.bh)
        dby = np.zeros_like(self.by)
        dh_next = np.zeros(self.H)
        for t in range(T - 2, -1, -1):
            dy = P[:, t].copy()
            dy[targets[t]] -= 1
            dWhy += np.outer(dy, hs[:, t + 1])
            dby[:, 0] += dy
            dh = self.Why.T @ dy + dh_next
            draw = (1 - hs[:, t + 1] ** 2) * dh
            dbh[:, 0] += draw
            dWxh[:, inputs[t]] += draw
            dWhh += np.outer(draw, hs[:, t])
            dh_next = self.Whh.T @ draw
        return loss, dWxh, dWhh, dWhy, dbh, dby, hs[:, T:T + 1]
