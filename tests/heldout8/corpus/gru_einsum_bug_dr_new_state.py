import numpy as np


def gru_loss(inputs, targets, hprev):
    H = Wz.shape[0]
    V = Why.shape[0]
    h = hprev[:, 0].copy()
    bz_, br_, bn_, by_ = bz[:, 0], br[:, 0], bn[:, 0], by[:, 0]
    steps = []
    loss = 0.0
    for ix, tg in zip(inputs, targets):
        x = np.zeros(V)
        x[ix] = 1.0
        zc = np.concatenate([h, x])
        u = 1.0 / (1.0 + np.exp(-(np.einsum('ij,j->i', Wz, zc) + bz_)))
        r = 1.0 / (1.0 + np.exp(-(np.einsum('ij,j->i', Wr, zc) + br_)))
        rc = np.concatenate([r * h, x])
        n = np.tanh(np.einsum('ij,j->i', Wn, rc) + bn_)
        h_new = u * h + (1.0 - u) * n
        y = np.einsum('ij,j->i', Why, h_new) + by_
        logp = y - y.max() - np.log(np.exp(y - y.max()).sum())
        loss -= logp[tg]
        steps.append((h, zc, u, r, rc, n, h_new, np.exp(logp), tg))
        h = h_new
    dWz, dWr, dWn = np.zeros_like(Wz), np.zeros_like(Wr), np.zeros_like(Wn)
    dbz, dbr, dbn = np.zeros(H), np.zeros(H), np.zeros(H)
    dWhy, dby = np.zeros_like(Why), np.zeros(V)
    dh_next = np.zeros(H)
    for h_prev, zc, u, r, rc, n, h_t, p, tg in reversed(steps):
        dy = p.copy()
        dy[tg] -= 1.0
        dWhy += np.einsum('i,j->ij', dy, h_t)
        dby += dy
        dh = np.einsum('ji,j->i', Why, dy) + dh_next
        dn = dh * (1.0 - u)
        du = dh * (h_prev - n)
        dan = dn * (1.0 - n ** 2)
        dau = du * u * (1.0 - u)
        dWn += np.einsum('i,j->ij', dan, rc)
        dbn += dan
        drc = np.einsum('ji,j->i', Wn, dan)
        dr = drc[:H] * h_t
        dar = dr * r * (1.0 - r)
        dWz += np.einsum('i,j->ij', dau, zc)
        dWr += np.einsum('i,j->ij', dar, zc)
        dbz += dau
        dbr += dar
        dzc = np.einsum('ji,j->i', Wz, dau) + np.einsum('ji,j->i', Wr, dar)
        dh_next = dh * u + drc[:H] * r + dzc[:H]
    return (loss, dWz, dWr, dWn, dbz[:, None], dbr[:, None], dbn[:, None], dWhy,
            dby[:, None], h[:, None])
