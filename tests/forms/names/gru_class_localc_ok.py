"""My GRU as a class: update gate Wu, reset Wr, candidate Wc, output Why."""
import numpy as np


class GRU:
    def __init__(self, hid=10, voc=5):
        r = np.random.RandomState(0)
        self.Wu = r.randn(hid, hid + voc) * 0.1
        self.Wr = r.randn(hid, hid + voc) * 0.1
        self.Wc = r.randn(hid, hid + voc) * 0.1
        self.bu = np.zeros((hid, 1)); self.br = np.zeros((hid, 1)); self.bc = np.zeros((hid, 1))
        self.Why = r.randn(voc, hid) * 0.1
        self.by = np.zeros((voc, 1))

    def lossFun(self, inputs, targets, hprev):
        H = self.Wu.shape[0]
        nv = self.Why.shape[0]
        T = len(inputs)
        hs = {-1: hprev.copy()}
        st = {}
        loss = 0.0
        for t in range(T):
            x = np.zeros((nv, 1)); x[inputs[t]] = 1
            hp = hs[t - 1]
            zc = np.vstack((hp, x))
            u = 1 / (1 + np.exp(-(self.Wu @ zc + self.bu)))
            r = 1 / (1 + np.exp(-(self.Wr @ zc + self.br)))
            zr = np.vstack((r * hp, x))
            n = np.tanh(self.Wc @ zr + self.bc)
            hs[t] = u * hp + (1 - u) * n
            y = self.Why @ hs[t] + self.by
            e = np.exp(y - np.max(y))
            p = e / e.sum()
            c = p[targets[t], 0]
            loss += -np.log(c)
            st[t] = (zc, zr, u, r, n, hp, p)
        dWu, dWr, dWc = np.zeros_like(self.Wu), np.zeros_like(self.Wr), np.zeros_like(self.Wc)
        dbu, dbr, dbc = np.zeros_like(self.bu), np.zeros_like(self.br), np.zeros_like(self.bc)
        dWhy, dby = np.zeros_like(self.Why), np.zeros_like(self.by)
        dhn = np.zeros((H, 1))
        for t in reversed(range(T)):
            zc, zr, u, r, n, hp, p = st[t]
            dy = p.copy(); dy[targets[t]] -= 1
            dWhy += dy @ hs[t].T; dby += dy
            dh = self.Why.T @ dy + dhn
            dn = dh * (1 - u) * (1 - n ** 2)
            du = dh * (hp - n) * u * (1 - u)
            dWc += dn @ zr.T; dbc += dn
            dzr = self.Wc.T @ dn
            drh = dzr[:H]
            dr = drh * hp * r * (1 - r)
            dWu += du @ zc.T; dbu += du
            dWr += dr @ zc.T; dbr += dr
            dzc = self.Wu.T @ du + self.Wr.T @ dr
            dhn = dh * u + drh * r + dzc[:H]
        return loss, dWu, dWr, dWc, dbu, dbr, dbc, dWhy, dby, hs[T - 1]
