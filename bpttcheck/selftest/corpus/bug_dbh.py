# selftest-expect: bias
# selftest-target: forward_backward
# Explicit form, vectorised; dbh accumulates dh instead of dhraw (one bias wrong).
import numpy as np


def forward_backward(params, inputs, targets, hprev):
    Wxh, Whh, Why = params["Wxh"], params["Whh"], params["Why"]
    bh, by = params["bh"], params["by"]
    T = len(inputs)
    H = [hprev]
    for i in inputs:
        H.append(np.tanh(Wxh[:, [i]] + Whh @ H[-1] + bh))
    Hs = np.hstack(H[1:])  # (hidden, T)
    Y = Why @ Hs + by
    Y = Y - Y.max(axis=0)
    P = np.exp(Y) / np.exp(Y).sum(axis=0)
    loss = -np.log(P[targets, np.arange(T)]).sum()
    dY = P.copy()
    dY[targets, np.arange(T)] -= 1
    grads = {"Why": dY @ Hs.T, "by": dY.sum(axis=1, keepdims=True),
             "Wxh": np.zeros_like(Wxh), "Whh": np.zeros_like(Whh), "bh": np.zeros_like(bh)}
    dnext = np.zeros_like(hprev)
    for t in range(T - 1, -1, -1):
        dh = Why.T @ dY[:, [t]] + dnext
        draw = (1 - H[t + 1] ** 2) * dh
        grads["bh"] += dh  # BUG: should be draw
        grads["Wxh"][:, [inputs[t]]] += draw
        grads["Whh"] += draw @ H[t].T
        dnext = Whh.T @ draw
    return loss, grads
