"""LSTM network, step by step (assignment style): a cell forward that returns a cache
tuple, a cell backward that returns a dict of gradients, and a loop around them."""
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    e_x = np.exp(x - np.max(x))
    return e_x / e_x.sum(axis=0)


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    Wf = parameters["Wf"]
    bf = parameters["bf"]
    Wi = parameters["Wi"]
    bi = parameters["bi"]
    Wc = parameters["Wc"]
    bc = parameters["bc"]
    Wo = parameters["Wo"]
    bo = parameters["bo"]
    Wy = parameters["Wy"]
    by = parameters["by"]
    concat = np.concatenate((a_prev, xt), axis=0)
    ft = sigmoid(np.dot(Wf, concat) + bf)
    it = sigmoid(np.dot(Wi, concat) + bi)
    cct = np.tanh(np.dot(Wc, concat) + bc)
    c_next = ft * c_prev + it * cct
    ot = sigmoid(np.dot(Wo, concat) + bo)
    a_next = ot * np.tanh(c_next)
    yt_pred = softmax(np.dot(Wy, a_next) + by)
    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt)
    return a_next, c_next, yt_pred, cache


def lstm_cell_backward(da_next, dc_next, cache, parameters):
    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt) = cache
    n_a = a_next.shape[0]
    dot = da_next * np.tanh(c_next) * ot * (1 - ot)
    dc = dc_next + da_next * ot * (1 - np.tanh(c_next) ** 2)
    dcct = dc * it * (1 - cct ** 2)
    dit = dc * cct * it * (1 - it)
    dft = dc * c_prev * ft * (1 - ft)
    concat = np.concatenate((a_prev, xt), axis=0)
    gradients = {"dWf": np.dot(dft, concat.T), "dWi": np.dot(dit, concat.T),
                 "dWc": np.dot(dcct, concat.T), "dWo": np.dot(dot, concat.T),
                 "dbf": dft, "dbi": dit, "dbc": dcct, "dbo": dot}
    dconcat = np.dot(parameters["Wf"].T, dft)
    dconcat += np.dot(parameters["Wi"].T, dit)
    dconcat += np.dot(parameters["Wo"].T, dot)
    gradients["da_prev"] = dconcat[:n_a]
    gradients["dc_prev"] = dc * ft
    return gradients


def lstm_loss(parameters, X, Y, a0, c0):
    n_x = parameters["Wy"].shape[0]
    a, c = a0, c0
    caches, preds = [], []
    loss = 0.0
    for t in range(len(X)):
        xt = np.zeros((n_x, 1))
        xt[X[t]] = 1
        a, c, yt_pred, cache = lstm_cell_forward(xt, a, c, parameters)
        caches.append(cache)
        preds.append(yt_pred)
        loss -= np.log(yt_pred[Y[t], 0])
    grads = {"d" + k: np.zeros_like(v) for k, v in parameters.items()}
    da_next = np.zeros_like(a0)
    dc_next = np.zeros_like(c0)
    for t in reversed(range(len(X))):
        dy = preds[t].copy()
        dy[Y[t]] -= 1
        grads["dWy"] += np.dot(dy, caches[t][0].T)
        grads["dby"] += dy
        da = np.dot(parameters["Wy"].T, dy) + da_next
        g = lstm_cell_backward(da, dc_next, caches[t], parameters)
        for k in ("Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo"):
            grads["d" + k] += g["d" + k]
        da_next = g["da_prev"]
        dc_next = g["dc_prev"]
    return loss, grads, a, c
