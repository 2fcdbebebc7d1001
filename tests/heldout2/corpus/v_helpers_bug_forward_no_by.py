import numpy as np


def one_hot(ix, n):
    v = np.zeros((n, 1))
    v[ix, 0] = 1.0
    return v


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def tanh_forward(a):
    return np.tanh(a)


def tanh_backward(dout, out):
    """Gradient through h = tanh(a), given dL/dh and the output h."""
    return dout * (1.0 - out * out)


def linear_backward(dout, x, W):
    """For y = W x: returns dL/dW and dL/dx."""
    return dout @ x.T, W.T @ dout


def cross_entropy(p, target):
    return -np.log(p[target, 0])


def softmax_cross_entropy_backward(p, target):
    d = p.copy()
    d[target, 0] -= 1.0
    return d


def lossFun(inputs, targets, hprev, Wxh, Whh, Why, bh, by):
    V = Wxh.shape[1]
    xs, hs, ps = {}, {-1: hprev.copy()}, {}
    loss = 0.0
    for t in range(len(inputs)):
        xs[t] = one_hot(inputs[t], V)
        hs[t] = tanh_forward(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
        ps[t] = softmax(Why @ hs[t])
        loss += cross_entropy(ps[t], targets[t])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hprev)
    for t in reversed(range(len(inputs))):
        dy = softmax_cross_entropy_backward(ps[t], targets[t])
        dWhy_t, dh = linear_backward(dy, hs[t], Why)
        dWhy += dWhy_t
        dby += dy
        dhraw = tanh_backward(dh + dhnext, hs[t])
        dbh += dhraw
        dWxh_t, _ = linear_backward(dhraw, xs[t], Wxh)
        dWxh += dWxh_t
        dWhh_t, dhnext = linear_backward(dhraw, hs[t - 1], Whh)
        dWhh += dWhh_t
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]
