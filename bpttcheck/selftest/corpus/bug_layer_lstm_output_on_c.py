# selftest-expect: lstm-output-on-c
# selftest-target: lstm_backward
# selftest-cell: lstm
# A Coursera-style LSTM layer that takes the output gate's derivative against c, not tanh(c).
"""An LSTM layer, column-major, a parameters dict, step by step (Coursera style)."""
import numpy as np


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    Wf, bf = parameters["Wf"], parameters["bf"]
    Wi, bi = parameters["Wi"], parameters["bi"]
    Wc, bc = parameters["Wc"], parameters["bc"]
    Wo, bo = parameters["Wo"], parameters["bo"]
    Wy, by = parameters["Wy"], parameters["by"]
    concat = np.concatenate((a_prev, xt), axis=0)
    ft = sigmoid(Wf.dot(concat) + bf)
    it = sigmoid(Wi.dot(concat) + bi)
    cct = np.tanh(Wc.dot(concat) + bc)
    c_next = ft * c_prev + it * cct
    ot = sigmoid(Wo.dot(concat) + bo)
    a_next = ot * np.tanh(c_next)
    scores = Wy.dot(a_next) + by
    e = np.exp(scores - scores.max(axis=0, keepdims=True))
    yt_pred = e / e.sum(axis=0, keepdims=True)
    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)
    return a_next, c_next, yt_pred, cache


def lstm_forward(x, a0, parameters):
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wy"].shape
    kind = np.result_type(x, a0, *parameters.values())
    a = np.zeros((n_a, m, T_x), dtype=kind)
    c = np.zeros((n_a, m, T_x), dtype=kind)
    y = np.zeros((n_y, m, T_x), dtype=kind)
    a_next = a0
    c_next = np.zeros((n_a, m), dtype=kind)
    caches = []
    for t in range(T_x):
        a_next, c_next, yt, cache = lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)
        a[:, :, t] = a_next
        c[:, :, t] = c_next
        y[:, :, t] = yt
        caches.append(cache)
    return a, y, c, (caches, x)


def lstm_cell_backward(da_next, dc_next, cache):
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    n_a = a_next.shape[0]
    tanh_c = np.tanh(c_next)
    dot = da_next * c_next * ot * (1 - ot)  # BUG: tanh(c_next) belongs here
    dc = dc_next + da_next * ot * (1 - tanh_c ** 2)
    dcct = dc * it * (1 - cct ** 2)
    dit = dc * cct * it * (1 - it)
    dft = dc * c_prev * ft * (1 - ft)
    concat = np.concatenate((a_prev, xt), axis=0)
    grads = {"dWf": dft.dot(concat.T), "dWi": dit.dot(concat.T),
             "dWc": dcct.dot(concat.T), "dWo": dot.dot(concat.T),
             "dbf": dft.sum(axis=1, keepdims=True), "dbi": dit.sum(axis=1, keepdims=True),
             "dbc": dcct.sum(axis=1, keepdims=True), "dbo": dot.sum(axis=1, keepdims=True)}
    dconcat = (parameters["Wf"].T.dot(dft) + parameters["Wi"].T.dot(dit)
               + parameters["Wc"].T.dot(dcct) + parameters["Wo"].T.dot(dot))
    grads["da_prev"] = dconcat[:n_a]
    grads["dxt"] = dconcat[n_a:]
    grads["dc_prev"] = dc * ft
    return grads


def lstm_backward(da, caches):
    (caches, x) = caches
    n_a, m, T_x = da.shape
    n_x = x.shape[0]
    names = ("dWf", "dWi", "dWc", "dWo", "dbf", "dbi", "dbc", "dbo")
    total = {k: 0.0 for k in names}
    dx = np.zeros((n_x, m, T_x))
    da_prevt = np.zeros((n_a, m))
    dc_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        g = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])
        dx[:, :, t] = g["dxt"]
        for k in names:
            total[k] = total[k] + g[k]
        da_prevt = g["da_prev"]
        dc_prevt = g["dc_prev"]
    total["dx"] = dx
    total["da0"] = da_prevt
    return total
