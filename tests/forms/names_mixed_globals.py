# Globals named U, W, V for the matrices but bh, by for the biases (two conventions in
# one file): each weight is set under the name the code reads.
import numpy as np

U = W = V = bh = by = None  # set elsewhere in the original script


def lossFun(inputs, targets, hprev):
    hs, xs, ps = {-1: np.array(hprev)}, {}, {}
    loss = 0.0
    for t in range(len(inputs)):
        xs[t] = np.eye(U.shape[1])[:, [inputs[t]]]
        hs[t] = np.tanh(U @ xs[t] + W @ hs[t - 1] + bh)
        o = V @ hs[t] + by
        ps[t] = np.exp(o) / np.exp(o).sum()
        loss -= np.log(ps[t][targets[t], 0])
    dU, dW, dV, dbh, dby = (np.zeros_like(a) for a in (U, W, V, bh, by))
    dnext = np.zeros_like(hs[-1])
    for t in range(len(inputs) - 1, -1, -1):
        g = ps[t].copy()
        g[targets[t]] -= 1
        dV += g @ hs[t].T
        dby += g
        da = (V.T @ g + dnext) * (1 - hs[t] ** 2)
        dbh += da
        dU += da @ xs[t].T
        dW += da @ hs[t - 1].T
        dnext = W.T @ da
    return loss, dU, dW, dV, dbh, dby, hs[len(inputs) - 1]
