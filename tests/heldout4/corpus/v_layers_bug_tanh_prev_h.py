"""A character RNN's loss assembled from layer pieces, the way the cs231n assignment
builds its captioning RNN: each piece returns (out, cache) and has a matching backward.
Row vectors and (in, out) weight matrices inside; the model's (out, in) weights at the
boundary."""
import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    dpre = dnext_h * (1 - prev_h ** 2)
    dx = dpre.dot(Wx.T)
    dprev_h = dpre.dot(Wh.T)
    dWx = x.T.dot(dpre)
    dWh = prev_h.T.dot(dpre)
    db = dpre.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def affine_forward(h, W, b):
    out = h.dot(W) + b
    cache = (h, W)
    return out, cache


def affine_backward(dout, cache):
    h, W = cache
    dh = dout.dot(W.T)
    dW = h.T.dot(dout)
    db = dout.sum(axis=0)
    return dh, dW, db


def softmax_loss(scores, y):
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    loss = -log_probs[np.arange(len(y)), y].sum()
    dscores = np.exp(log_probs)
    dscores[np.arange(len(y)), y] -= 1
    return loss, dscores


def rnn_loss(params, inputs, targets, hprev):
    Wx, Wh, b = params['Wxh'].T, params['Whh'].T, params['bh'].ravel()
    W_out, b_out = params['Why'].T, params['by'].ravel()
    V = Wx.shape[0]
    h = hprev.T
    step_caches, hidden = [], []
    for ix in inputs:
        x = np.zeros((1, V))
        x[0, ix] = 1.0
        h, cache = rnn_step_forward(x, h, Wx, Wh, b)
        step_caches.append(cache)
        hidden.append(h)
    h_all = np.concatenate(hidden, axis=0)  # (T, H)
    scores, out_cache = affine_forward(h_all, W_out, b_out)
    loss, dscores = softmax_loss(scores, np.array(targets))
    dh_all, dW_out, db_out = affine_backward(dscores, out_cache)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dprev_h = np.zeros_like(h)
    for t in range(len(inputs) - 1, -1, -1):
        dh = dh_all[t:t + 1] + dprev_h
        _, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh, step_caches[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    grads = {'Wxh': dWx.T, 'Whh': dWh.T, 'Why': dW_out.T,
             'bh': db.reshape(-1, 1), 'by': db_out.reshape(-1, 1)}
    return loss, grads, h.T
