# selftest-expect: sign
# selftest-target: loss_grad
# Explicit form; dy is written target - p, so every gradient has the wrong sign.
import numpy as np


def loss_grad(p, inputs, targets, hprev):
    h, probs, loss = [hprev], [], 0.0
    for i, j in zip(inputs, targets):
        h.append(np.tanh(p["Wxh"][:, [i]] + p["Whh"] @ h[-1] + p["bh"]))
        z = p["Why"] @ h[-1] + p["by"]
        z = np.exp(z - z.max())
        probs.append(z / z.sum())
        loss += -np.log(probs[-1][j, 0])
    g = {k: np.zeros_like(v) for k, v in p.items()}
    nxt = np.zeros_like(hprev)
    for t in reversed(range(len(inputs))):
        onehot = np.zeros_like(probs[t])
        onehot[targets[t]] = 1
        dy = onehot - probs[t]  # BUG: should be probs[t] - onehot
        g["Why"] += dy @ h[t + 1].T
        g["by"] += dy
        da = (p["Why"].T @ dy + nxt) * (1 - h[t + 1] ** 2)
        g["bh"] += da
        g["Wxh"][:, [inputs[t]]] += da
        g["Whh"] += da @ h[t].T
        nxt = p["Whh"].T @ da
    return loss, g, h[-1]
