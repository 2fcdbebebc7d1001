import numpy as np

vocab_size, hidden_size = 65, 100
Wxh = np.random.randn(hidden_size, vocab_size) * 0.01
Whh = np.random.randn(hidden_size, hidden_size) * 0.01
Why = np.random.randn(vocab_size, hidden_size) * 0.01
bh = np.zeros((hidden_size, 1))
by = np.zeros((vocab_size, 1))


def unroll(inputs, h):
    """Yield (x, h_prev, h) for each input character."""
    for ix in inputs:
        x = np.zeros((vocab_size, 1))
        x[ix, 0] = 1.0
        h_new = np.tanh(np.matmul(Wxh, x) + np.matmul(Whh, h) + bh)
        yield x, h, h_new
        h = h_new


def loss_fn(inputs, targets, hprev):
    if len(inputs) != len(targets):
        raise ValueError("inputs and targets differ in length")
    tape = list(unroll(inputs, hprev))
    h_last = tape[-1][2]
    loss = 0.0
    dys = []
    for (x, h_prev, h), tg in zip(tape, targets):
        y = np.matmul(Why, h) + by
        m = y.max()
        logp = y - m - np.log(np.exp(y - m).sum())
        loss -= logp[tg, 0]
        dy = np.exp(logp)
        dy[tg, 0] -= 1.0
        dys.append(dy)
    grads = [np.zeros_like(w) for w in (Wxh, Whh, Why, bh, by)]
    gWxh, gWhh, gWhy, gbh, gby = grads
    dh_next = np.zeros_like(hprev)
    while tape:
        x, h_prev, h = tape.pop()
        dy = dys.pop()
        gWhy += np.matmul(dy, h.T)
        gby += dy
        draw = (1.0 - h * h) * (np.matmul(Why.T, dy) + dh_next)
        gWxh += np.matmul(draw, x.T)
        gWhh += np.matmul(draw, h_prev.T)
        gbh += draw
        dh_next += np.matmul(Whh.T, draw)
    return (loss, *grads, h_last)
