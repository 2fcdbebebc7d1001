# selftest-expect: gru-no-reset-grad
# selftest-target: gru_backward
# selftest-cell: gru
# A cs231n-like GRU layer whose backward never reaches the reset gate.
"""A GRU layer in the cs231n manner: step functions, stacked weights, a cache list."""
import numpy as np


def _sig(v):
    return 0.5 * (1.0 + np.tanh(0.5 * v))


def gru_step_forward(x, prev_h, Wx, Wh, b):
    H = prev_h.shape[1]
    ax = x @ Wx + b
    z = _sig(ax[:, :H] + prev_h @ Wh[:, :H])
    r = _sig(ax[:, H:2 * H] + prev_h @ Wh[:, H:2 * H])
    n = np.tanh(ax[:, 2 * H:] + (r * prev_h) @ Wh[:, 2 * H:])
    next_h = z * prev_h + (1 - z) * n
    return next_h, (x, prev_h, Wx, Wh, z, r, n)


def gru_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, z, r, n = cache
    H = prev_h.shape[1]
    dz = dnext_h * (prev_h - n) * z * (1 - z)
    dn = dnext_h * (1 - z) * (1 - n * n)
    drh = dn @ Wh[:, 2 * H:].T  # into r * prev_h
    dr = np.zeros_like(drh)  # BUG: the reset gate's gradient is dropped
    da = np.hstack([dz, dr, dn])
    dx = da @ Wx.T
    dprev_h = dnext_h * z + dz @ Wh[:, :H].T + dr @ Wh[:, H:2 * H].T + drh * r
    dWx = x.T @ da
    dWh = np.hstack([prev_h.T @ dz, prev_h.T @ dr, (r * prev_h).T @ dn])
    return dx, dprev_h, dWx, dWh, da.sum(axis=0)


def gru_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    hs = []
    cache = []
    h = h0
    for t in range(T):
        h, c = gru_step_forward(x[:, t], h, Wx, Wh, b)
        hs.append(h)
        cache.append(c)
    return np.stack(hs, axis=1), cache


def gru_backward(dh, cache):
    N, T, H = dh.shape
    dx = [None] * T
    dWx, dWh, db = 0.0, 0.0, 0.0
    carry = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[t], carry, dWx_t, dWh_t, db_t = gru_step_backward(dh[:, t] + carry, cache[t])
        dWx = dWx + dWx_t
        dWh = dWh + dWh_t
        db = db + db_t
    return np.stack(dx, axis=1), carry, dWx, dWh, db
