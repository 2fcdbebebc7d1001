import numpy as np


def sigm(a):
    return 1.0 / (1.0 + np.exp(-a))


def gru_loss(Wz, Wr, Wn, bz, br, bn, Why, by, inputs, targets, h0):
    """GRU on row vectors: h is (1, H), z_t = [h_{t-1}, x_t] is (1, H + V).
    Weights stay in the column-vector convention, hence the transposes."""
    H = h0.shape[0]
    V = Why.shape[0]
    h = h0.T
    rows = []
    loss = 0.0
    for t in range(len(inputs)):
        x = np.zeros((1, V))
        x[0, inputs[t]] = 1.0
        hx = np.concatenate((h, x), axis=1)
        u = sigm(hx @ Wz.T + bz.T)
        r = sigm(hx @ Wr.T + br.T)
        rhx = np.concatenate((r * h, x), axis=1)
        n = np.tanh(rhx @ Wn.T + bn.T)
        h_new = u * h + (1.0 - u) * n
        logits = h_new @ Why.T + by.T
        p = np.exp(logits - logits.max())
        p = p / p.sum()
        loss += -np.log(p[0, targets[t]])
        rows.append(dict(hx=hx, rhx=rhx, h=h, u=u, r=r, n=n, h_new=h_new, p=p))
        h = h_new

    dWz, dWr, dWn = np.zeros_like(Wz), np.zeros_like(Wr), np.zeros_like(Wn)
    dbz, dbr, dbn = np.zeros_like(bz), np.zeros_like(br), np.zeros_like(bn)
    dWhy, dby = np.zeros_like(Why), np.zeros_like(by)
    dh_next = np.zeros((1, H))
    for t in reversed(range(len(inputs))):
        s = rows[t]
        dlogits = s["p"].copy()
        dlogits[0, targets[t]] -= 1.0
        dWhy += dlogits.T @ s["h_new"]
        dby += dlogits.T
        dh = dlogits @ Why + dh_next
        dn = dh * s["u"]
        du = dh * (s["h"] - s["n"])
        dn_pre = dn * (1.0 - s["n"] ** 2)
        du_pre = du * s["u"] * (1.0 - s["u"])
        dWn += dn_pre.T @ s["rhx"]
        dbn += dn_pre.T
        drhx = dn_pre @ Wn
        dr = drhx[:, :H] * s["h"]
        dr_pre = dr * s["r"] * (1.0 - s["r"])
        dWz += du_pre.T @ s["hx"]
        dbz += du_pre.T
        dWr += dr_pre.T @ s["hx"]
        dbr += dr_pre.T
        dhx = du_pre @ Wz + dr_pre @ Wr
        dh_next = dh * s["u"] + drhx[:, :H] * s["r"] + dhx[:, :H]
    return loss, dWz, dWr, dWn, dbz, dbr, dbn, dWhy, dby, h.T
