import numpy as np


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lossFun(inputs, targets, hprev, cprev):
    H = hprev.shape[0]
    Wf_h, Wf_x = Wf[:, :H], Wf[:, H:]
    Wi_h, Wi_x = Wi[:, :H], Wi[:, H:]
    Wc_h, Wc_x = Wc[:, :H], Wc[:, H:]
    Wo_h, Wo_x = Wo[:, :H], Wo[:, H:]
    V = Wf_x.shape[1]
    hs, cs = {-1: hprev}, {-1: cprev}
    xs, fs, is_, gs, os_, ps = {}, {}, {}, {}, {}, {}
    loss = 0.0
    for t, ix in enumerate(inputs):
        xs[t] = np.zeros((V, 1))
        xs[t][ix] = 1.0
        fs[t] = sigmoid(Wf_h @ hs[t - 1] + Wf_x @ xs[t] + bf)
        is_[t] = sigmoid(Wi_h @ hs[t - 1] + Wi_x @ xs[t] + bi)
        gs[t] = np.tanh(Wc_h @ hs[t - 1] + Wc_x @ xs[t] + bc)
        os_[t] = sigmoid(Wo_h @ hs[t - 1] + Wo_x @ xs[t] + bo)
        cs[t] = fs[t] * cs[t - 1] + is_[t] * gs[t]
        hs[t] = os_[t] * np.tanh(cs[t])
        y = Why @ hs[t] + by
        ps[t] = np.exp(y - np.max(y)) / np.sum(np.exp(y - np.max(y)))
        loss += -np.log(ps[t][targets[t], 0])
    dWf_h, dWf_x = np.zeros_like(Wf_h), np.zeros_like(Wf_x)
    dWi_h, dWi_x = np.zeros_like(Wi_h), np.zeros_like(Wi_x)
    dWc_h, dWc_x = np.zeros_like(Wc_h), np.zeros_like(Wc_x)
    dWo_h, dWo_x = np.zeros_like(Wo_h), np.zeros_like(Wo_x)
    dbf, dbi, dbc, dbo = (np.zeros_like(b) for b in (bf, bi, bc, bo))
    dWhy, dby = np.zeros_like(Why), np.zeros_like(by)
    dh_next = np.zeros_like(hprev)
    dc_next = np.zeros_like(cprev)
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1.0
        dWhy += dy @ hs[t].T
        dby += dy
        dh = Why.T @ dy + dh_next
        tc = np.tanh(cs[t])
        do = dh * tc
        dc = dh * os_[t] * (1.0 - tc ** 2) + dc_next
        df = dc * cs[t - 1]
        di = dc * gs[t]
        dg = dc * is_[t]
        daf = df * fs[t] * (1.0 - fs[t])
        dai = di * is_[t] * (1.0 - is_[t])
        dag = dg * (1.0 - gs[t] ** 2)
        dao = do * os_[t] * (1.0 - os_[t])
        dWf_h += daf @ hs[t - 1].T
        dWf_x += daf @ xs[t].T
        dWi_h += dai @ hs[t - 1].T
        dWi_x += dai @ xs[t].T
        dWc_h += dag @ hs[t - 1].T
        dWc_x += dag @ xs[t].T
        dWo_h += dao @ hs[t - 1].T
        dWo_x += dao @ xs[t].T
        dbf += daf
        dbi += dai
        dbc += dag
        dbo += dao
        dh_next = Wf_h.T @ daf + Wi_h.T @ dai + Wc_h.T @ dag + Wo_h.T @ dao
        dc_next = dc * fs[t]
    last = len(inputs) - 1
    return (loss, np.hstack([dWf_h, dWf_x]), np.hstack([dWi_h, dWi_x]),
            np.hstack([dWc_h, dWc_x]), np.hstack([dWo_h, dWo_x]),
            dbf, dbi, dbc, dbo, dWhy, dby, hs[last], cs[last])
