"""A loss built from step functions that return (out, cache) and (grads...), in the style
of course assignments: the step's gradients under the step's own names."""
import numpy as np


def step_fwd(x, h_prev, Wx, Wh, b):
    h = np.tanh(Wx @ x + Wh @ h_prev + b)
    return h, (x, h_prev, h, Wx, Wh)


def step_bwd(g_h, cache):
    x, h_prev, h, Wx, Wh = cache
    g_a = g_h * (1.0 - h ** 2)
    g_x = Wx.T @ g_a
    g_prev = Wh.T @ g_a
    g_Wx = g_a @ x.T
    g_Wh = g_a @ h_prev.T
    g_b = g_a
    return g_x, g_prev, g_Wx, g_Wh, g_b


def lossFun(inputs, targets, hprev, Wxh, Whh, Why, bh, by):
    V = Why.shape[0]
    h, caches, probs, hs = hprev, [], [], []
    loss = 0.0
    for ix, tg in zip(inputs, targets, strict=True):
        x = np.eye(V)[:, [ix]]
        h, cache = step_fwd(x, h, Wxh, Whh, bh)
        s = Why @ h + by
        p = np.exp(s - s.max())
        p = p / p.sum()
        loss += -np.log(p[tg, 0])
        caches.append(cache)
        probs.append(p)
        hs.append(h)
    grads = {k: np.zeros_like(v) for k, v in
             (("Wxh", Wxh), ("Whh", Whh), ("Why", Why), ("bh", bh), ("by", by))}
    g_next = np.zeros_like(hprev)
    for t in reversed(range(len(inputs))):
        d = probs[t].copy()
        d[targets[t]] -= 1.0
        grads["Why"] += d @ hs[t].T
        grads["by"] += d
        g_h = Why.T @ d + g_next
        _, g_next, gWx, gWh, gb = step_bwd(g_h, caches[t])
        grads["Wxh"] += gWx
        grads["Whh"] += gWh
        grads["bh"] += gb
    return loss, grads["Wxh"], grads["Whh"], grads["Why"], grads["bh"], grads["by"], h
