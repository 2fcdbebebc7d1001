import numpy as np


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()


def dtanh_from_out(a):
    return 1.0 - a


class Net(object):
    def __init__(self, word_dim, hidden_dim=100, bptt_truncate=1000):
        self.word_dim = word_dim
        self.hidden_dim = hidden_dim
        self.bptt_truncate = bptt_truncate
        self.U = np.random.uniform(-0.1, 0.1, (hidden_dim, word_dim)).astype(np.float32)
        self.V = np.random.uniform(-0.1, 0.1, (word_dim, hidden_dim)).astype(np.float32)
        self.W = np.random.uniform(-0.1, 0.1, (hidden_dim, hidden_dim)).astype(np.float32)

    def run(self, x):
        n = len(x)
        st = np.zeros((n + 1, self.hidden_dim), dtype=np.float32)
        out = np.zeros((n, self.word_dim), dtype=np.float32)
        for i in range(n):
            st[i] = np.tanh(self.U[:, x[i]] + self.W.dot(st[i - 1]))
            out[i] = softmax(self.V.dot(st[i]))
        return out, st

    def bptt(self, x, y):
        n = len(y)
        out, st = self.run(x)
        gU = np.zeros(self.U.shape, dtype=np.float32)
        gV = np.zeros(self.V.shape, dtype=np.float32)
        gW = np.zeros(self.W.shape, dtype=np.float32)
        err = out
        err[np.arange(n), y] -= 1.0
        for i in range(n)[::-1]:
            gV += np.outer(err[i], st[i])
            d = self.V.T.dot(err[i]) * dtanh_from_out(st[i] ** 2)
            j = i
            while j >= max(0, i - self.bptt_truncate):
                gW += np.outer(d, st[j - 1])
                gU[:, x[j]] += d
                d = self.W.T.dot(d) * dtanh_from_out(st[j - 1])
                j -= 1
        return [gU, gV, gW]
