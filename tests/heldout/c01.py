import numpy as np

vocab_size = 65
hidden_size = 100
W_xh = W_hh = W_hy = b_h = b_y = None  # set before training


def softmax(v):
    w = np.exp(v - np.max(v))
    return w / w.sum()


def tanh_grad(h):
    # derivative of tanh, written with its output h = tanh(a)
    return 1 - h * h


def loss_fn(inputs, targets, hprev):
    h = hprev[:, 0]
    H, P = [], []
    total = 0.0
    for idx, tgt in zip(inputs, targets):
        h = np.tanh(W_xh[:, idx] + W_hh.dot(h) + b_h[:, 0])
        p = softmax(W_hy.dot(h) + b_y[:, 0])
        total += -np.log(p[tgt])
        H.append(h)
        P.append(p)

    gxh, ghh, ghy = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros_like(W_hy)
    gbh, gby = np.zeros(hidden_size), np.zeros(vocab_size)
    back = np.zeros(hidden_size)
    for t in range(len(inputs) - 1, -1, -1):
        err = P[t].copy()
        err[targets[t]] -= 1
        ghy += np.outer(err, H[t])
        gby += err
        e_h = W_hy.T.dot(err) + back
        e_a = tanh_grad(H[t]) * e_h
        gbh += e_a
        gxh[:, inputs[t]] += e_a
        h_before = H[t - 1]
        ghh += np.outer(e_a, h_before)
        back = W_hh.T.dot(e_a)
    return total, gxh, ghh, ghy, gbh[:, None], gby[:, None], H[-1][:, None]
