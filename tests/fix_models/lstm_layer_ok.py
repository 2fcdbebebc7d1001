"""An LSTM layer in cs231n's layout, one loop each way: x (N, T, D), Wx (D, 4H), gates i f o g."""
import numpy as np


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def lstm_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    c_prev, h_prev = np.zeros((N, H)), h0
    steps = []
    for t in range(T):
        a = x[:, t] @ Wx + h_prev @ Wh + b
        i = _sigmoid(a[:, :H])
        f = _sigmoid(a[:, H:2 * H])
        o = _sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        c = f * c_prev + i * g
        tanh_c = np.tanh(c)
        steps.append((x[:, t], h_prev, c_prev, i, f, o, g, tanh_c))
        h_prev, c_prev = o * tanh_c, c
        h[:, t] = h_prev
    return h, (Wx, Wh, steps)


def lstm_backward(dh, cache):
    Wx, Wh, steps = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, Wx.shape[0]))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H)
    dh_carry, dc_carry = np.zeros((N, H)), np.zeros((N, H))
    for t in reversed(range(T)):
        xt, h_prev, c_prev, i, f, o, g, tanh_c = steps[t]
        dh_t = dh[:, t] + dh_carry
        dc = dc_carry + dh_t * o * (1 - tanh_c ** 2)
        di = dc * g
        df = dc * c_prev
        do = dh_t * tanh_c
        dg = dc * i
        da = np.concatenate([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o),
                             dg * (1 - g ** 2)], axis=1)
        dx[:, t] = da @ Wx.T
        dWx += xt.T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_carry = da @ Wh.T
        dc_carry = dc * f
    return dx, dh_carry, dWx, dWh, db
