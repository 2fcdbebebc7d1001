import numpy as np

# rows of the packed gate matrix, top to bottom: input, forget, output, candidate
GATE_ORDER = "ifog"


def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def lossFun(inputs, targets, hprev, cprev):
    H = hprev.shape[0]
    W = np.vstack([Wi, Wf, Wo, Wc])
    b = np.vstack([bi, bf, bo, bc])
    sl = {g: slice(k * H, (k + 1) * H) for k, g in enumerate(GATE_ORDER)}
    h, c, zs, acts, ps = {-1: hprev}, {-1: cprev}, {}, {}, {}
    loss = 0.0
    for t, (ix, iy) in enumerate(zip(inputs, targets)):
        x = np.zeros((Why.shape[0], 1))
        x[ix] = 1.0
        zs[t] = np.vstack([h[t - 1], x])
        a = W @ zs[t] + b
        act = np.empty_like(a)
        act[:3 * H] = _sig(a[:3 * H])
        act[3 * H:] = np.tanh(a[3 * H:])
        acts[t] = act
        i_, f_, o_, g_ = (act[sl[k]] for k in GATE_ORDER)
        c[t] = f_ * c[t - 1] + i_ * g_
        h[t] = o_ * np.tanh(c[t])
        y = Why @ h[t] + by
        ps[t] = np.exp(y - y.max())
        ps[t] /= ps[t].sum()
        loss -= np.log(ps[t][iy, 0])
    T = len(inputs)
    dW, db = np.zeros_like(W), np.zeros_like(b)
    dWhy, dby = np.zeros_like(Why), np.zeros_like(by)
    dh_next, dc_next = np.zeros_like(hprev), np.zeros_like(cprev)
    for t, iy in zip(reversed(range(T)), reversed(targets)):
        dy = ps[t].copy()
        dy[iy] -= 1.0
        dWhy += dy @ h[t].T
        dby += dy
        dh = Why.T @ dy + dh_next
        i_, f_, o_, g_ = (acts[t][sl[k]] for k in GATE_ORDER)
        tc = np.tanh(c[t])
        dc = dc_next + dh * o_ * (1.0 - tc ** 2)
        da = np.empty_like(acts[t])
        da[sl["i"]] = dc * g_ * i_ * (1.0 - i_)
        da[sl["f"]] = dc * c[t - 1] * f_ * (1.0 - f_)
        da[sl["o"]] = dh * tc * o_ * (1.0 - o_)
        da[sl["g"]] = dc * i_ * (1.0 - g_ ** 2)
        dW += da @ zs[t].T
        db += da
        dz = W.T @ da
        dh_next = dz[:H]
        dc_next = f_ * dc
    dWi, dWf, dWo, dWc = (dW[sl[k]] for k in GATE_ORDER)
    dbi, dbf, dbo, dbc = (db[sl[k]] for k in GATE_ORDER)
    return loss, dWi, dWf, dWo, dWc, dbi, dbf, dbo, dbc, dWhy, dby, h[T - 1], c[T - 1]
