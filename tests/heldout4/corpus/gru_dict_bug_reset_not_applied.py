# GRU character model, parameters in a dictionary; gate names as in the lectures
# (gamma_u the update gate, gamma_r the reset gate, h_tilde the candidate).
# h_next = gamma_u * h_prev + (1 - gamma_u) * h_tilde
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    e_x = np.exp(x - np.max(x))
    return e_x / e_x.sum(axis=0)


def gru_loss(parameters, inputs, targets, h0):
    Wz, Wr, Wn = parameters["Wz"], parameters["Wr"], parameters["Wn"]
    bz, br, bn = parameters["bz"], parameters["br"], parameters["bn"]
    Why, by = parameters["Why"], parameters["by"]
    n_h = Wz.shape[0]
    n_x = Wz.shape[1] - n_h
    cache = []
    h_prev = h0
    J = 0.0
    for t in range(len(inputs)):
        x_t = np.zeros((n_x, 1))
        x_t[inputs[t]] = 1
        concat = np.concatenate((h_prev, x_t))
        gamma_u = sigmoid(np.dot(Wz, concat) + bz)
        gamma_r = sigmoid(np.dot(Wr, concat) + br)
        concat_r = np.concatenate((gamma_r * h_prev, x_t))
        h_tilde = np.tanh(np.dot(Wn, concat_r) + bn)
        h_next = gamma_u * h_prev + (1 - gamma_u) * h_tilde
        y_hat = softmax(np.dot(Why, h_next) + by)
        J -= np.log(y_hat[targets[t], 0])
        cache.append((h_prev, concat, concat_r, gamma_u, gamma_r, h_tilde, h_next, y_hat))
        h_prev = h_next
    h_last = h_prev
    dWz, dWr, dWn = np.zeros_like(Wz), np.zeros_like(Wr), np.zeros_like(Wn)
    dbz, dbr, dbn = np.zeros_like(bz), np.zeros_like(br), np.zeros_like(bn)
    dWhy, dby = np.zeros_like(Why), np.zeros_like(by)
    dh_next = np.zeros((n_h, 1))
    for t in reversed(range(len(inputs))):
        h_prev, concat, concat_r, gamma_u, gamma_r, h_tilde, h_next, y_hat = cache[t]
        dy = y_hat.copy()
        dy[targets[t]] -= 1
        dWhy += np.dot(dy, h_next.T)
        dby += dy
        dh = np.dot(Why.T, dy) + dh_next
        dh_tilde = dh * (1 - gamma_u)
        dgamma_u = dh * (h_prev - h_tilde)
        dh_prev = dh * gamma_u
        da_n = dh_tilde * (1 - h_tilde ** 2)
        dWn += np.dot(da_n, concat_r.T)
        dbn += da_n
        dconcat_r = np.dot(Wn.T, da_n)
        dh_prev += dconcat_r[:n_h]
        dgamma_r = dconcat_r[:n_h] * h_prev
        da_r = dgamma_r * gamma_r * (1 - gamma_r)
        da_u = dgamma_u * gamma_u * (1 - gamma_u)
        dWr += np.dot(da_r, concat.T)
        dbr += da_r
        dWz += np.dot(da_u, concat.T)
        dbz += da_u
        dh_prev += np.dot(Wr.T, da_r)[:n_h] + np.dot(Wz.T, da_u)[:n_h]
        dh_next = dh_prev
    return J, dWz, dWr, dWn, dbz, dbr, dbn, dWhy, dby, h_last
