"""HELD OUT: a correct backward pass in yet another style, written before any
tuning and not run while the diagnosis was tuned. Goodfellow et al.'s names
(U, W, V, b, c), a while loop over t, a delta carried as the next step's
pre-activation gradient, and the previous state chosen by a conditional."""
import numpy as np

TARGET = "Elman.bptt"
GRADS = {"dU": "Wxh", "dW": "Whh", "dV": "Why", "db": "bh", "dc": "by"}
SAME_SHAPE = (("delta", "delta_next"),)


class Elman:
    def __init__(self, hidden_size, vocab_size):
        self.U = np.zeros((hidden_size, vocab_size))
        self.W = np.zeros((hidden_size, hidden_size))
        self.V = np.zeros((vocab_size, hidden_size))
        self.b = np.zeros((hidden_size, 1))
        self.c = np.zeros((vocab_size, 1))

    def bptt(self, inputs, targets, hprev):
        n = len(inputs)
        onehots, hs, outs = [], [], []
        h = hprev
        cost = 0.0
        for t in range(n):
            x = np.zeros((self.U.shape[1], 1))
            x[inputs[t], 0] = 1.0
            onehots.append(x)
            h = np.tanh(self.U @ x + self.W @ h + self.b)
            hs.append(h)
            o = self.V @ h + self.c
            e = np.exp(o - o.max())
            outs.append(e / e.sum())
            cost -= float(np.log(outs[t][targets[t], 0]))
        # backward:begin
        dU, dW, dV = np.zeros_like(self.U), np.zeros_like(self.W), np.zeros_like(self.V)
        db, dc = np.zeros_like(self.b), np.zeros_like(self.c)
        delta_next = np.zeros_like(self.b)
        t = n - 1
        while t >= 0:
            g_o = outs[t] - np.eye(self.V.shape[0])[:, [targets[t]]]
            dV = dV + g_o @ hs[t].T
            dc = dc + g_o
            delta = (1.0 - hs[t] ** 2) * (self.V.T @ g_o + self.W.T @ delta_next)
            h_before = hs[t - 1] if t > 0 else hprev
            dW = dW + delta @ h_before.T
            dU = dU + delta @ onehots[t].T
            db = db + delta
            delta_next = delta
            t -= 1
        # backward:end
        return cost, {"dU": dU, "dW": dW, "dV": dV, "db": db, "dc": dc}, hs[-1]


def bench_call(params, inputs, targets, hprev):
    """The harness's adapter: Goodfellow's names for bpttcheck's."""
    model = Elman(params["Whh"].shape[0], params["Why"].shape[0])
    for ours, theirs in (("Wxh", "U"), ("Whh", "W"), ("Why", "V"), ("bh", "b"), ("by", "c")):
        setattr(model, theirs, params[ours])
    cost, grads, _ = model.bptt(inputs, targets, hprev)
    return cost, {GRADS[k]: v for k, v in grads.items()}
