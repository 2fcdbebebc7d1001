"""Character-level RNN, week 1 assignment: forward and backward built from one cell."""
import numpy as np


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum(axis=0)


def rnn_step_forward(xt, a_prev, parameters):
    """One step of the cell: returns the next activation and a cache tuple."""
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]
    ba = parameters["ba"]
    a_next = np.tanh(np.dot(Wax, xt) + np.dot(Waa, a_prev) + ba)
    cache = (a_next, a_prev, xt)
    return a_next, cache


def rnn_step_backward(da_next, cache, parameters):
    """Backward through one cell: returns (da_prev, dWax, dWaa, dba)."""
    a_next, a_prev, xt = cache
    dtanh = (1 - a_next ** 2) * da_next
    dWax = np.dot(dtanh, xt.T)
    dWaa = np.dot(dtanh, a_prev.T)
    dba = np.sum(dtanh, axis=1, keepdims=True)
    da_prev = np.dot(parameters["Waa"].T, dtanh)
    return da_prev, dWax, dWaa, dba


def output_step(a, parameters):
    return softmax(np.dot(parameters["Wya"], a) + parameters["by"])


def rnn_loss(parameters, X, Y, a0):
    n_x = parameters["Wax"].shape[1]
    caches, y_hat, a = [], [], a0
    loss = 0
    for t in range(len(X)):
        xt = np.zeros((n_x, 1))
        xt[X[t]] = 1
        a, cache = rnn_step_forward(xt, a, parameters)
        caches.append(cache)
        y_hat.append(output_step(a, parameters))
        loss -= np.log(y_hat[t][Y[t], 0])
    gradients = {}
    for name in parameters:
        gradients["d" + name] = np.zeros_like(parameters[name])
    da_next = np.zeros_like(a0)
    for t in reversed(range(len(X))):
        dy = np.copy(y_hat[t])
        dy[Y[t]] -= 1
        a_t = caches[t][1]
        gradients["dWya"] += np.dot(dy, a_t.T)
        gradients["dby"] += dy
        da = np.dot(parameters["Wya"].T, dy) + da_next
        da_next, dWax, dWaa, dba = rnn_step_backward(da, caches[t], parameters)
        gradients["dWax"] += dWax
        gradients["dWaa"] += dWaa
        gradients["dba"] += dba
    return loss, gradients, a
