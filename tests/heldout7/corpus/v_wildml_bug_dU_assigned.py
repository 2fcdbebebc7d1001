import numpy as np


class RNNNumpy:
    """A vanilla RNN in the notation of the WildML tutorial:
    s_t = tanh(U x_t + W s_{t-1} + b), o_t = softmax(V s_t + c).
    The backward pass is the tutorial's double loop: for every output step, walk
    the error back through all earlier steps (bptt_truncate is large enough that
    nothing is truncated)."""

    def __init__(self, vocab_size, hidden_size=100, bptt_truncate=1000):
        self.word_dim = vocab_size
        self.hidden_dim = hidden_size
        self.bptt_truncate = bptt_truncate
        rng = np.random.default_rng(0)
        self.U = rng.uniform(-np.sqrt(1.0 / vocab_size), np.sqrt(1.0 / vocab_size), (hidden_size, vocab_size))
        self.W = rng.uniform(-np.sqrt(1.0 / hidden_size), np.sqrt(1.0 / hidden_size), (hidden_size, hidden_size))
        self.V = rng.uniform(-np.sqrt(1.0 / hidden_size), np.sqrt(1.0 / hidden_size), (vocab_size, hidden_size))
        self.b = np.zeros((hidden_size, 1))
        self.c = np.zeros((vocab_size, 1))

    def forward_propagation(self, x, s0):
        T = len(x)
        # s[t] is the state after step t; the extra last row holds the initial
        # state, so s[t - 1] is the previous state for every t, t = 0 included
        s = np.zeros((T + 1, self.hidden_dim))
        s[-1] = s0[:, 0]
        o = np.zeros((T, self.word_dim))
        for t in np.arange(T):
            s[t] = np.tanh(self.U[:, x[t]] + self.W.dot(s[t - 1]) + self.b[:, 0])
            scores = self.V.dot(s[t]) + self.c[:, 0]
            e = np.exp(scores - np.max(scores))
            o[t] = e / np.sum(e)
        return o, s

    def calculate_loss(self, o, y):
        correct_word_predictions = o[np.arange(len(y)), y]
        return -1.0 * np.sum(np.log(correct_word_predictions))

    def bptt_loss(self, x, y, s0):
        T = len(y)
        o, s = self.forward_propagation(x, s0)
        loss = self.calculate_loss(o, y)
        dLdU = np.zeros(self.U.shape)
        dLdV = np.zeros(self.V.shape)
        dLdW = np.zeros(self.W.shape)
        dLdb = np.zeros(self.b.shape)
        dLdc = np.zeros(self.c.shape)
        delta_o = o.copy()
        delta_o[np.arange(len(y)), y] -= 1.0
        for t in np.arange(T)[::-1]:
            dLdV += np.outer(delta_o[t], s[t])
            dLdc[:, 0] += delta_o[t]
            # error at the pre-activation of step t, from output t alone
            delta_t = self.V.T.dot(delta_o[t]) * (1 - (s[t] ** 2))
            for bptt_step in np.arange(max(0, t - self.bptt_truncate), t + 1)[::-1]:
                dLdW += np.outer(delta_t, s[bptt_step - 1])
                dLdU[:, x[bptt_step]] = delta_t
                dLdb[:, 0] += delta_t
                # one step further back
                delta_t = self.W.T.dot(delta_t) * (1 - s[bptt_step - 1] ** 2)
        return loss, dLdU, dLdW, dLdV, dLdb, dLdc, s[T - 1].reshape(-1, 1)
