# selftest-expect: ok
# selftest-target: LSTM.lossFun
# selftest-cell: lstm
"""A Python 2 era LSTM class with the four gates stacked in one product: weights as
attributes spelled Wf Wi Wg Wo / bf bi bg bo / Wy by, gradients returned as a dict.
train() prints Python 2 style, so the class is read method by method."""
import numpy as np


class LSTM:
    def __init__(self, hidden_size, vocab_size):
        self.H, self.V = hidden_size, vocab_size
        n = hidden_size + vocab_size
        self.Wf, self.Wi, self.Wg, self.Wo = (np.random.randn(hidden_size, n) * 0.01
                                              for _ in range(4))
        self.bf, self.bi, self.bg, self.bo = (np.zeros((hidden_size, 1)) for _ in range(4))
        self.Wy = np.random.randn(vocab_size, hidden_size) * 0.01
        self.by = np.zeros((vocab_size, 1))

    def lossFun(self, inputs, targets, hprev, cprev):
        H = self.H
        W = np.vstack((self.Wf, self.Wi, self.Wo, self.Wg))  # (4H, H+V): f, i, o, g
        b = np.vstack((self.bf, self.bi, self.bo, self.bg))
        T = len(inputs)
        z, a, c, h, p = {}, {}, {-1: cprev}, {-1: hprev}, {}
        loss = 0.0
        for t in xrange(T):
            x = np.zeros((self.V, 1))
            x[inputs[t]] = 1
            z[t] = np.vstack((h[t - 1], x))
            pre = np.dot(W, z[t]) + b
            a[t] = np.vstack((1 / (1 + np.exp(-pre[:3 * H])), np.tanh(pre[3 * H:])))
            f, i, o, g = a[t][:H], a[t][H:2 * H], a[t][2 * H:3 * H], a[t][3 * H:]
            c[t] = f * c[t - 1] + i * g
            h[t] = o * np.tanh(c[t])
            y = np.dot(self.Wy, h[t]) + self.by
            y = y - y.max()
            p[t] = np.exp(y) / np.exp(y).sum()
            loss -= np.log(p[t][targets[t], 0])
        dW, db = np.zeros_like(W), np.zeros_like(b)
        dWy, dby = np.zeros_like(self.Wy), np.zeros_like(self.by)
        dh_next, dc_next = np.zeros((H, 1)), np.zeros((H, 1))
        for t in reversed(xrange(T)):
            dy = p[t].copy()
            dy[targets[t]] -= 1
            dWy += np.dot(dy, h[t].T)
            dby += dy
            dh = np.dot(self.Wy.T, dy) + dh_next
            f, i, o, g = a[t][:H], a[t][H:2 * H], a[t][2 * H:3 * H], a[t][3 * H:]
            tc = np.tanh(c[t])
            dc = dh * o * (1 - tc ** 2) + dc_next
            da = np.vstack((dc * c[t - 1], dc * g, dh * tc, dc * i))  # into f, i, o, g
            da[:3 * H] *= a[t][:3 * H] * (1 - a[t][:3 * H])  # the three sigmoids
            da[3 * H:] *= 1 - g ** 2  # the candidate's tanh
            dW += np.dot(da, z[t].T)
            db += da
            dh_next = np.dot(W.T, da)[:H]
            dc_next = f * dc
        grads = {'dWf': dW[:H], 'dWi': dW[H:2 * H], 'dWo': dW[2 * H:3 * H], 'dWg': dW[3 * H:],
                 'dbf': db[:H], 'dbi': db[H:2 * H], 'dbo': db[2 * H:3 * H], 'dbg': db[3 * H:],
                 'dWy': dWy, 'dby': dby}
        return loss, grads, h[T - 1], c[T - 1]

    def train(self, data, n_steps):
        h, c = np.zeros((self.H, 1)), np.zeros((self.H, 1))
        for n in xrange(n_steps):
            loss, grads, h, c = self.lossFun(data[:-1], data[1:], h, c)
            if n % 100 == 0:
                print 'iter %d, loss: %f' % (n, loss)
