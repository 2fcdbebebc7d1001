import numpy as np

W_XH, W_HH, W_HY, B_H, B_Y = 0, 1, 2, 3, 4


def sample_loss(inputs, targets, hprev):
    weights = [Wxh, Whh, Why, bh, by]
    grads = [np.zeros_like(w) for w in weights]
    n_vocab = weights[W_XH].shape[1]
    T = len(inputs)
    xs, hs, ps = [], [hprev], []
    loss = 0.0
    for t in range(T):
        x = np.zeros((n_vocab, 1))
        x[inputs[t]] = 1.0
        a = weights[W_XH] @ x + weights[W_HH] @ hs[t] + weights[B_H]
        hs.append(np.tanh(a))
        y = weights[W_HY] @ hs[t + 1] + weights[B_Y]
        e = np.exp(y - y.max())
        ps.append(e / e.sum())
        xs.append(x)
        loss += -np.log(ps[t][targets[t], 0])
    carry = np.zeros_like(hprev)
    for t in reversed(range(T)):
        dy = ps[t].copy()
        dy[targets[t]] -= 1.0
        grads[W_HY] += dy @ hs[t + 1].T
        grads[B_Y] += dy
        dh = weights[W_HY].T @ dy + carry
        da = dh * (1.0 - hs[t + 1] ** 2)
        grads[B_H] += da
        grads[W_XH] += da @ xs[t].T
        grads[W_HH] += da @ hs[t].T
        carry = weights[W_HH] @ da
    return (loss, *grads, hs[T])
