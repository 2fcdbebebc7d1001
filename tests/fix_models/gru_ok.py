"""A small GRU language model: weights as arguments, gradients returned in a tuple."""
import numpy as np


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def gru_loss(inputs, targets, hprev, Wz, Wr, Wn, bz, br, bn, Why, by):
    H, V = hprev.shape[0], Why.shape[0]
    hs, xs, us, rs, ns, ps = {-1: hprev}, {}, {}, {}, {}, {}
    loss = 0.0
    for t, (ix, iy) in enumerate(zip(inputs, targets, strict=True)):
        xs[t] = np.zeros((V, 1))
        xs[t][ix] = 1
        hx = np.vstack([hs[t - 1], xs[t]])
        us[t] = sigmoid(Wz @ hx + bz)
        rs[t] = sigmoid(Wr @ hx + br)
        ns[t] = np.tanh(Wn @ np.vstack([rs[t] * hs[t - 1], xs[t]]) + bn)
        hs[t] = us[t] * hs[t - 1] + (1 - us[t]) * ns[t]
        logits = Why @ hs[t] + by
        logits = logits - logits.max()
        ps[t] = np.exp(logits) / np.exp(logits).sum()
        loss += -np.log(ps[t][iy, 0])
    dWz, dWr, dWn = np.zeros_like(Wz), np.zeros_like(Wr), np.zeros_like(Wn)
    dbz, dbr, dbn = np.zeros_like(bz), np.zeros_like(br), np.zeros_like(bn)
    dWhy, dby = np.zeros_like(Why), np.zeros_like(by)
    carry = np.zeros((H, 1))
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        dWhy += dy @ hs[t].T
        dby += dy
        dh = Why.T @ dy + carry
        hx = np.vstack([hs[t - 1], xs[t]])
        rhx = np.vstack([rs[t] * hs[t - 1], xs[t]])
        dn_pre = dh * (1 - us[t]) * (1 - ns[t] ** 2)
        du_pre = dh * (hs[t - 1] - ns[t]) * us[t] * (1 - us[t])
        dWn += dn_pre @ rhx.T
        dbn += dn_pre
        drh = (Wn.T @ dn_pre)[:H]
        dr_pre = drh * hs[t - 1] * rs[t] * (1 - rs[t])
        dWz += du_pre @ hx.T
        dbz += du_pre
        dWr += dr_pre @ hx.T
        dbr += dr_pre
        dhx = Wz.T @ du_pre + Wr.T @ dr_pre
        carry = dh * us[t] + drh * rs[t] + dhx[:H]
    return loss, dWz, dWr, dWn, dbz, dbr, dbn, dWhy, dby, hs[len(inputs) - 1]
