import numpy as np


def gru_forward_backward(params, inputs, targets, h_init):
    # unpack
    Wz, Wr, Wn = params["Wz"], params["Wr"], params["Wn"]
    bz, br, bn = params["bz"][:, 0], params["br"][:, 0], params["bn"][:, 0]
    Why, by = params["Why"], params["by"][:, 0]
    T = len(inputs)
    H = Wz.shape[0]

    # per-step arrays, one row per step; hs has a spare last row for the initial
    # state so that hs[t - 1] is the previous state at t = 0 too
    hs = np.zeros((T + 1, H))
    hs[-1] = h_init[:, 0]
    U = np.zeros((T, H))
    R = np.zeros((T, H))
    N = np.zeros((T, H))
    P = np.zeros((T, Why.shape[0]))
    loss = 0.0
    for t in range(T):
        h_prev = hs[t - 1]
        # the one-hot input only selects a column of the input block
        col = H + inputs[t]
        U[t] = 1.0 / (1.0 + np.exp(-(Wz[:, :H] @ h_prev + Wz[:, col] + bz)))
        R[t] = 1.0 / (1.0 + np.exp(-(Wr[:, :H] @ h_prev + Wr[:, col] + br)))
        N[t] = np.tanh(Wn[:, :H] @ (R[t] * h_prev) + Wn[:, col] + bn)
        hs[t] = U[t] * h_prev + (1.0 - U[t]) * N[t]
        y = Why @ hs[t] + by
        y -= y.max()
        np.exp(y, out=P[t])
        P[t] /= P[t].sum()
        loss -= np.log(P[t, targets[t]])

    grads = {k: np.zeros_like(v) for k, v in params.items()}
    dY = P.copy()
    dY[np.arange(T), targets] -= 1.0
    grads["Why"] += np.einsum("ti,tj->ij", dY, hs[:T])
    grads["by"][:, 0] += dY.sum(axis=0)
    dh = np.zeros(H)
    for t in range(T - 1, -1, -1):
        h_prev = hs[t - 1]
        col = H + inputs[t]
        dh += Why.T @ dY[t]
        dN = dh * (1.0 - U[t])
        dN *= 1.0 - N[t] ** 2
        dU = dh * (h_prev - N[t])
        dU *= U[t] * (1.0 - U[t])
        d_rh = Wn[:, :H].T @ dN
        dR = d_rh * h_prev
        dR *= R[t] * (1.0 - R[t])
        for name, d, inp in (("Wz", dU, h_prev), ("Wr", dR, h_prev), ("Wn", dN, R[t] * h_prev)):
            grads[name][:, :H] += np.outer(d, inp)
            np.add.at(grads[name], (slice(None), col), d)
        grads["bz"][:, 0] += dU
        grads["br"][:, 0] += dR
        grads["bn"][:, 0] += dN
        dh_prev = dh * (1.0 - U[t])
        dh_prev += d_rh * R[t]
        dh_prev += Wz[:, :H].T @ dU + Wr[:, :H].T @ dR
        dh = dh_prev
    return loss, grads, hs[T - 1][:, None]
