import numpy as np

# Globals Wxh, Whh, Why, bh, by are set up by the training script.


def forward_backward(inputs, targets, hprev):
    T = len(inputs)
    H = Whh.shape[0]
    V = Wxh.shape[1]

    # one-hot inputs as a (T, V) matrix
    X = np.zeros((T, V))
    X[np.arange(T), inputs] = 1

    # h[t] is the state after step t; h[-1] (the spare last row) is the initial state
    h = np.zeros((T + 1, H))
    h[-1] = hprev[:, 0]
    for t in range(T):
        h[t] = np.tanh(Wxh @ X[t] + Whh @ h[t - 1] + bh[:, 0])

    # output layer for all steps at once
    logits = h[:T] @ Why.T + by[:, 0]
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(T), targets]).sum()

    # backward
    dlogits = probs.copy()
    dlogits[np.arange(T), targets] -= 1
    dWhy = dlogits.T @ h[:T]
    dby = dlogits.sum(axis=0)[:, None]
    dh = dlogits @ Why  # row t: what step t's own output sends back to h[t]
    dA = np.zeros((T, H))
    carry = np.zeros(H)
    for t in reversed(range(T)):
        dA[t] = (dh[t] + carry) * (1 - h[t] ** 2)
        carry = dA[t] @ Whh.T
    h_prev = np.roll(h, 1, axis=0)[:T]  # row t is h[t - 1]; row 0 the initial state
    dWxh = dA.T @ X
    dWhh = dA.T @ h_prev
    dbh = dA.sum(axis=0)[:, None]
    return loss, dWxh, dWhh, dWhy, dbh, dby, h[T - 1][:, None]
