# selftest-expect: ok
# selftest-target: RNNNumpy.bptt
# selftest-order: dU,dV,dW
# selftest-flags: --no-biases
# The U/V/W tutorial RNN: no biases at all, weights as attributes, gradients returned as
# dLdU, dLdV, dLdW (that order: --impl-order), full BPTT over every step.
import numpy as np


class RNNNumpy:
    def __init__(self, word_dim, hidden_dim=100):
        self.word_dim = word_dim
        self.hidden_dim = hidden_dim
        self.U = np.random.uniform(-1, 1, (hidden_dim, word_dim)) / np.sqrt(word_dim)
        self.V = np.random.uniform(-1, 1, (word_dim, hidden_dim)) / np.sqrt(hidden_dim)
        self.W = np.random.uniform(-1, 1, (hidden_dim, hidden_dim)) / np.sqrt(hidden_dim)

    def forward_propagation(self, x, s0):
        T = len(x)
        s = np.zeros((T + 1, self.hidden_dim))
        s[-1] = s0[:, 0]
        o = np.zeros((T, self.word_dim))
        for t in range(T):
            s[t] = np.tanh(self.U[:, x[t]] + self.W.dot(s[t - 1]))
            z = self.V.dot(s[t])
            e = np.exp(z - z.max())
            o[t] = e / e.sum()
        return o, s

    def bptt(self, x, y, s0):
        T = len(y)
        o, s = self.forward_propagation(x, s0)
        loss = -np.sum(np.log(o[np.arange(T), y]))
        dLdU = np.zeros(self.U.shape)
        dLdV = np.zeros(self.V.shape)
        dLdW = np.zeros(self.W.shape)
        delta_o = o
        delta_o[np.arange(T), y] -= 1.0
        for t in np.arange(T)[::-1]:
            dLdV += np.outer(delta_o[t], s[t])
            delta_t = self.V.T.dot(delta_o[t]) * (1 - s[t] ** 2)
            for step in np.arange(0, t + 1)[::-1]:  # every earlier step: full BPTT
                dLdW += np.outer(delta_t, s[step - 1])
                dLdU[:, x[step]] += delta_t
                delta_t = self.W.T.dot(delta_t) * (1 - s[step - 1] ** 2)
        return loss, dLdU, dLdV, dLdW, s[T - 1][:, None]
