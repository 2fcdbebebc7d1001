import numpy as np


def bptt_grads(P, inputs, targets, hprev):
    U, W, V, b, c = P["U"], P["W"], P["V"], P["b"], P["c"]
    n = len(inputs)
    hid, K = W.shape[0], V.shape[0]
    cols = np.arange(n)
    X = np.zeros((K, n))
    X[inputs, cols] = 1.0  # one-hot columns
    S = np.zeros((hid, n + 1))  # S[:, 0] = hprev, S[:, t + 1] = h_t
    S[:, :1] = hprev
    Yhat = np.zeros((K, n))
    for t in range(n):
        S[:, t + 1] = np.tanh(U @ X[:, t] + W @ S[:, t] + b[:, 0])
        o = V @ S[:, t + 1] + c[:, 0]
        q = np.exp(o - o.max())
        Yhat[:, t] = q / q.sum()
    loss = -np.sum(np.log(Yhat[targets, cols]))

    Dout = Yhat.copy()
    Dout[targets, cols] -= 1
    Dz = np.zeros((hid, n))
    from_future = np.zeros(hid)
    for t in reversed(range(n)):
        Dz[:, t] = (V.T @ Dout[:, t] + from_future) * (1 - S[:, t + 1] ** 2)
        from_future = W.T @ Dz[:, t]
    # every weight gradient as one product over all steps
    grads = {
        "U": Dz @ X.T,
        "W": Dz @ S[:, :-1].T,
        "V": Dout @ S[:, 1:].T,
        "b": Dz.sum(axis=1, keepdims=True),
        "c": Dout.sum(axis=1, keepdims=True),
    }
    return loss, grads, S[:, -1:]
