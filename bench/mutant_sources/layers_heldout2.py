"""HELD OUT (second, written after all tuning): cs231n-style layer functions. Row
vectors (1, H), weights used transposed (x @ Wx, h @ Wh), a cache per step, a
step-backward function called from a backward driver, gradients accumulated with
``a = a + b`` into a dict that starts at 0.0."""
import numpy as np

TARGET = "loss_fn"
GRADS = {"dWx": "Wxh", "dWh": "Whh", "db": "bh", "Wx": "Wxh", "Wh": "Whh", "Wy": "Why",
         "b": "bh", "by": "by"}
SAME_SHAPE = (("dh", "dprev"), ("draw", "dnext_h"))


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, next_h)


def softmax_rows(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def loss_fn(params, inputs, targets, hprev):
    Wx, Wh, Wy = params["Wxh"].T, params["Whh"].T, params["Why"].T
    b, by = params["bh"].T, params["by"].T
    V = Wy.shape[1]
    h = hprev.T
    caches, hs, probs = [], [], []
    loss = 0.0
    for t, ix in enumerate(inputs):
        x = np.zeros((1, V))
        x[0, ix] = 1.0
        h, cache = rnn_step_forward(x, h, Wx, Wh, b)
        caches.append(cache)
        hs.append(h)
        p = softmax_rows(h @ Wy + by)
        probs.append(p)
        loss -= float(np.log(p[0, targets[t]]))
    grads = backward(caches, hs, probs, targets, Wh, Wy)
    return loss, {"dWxh": grads["Wx"].T, "dWhh": grads["Wh"].T, "dWhy": grads["Wy"].T,
                  "dbh": grads["b"].T, "dby": grads["by"].T}


# backward:begin
def rnn_step_backward(dnext_h, cache, Wh):
    x, prev_h, next_h = cache
    draw = dnext_h * (1 - next_h ** 2)
    dWx = x.T @ draw
    dWh = prev_h.T @ draw
    db = draw
    dprev_h = draw @ Wh.T
    return dprev_h, dWx, dWh, db


def backward(caches, hs, probs, targets, Wh, Wy):
    grads = {"Wx": 0.0, "Wh": 0.0, "Wy": 0.0, "b": 0.0, "by": 0.0}
    dprev = np.zeros_like(hs[0])
    for t in range(len(caches) - 1, -1, -1):
        dscores = probs[t].copy()
        dscores[0, targets[t]] -= 1
        grads["Wy"] = grads["Wy"] + hs[t].T @ dscores
        grads["by"] = grads["by"] + dscores
        dh = dscores @ Wy.T + dprev
        dprev, dWx, dWh, db = rnn_step_backward(dh, caches[t], Wh)
        grads["Wx"] = grads["Wx"] + dWx
        grads["Wh"] = grads["Wh"] + dWh
        grads["b"] = grads["b"] + db
    return grads
# backward:end


def bench_call(params, inputs, targets, hprev):
    """The harness's adapter: call with the dict, rename the gradients."""
    loss, grads = loss_fn(dict(params), inputs, targets, hprev)
    return loss, {k[1:]: np.asarray(v) for k, v in grads.items()}
