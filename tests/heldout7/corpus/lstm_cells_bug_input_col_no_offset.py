import numpy as np

GATE_NAMES = ("f", "i", "c", "o")


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


class LSTMCell:
    """One time step. The recurrent part and the input part of every gate weight are
    kept apart: Wh = W[:, :H] multiplies h_prev, and the one-hot input picks the
    column W[:, H + ix]."""

    def __init__(self, net):
        self.net = net

    def forward(self, ix, h_prev, c_prev):
        net = self.net
        H = net.hidden
        self.ix, self.h_prev, self.c_prev = ix, h_prev, c_prev
        pre = {}
        for k in GATE_NAMES:
            W = getattr(net, "W" + k)
            Wh, Wx = W[:, :H], W[:, H:]
            pre[k] = Wh @ h_prev + Wx[:, ix] + getattr(net, "b" + k)[:, 0]
        self.f = sigmoid(pre["f"])
        self.i = sigmoid(pre["i"])
        self.g = np.tanh(pre["c"])
        self.o = sigmoid(pre["o"])
        self.c = self.f * c_prev + self.i * self.g
        self.tanh_c = np.tanh(self.c)
        self.h = self.o * self.tanh_c
        return self.h, self.c

    def backward(self, dh, dc_next, grads):
        net = self.net
        H = net.hidden
        dc = dc_next + dh * self.o * (1.0 - self.tanh_c ** 2)
        dpre = {
            "o": dh * self.tanh_c * self.o * (1.0 - self.o),
            "f": dc * self.c_prev * self.f * (1.0 - self.f),
            "i": dc * self.g * self.i * (1.0 - self.i),
            "c": dc * self.i * (1.0 - self.g ** 2),
        }
        dh_prev = np.zeros(H)
        for k in GATE_NAMES:
            W = getattr(net, "W" + k)
            dW = grads["dW" + k]
            dW[:, :H] += np.outer(dpre[k], self.h_prev)
            dW[:, self.ix] += dpre[k]
            grads["db" + k][:, 0] += dpre[k]
            dh_prev += W[:, :H].T @ dpre[k]
        return dh_prev, dc * self.f


class LSTMNet:
    def __init__(self, hidden_size, vocab_size):
        self.hidden = hidden_size
        self.vocab = vocab_size
        rng = np.random.default_rng(1)
        for k in GATE_NAMES:
            setattr(self, "W" + k, rng.normal(0, 0.1, (hidden_size, hidden_size + vocab_size)))
            setattr(self, "b" + k, np.zeros((hidden_size, 1)))
        self.Why = rng.normal(0, 0.1, (vocab_size, hidden_size))
        self.by = np.zeros((vocab_size, 1))

    def loss(self, inputs, targets, h0, c0):
        h, c = h0[:, 0], c0[:, 0]
        cells, probs = [], []
        total = 0.0
        for ix, tg in zip(inputs, targets):
            cell = LSTMCell(self)
            h, c = cell.forward(ix, h, c)
            y = self.Why @ h + self.by[:, 0]
            e = np.exp(y - y.max())
            p = e / e.sum()
            total += -np.log(p[tg])
            cells.append(cell)
            probs.append(p)
        grads = {"d" + name: np.zeros_like(getattr(self, name))
                 for name in ("Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo", "Why", "by")}
        dh_next = np.zeros(self.hidden)
        dc_next = np.zeros(self.hidden)
        for t in range(len(cells) - 1, -1, -1):
            dy = probs[t].copy()
            dy[targets[t]] -= 1.0
            grads["dWhy"] += np.outer(dy, cells[t].h)
            grads["dby"][:, 0] += dy
            dh = self.Why.T @ dy + dh_next
            dh_next, dc_next = cells[t].backward(dh, dc_next, grads)
        return total, grads, h[:, None], c[:, None]
