"""My cs231n-style LSTM layer (own code): gates stacked i, f, o, g."""
import numpy as np


def _sig(v):
    return 0.5 * (1 + np.tanh(0.5 * v))


def lstm_forward(x, h0, Wx, Wh, b):
    x, h0, Wx, Wh, b = (v.astype(np.float32) for v in (x, h0, Wx, Wh, b))
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    prev_h, prev_c = h0, np.zeros_like(h0)
    steps = []
    for t in range(T):
        a = x[:, t] @ Wx + prev_h @ Wh + b
        i, f, o = _sig(a[:, :H]), _sig(a[:, H:2 * H]), _sig(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        c = f * prev_c + i * g
        tc = np.tanh(c)
        h[:, t] = o * tc
        steps.append((x[:, t], prev_h, prev_c, i, f, o, g, tc))
        prev_h, prev_c = h[:, t], c
    return h, (steps, Wx, Wh)


def lstm_backward(dh, cache):
    steps, Wx, Wh = cache
    N, T, H = dh.shape
    D = Wx.shape[0]
    dx = np.zeros((N, T, D)); dWx = np.zeros_like(Wx); dWh = np.zeros_like(Wh)
    db = np.zeros(4 * H)
    dnext_h = np.zeros((N, H)); dnext_c = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        xt, ph, pc, i, f, o, g, tc = steps[t]
        dht = dh[:, t] + dnext_h
        dc = dnext_c + dht * o * (1 - tc * tc)
        da = np.hstack((dc * g * i * (1 - i), dc * pc * f * (1 - f),
                        dht * tc * o * (1 - o), dc * i * (1 - g * g)))
        dx[:, t] = da @ Wx.T
        dWx += xt.T @ da
        dWh += ph.T @ da
        db += da.sum(0)
        dnext_h = da @ Wh.T
        dnext_c = dc * f
    return dx, dnext_h, dWx, dWh, db
