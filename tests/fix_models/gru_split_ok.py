"""A GRU whose gate weights are used as recurrent and input blocks (W[:, :H], W[:, H:]),
Coursera-like gate names, a dict of gradients written block by block."""
import numpy as np


def sigm(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru_loss(params, inputs, targets, h0):
    Wz, Wr, Wn = params["Wz"], params["Wr"], params["Wn"]
    bz, br, bn = params["bz"], params["br"], params["bn"]
    Why, by = params["Why"], params["by"]
    H = h0.shape[0]
    V = Why.shape[0]
    hist = {-1: h0}
    tape = {}
    loss = 0.0
    for t, ch in enumerate(inputs):
        x = np.zeros((V, 1))
        x[ch] = 1
        hp = hist[t - 1]
        gamma_u = sigm(Wz[:, :H] @ hp + Wz[:, H:] @ x + bz)
        gamma_r = sigm(Wr[:, :H] @ hp + Wr[:, H:] @ x + br)
        h_tilde = np.tanh(Wn[:, :H] @ (gamma_r * hp) + Wn[:, H:] @ x + bn)
        hist[t] = gamma_u * hp + (1 - gamma_u) * h_tilde
        o = Why @ hist[t] + by
        e = np.exp(o - np.max(o))
        p = e / np.sum(e)
        loss -= np.log(p[targets[t], 0])
        tape[t] = (x, hp, gamma_u, gamma_r, h_tilde, p)
    g = {k: np.zeros_like(v) for k, v in params.items()}
    carry = np.zeros_like(h0)
    for t in reversed(range(len(inputs))):
        x, hp, gamma_u, gamma_r, h_tilde, p = tape[t]
        dout = p.copy()
        dout[targets[t]] -= 1
        g["Why"] += dout @ hist[t].T
        g["by"] += dout
        dh = Why.T @ dout + carry
        d_tilde = dh * (1 - gamma_u) * (1 - h_tilde ** 2)
        d_u = dh * (hp - h_tilde) * gamma_u * (1 - gamma_u)
        d_rh = Wn[:, :H].T @ d_tilde
        d_r = d_rh * hp * gamma_r * (1 - gamma_r)
        g["Wn"][:, :H] += d_tilde @ (gamma_r * hp).T
        g["Wn"][:, H:] += d_tilde @ x.T
        g["bn"] += d_tilde
        g["Wz"][:, :H] += d_u @ hp.T
        g["Wz"][:, H:] += d_u @ x.T
        g["bz"] += d_u
        g["Wr"][:, :H] += d_r @ hp.T
        g["Wr"][:, H:] += d_r @ x.T
        g["br"] += d_r
        carry = dh * gamma_u + d_rh * gamma_r + Wz[:, :H].T @ d_u + Wr[:, :H].T @ d_r
    return loss, g, hist[len(inputs) - 1]
