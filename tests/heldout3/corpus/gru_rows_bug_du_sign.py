"""GRU, explicit params dict, states as rows of preallocated arrays (row t + 1 of hs is h_t).

u = sigmoid(Wz [h; x] + bz), r = sigmoid(Wr [h; x] + br),
n = tanh(Wn [r * h; x] + bn), h' = u * h + (1 - u) * n.
"""
import numpy as np

KEYS = ("Wz", "Wr", "Wn", "bz", "br", "bn", "Why", "by")


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def gru_loss(params, inputs, targets, hprev):
    Wz, Wr, Wn, bz, br, bn, Why, by = (params[k] for k in KEYS)
    n_h, n_v, T = Wz.shape[0], Why.shape[0], len(inputs)
    hs = np.zeros((T + 1, n_h))
    hs[0] = hprev[:, 0]
    us, rs, ns = np.zeros((T, n_h)), np.zeros((T, n_h)), np.zeros((T, n_h))
    ps = np.zeros((T, n_v))
    eye = np.eye(n_v)
    loss = 0.0
    for t in range(T):
        x = eye[inputs[t]]
        zin = np.concatenate([hs[t], x])
        us[t] = sigmoid(Wz @ zin + bz[:, 0])
        rs[t] = sigmoid(Wr @ zin + br[:, 0])
        ns[t] = np.tanh(Wn @ np.concatenate([rs[t] * hs[t], x]) + bn[:, 0])
        hs[t + 1] = us[t] * hs[t] + (1 - us[t]) * ns[t]
        y = Why @ hs[t + 1] + by[:, 0]
        y = y - y.max()
        ps[t] = np.exp(y) / np.exp(y).sum()
        loss += -np.log(ps[t, targets[t]])
    grads = {"d" + k: np.zeros_like(params[k]) for k in KEYS}
    dh_next = np.zeros(n_h)
    for t in range(T - 1, -1, -1):
        x = eye[inputs[t]]
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        grads["dWhy"] += np.outer(dy, hs[t + 1])
        grads["dby"][:, 0] += dy
        dh = Why.T @ dy + dh_next
        du = dh * (ns[t] - hs[t])
        dn = dh * (1 - us[t])
        dh_prev = dh * us[t]
        dn_pre = dn * (1 - ns[t] ** 2)
        grads["dWn"] += np.outer(dn_pre, np.concatenate([rs[t] * hs[t], x]))
        grads["dbn"][:, 0] += dn_pre
        d_rh = Wn[:, :n_h].T @ dn_pre
        dr_pre = d_rh * hs[t] * rs[t] * (1 - rs[t])
        dh_prev += d_rh * rs[t]
        du_pre = du * us[t] * (1 - us[t])
        zin = np.concatenate([hs[t], x])
        grads["dWz"] += np.outer(du_pre, zin)
        grads["dbz"][:, 0] += du_pre
        grads["dWr"] += np.outer(dr_pre, zin)
        grads["dbr"][:, 0] += dr_pre
        dh_prev += Wz[:, :n_h].T @ du_pre + Wr[:, :n_h].T @ dr_pre
        dh_next = dh_prev
    return loss, grads, hs[T].reshape(n_h, 1)
