# An explicit params dict indexed with the user's keys ('U', 'W', 'V', 'b', 'c'),
# next to a class that stores its weights as self.Wxh, ...: the dict gets the keys
# the function indexes. Gradients come back in a dict keyed the same way.
import numpy as np


class Model:
    def __init__(self, hidden_size, vocab_size):
        self.Wxh = np.zeros((hidden_size, vocab_size))
        self.Whh = np.zeros((hidden_size, hidden_size))
        self.Why = np.zeros((vocab_size, hidden_size))
        self.bh = np.zeros((hidden_size, 1))
        self.by = np.zeros((vocab_size, 1))


def forward_backward(params, inputs, targets, hprev):
    U, W, V, b, c = (params[k] for k in ("U", "W", "V", "b", "c"))
    hs, xs, ps = {-1: hprev}, {}, {}
    loss = 0.0
    for t, ix in enumerate(inputs):
        xs[t] = np.zeros((U.shape[1], 1))
        xs[t][ix] = 1
        hs[t] = np.tanh(U @ xs[t] + W @ hs[t - 1] + b)
        o = V @ hs[t] + c
        ps[t] = np.exp(o) / np.sum(np.exp(o))
        loss -= np.log(ps[t][targets[t], 0])
    g = {k: np.zeros_like(v) for k, v in params.items()}
    dnext = np.zeros_like(hprev)
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        g["V"] += dy @ hs[t].T
        g["c"] += dy
        dz = (1 - hs[t] ** 2) * (V.T @ dy + dnext)
        g["b"] += dz
        g["U"] += dz @ xs[t].T
        g["W"] += dz @ hs[t].T  # bug: the previous state is hs[t - 1]
        dnext = W.T @ dz
    return loss, g, hs[len(inputs) - 1]
