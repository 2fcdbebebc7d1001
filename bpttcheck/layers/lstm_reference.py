"""The LSTM layer, in our layout, and its gradient as the explicit double sum over k <= t.

Our layout: a batch of N sequences of T dense inputs of size D, hidden size H::

    x (N, T, D), h0 (N, H), Wf Wi Wc Wo (H, H + D), bf bi bc bo (H,)
    z_k = [h_{k-1}; x_k]                               (h first, then x; rows are sequences)
    f = sigma(z Wf^T + bf), i = sigma(z Wi^T + bi), g = tanh(z Wc^T + bc), o = sigma(z Wo^T + bo)
    c_k = f * c_{k-1} + i * g,   h_k = o * tanh(c_k),   h_{-1} = h0, c_{-1} = 0

(c_{-1} = c0 when ``p`` holds one: a layer that takes the first cell state, whose
gradient dc0 is then computed too.)

The gates are named f, i, g (the candidate, whose parameters are Wc and bc) and
o. A layer has no loss of its own: it is checked with L = <G, h> for a fixed
upstream gradient G (N, T, H), so dL_t/dh_t = G_t and dL_t/dc_t = 0.

The gradient, written as the lecture writes BPTT, with the state s_k = (h_k, c_k)
of 2H numbers per sequence::

    dL/dtheta = sum_t sum_{k <= t} dL_t/ds_t (prod_{j = k+1..t} J_j) d+s_k/dtheta

    J_j = ds_j/ds_{j-1} = [[dh_j/dh_{j-1}, dh_j/dc_{j-1}], [dc_j/dh_{j-1}, dc_j/dc_{j-1}]]

where d+s_k/dtheta holds s_{k-1} fixed. With a_q = z W_q^T + b_q the
pre-activation of gate q, tc = tanh(c_k) and v* = diag(v)::

    dc_k/da_f = (c_{k-1} f (1-f))*,  dc_k/da_i = (g i (1-i))*,  dc_k/da_g = (i (1-g^2))*
    dh_k/dc_k = (o (1-tc^2))*,       dh_k/da_q = dh_k/dc_k dc_k/da_q (q = f, i, g),
    dh_k/da_o = (tc o (1-o))*
    dc_j/dc_{j-1} = f*,  dh_j/dc_{j-1} = dh_j/dc_j f*,
    ds_j/dh_{j-1} = sum_q ds_j/da_q Wq_h          (Wq_h: the first H columns of Wq)

and the (t, k) term of dL/dWq is dL_t/da_q^T z_k, of dL/dx_k through Wq_x (the
last D columns). Each J_j is formed as a (2H, 2H) matrix per sequence and every
(t, k) term is added on its own: for each loss step t the error starts at step t
and is carried back to h_{-1} alone (no running ``dnext_h``/``dnext_c`` shared
between loss steps). O(T^2) steps; a layer check is small. Nothing here is
shared with any backward pass.

:func:`gradients` also computes the sum with one deliberate departure at a time,
each the way a known bug computes it, so that a user's gradient that equals one
of them exactly can be named (:data:`VARIANTS`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np

GATES = ("f", "i", "g", "o")  # the pre-activations a_q, in our order
WEIGHT = {"f": "Wf", "i": "Wi", "g": "Wc", "o": "Wo"}  # the parameters of each gate
BIAS = {"f": "bf", "i": "bi", "g": "bc", "o": "bo"}
GATE_LABEL = {"f": "forget", "i": "input", "g": "candidate", "o": "output"}
OURS = ("x", "h0", *WEIGHT.values(), *BIAS.values())  # every input is differentiated
EQUATION = "c_t = f * c_(t-1) + i * g, h_t = o * tanh(c_t)"
LAYER_STREAM = 14  # seed word of the gated layer's point and upstream gradient


@dataclasses.dataclass(frozen=True)
class Variant:
    """One departure from the exact sum, the way a known bug computes the gradient.

    ``carry_c`` False: the gradient reaching c_{k-1} is dropped (``dnext_c`` not
    passed back); ``tanh_prime`` False: dh/dc = o instead of o tanh'(c);
    ``forget_state`` "c_t": the forget gate's derivative taken against c_k instead
    of c_{k-1}; ``output_on_c``: dh/da_o against c instead of tanh(c); ``pair``:
    gate q's pre-activation gradient stored in (and carried back through) the
    parameters of gate ``pair[q]`` (a stacked matrix sliced in the wrong order);
    ``window`` w: only the terms with t - k < w; ``carry_f`` False: the error
    reaches c_{k-1} unscaled by the forget gate (dc_k/dc_{k-1} = 1, not f).
    """

    carry_c: bool = True
    carry_f: bool = True
    tanh_prime: bool = True
    forget_state: str = "c_prev"
    output_on_c: bool = False
    pair: tuple[tuple[str, str], ...] = ()
    window: int | None = None

    def partner(self, q: str) -> str:
        return dict(self.pair).get(q, q)


EXACT = Variant()


@dataclasses.dataclass(frozen=True)
class LSTMLayerForward:
    """The forward pass: (N, T, H) arrays, and z_k (N, T, H + D)."""

    hs: np.ndarray
    cs: np.ndarray
    f: np.ndarray
    i: np.ndarray
    g: np.ndarray
    o: np.ndarray
    zs: np.ndarray
    c0: np.ndarray | None = None  # c_{-1} when given as an input ("c0" in p), else 0

    def gate(self, q: str) -> np.ndarray:
        out: np.ndarray = getattr(self, q)
        return out


def sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-a) as (1 + tanh(a/2)) / 2: no overflow, complex-safe."""
    out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * a))
    return out


def run(p: Mapping[str, np.ndarray]) -> LSTMLayerForward:
    """The forward pass on our parameters ``p`` (complex-safe)."""
    x, h = p["x"], p["h0"]
    N, T, D = x.shape
    H = p["Wf"].shape[0]
    kind = np.result_type(x, h, *(p[n] for n in OURS[2:]), *([p["c0"]] if "c0" in p else []))
    c = np.asarray(p["c0"], dtype=kind) if "c0" in p else np.zeros((N, H), dtype=kind)
    out = {n: np.empty((N, T, H), dtype=kind) for n in ("hs", "cs", "f", "i", "g", "o")}
    zs = np.empty((N, T, H + D), dtype=kind)
    for t in range(T):
        z = np.concatenate([h, x[:, t]], axis=1)  # z_t = [h_{t-1}; x_t]
        f = sigmoid(z @ p["Wf"].T + p["bf"])  # forget gate
        i = sigmoid(z @ p["Wi"].T + p["bi"])  # input gate
        g = np.tanh(z @ p["Wc"].T + p["bc"])  # candidate
        o = sigmoid(z @ p["Wo"].T + p["bo"])  # output gate
        c = f * c + i * g  # c_t
        h = o * np.tanh(c)  # h_t
        for n, v in (("hs", h), ("cs", c), ("f", f), ("i", i), ("g", g), ("o", o)):
            out[n][:, t] = v
        zs[:, t] = z
    return LSTMLayerForward(zs=zs, c0=p.get("c0"), **out)


def forward(p: Mapping[str, np.ndarray]) -> np.ndarray:
    """h (N, T, H) for our parameters ``p``."""
    return run(p).hs


def point(sizes: Mapping[str, int], seed: int) -> tuple[dict[str, np.ndarray], np.ndarray,
                                                         dict[str, np.ndarray]]:
    """Our parameters, the upstream gradient G and an output layer (Coursera's Wy, by).

    Inputs are standard normals, weights scaled by 1/sqrt(H + D) so that every
    pre-activation is of order 1 (no gate saturates, every derivative matters),
    biases 0.1 randn, h0 squashed by tanh.
    """
    ours, G, rng = gated_point(sizes, seed, [WEIGHT[q] for q in GATES],
                               [BIAS[q] for q in GATES])
    D, H = sizes["D"], sizes["H"]
    out_layer = {"Wy": rng.standard_normal((D, H)) / math.sqrt(D + H), "by": np.zeros((D, 1))}
    return ours, G, out_layer


def initial_cell(sizes: Mapping[str, int], seed: int) -> np.ndarray:
    """c_{-1} (N, H) for a layer that takes it as an input (the efficient batched LSTM's
    c0): standard normals, from a stream of its own, so that every other array of the
    point is the same with or without it and the forget gate's derivative at step 0
    is not multiplied by zero."""
    rng = np.random.default_rng([seed, LAYER_STREAM, 1])
    return rng.standard_normal((sizes["N"], sizes["H"]))


def gated_point(sizes: Mapping[str, int], seed: int, weights: list[str], biases: list[str]
                ) -> tuple[dict[str, np.ndarray], np.ndarray, np.random.Generator]:
    """A gated layer's point (the LSTM's and the GRU's): x standard normal, h0 squashed by
    tanh, each gate's weight (H, H + D) randn / sqrt(H + D), each bias 0.1 randn, then the
    upstream gradient G; and the generator, for what a layer draws after them."""
    N, T, D, H = sizes["N"], sizes["T"], sizes["D"], sizes["H"]
    rng = np.random.default_rng([seed, LAYER_STREAM])
    scale = 1.0 / math.sqrt(D + H)
    ours = {"x": rng.standard_normal((N, T, D)), "h0": np.tanh(rng.standard_normal((N, H)))}
    for w in weights:
        ours[w] = rng.standard_normal((H, H + D)) * scale
    for b in biases:
        ours[b] = rng.standard_normal(H) * 0.1
    return ours, rng.standard_normal((N, T, H)), rng


def _local(fw: LSTMLayerForward, k: int, v: Variant) -> tuple[dict[str, np.ndarray],
                                                              dict[str, np.ndarray]]:
    """(dh_k/da_q, dc_k/da_q) for each gate q, (N, H) diagonals, s_{k-1} held fixed."""
    f, i, g, o = fw.f[:, k], fw.i[:, k], fw.g[:, k], fw.o[:, k]
    c = fw.cs[:, k]
    c_prev = (np.zeros_like(c) if fw.c0 is None else fw.c0) if k == 0 else fw.cs[:, k - 1]
    tc = np.tanh(c)
    dh_dc = o * (1 - tc**2) if v.tanh_prime else o  # through tanh(c_k)
    # with c0 an input, step 0 is a branch of its own in a backward pass (``c0 * dc``, not
    # ``C[t-1] * dc``): the variant departs at k >= 1 only
    against = c if v.forget_state == "c_t" and (k > 0 or fw.c0 is None) else c_prev
    dc = {"f": against * f * (1 - f), "i": g * i * (1 - i), "g": i * (1 - g**2),
          "o": np.zeros_like(c)}
    dh = {q: dh_dc * dc[q] for q in "fig"}
    dh["o"] = (c if v.output_on_c else tc) * o * (1 - o)
    return dh, dc


def jacobians(p: Mapping[str, np.ndarray], fw: LSTMLayerForward, k: int, v: Variant
              ) -> tuple[np.ndarray, np.ndarray]:
    """(J_k (N, 2H, 2H) = ds_k/ds_{k-1}, ds_k/dx_k (N, 2H, D)), one matrix per sequence."""
    N, _, H = fw.hs.shape
    D = p["x"].shape[2]
    dh, dc = _local(fw, k, v)
    f, o, tc = fw.f[:, k], fw.o[:, k], np.tanh(fw.cs[:, k])
    dh_dc = o * (1 - tc**2) if v.tanh_prime else o
    J = np.zeros((N, 2 * H, 2 * H))
    dx = np.zeros((N, 2 * H, D))
    for q in GATES:
        W = p[WEIGHT[v.partner(q)]]
        J[:, :H, :H] += dh[q][:, :, None] * W[None, :, :H]  # dh_k/da_q . da_q/dh_{k-1}
        J[:, H:, :H] += dc[q][:, :, None] * W[None, :, :H]  # dc_k/da_q . da_q/dh_{k-1}
        dx[:, :H] += dh[q][:, :, None] * W[None, :, H:]  # ... /dx_k
        dx[:, H:] += dc[q][:, :, None] * W[None, :, H:]
    # c0 an input: its gradient dc0 is a line of its own in a backward pass (``dc0 = f *
    # dc``), so a variant's carry departs inside the sequence only (k >= 1)
    exact_c0 = k == 0 and fw.c0 is not None
    if v.carry_c or exact_c0:
        eye = np.eye(H)
        carry = f if v.carry_f or exact_c0 else np.ones_like(f)
        J[:, H:, H:] = carry[:, :, None] * eye  # dc_k/dc_{k-1} = f*
        J[:, :H, H:] = (dh_dc * carry)[:, :, None] * eye  # dh_k/dc_{k-1} = dh_k/dc_k f*
    return J, dx


def gradients(p: Mapping[str, np.ndarray], G: np.ndarray, steps: bool = False,
              variant: Variant = EXACT
              ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
    """dL/dtheta for L = <G, h>, every input included; with ``steps``, also each loss
    step's own gradient dL_t/dtheta (row t of a (T, *shape) array per name)."""
    fw = run(p)
    N, T, H = fw.hs.shape
    local = [_local(fw, k, variant) for k in range(T)]
    jac = [jacobians(p, fw, k, variant) for k in range(T)]
    names = (*OURS, "c0") if "c0" in p else OURS  # c_{-1} an input: dc0 too
    total = {n: np.zeros(p[n].shape) for n in names}
    per = {n: np.zeros((T, *p[n].shape)) for n in names} if steps else None
    for t in range(T):  # the loss at step t ...
        term = {n: np.zeros(p[n].shape) for n in names}
        ds = np.concatenate([G[:, t], np.zeros((N, H))], axis=1)  # dL_t/ds_t: c_t unread
        last = 0 if variant.window is None else max(0, t - variant.window + 1)
        for k in range(t, last - 1, -1):  # ... reaches every step k <= t
            dh, dc = local[k]
            J, ds_dx = jac[k]
            for q in GATES:
                da = ds[:, :H] * dh[q] + ds[:, H:] * dc[q]  # dL_t/da_q at step k
                mine = variant.partner(q)
                term[WEIGHT[mine]] += da.T @ fw.zs[:, k]  # immediate dWq: da^T z_k
                term[BIAS[mine]] += da.sum(axis=0)
            term["x"][:, k] += np.einsum("ns,nsd->nd", ds, ds_dx)  # ds_k/dx_k
            ds = np.einsum("ns,nsr->nr", ds, J)  # one more factor: on to s_{k-1}
        if last == 0:
            term["h0"] += ds[:, :H]  # what reached h_{-1}
            if "c0" in p:
                term["c0"] += ds[:, H:]  # what reached c_{-1}
        for n in names:
            total[n] += term[n]
            if per is not None:
                per[n][t] = term[n]
    return total, per
