"""My LSTM, explicit dict form, candidate named Wg, output Wy, list storage."""
import numpy as np


def sig(a):
    return 1 / (1 + np.exp(-a))


def loss_and_grads(P, inputs, targets, h0, c0):
    H = h0.shape[0]
    V = P['Wy'].shape[0]
    h, c = [h0], [c0]
    cache = []
    L = 0.0
    for t, ch in enumerate(inputs):
        x = np.zeros((V, 1)); x[ch] = 1.0
        z = np.concatenate([h[-1], x])
        f = sig(P['Wf'] @ z + P['bf'])
        i = sig(P['Wi'] @ z + P['bi'])
        g = np.tanh(P['Wg'] @ z + P['bg'])
        o = sig(P['Wo'] @ z + P['bo'])
        cn = f * c[-1] + i * g
        hn = o * np.tanh(cn)
        y = P['Wy'] @ hn + P['by']
        p = np.exp(y - y.max()); p /= p.sum()
        L -= np.log(p[targets[t], 0])
        cache.append((z, f, i, g, o, c[-1], cn, p))
        h.append(hn); c.append(cn)
    G = {k: np.zeros_like(v) for k, v in P.items()}
    dh_next = np.zeros((H, 1)); dc_next = np.zeros((H, 1))
    for t in range(len(inputs) - 1, -1, -1):
        z, f, i, g, o, cp, cn, p = cache[t]
        dy = p.copy(); dy[targets[t]] -= 1
        G['Wy'] += dy @ h[t + 1].T
        G['by'] += dy
        dh = P['Wy'].T @ dy + dh_next
        tc = np.tanh(cn)
        dO = dh * tc * o * (1 - o)
        dc = dh * o * (1 - tc * tc) + dc_next
        dF = dc * cp * f * (1 - f)
        dI = dc * g * i * (1 - i)
        dG = dc * i * (1 - g * g)
        for n, d in (('f', dF), ('i', dI), ('g', dG), ('o', dO)):
            G['W' + n] += d @ z.T
            G['b' + n] += d
        dz = P['Wf'].T @ dF + P['Wi'].T @ dI + P['Wg'].T @ dG + P['Wo'].T @ dO
        dh_next = dz[:H]
        dc_next = dc * f
    return (L, G['Wf'], G['bf'], G['Wi'], G['bi'], G['Wg'], G['bg'], G['Wo'], G['bo'], G['Wy'], G['by'], h[-1], c[-1])
