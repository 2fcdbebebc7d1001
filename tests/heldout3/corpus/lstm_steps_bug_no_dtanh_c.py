"""LSTM language model, weights passed as arguments.

lstm_step / lstm_step_back are the per-step forward and backward; z = [h_prev; x].
"""
import numpy as np


def sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def lstm_step(z, c_prev, Wf, Wi, Wc, Wo, bf, bi, bc, bo):
    f = sigmoid(Wf @ z + bf)
    i = sigmoid(Wi @ z + bi)
    g = np.tanh(Wc @ z + bc)
    o = sigmoid(Wo @ z + bo)
    c = f * c_prev + i * g
    tc = np.tanh(c)
    return o * tc, c, (z, c_prev, f, i, g, o, tc)


def lstm_step_back(dh, dc, cache):
    """Gradients of the four gate pre-activations, and of c_prev."""
    z, c_prev, f, i, g, o, tc = cache
    do = dh * tc
    dc = dc + dh * o
    df = dc * c_prev
    di = dc * g
    dg = dc * i
    dc_prev = dc * f
    d_pre_f = df * f * (1.0 - f)
    d_pre_i = di * i * (1.0 - i)
    d_pre_g = dg * (1.0 - g ** 2)
    d_pre_o = do * o * (1.0 - o)
    return (d_pre_f, d_pre_i, d_pre_g, d_pre_o), dc_prev


def lstm_loss(inputs, targets, hprev, cprev, Wf, Wi, Wc, Wo, bf, bi, bc, bo, Why, by):
    n_h, n_v = hprev.shape[0], Why.shape[0]
    h, c = hprev, cprev
    caches, probs = [], []
    loss = 0.0
    for ix, tg in zip(inputs, targets):
        x = np.zeros((n_v, 1))
        x[ix] = 1.0
        z = np.concatenate([h, x])
        h, c, cache = lstm_step(z, c, Wf, Wi, Wc, Wo, bf, bi, bc, bo)
        logits = Why @ h + by
        logits -= logits.max()
        p = np.exp(logits) / np.exp(logits).sum()
        loss -= np.log(p[tg, 0])
        caches.append((cache, h))
        probs.append(p)
    gates = (Wf, Wi, Wc, Wo)
    dW = [np.zeros_like(W) for W in gates]
    db = [np.zeros((n_h, 1)) for _ in gates]
    dWhy, dby = np.zeros_like(Why), np.zeros_like(by)
    dh_next = np.zeros((n_h, 1))
    dc_next = np.zeros((n_h, 1))
    for t in reversed(range(len(inputs))):
        cache, h_t = caches[t]
        dy = probs[t].copy()
        dy[targets[t]] -= 1.0
        dWhy += dy @ h_t.T
        dby += dy
        dh = Why.T @ dy + dh_next
        d_pres, dc_next = lstm_step_back(dh, dc_next, cache)
        dz = np.zeros((n_h + n_v, 1))
        for k in range(4):
            dW[k] += d_pres[k] @ cache[0].T
            db[k] += d_pres[k]
            dz += gates[k].T @ d_pres[k]
        dh_next = dz[:n_h]
    return (loss, *dW, *db, dWhy, dby, h, c)
