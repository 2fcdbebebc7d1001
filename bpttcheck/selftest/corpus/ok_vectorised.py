# selftest-expect: ok
# selftest-target: loss_and_gradients
# Explicit form: weights come in a dict; states kept as one array; gradients
# accumulated as matrix products at the end; returns (loss, grads dict).
import numpy as np


def loss_and_gradients(params, inputs, targets, hprev):
    Wxh, Whh, Why = params["Wxh"], params["Whh"], params["Why"]
    bh, by = params["bh"][:, 0], params["by"][:, 0]
    T, H = len(inputs), Whh.shape[0]
    V = Why.shape[0]
    X = np.eye(V)[inputs]  # (T, V) one-hot rows
    hs = np.zeros((T + 1, H))  # hs[0] = hprev, hs[t+1] = h_t
    hs[0] = hprev[:, 0]
    for t in range(T):
        hs[t + 1] = np.tanh(X[t] @ Wxh.T + hs[t] @ Whh.T + bh)
    logits = hs[1:] @ Why.T + by
    logits -= logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    loss = -logp[np.arange(T), targets].sum()
    dlogits = np.exp(logp)
    dlogits[np.arange(T), targets] -= 1
    dhs = dlogits @ Why  # (T, H): each step's own loss
    da = np.zeros((T, H))
    carry = np.zeros(H)
    for t in range(T - 1, -1, -1):
        da[t] = (dhs[t] + carry) * (1 - hs[t + 1] ** 2)
        carry = da[t] @ Whh
    grads = {
        "Wxh": da.T @ X,
        "Whh": da.T @ hs[:-1],
        "Why": dlogits.T @ hs[1:],
        "bh": da.sum(axis=0)[:, None],
        "by": dlogits.sum(axis=0)[:, None],
    }
    return loss, grads
