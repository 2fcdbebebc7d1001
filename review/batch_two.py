# min-char-rnn over a minibatch: inputs and targets (T, B), hprev (H, B), the loss summed.
import numpy as np

hidden_size, vocab_size = 100, 65
Wxh = np.random.randn(hidden_size, vocab_size) * 0.01
Whh = np.random.randn(hidden_size, hidden_size) * 0.01
Why = np.random.randn(vocab_size, hidden_size) * 0.01
bh = np.zeros((hidden_size, 1))
by = np.zeros((vocab_size, 1))


def lossFun(inputs, targets, hprev):
    T, B = inputs.shape
    cols = np.arange(B)
    xs, hs, ps = {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0.0
    for t in range(T):
        xs[t] = np.zeros((vocab_size, B))
        xs[t][inputs[t], cols] = 1  # one one-hot column per sequence
        hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
        ys = Why @ hs[t] + by
        e = np.exp(ys - ys.max(axis=0))
        ps[t] = e / e.sum(axis=0)
        loss += -np.log(ps[t][targets[t], cols]).sum()  # summed over the batch
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(T)):
        dy = np.copy(ps[t])
        dy[targets[t], cols] -= 1
        dWhy += dy @ hs[t].T
        dby += dy.sum(axis=1, keepdims=True) / B
        dh = Why.T @ dy + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw.sum(axis=1, keepdims=True)
        dWxh += dhraw @ xs[t].T
        dWhh += dhraw @ hs[t - 1].T
        dhnext = Whh @ dhraw
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[T - 1]
