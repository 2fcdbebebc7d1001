"""The gated cells' backward passes with named slips, in any float precision.

One forward and one backward walk per cell, written like the tutorial engines
(:mod:`bpttcheck.cells.lstm_tutorial`, :mod:`bpttcheck.cells.gru_tutorial`) but
with two extras: every array is computed in ``dtype`` (the rounding witness of
a float32 backward pass), and each slip a learner commonly makes can be switched
on by name (:data:`LSTM_SLIPS`, :data:`GRU_SLIPS`). With no slips, in float64,
the result is the cell's gradient (the tests hold it to the reference engine).

The diagnosis of a wrong gated backward pass (:mod:`bpttcheck.diagnose_gated`)
recomputes the gradient with each slip, and with each pair of slips, and names
one only when it reproduces the user's gradient; nothing is guessed from the
user's source text.

LSTM, per step t (z = [h_{t-1}; x_t])::

    dh   = Why.T dy_t + dhnext                    dhnext: from step t+1
    do   = dh * tanh(c_t)                         through h = o * tanh(c)
    dc   = dh * o * (1 - tanh(c_t)^2) + dcnext    dcnext = f_{t+1} * dc_{t+1}
    df   = dc * c_{t-1},  di = dc * g,  dg = dc * i
    d*_raw = d* times the gate's own derivative (sigmoid' = s(1-s); tanh' = 1-g^2)
    dz   = sum over gates of W.T d*_raw,  dhnext = dz[:H]

GRU, per step t (h = u * h_{t-1} + (1 - u) * n, n = tanh(Wn [r * h_{t-1}; x] + bn))::

    du_raw = dh * (h_{t-1} - n) * u (1 - u)
    dn_raw = dh * (1 - u) * (1 - n^2)
    drh    = (Wn.T dn_raw)[:H]                    into r * h_{t-1}
    dr_raw = drh * h_{t-1} * r (1 - r)
    dhnext = dh * u + drh * r + (Wz.T du_raw + Wr.T dr_raw)[:H]
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

from .cells.common import sigmoid
from .model import Batch, Params
from .precision import Witness

# Slip -> what it does, in words (the diagnosis quotes these).
LSTM_SLIPS: dict[str, str] = {
    "dc_not_carried": "dc is not carried to step t-1 (dcnext = f * dc is dropped): only the "
                      "loss at the same step reaches c",
    "no_dhnext": "dhnext is not added to dh: only the loss at the same step reaches h",
    "no_tanh_prime_c": "tanh'(c) is missing in the path from h to c (dc = dh * o instead of "
                       "dh * o * (1 - tanh(c)^2))",
    "o_uses_c": "the output gate's gradient uses c instead of tanh(c) (do = dh * c)",
    "o_on_c": "the backward pass is that of h = o * c: the output gate applied to c instead of "
              "tanh(c) (do = dh * c and dc = dh * o)",
    "forget_wrong_state": "the forget gate's derivative is taken against c_t instead of c_{t-1}",
    "tanh_prime_f": "the forget gate uses tanh' (1 - f^2) instead of sigmoid' f (1 - f)",
    "tanh_prime_i": "the input gate uses tanh' (1 - i^2) instead of sigmoid' i (1 - i)",
    "tanh_prime_o": "the output gate uses tanh' (1 - o^2) instead of sigmoid' o (1 - o)",
    "sigmoid_prime_g": "the candidate uses sigmoid' g (1 - g) instead of tanh' (1 - g^2)",
    "recurrent_transposed": "dhnext multiplies by the recurrent blocks W[:, :H] instead of "
                            "their transposes",
}
LOOP_SLIPS: dict[str, str] = {
    "loop_forwards": "the backward loop runs forwards in time (t = 0..T-1), so what dhnext "
                     "carries comes from earlier steps instead of later ones",
    "skip_first": "the backward loop stops before t = 0: step 0's terms are missing",
    "skip_last": "the backward loop starts below t = T-1: the last step's terms are missing",
}
LSTM_SLIPS.update(LOOP_SLIPS)
GRU_SLIPS: dict[str, str] = {
    "u_flipped": "the update gate is flipped in the backward pass: it is that of "
                 "h = (1 - u) * h_{t-1} + u * n",
    "du_sign": "the update gate's gradient has the wrong sign: (n - h_{t-1}) for "
               "(h_{t-1} - n)",
    "no_dhnext": "dhnext is not added to dh: only the loss at the same step reaches h",
    "reset_no_h": "the reset gate's gradient leaves out h_{t-1} (dr = drh instead of "
                  "drh * h_{t-1})",
    "reset_not_carried": "the path through r * h_{t-1} is missing from dhnext (no drh * r term)",
    "reset_wrong_input": "dWn multiplies by [h_{t-1}; x] instead of [r * h_{t-1}; x]",
    "direct_not_carried": "the direct path h_{t-1} -> h_t (dh * u) is missing from dhnext",
    "tanh_prime_u": "the update gate uses tanh' (1 - u^2) instead of sigmoid' u (1 - u)",
    "tanh_prime_r": "the reset gate uses tanh' (1 - r^2) instead of sigmoid' r (1 - r)",
    "sigmoid_prime_n": "the candidate uses sigmoid' n (1 - n) instead of tanh' (1 - n^2)",
    "recurrent_transposed": "dhnext multiplies by the recurrent blocks W[:, :H] instead of "
                            "their transposes",
    **LOOP_SLIPS,
}
SLIPS: dict[str, dict[str, str]] = {"lstm": LSTM_SLIPS, "gru": GRU_SLIPS}
# What a constant factor can scale (``walk(..., scales={name: k})``): the carried vectors,
# and each gate's gradient through its activation at every step.
SCALED: dict[str, dict[str, str]] = {
    "lstm": {"dhnext": "what dhnext carries to step t-1", "dcnext": "what dcnext carries to "
             "step t-1", "f": "the forget gate's gradient df", "i": "the input gate's gradient "
             "di", "c": "the candidate's gradient dg", "o": "the output gate's gradient do"},
    "gru": {"dhnext": "what dhnext carries to step t-1", "u": "the update gate's gradient du",
            "r": "the reset gate's gradient dr", "n": "the candidate's gradient dn"},
}


def _one_hot(k: int, n: int, f: Any) -> np.ndarray:
    x = np.zeros(n, dtype=f)
    x[k] = f(1)
    return x


def walk(cell: str, params: Params, batch: Batch, dtype: str = "float64",
         slips: Collection[str] = (), scales: Mapping[str, float] | None = None) -> Witness:
    """The cell's gradient computed in ``dtype`` with ``slips`` switched on, and what
    ``scales`` names (:data:`SCALED`) multiplied by its factor at every step."""
    unknown = (set(slips) - set(SLIPS[cell])) | (set(scales or {}) - set(SCALED[cell]))
    if unknown:
        raise ValueError(f"unknown {cell} slips: {sorted(unknown)}")
    with np.errstate(all="ignore"):  # overflow in a low precision is what the bars measure
        return (_lstm if cell == "lstm" else _gru)(params, batch, np.dtype(dtype).type,
                                                   frozenset(slips), dict(scales or {}))


def _backward_steps(T: int, slips: frozenset[str]) -> list[int]:
    """The steps the backward loop visits, in its order."""
    order = list(range(T)) if "loop_forwards" in slips else list(reversed(range(T)))
    lo = 1 if "skip_first" in slips else 0
    hi = T - 2 if "skip_last" in slips else T - 1
    return [t for t in order if lo <= t <= hi]


def _softmax_step(Why: np.ndarray, by: np.ndarray, h: np.ndarray, target: int, f: Any
                  ) -> tuple[np.ndarray, Any]:
    y = Why @ h + by  # logits
    e = np.exp(y - y.max())  # shifted softmax
    p = e / e.sum()
    return p, -np.log(p[target])


def _lstm(params: Params, batch: Batch, f: Any, slips: frozenset[str],
          scales: dict[str, float]) -> Witness:
    names = ("Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo", "Why", "by")
    Wf, Wi, Wc, Wo, bf, bi, bc, bo, Why, by = (np.asarray(params[n], dtype=f) for n in names)
    bf, bi, bc, bo, by = (b[:, 0] for b in (bf, bi, bc, bo, by))
    T, H, V = batch.seq, Wf.shape[0], Why.shape[0]
    assert batch.cprev is not None
    hs = [np.asarray(batch.hprev[:, 0], dtype=f)]  # hs[t + 1] is h_t
    cs = [np.asarray(batch.cprev[:, 0], dtype=f)]
    zs, fs, is_, gs, os_, ps = [], [], [], [], [], []
    loss = f(0)
    for t in range(T):
        z = np.concatenate([hs[t], _one_hot(batch.inputs[t], V, f)])  # [h_{t-1}; x_t]
        fs.append(sigmoid(Wf @ z + bf))  # forget gate
        is_.append(sigmoid(Wi @ z + bi))  # input gate
        gs.append(np.tanh(Wc @ z + bc))  # candidate
        os_.append(sigmoid(Wo @ z + bo))  # output gate
        cs.append(fs[t] * cs[t] + is_[t] * gs[t])  # cell state
        hs.append(os_[t] * np.tanh(cs[t + 1]))  # hidden state
        zs.append(z)
        p, lt = _softmax_step(Why, by, hs[t + 1], batch.targets[t], f)
        ps.append(p)
        loss = loss + lt
    g = {n: np.zeros_like(np.asarray(params[n], dtype=f)) for n in names}
    dhnext, dcnext = np.zeros(H, dtype=f), np.zeros(H, dtype=f)
    one = f(1)
    for t in _backward_steps(T, slips):
        dy = ps[t].copy()
        dy[batch.targets[t]] -= one  # backprop into y
        g["Why"] += np.outer(dy, hs[t + 1])
        g["by"][:, 0] += dy
        dh = Why.T @ dy + (0 if "no_dhnext" in slips else dhnext)  # into h_t
        c, c_before, o = cs[t + 1], cs[t], os_[t]
        tc = np.tanh(c)
        on_c = "o_on_c" in slips
        do = dh * (c if on_c or "o_uses_c" in slips else tc)  # into the output gate
        through = one if on_c or "no_tanh_prime_c" in slips else one - tc * tc
        dc = dh * o * through + (0 if "dc_not_carried" in slips else dcnext)  # into c_t
        state = c if "forget_wrong_state" in slips else c_before
        raw = {
            "f": dc * state * _gate_prime(fs[t], "tanh_prime_f" in slips, True),
            "i": dc * gs[t] * _gate_prime(is_[t], "tanh_prime_i" in slips, True),
            "c": dc * is_[t] * _gate_prime(gs[t], "sigmoid_prime_g" in slips, False),
            "o": do * _gate_prime(o, "tanh_prime_o" in slips, True),
        }
        raw = {k: r * f(scales.get(k, 1.0)) for k, r in raw.items()}
        for k in "fico":
            g["W" + k] += np.outer(raw[k], zs[t])
            g["b" + k][:, 0] += raw[k]
        if "recurrent_transposed" in slips:
            dhnext = sum(W[:, :H] @ raw[k] for k, W in (("f", Wf), ("i", Wi), ("c", Wc),
                                                         ("o", Wo)))
        else:
            dz = Wf.T @ raw["f"] + Wi.T @ raw["i"] + Wc.T @ raw["c"] + Wo.T @ raw["o"]
            dhnext = dz[:H]  # to step t-1 through the gates
        dhnext = dhnext * f(scales.get("dhnext", 1.0))
        dcnext = fs[t] * dc * f(scales.get("dcnext", 1.0))  # to step t-1 along the cell state
    return Witness({n: v.astype(np.float64) for n, v in g.items()},
                np.asarray(dhnext, dtype=np.float64)[:, None],
                hs[T].astype(np.float64)[:, None], float(loss),
                cs[T].astype(np.float64)[:, None], np.asarray(dcnext, dtype=np.float64)[:, None])


def _gate_prime(a: np.ndarray, swapped: bool, sigmoid: bool) -> np.ndarray:
    """The activation's derivative from its output: sigmoid' = a(1-a), tanh' = 1-a^2;
    ``swapped`` takes the other one."""
    out: np.ndarray = a * (1 - a) if sigmoid != swapped else 1 - a * a
    return out


def _gru(params: Params, batch: Batch, f: Any, slips: frozenset[str],
         scales: dict[str, float]) -> Witness:
    names = ("Wz", "Wr", "Wn", "bz", "br", "bn", "Why", "by")
    Wz, Wr, Wn, bz, br, bn, Why, by = (np.asarray(params[n], dtype=f) for n in names)
    bz, br, bn, by = (b[:, 0] for b in (bz, br, bn, by))
    T, H, V = batch.seq, Wz.shape[0], Why.shape[0]
    hs = [np.asarray(batch.hprev[:, 0], dtype=f)]  # hs[t + 1] is h_t
    zs, zns, us, rs, ns, ps = [], [], [], [], [], []
    loss = f(0)
    for t in range(T):
        x = _one_hot(batch.inputs[t], V, f)
        z = np.concatenate([hs[t], x])  # [h_{t-1}; x_t]
        us.append(sigmoid(Wz @ z + bz))  # update gate
        rs.append(sigmoid(Wr @ z + br))  # reset gate
        zn = np.concatenate([rs[t] * hs[t], x])  # [r * h_{t-1}; x_t]
        ns.append(np.tanh(Wn @ zn + bn))  # candidate
        hs.append(us[t] * hs[t] + (1 - us[t]) * ns[t])  # hidden state
        zs.append(z)
        zns.append(zn)
        p, lt = _softmax_step(Why, by, hs[t + 1], batch.targets[t], f)
        ps.append(p)
        loss = loss + lt
    g = {n: np.zeros_like(np.asarray(params[n], dtype=f)) for n in names}
    dhnext = np.zeros(H, dtype=f)
    one = f(1)
    for t in _backward_steps(T, slips):
        dy = ps[t].copy()
        dy[batch.targets[t]] -= one  # backprop into y
        g["Why"] += np.outer(dy, hs[t + 1])
        g["by"][:, 0] += dy
        dh = Why.T @ dy + (0 if "no_dhnext" in slips else dhnext)  # into h_t
        hp, u, r, n = hs[t], us[t], rs[t], ns[t]
        keep, take = (one - u, u) if "u_flipped" in slips else (u, one - u)
        diff = n - hp if "u_flipped" in slips or "du_sign" in slips else hp - n
        du_raw = dh * diff * _gate_prime(u, "tanh_prime_u" in slips, True)  # update gate
        dn_raw = dh * take * _gate_prime(n, "sigmoid_prime_n" in slips, False)  # candidate
        du_raw = du_raw * f(scales.get("u", 1.0))
        dn_raw = dn_raw * f(scales.get("n", 1.0))
        transposed = "recurrent_transposed" in slips
        drh = Wn[:, :H] @ dn_raw if transposed else (Wn.T @ dn_raw)[:H]  # into r * h_{t-1}
        dr_raw = drh * (one if "reset_no_h" in slips else hp) * _gate_prime(
            r, "tanh_prime_r" in slips, True) * f(scales.get("r", 1.0))  # reset gate
        g["Wz"] += np.outer(du_raw, zs[t])
        g["Wr"] += np.outer(dr_raw, zs[t])
        g["Wn"] += np.outer(dn_raw, zs[t] if "reset_wrong_input" in slips else zns[t])
        g["bz"][:, 0] += du_raw
        g["br"][:, 0] += dr_raw
        g["bn"][:, 0] += dn_raw
        if "recurrent_transposed" in slips:
            through_gates = Wz[:, :H] @ du_raw + Wr[:, :H] @ dr_raw
        else:
            through_gates = (Wz.T @ du_raw + Wr.T @ dr_raw)[:H]
        dhnext = ((0 if "direct_not_carried" in slips else dh * keep)  # h_{t-1} -> h_t
                  + (0 if "reset_not_carried" in slips else drh * r)  # through r * h_{t-1}
                  + through_gates) * f(scales.get("dhnext", 1.0))  # through the gates
    return Witness({n: v.astype(np.float64) for n, v in g.items()},
                np.asarray(dhnext, dtype=np.float64)[:, None],
                hs[T].astype(np.float64)[:, None], float(loss))
