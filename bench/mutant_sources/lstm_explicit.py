"""A correct LSTM backward pass (explicit form: the weights as a dict argument), one walk
back carrying dh_next and dc_next, per-gate lines."""
import numpy as np

CELL = "lstm"
TARGET = "lstm_loss"
GRADS = {"dWf": "Wf", "dWi": "Wi", "dWc": "Wc", "dWo": "Wo", "dbf": "bf", "dbi": "bi",
         "dbc": "bc", "dbo": "bo", "dWhy": "Why", "dby": "by"}
SAME_SHAPE = (("df", "di", "dg", "do", "dc", "dh", "dc_next", "dh_next"),
              ("dWf", "dWi", "dWc", "dWo"))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_loss(params, inputs, targets, hprev, cprev):
    Wf, Wi, Wc, Wo = params["Wf"], params["Wi"], params["Wc"], params["Wo"]
    bf, bi, bc, bo = params["bf"], params["bi"], params["bc"], params["bo"]
    Why, by = params["Why"], params["by"]
    H, V, T = Wf.shape[0], Why.shape[0], len(inputs)
    zs, fs, is_, gs, os_, cs, hs, ps = {}, {}, {}, {}, {}, {}, {}, {}
    hs[-1], cs[-1] = hprev, cprev
    loss = 0.0
    for t in range(T):
        x = np.zeros((V, 1))
        x[inputs[t]] = 1
        zs[t] = np.vstack((hs[t - 1], x))
        fs[t] = sigmoid(Wf @ zs[t] + bf)
        is_[t] = sigmoid(Wi @ zs[t] + bi)
        gs[t] = np.tanh(Wc @ zs[t] + bc)
        os_[t] = sigmoid(Wo @ zs[t] + bo)
        cs[t] = fs[t] * cs[t - 1] + is_[t] * gs[t]
        hs[t] = os_[t] * np.tanh(cs[t])
        y = Why @ hs[t] + by
        y = y - y.max()
        ps[t] = np.exp(y) / np.exp(y).sum()
        loss -= np.log(ps[t][targets[t], 0])
    dWf, dWi, dWc, dWo = (np.zeros_like(W) for W in (Wf, Wi, Wc, Wo))
    dbf, dbi, dbc, dbo = (np.zeros_like(b) for b in (bf, bi, bc, bo))
    dWhy, dby = np.zeros_like(Why), np.zeros_like(by)
    dh_next, dc_next = np.zeros((H, 1)), np.zeros((H, 1))
    # backward:begin
    for t in reversed(range(T)):
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        dWhy += dy @ hs[t].T
        dby += dy
        dh = Why.T @ dy + dh_next
        tc = np.tanh(cs[t])
        do = dh * tc * os_[t] * (1 - os_[t])
        dc = dh * os_[t] * (1 - tc * tc) + dc_next
        df = dc * cs[t - 1] * fs[t] * (1 - fs[t])
        di = dc * gs[t] * is_[t] * (1 - is_[t])
        dg = dc * is_[t] * (1 - gs[t] * gs[t])
        dWf += df @ zs[t].T
        dWi += di @ zs[t].T
        dWc += dg @ zs[t].T
        dWo += do @ zs[t].T
        dbf += df
        dbi += di
        dbc += dg
        dbo += do
        dz = Wf.T @ df + Wi.T @ di + Wc.T @ dg + Wo.T @ do
        dh_next = dz[:H]
        dc_next = fs[t] * dc
    # backward:end
    grads = {"dWf": dWf, "dWi": dWi, "dWc": dWc, "dWo": dWo, "dbf": dbf, "dbi": dbi,
             "dbc": dbc, "dbo": dbo, "dWhy": dWhy, "dby": dby}
    return loss, grads, hs[T - 1], cs[T - 1]


def bench_call(params, inputs, targets, hprev, cprev):
    """The harness's adapter: call with the dict, rename the gradients."""
    loss, grads, _, _ = lstm_loss(dict(params), inputs, targets, hprev, cprev)
    return loss, {k[1:]: v for k, v in grads.items()}
