"""Elman RNN loss and gradient.

The forward pass keeps one tuple per step on a stack; the backward pass pops them,
so it walks the sequence from the last step to the first without any index.
"""
import numpy as np


def _softmax(z):
    z = z - np.max(z)
    e = np.exp(z)
    return e / e.sum()


def _forward(Wxh, Whh, Why, bh, by, inputs, targets, h0):
    cache = []
    h = h0
    loss = 0.0
    for ix, tgt in zip(inputs, targets):
        x = np.zeros((Wxh.shape[1], 1))
        x[ix] = 1.0
        h_prev = h
        h = np.tanh(Wxh @ x + Whh @ h_prev + bh)
        p = _softmax(Why @ h + by)
        loss -= np.log(p[tgt, 0])
        cache.append((x, h_prev, h, p, tgt))
    return loss, cache, h


def _backward(Wxh, Whh, Why, cache):
    dWxh = np.zeros_like(Wxh)
    dWhh = np.zeros_like(Whh)
    dWhy = np.zeros_like(Why)
    dbh = np.zeros((Whh.shape[0], 1))
    dby = np.zeros((Why.shape[0], 1))
    grad_next = np.zeros((Whh.shape[0], 1))
    while cache:
        x, h_prev, h, p, tgt = cache.pop()
        d_logits = p.copy()
        d_logits[tgt] -= 1.0
        dWhy += d_logits @ h.T
        dby += d_logits
        g_h = Why.T @ d_logits + grad_next
        d_pre = g_h * (1.0 - h ** 2)
        dWxh += d_pre @ x.T
        dWhh += d_pre @ h_prev.T
        grad_next = Whh @ d_pre
    return dWxh, dWhh, dWhy, dbh, dby


def rnn_loss(inputs, targets, h0, Wxh, Whh, Why, bh, by):
    loss, cache, h_last = _forward(Wxh, Whh, Why, bh, by, inputs, targets, h0)
    grads = _backward(Wxh, Whh, Why, cache)
    return (loss,) + grads + (h_last,)
