import numpy as np

hidden_size = 64
vocab_size = 40
Wxh = Whh = Why = bh = by = None


def rnn_step(x_id, h_prev):
    a = Wxh[:, x_id:x_id + 1] + Whh @ h_prev + bh
    return np.tanh(a)


def dtanh(h):
    return 1.0 - h ** 2


def step_backward(dh_total, h, h_prev, x_id, grads):
    dWxh, dWhh, dbh = grads
    dz = dtanh(h) * dh_total
    dWxh[:, x_id:x_id + 1] += dz
    dWhh += dz @ h_prev.T
    dbh += dz
    return Whh.T @ dz


def lossFun(inputs, targets, hprev):
    hs = [hprev]
    probs = []
    loss = 0.0
    for x_id, y_id in zip(inputs, targets):
        hs.append(rnn_step(x_id, hs[-1]))
        scores = Why @ hs[-1] + by
        scores -= np.max(scores)
        probs.append(np.exp(scores) / np.exp(scores).sum())
        loss -= np.log(probs[-1][y_id, 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dh_future = np.zeros_like(hprev)
    for t in reversed(range(len(inputs))):
        dscores = probs[t].copy()
        dscores[targets[t], 0] -= 1.0
        dWhy += dscores @ hs[t + 1].T
        dby += dscores
        dh_total = Why.T @ dscores + dh_future
        dh_future = step_backward(dh_total, hs[t + 1], hs[t], inputs[t], (dWxh, dWhh, dbh))
    return loss, dWxh / len(inputs), dWhh / len(inputs), dWhy / len(inputs), dbh / len(inputs), dby / len(inputs), hs[-1]
