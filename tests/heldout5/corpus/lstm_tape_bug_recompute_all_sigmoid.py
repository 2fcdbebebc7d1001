# LSTM loss over an explicit parameter dict. The forward pass tapes the gates'
# pre-activations only (a frozen dataclass per step); the backward pass recomputes the
# activations from them. Gate letters f, i, c, o name the weights Wf, Wi, Wc, Wo.
from dataclasses import dataclass

import numpy as np


def sig(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


GATES = {"f": sig, "i": sig, "c": np.tanh, "o": sig}


@dataclass(frozen=True)
class Tape:
    z: np.ndarray             # [h_prev; x]
    a: dict[str, np.ndarray]  # pre-activation per gate letter
    c_prev: np.ndarray
    c: np.ndarray
    probs: np.ndarray
    target: int


def lstm_loss(params: dict[str, np.ndarray], inputs: list[int], targets: list[int],
              h0: np.ndarray, c0: np.ndarray):
    """Returns (loss, grads keyed like params, h_last, c_last)."""
    P = params
    V = P["Why"].shape[0]
    H = h0.shape[0]
    h, c = h0, c0
    tapes: list[Tape] = []
    loss = 0.0
    for ix, tg in zip(inputs, targets):
        x = np.zeros((V, 1))
        x[ix] = 1.0
        z = np.vstack((h, x))
        a = {k: P["W" + k] @ z + P["b" + k] for k in GATES}
        act = {k: fn(a[k]) for k, fn in GATES.items()}
        c_new = act["f"] * c + act["i"] * act["c"]
        h = act["o"] * np.tanh(c_new)
        y = P["Why"] @ h + P["by"]
        probs = np.exp(y - y.max())
        probs /= probs.sum()
        loss += -np.log(probs[tg, 0])
        tapes.append(Tape(z, a, c, c_new, probs, tg))
        c = c_new
    grads = {k: np.zeros_like(v) for k, v in P.items()}
    dh_carry = np.zeros_like(h0)
    dc_carry = np.zeros_like(c0)
    for tp in reversed(tapes):
        f, i, g, o = (sig(tp.a[k]) for k in "fico")
        tc = np.tanh(tp.c)
        h_t = o * tc
        dy = tp.probs.copy()
        dy[tp.target] -= 1.0
        grads["Why"] += dy @ h_t.T
        grads["by"] += dy
        dh = P["Why"].T @ dy + dh_carry
        dc = dh * o * (1.0 - tc ** 2) + dc_carry
        da = {"f": dc * tp.c_prev * f * (1.0 - f),
              "i": dc * g * i * (1.0 - i),
              "c": dc * i * (1.0 - g ** 2),
              "o": dh * tc * o * (1.0 - o)}
        dz = np.zeros_like(tp.z)
        for k in "fico":
            grads["W" + k] += da[k] @ tp.z.T
            grads["b" + k] += da[k]
            dz += P["W" + k].T @ da[k]
        dh_carry = dz[:H]
        dc_carry = dc * f
    return loss, grads, h, c
