import numpy as np

hidden_size, vocab_size = 32, 27
Wxh = np.random.randn(hidden_size, vocab_size) * 0.01
Whh = np.random.randn(hidden_size, hidden_size) * 0.01
Why = np.random.randn(vocab_size, hidden_size) * 0.01
bh = np.zeros((hidden_size, 1))
by = np.zeros((vocab_size, 1))


def forward_backward(inputs, targets, hprev):
    T = len(inputs)
    xs = [np.eye(vocab_size)[:, [i]] for i in inputs]
    hs, ps = {-1: hprev}, {}
    loss = 0
    for t, x in enumerate(xs):
        hs[t] = np.tanh(np.dot(Wxh, x) + np.dot(Whh, hs[t - 1]) + bh)
        ys = np.dot(Why, hs[t]) + by
        ps[t] = np.exp(ys) / np.sum(np.exp(ys))
        loss += -np.log(ps[t][targets[t], 0])
    # gradient of the loss wrt the scores, all steps at once
    dys = [ps[t] - np.eye(vocab_size)[:, [targets[t]]] for t in range(T)]

    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dh_carry = np.zeros_like(hprev)
    for t, x in reversed(list(enumerate(xs))):
        dWhy += np.dot(dys[t], hs[t].T)
        dby += dys[t]
        dh = np.dot(Why.T, dys[t]) + dh_carry
        dpre = (1 - hs[t] ** 2) * dh
        dWxh += np.dot(dpre, x.T)
        dWhh += np.dot(dpre, hs[t - 1].T)
        dbh += dpre
        dh_carry = np.dot(Whh.T, dpre)
    np.clip(dby, -1, 1, out=dby)
    return loss, dWxh, dWhh, dbh, dWhy, dby, hs[T - 1]
