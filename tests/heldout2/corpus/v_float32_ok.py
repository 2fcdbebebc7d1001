"""min-char-rnn in single precision (to halve memory on the GPU box)."""
import numpy as np

DTYPE = np.float32
hidden_size, vocab_size = 128, 80
Wxh = (np.random.randn(hidden_size, vocab_size) * 0.01).astype(DTYPE)
Whh = (np.random.randn(hidden_size, hidden_size) * 0.01).astype(DTYPE)
Why = (np.random.randn(vocab_size, hidden_size) * 0.01).astype(DTYPE)
bh = np.zeros((hidden_size, 1), dtype=DTYPE)
by = np.zeros((vocab_size, 1), dtype=DTYPE)


def lossFun(inputs, targets, hprev):
    W_xh, W_hh, W_hy = Wxh.astype(DTYPE), Whh.astype(DTYPE), Why.astype(DTYPE)
    b_h, b_y = bh.astype(DTYPE), by.astype(DTYPE)
    xs, hs, ps = {}, {}, {}
    hs[-1] = np.array(hprev, dtype=DTYPE)
    loss = DTYPE(0.0)
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1), dtype=DTYPE)
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(W_xh @ xs[t] + W_hh @ hs[t - 1] + b_h)
        y = W_hy @ hs[t] + b_y
        e = np.exp(y - y.max())
        ps[t] = e / e.sum()
        loss += -np.log(ps[t][targets[t], 0])
    dWxh = np.zeros_like(W_xh)
    dWhh = np.zeros_like(W_hh)
    dWhy = np.zeros_like(W_hy)
    dbh = np.zeros_like(b_h)
    dby = np.zeros_like(b_y)
    dhnext = np.zeros_like(hs[-1])
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        dWhy += dy @ hs[t].T
        dby += dy
        dh = W_hy.T @ dy + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw
        dWxh += dhraw @ xs[t].T
        dWhh += dhraw @ hs[t - 1].T
        dhnext = W_hh.T @ dhraw
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]
