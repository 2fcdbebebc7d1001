# char-level RNN, one step at a time: step_forward / step_backward per time step
import numpy as np

hidden_size = 100
vocab_size = 65
seq_length = 25
Wxh = np.random.randn(hidden_size, vocab_size) * 0.01
Whh = np.random.randn(hidden_size, hidden_size) * 0.01
Why = np.random.randn(vocab_size, hidden_size) * 0.01
bh = np.zeros((hidden_size, 1))
by = np.zeros((vocab_size, 1))


def step_forward(ix, h_prev):
    x = np.zeros((vocab_size, 1))
    x[ix, 0] = 1.0
    a = np.dot(Wxh, x) + np.dot(Whh, h_prev) + bh
    h = np.tanh(a)
    y = np.dot(Why, h) + by
    e = np.exp(y - y.max())
    p = e / e.sum()
    return h, p, (x, h_prev, h)


def step_backward(delta_y, grad_next, step_cache, grads):
    """Adds this step's terms to grads (in place); returns the gradient for h_prev."""
    x, h_prev, h = step_cache
    gWxh, gWhh, gWhy, gbh, gby = grads
    gWhy += np.dot(delta_y, h.T)
    gby += delta_y
    g_h = np.dot(Why.T, delta_y) + grad_next
    g_a = (1 - h * h) * g_h
    gbh += g_a
    gWxh += np.dot(g_a, x.T)
    gWhh += np.dot(g_a, h_prev.T)
    return np.dot(Whh.T, g_a)


def lossFun(inputs, targets, hprev):
    T = len(inputs)
    probs, caches = [None] * T, [None] * T
    h = hprev
    loss = 0.0
    for t in range(T):
        h, probs[t], caches[t] = step_forward(inputs[t], h)
        loss += -np.log(probs[t][targets[t], 0])
    grads = [np.zeros_like(W) for W in (Wxh, Whh, Why, bh, by)]
    grad_next = np.zeros_like(hprev)
    for i in range(T):
        t = T - 1 - i
        delta_y = probs[t].copy()
        grad_next = step_backward(delta_y, grad_next, caches[t], grads)
    return loss, grads[0], grads[1], grads[2], grads[3], grads[4], h
