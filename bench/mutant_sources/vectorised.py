"""A correct backward pass, vectorised: the weights as a dict argument, all steps
as rows of (T, .) arrays, the parameter gradients as matrix products after a
loop that only carries the recursion."""
import numpy as np

TARGET = "rnn_grads"
GRADS = {"dWxh": "Wxh", "dWhh": "Whh", "dWhy": "Why", "dbh": "bh", "dby": "by"}
SAME_SHAPE = (("dH", "dA"),)


def rnn_grads(params, inputs, targets, hprev):
    Wxh, Whh, Why, bh, by = (params[k] for k in ("Wxh", "Whh", "Why", "bh", "by"))
    T, V = len(inputs), Why.shape[0]
    X = np.eye(V)[list(inputs)]
    H = np.zeros((T + 1, Whh.shape[0]))
    H[0] = hprev[:, 0]
    for t in range(T):
        H[t + 1] = np.tanh(X[t] @ Wxh.T + H[t] @ Whh.T + bh[:, 0])
    Y = H[1:] @ Why.T + by[:, 0]
    Y = Y - Y.max(axis=1, keepdims=True)
    P = np.exp(Y) / np.exp(Y).sum(axis=1, keepdims=True)
    loss = -np.log(P[np.arange(T), list(targets)]).sum()
    # backward:begin
    dY = P.copy()
    dY[np.arange(T), list(targets)] -= 1
    dWhy = dY.T @ H[1:]
    dby = dY.sum(axis=0)[:, None]
    dH = dY @ Why
    dA = np.zeros((T, Whh.shape[0]))
    carry = np.zeros(Whh.shape[0])
    for t in range(T - 1, -1, -1):
        dA[t] = (dH[t] + carry) * (1 - H[t + 1] ** 2)
        carry = dA[t] @ Whh
    dWxh = dA.T @ X
    dWhh = dA.T @ H[:-1]
    dbh = dA.sum(axis=0)[:, None]
    # backward:end
    grads = {"dWxh": dWxh, "dWhh": dWhh, "dWhy": dWhy, "dbh": dbh, "dby": dby}
    return loss, grads, H[T][:, None]


def bench_call(params, inputs, targets, hprev):
    """The harness's adapter: call with the dict, rename the gradients."""
    loss, grads, _ = rnn_grads(dict(params), inputs, targets, hprev)
    return loss, {k[1:]: v for k, v in grads.items()}
