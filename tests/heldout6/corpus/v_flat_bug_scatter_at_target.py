"""Vanilla RNN whose parameters live in one flat vector (as an optimiser wants them);
each weight is a reshaped view of a slice, and so is each gradient."""
import numpy as np

SPEC = ("Wxh", "Whh", "Why", "bh", "by")


def layout(H, V):
    """Name -> (start, stop, shape) inside the flat vector, and its total length."""
    shapes = {"Wxh": (H, V), "Whh": (H, H), "Why": (V, H), "bh": (H, 1), "by": (V, 1)}
    out, pos = {}, 0
    for name in SPEC:
        size = shapes[name][0] * shapes[name][1]
        out[name] = (pos, pos + size, shapes[name])
        pos += size
    return out, pos


def views(vec, lay):
    return {k: vec[a:b].reshape(s) for k, (a, b, s) in lay.items()}


def lossFun(inputs, targets, hprev):
    H, V = Wxh.shape
    lay, n = layout(H, V)
    theta = np.concatenate([Wxh.ravel(), Whh.ravel(), Why.ravel(), bh.ravel(), by.ravel()])
    P = views(theta, lay)
    grad = np.zeros(n)
    G = views(grad, lay)
    Wx, Wh, Wy = P["Wxh"], P["Whh"], P["Why"]
    b, c = P["bh"][:, 0], P["by"][:, 0]
    hs = [hprev[:, 0].copy()]
    ps = []
    loss = 0.0
    for ix, iy in zip(inputs, targets):
        hs.append(np.tanh(Wx[:, ix] + Wh @ hs[-1] + b))
        o = Wy @ hs[-1] + c
        o = o - o.max()
        p = np.exp(o) / np.exp(o).sum()
        ps.append(p)
        loss -= np.log(p[iy])
    carry = np.zeros(H)
    for k in range(len(inputs) - 1, -1, -1):
        e = ps[k].copy()
        e[targets[k]] -= 1.0
        G["Why"] += np.outer(e, hs[k + 1])
        G["by"][:, 0] += e
        a = (1.0 - hs[k + 1] ** 2) * (Wy.T @ e + carry)
        G["Wxh"][:, targets[k]] += a
        G["Whh"] += np.outer(a, hs[k])
        G["bh"][:, 0] += a
        carry = Wh.T @ a
    out = views(grad, lay)
    return loss, out["Wxh"], out["Whh"], out["Why"], out["bh"], out["by"], hs[-1].reshape(H, 1)
