# selftest-expect: ok
# selftest-target: gru_loss
# selftest-cell: gru
"""A GRU loss function taking its weights as arguments, the candidate spelled Wh/bh and
the output layer Wy/by; the hidden states kept as columns of one array."""
import numpy as np


def sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def gru_loss(inputs, targets, h0, Wz, Wr, Wh, bz, br, bh, Wy, by):
    H, V, T = Wz.shape[0], Wy.shape[0], len(inputs)
    hs = np.zeros((H, T + 1))
    hs[:, :1] = h0
    cache = []
    loss = 0.0
    for t in range(T):
        x = np.zeros((V, 1))
        x[inputs[t]] = 1
        hp = hs[:, t:t + 1]
        z = np.concatenate([hp, x])
        u = sigmoid(Wz @ z + bz)
        r = sigmoid(Wr @ z + br)
        zr = np.concatenate([r * hp, x])
        n = np.tanh(Wh @ zr + bh)
        hs[:, t + 1:t + 2] = u * hp + (1 - u) * n
        logits = Wy @ hs[:, t + 1:t + 2] + by
        m = logits.max()
        lse = m + np.log(np.exp(logits - m).sum())
        loss += lse - logits[targets[t], 0]
        cache.append((z, zr, u, r, n, hp, np.exp(logits - lse)))
    grads = {k: 0.0 for k in ("Wz", "Wr", "Wh", "bz", "br", "bh", "Wy", "by")}
    dnext = np.zeros((H, 1))
    for t in range(T - 1, -1, -1):
        z, zr, u, r, n, hp, p = cache[t]
        dy = p.copy()
        dy[targets[t]] -= 1
        grads["Wy"] = grads["Wy"] + dy @ hs[:, t + 1:t + 2].T
        grads["by"] = grads["by"] + dy
        dh = Wy.T @ dy + dnext
        dn = dh * (1 - u) * (1 - n * n)
        du = dh * (hp - n) * u * (1 - u)
        dzr = Wh.T @ dn
        dr = dzr[:H] * hp * r * (1 - r)
        for k, d, inp in (("Wz", du, z), ("Wr", dr, z), ("Wh", dn, zr)):
            grads[k] = grads[k] + d @ inp.T
        grads["bz"] = grads["bz"] + du
        grads["br"] = grads["br"] + dr
        grads["bh"] = grads["bh"] + dn
        dnext = dh * u + dzr[:H] * r + (Wz.T @ du + Wr.T @ dr)[:H]
    return loss, grads, hs[:, T:T + 1]
