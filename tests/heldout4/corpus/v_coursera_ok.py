# Character-level language model: forward and backward propagation through time,
# with the notation of the deep-learning specialisation (a for the hidden state,
# Wax / Waa / Wya / ba / by inside the cell functions).
import numpy as np


def softmax(x):
    e_x = np.exp(x - np.max(x))
    return e_x / e_x.sum(axis=0)


def rnn_cell_forward(xt, a_prev, parameters):
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]
    Wya = parameters["Wya"]
    ba = parameters["ba"]
    by = parameters["by"]
    a_next = np.tanh(np.dot(Waa, a_prev) + np.dot(Wax, xt) + ba)
    yt_pred = softmax(np.dot(Wya, a_next) + by)
    cache = (a_next, a_prev, xt, parameters)
    return a_next, yt_pred, cache


def rnn_cell_backward(da_next, cache):
    (a_next, a_prev, xt, parameters) = cache
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]
    dtanh = (1 - a_next ** 2) * da_next
    dxt = np.dot(Wax.T, dtanh)
    dWax = np.dot(dtanh, xt.T)
    da_prev = np.dot(Waa.T, dtanh)
    dWaa = np.dot(dtanh, a_prev.T)
    dba = np.sum(dtanh, axis=1, keepdims=True)
    gradients = {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}
    return gradients


def char_rnn_loss(inputs, targets, a0, Wxh, Whh, Why, bh, by):
    parameters = {"Wax": Wxh, "Waa": Whh, "Wya": Why, "ba": bh, "by": by}
    n_x = Wxh.shape[1]
    x, a, y_hat = {}, {}, {}
    a[-1] = np.copy(a0)
    caches = []
    loss = 0
    # forward propagation
    for t in range(len(inputs)):
        x[t] = np.zeros((n_x, 1))
        x[t][inputs[t]] = 1
        a[t], y_hat[t], cache = rnn_cell_forward(x[t], a[t - 1], parameters)
        caches.append(cache)
        loss -= np.log(y_hat[t][targets[t], 0])
    # backward propagation through time
    gradients = {"dWax": np.zeros_like(Wxh), "dWaa": np.zeros_like(Whh),
                 "dWya": np.zeros_like(Why), "dba": np.zeros_like(bh),
                 "dby": np.zeros_like(by)}
    da_next = np.zeros_like(a0)
    for t in reversed(range(len(inputs))):
        dy = np.copy(y_hat[t])
        dy[targets[t]] -= 1
        gradients["dWya"] += np.dot(dy, a[t].T)
        gradients["dby"] += dy
        da = np.dot(Why.T, dy) + da_next
        step = rnn_cell_backward(da, caches[t])
        gradients["dWax"] += step["dWax"]
        gradients["dWaa"] += step["dWaa"]
        gradients["dba"] += step["dba"]
        da_next = step["da_prev"]
    return (loss, gradients["dWax"], gradients["dWaa"], gradients["dWya"],
            gradients["dba"], gradients["dby"], a[len(inputs) - 1])
