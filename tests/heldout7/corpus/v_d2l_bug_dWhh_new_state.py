import numpy as np

# the order of d2l's get_params(): W_xh, W_hh, b_h, W_hq, b_q
PARAM_KEYS = ("Wxh", "Whh", "bh", "Why", "by")


def init_rnn_state(h0):
    # d2l keeps the state as a tuple of (batch, hidden) arrays; the batch here is 1
    return (h0.T.copy(),)


def softmax(Z):
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def rnn(X, state, params):
    # X: (num_steps, batch, vocab)
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    Hs = [H]
    for X_t in X:
        H = np.tanh(X_t @ W_xh.T + H @ W_hh.T + b_h.T)
        Y = H @ W_hq.T + b_q.T
        outputs.append(Y)
        Hs.append(H)
    return np.concatenate(outputs, axis=0), Hs


def rnn_loss(params, inputs, targets, h0):
    params = [params[k] for k in PARAM_KEYS]
    W_xh, W_hh, b_h, W_hq, b_q = params
    num_steps, vocab_size = len(inputs), W_xh.shape[1]
    X = np.eye(vocab_size)[inputs][:, None, :]
    Y_hat, Hs = rnn(X, init_rnn_state(h0), params)
    P = softmax(Y_hat)
    y = np.array(targets)
    l = -np.log(P[np.arange(num_steps), y]).sum()

    grads = [np.zeros_like(p) for p in params]
    dW_xh, dW_hh, db_h, dW_hq, db_q = grads
    dY = P.copy()
    dY[np.arange(num_steps), y] -= 1
    dH_next = np.zeros_like(Hs[0])
    for t in reversed(range(num_steps)):
        dY_t = dY[t:t + 1]
        dW_hq += dY_t.T @ Hs[t + 1]
        db_q += dY_t.T
        dH = dY_t @ W_hq + dH_next
        dA = dH * (1 - Hs[t + 1] ** 2)
        dW_xh += dA.T @ X[t]
        dW_hh += dA.T @ Hs[t + 1]
        db_h += dA.T
        dH_next = dA @ W_hh
    return (l, *grads, Hs[-1].T)
