"""Complex-step differentiation of the RNN loss: g_i = Im L(theta + i eta e_i) / eta.

Run the forward pass on complex numbers with the parameter element theta_i
moved to theta_i + i eta. No two nearly equal numbers are ever subtracted, so
eta can be tiny (1e-20, relative to max(1, |theta_i|)) and the O(eta^2)
truncation error is far below rounding: the result agrees with the exact
derivative to a few ulps.

Two batched losses answer such complex steps:

:class:`LiteralLoss` (``--method complex-literal``, and the judge of the other)
    the forward pass run on P perturbed complex copies at once, as it is
    written: complex ``tanh``, ``exp`` and ``log``, nothing derived by hand (for
    purely imaginary steps, the complex functions of
    :mod:`bpttcheck.numdiff.splitcomplex`, written with exact identities, as the
    gated cells use them; otherwise NumPy's). Liberties that change no value
    beyond rounding: (W + i eta E_ij) v
    is computed as W v plus i eta v_j in row i (a linear-layer fact); the real
    parts of every copy's pre-activations, hidden states and logits are the base
    pass's (they differ from it by O(eta^2)), so a product with a real weight
    matrix is taken of the imaginary parts alone; and when Why or by moves, the
    hidden states are the base pass's exactly and one term of each softmax sum
    moves. Sharing the real parts keeps every copy on the same
    float64 trajectory as the engines it judges: on a chaotic network
    (init_scale 1) a trajectory recomputed in complex arithmetic drifts by
    rounding amplified through the steps, and the gradient along it differed by
    5e-9 relative at the tutorial's size, a property of float64, not of
    anyone's gradient code. :func:`complex_loss` is the forward pass for one
    point with complex parameters (``--directions``), with no liberty at all.

:class:`StructuredLoss` (``--method complex``, the default: "complex step, structured")
    a hand-derived tangent-linear model of the same arithmetic, much faster:

    - real parts are shared (Re z differs from the unperturbed pass by
      O(eta^2), below rounding), so only imaginary parts are propagated;
    - with |Im| tiny, Im f(a + i eta s) = s Im f(a + i eta) for each
      elementwise f: the complex tanh is evaluated once per unit and step,
      k_t = Im tanh(a_t + i eta) / eta, and the complex log-sum-exp once per
      logit and step, gy_t[k] = Im L_t(y_t + i eta e_k) / eta;
    - products with real matrices act on Im alone.

    Writing B_t = Im h_t / eta for one perturbed element (row i of the
    pre-activation; the forcing c_t is h_{t-1}[j] for Whh[i, j], [x_t == j]
    for Wxh[i, j] and 1 for bh[i])::

        B_t = k_t * (Whh B_{t-1} + c_t e_i),        B_{start-1} = 0
        g   = sum_t B_t . w_t,                      w_t = Why^T gy_t
        dL/dWhy[k, j] = sum_t gy_t[k] h_t[j],      dL/dby[k] = sum_t gy_t[k]

    The recursion is linear in its forcing, so it is not run once per element:
    it is run once per unit i and start step s from the impulse c_t = [t == s]
    (H T rows, against one per element of Wxh, Whh and bh), giving
    G[i, s] = sum_{t >= s} B_t . w_t, and by superposition
    g = sum_s c_s G[i, s] for every element of row i. At the tutorial's size
    that is 8 times fewer row-steps of the recursion; at hidden 256, seq 100,
    about 6 times fewer products.

    Because this is derivation by a person, the very thing bpttcheck audits,
    every run recomputes a sample of its elements with :class:`LiteralLoss`
    and stops (exit 3) if the two differ beyond rounding
    (:func:`bpttcheck.engines.numeric.verify`).

Both report the rounding of each answer: a few ulps (COMPLEX_NOISE) per term,
times H + T for the inner products and the sum over steps, of the summed sizes
of what each step's share is made of. For the structured path these are the
shares |B_t . w_t|. For the literal pass they are the imaginary parts of the
log-sum-exp and of the target logit (which nearly cancel when p[target] is near
1), and those of the hidden state weighted by how much a logit's loss can move
with them (2 max_k |Why[k, j]|): on chaotic networks (init_scale 0.5, seq 30)
the rounding of the states, amplified through the steps, was measured at 10
times the share-only bar. Against an 80-bit long-double reference on a chaotic network
(init_scale 1, hidden 30, seq 20) the actual error reached 0.22 of the bar with
4 ulps: 16 keeps a margin where errors are amplified through many steps.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..model import HIDDEN_PARAMS, Batch, Forward, Params
from ..numdiff import splitcomplex as sc
from ..probes import DirectionProbes, ElementProbes
from .finite_difference import base_pass, rounding_scale, start_steps

EPS = float(np.finfo(np.float64).eps)
COMPLEX_NOISE = 16.0
PROBE_ETA = 1e-4  # the probes' eta for StructuredLoss (its answers are linear in it)
SUBNORMAL = float(np.nextafter(0.0, 1.0))
# Imaginary parts of hidden states and logits above this leave the linear regime of the
# complex step (its error is O(Im^2) relative): such copies are rerun with eta scaled so
# that their largest imaginary part is IM_LIMIT / IM_MARGIN, at most IM_RETRIES times.
IM_LIMIT = 1e-9
IM_FLOOR = 1e-280  # far enough above the smallest normal float (2.2e-308) for full precision
MAX_GROWTH = 1e16
IM_MARGIN = 10.0
IM_RETRIES = 3  # the spacing of floats below the smallest normal


def noise(share_scale: np.ndarray, H: int, T: int, scaled: np.ndarray | float = 1.0
           ) -> np.ndarray:
    """Rounding of Im L whose per-step parts have summed magnitude ``share_scale``.

    Imaginary parts below the smallest normal float (eta |g| for gradients near
    1e-290) keep only an absolute precision of SUBNORMAL each: T steps of H + T
    such terms are added to the relative rounding (divided by ``scaled`` when eta
    was grown by that factor and the answer scaled back).
    """
    out: np.ndarray = COMPLEX_NOISE * (EPS * share_scale + SUBNORMAL * T / scaled) * (H + T)
    return out


def _loss_terms(y: np.ndarray, target: int, h: np.ndarray, reach: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """-log softmax(y)[target] along the last axis, and the size of its imaginary parts.

    The shift by the real maximum keeps exp from overflowing. Im L_t is
    Im lse - Im y[target], two parts that nearly cancel when p[target] is near
    1: its rounding follows their sizes, not the size of the difference, and
    the rounding of the hidden state h reaches it through ``reach`` (per unit).
    """
    m = y.real.max(axis=-1, keepdims=True)  # a real shift: exp cannot overflow
    lse = np.log(np.exp(y - m).sum(axis=-1)) + m[..., 0]  # log-sum-exp
    picked = y[..., target]
    parts: np.ndarray = np.abs(lse.imag) + np.abs(picked.imag) + np.abs(h.imag) @ reach
    return lse - picked, parts


def _reach(Why: np.ndarray) -> np.ndarray:
    """(H,) how much one step's loss can move per unit of h[j]: |Why^T (p - e)| <= 2 max|Why|."""
    out: np.ndarray = 2 * np.abs(Why).max(axis=0)
    return out


def complex_forward(params: dict[str, np.ndarray], batch: Batch) -> tuple[complex, float]:
    """The forward pass on complex parameters, as written: (L, summed |Im| of L_t's parts)."""
    Wxh, Whh, Why = params["Wxh"], params["Whh"], params["Why"]
    bh, by = params["bh"][:, 0], params["by"][:, 0]
    h = batch.hprev[:, 0].astype(np.complex128)
    total, shares = 0j, 0.0
    for t in range(batch.seq):
        h = np.tanh(Wxh[:, batch.inputs[t]] + Whh @ h + bh)  # hidden state
        Lt, parts = _loss_terms(Why @ h + by, batch.targets[t], h, _reach(Why))
        total += complex(Lt)
        shares += float(parts)
    return total, shares


def complex_loss(params: dict[str, np.ndarray], batch: Batch) -> complex:
    """The forward pass of :mod:`bpttcheck.model`, on complex parameters, as it is written."""
    return complex_forward(params, batch)[0]


class _ComplexLoss:
    dtype = np.dtype(np.float64)
    accepts_complex = True
    returns_change = False

    def __init__(self, params: Params, batch: Batch, fw: Forward | None = None) -> None:
        self.params, self.batch = params, batch
        self.fw = base_pass(params, batch) if fw is None else fw
        self.suffix = rounding_scale(self.fw, batch)
        self.H, self.T = params["Whh"].shape[0], batch.seq

    @property
    def base(self) -> float:
        return float(self.fw.losses.sum())

    def scale(self, name: str, index: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.suffix[start_steps(name, index, self.params, self.fw, self.batch)]
        return out

    def elements(self, probes: ElementProbes) -> np.ndarray:
        return self.measure(probes)[0]

    def measure(self, probes: ElementProbes) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def along(self, probes: DirectionProbes) -> np.ndarray:
        return self.measure_along(probes)[0]

    def measure_along(self, probes: DirectionProbes) -> tuple[np.ndarray, np.ndarray]:
        """The literal complex forward pass at theta + step[p] v_p, one point at a time."""
        values = np.empty(len(probes), dtype=np.complex128)
        rounding = np.empty(len(probes))
        for p in range(len(probes)):
            moved = {n: np.asarray(a, dtype=np.complex128) for n, a in self.params.items()}
            for name, v in probes.directions.items():
                moved[name] = moved[name] + probes.step[p] * v[p]
            values[p], shares = complex_forward(moved, self.batch)
            rounding[p] = float(noise(np.array(shares), self.H, self.T))
        return values, rounding


class LiteralLoss(_ComplexLoss):
    """L(theta + i eta e_i) by the complex forward pass on P perturbed copies at once.

    Each copy is run at ``ratio`` times the eta of its probe (and at more or less,
    see :meth:`measure`), and its answer is given in the units of the probe's eta:
    the complex step reads only the first-order term, which is linear in eta. The
    engine probes at PROBE_ETA with ratio rel_step / PROBE_ETA, so that eta g in the
    answers stays far above the subnormal range however small the gradient.
    """

    def __init__(self, params: Params, batch: Batch, fw: Forward | None = None,
                 ratio: float = 1.0) -> None:
        super().__init__(params, batch, fw)
        self.ratio = ratio
        # The weights are real, so a product acts on Re and Im apart; Re of every copy is
        # the base pass's (the class docstring), so only Im goes through a product, a real
        # one on a contiguous array: a quarter of the work of one complex product (zgemm).
        self.WhhT = np.ascontiguousarray(params["Whh"].T)
        self.WhyT = np.ascontiguousarray(params["Why"].T)
        self.reach = _reach(params["Why"])

    def measure(self, probes: ElementProbes) -> tuple[np.ndarray, np.ndarray]:
        if not probes.is_complex:
            raise ValueError("LiteralLoss answers complex steps only")
        name, flat = probes.name, probes.index
        start = start_steps(name, flat, self.params, self.fw, self.batch)
        order = np.argsort(start, kind="stable")
        values = np.empty(len(flat), dtype=np.complex128)
        shares = np.empty(len(flat))
        peak, low = np.empty(len(flat)), np.empty(len(flat))
        step = probes.step * self.ratio
        values[order], shares[order], peak[order], low[order] = self._run(
            name, flat[order], step[order], start[order])
        # A copy whose imaginary parts grew beyond IM_LIMIT (derivatives beyond 1e11 at
        # eta = 1e-20, on chaotic networks) has left the complex step's linear regime: run it
        # again with eta shrunk to fit, and scale its answer back (to first order, which is
        # all the complex step uses, Im L is linear in eta).
        # Likewise, logits whose imaginary parts stay below IM_FLOOR (weights near 1e-150 at
        # eta = 1e-20) keep only an absolute precision: such copies are rerun with eta grown
        # (at most MAX_GROWTH times, to 1e-4 from the default, and never past IM_LIMIT).
        scaled = np.ones(len(flat))
        for _ in range(IM_RETRIES):
            small = (low < IM_FLOOR) & (low > 0) & (scaled < MAX_GROWTH)
            big = np.flatnonzero((peak > IM_LIMIT) | small)
            if len(big) == 0:
                break
            redo = big[np.argsort(start[big], kind="stable")]
            # The most eta may grow (or must shrink), never beyond MAX_GROWTH:
            room = IM_LIMIT / np.maximum(IM_MARGIN * peak[redo], IM_LIMIT / MAX_GROWTH)
            grow = np.minimum(IM_FLOOR * IM_MARGIN / np.where(low[redo] > 0, low[redo], 1.0),
                              MAX_GROWTH / scaled[redo])
            factor = np.where(peak[redo] > IM_LIMIT, room, np.minimum(room, grow))
            scaled[redo] *= factor
            v, sh, pk, lo = self._run(name, flat[redo], step[redo] * scaled[redo],
                                      start[redo])
            values[redo] = v  # in the units of this run's eta; shares likewise
            shares[redo], peak[redo], low[redo] = sh, pk, lo
        # Back to the probes' units in one division by ratio * scaled (in two, the first
        # could underflow): the answers' imaginary parts are the probe's eta times g.
        factor = self.ratio * scaled
        values = values.real + 1j * (values.imag / factor)
        return values, noise(shares / factor, self.H, self.T, factor)

    def _run(self, name: str, flat: np.ndarray, step: np.ndarray,
             start: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Sum_t L_t on P complex copies (sorted by start); copies join at their start step.

        Also returns the size of each copy's imaginary parts, their largest value in
        any hidden state or logit, and their largest value in any logit (where the loss
        reads them).

        Before its start step a copy is the unperturbed network (its imaginary
        part is exactly 0), so its losses are the base pass's and it joins the
        batch with h_{t-1} of the base pass.
        """
        if name not in HIDDEN_PARAMS:
            return self._run_output(name, flat, step)
        if len(flat) and not step.real.any():
            return self._run_imaginary(name, flat, step.imag, start)
        params, batch, fw = self.params, self.batch, self.fw
        P, T, H = len(flat), self.T, self.H
        rows, cols = np.unravel_index(flat, params[name].shape)
        ar = np.arange(P)
        first = int(start[0]) if P else T
        before = np.concatenate([[0.0], np.cumsum(fw.losses)])  # sum_{t < s} L_t
        total = before[start].astype(np.complex128)  # the steps before each copy's start
        shares = np.zeros(P)
        peak, low = np.zeros(P), np.zeros(P)  # largest |Im| of any state; of any logit
        active = np.searchsorted(start, np.arange(T), side="right")
        hi = np.zeros((P, H))  # Im h_{t-1}; Re h_{t-1} is the base pass's
        a = np.empty((P, H), dtype=np.complex128)
        for t in range(first, T):
            n = int(active[t])
            a[:n].real = fw.pre[t]  # Re a_t = Whh Re h_{t-1} + Wxh x_t + bh, the base pass's
            np.matmul(hi[:n], self.WhhT, out=a[:n].imag)  # Im a_t = Whh Im h_{t-1}
            if name == "Whh":  # (Whh + i eta E_ij) h_{t-1}
                h_j = fw.hs_before[t][cols[:n]] + 1j * hi[ar[:n], cols[:n]]
                a[ar[:n], rows[:n]] += step[:n] * h_j
            elif name == "Wxh":
                hit = cols[:n] == batch.inputs[t]  # (Wxh + i eta E_ij) x_t
                a[ar[:n][hit], rows[:n][hit]] += step[:n][hit]
            else:  # bh
                a[ar[:n], rows[:n]] += step[:n]
            h = np.tanh(a[:n])  # hidden state; its Re is the base pass's, to O(eta^2)
            hi[:n] = h.imag
            y = np.empty((n, fw.ys.shape[1]), dtype=np.complex128)  # logits
            y.real = fw.ys[t]  # Re y_t = Why Re h_t + by
            np.matmul(hi[:n], self.WhyT, out=y.imag)  # Im y_t = Why Im h_t
            Lt, parts = _loss_terms(y, batch.targets[t], hi[:n], self.reach)  # -log p[target]
            total[:n] += Lt
            shares[:n] += parts
            np.maximum(peak[:n], np.abs(hi[:n]).max(axis=1, initial=0.0), out=peak[:n])
            top_y = np.abs(y.imag).max(axis=1, initial=0.0)
            np.maximum(peak[:n], top_y, out=peak[:n])
            np.maximum(low[:n], top_y, out=low[:n])
        return total, shares, peak, low

    def _run_imaginary(self, name: str, flat: np.ndarray, eta: np.ndarray, start: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`_run` for purely imaginary steps i eta: every real part is the base pass's.

        The real parts (pre-activation, state, logits) are then one row per step for
        all copies, and the complex tanh and log-sum-exp run on (1, H) and (1, V) real
        parts with (P, H) and (P, V) imaginary ones (:mod:`bpttcheck.numdiff.splitcomplex`,
        the complex functions by exact identities, as for the gated cells). The real part
        that the perturbation adds, -eta Im h_{t-1}[j] for Whh, is O(eta^2) and left out
        with the others.
        """
        params, batch, fw = self.params, self.batch, self.fw
        P, T, H = len(flat), self.T, self.H
        rows, cols = np.unravel_index(flat, params[name].shape)
        ar = np.arange(P)
        before = np.concatenate([[0.0], np.cumsum(fw.losses)])  # sum_{t < s} L_t
        total = before[start].astype(np.complex128)  # the steps before each copy's start
        shares = np.zeros(P)
        peak, low = np.zeros(P), np.zeros(P)  # largest |Im| of any state; of any logit
        active = np.searchsorted(start, np.arange(T), side="right")
        hi = np.zeros((P, H))  # Im h_{t-1}
        for t in range(int(start[0]), T):
            n = int(active[t])
            a_im = hi[:n] @ self.WhhT  # Im a_t = Whh Im h_{t-1}
            if name == "Whh":  # (Whh + i eta E_ij) h_{t-1}: Im gains eta Re h_{t-1}[j]
                a_im[ar[:n], rows[:n]] += eta[:n] * fw.hs_before[t][cols[:n]]
            elif name == "Wxh":
                hit = cols[:n] == batch.inputs[t]  # (Wxh + i eta E_ij) x_t
                a_im[ar[:n][hit], rows[:n][hit]] += eta[:n][hit]
            else:  # bh
                a_im[ar[:n], rows[:n]] += eta[:n]
            hi[:n] = sc.tanh((fw.pre[t][None, :], a_im))[1]  # complex tanh: Im h_t
            yi = hi[:n] @ self.WhyT  # Im y_t; Re y_t is the base pass's logits
            target = batch.targets[t]
            lr, li = sc.cross_entropy(fw.ys[t][None, :], yi, target)  # -log p[target]
            total[:n] += lr + 1j * li
            # Im L_t = Im lse - Im y[target]: rounding follows the parts (see _loss_terms)
            shares[:n] += (np.abs(li + yi[:, target]) + np.abs(yi[:, target])
                           + np.abs(hi[:n]) @ self.reach)
            np.maximum(peak[:n], np.abs(hi[:n]).max(axis=1, initial=0.0), out=peak[:n])
            top_y = np.abs(yi).max(axis=1, initial=0.0)
            np.maximum(peak[:n], top_y, out=peak[:n])
            np.maximum(low[:n], top_y, out=low[:n])
        return total, shares, peak, low

    def _run_output(self, name: str, flat: np.ndarray, step: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`_run` for Why and by: the hidden states are the base pass's, exactly.

        Of each step's softmax sum one term moves, exp(y_k + i eta h_t[j] - m): the
        others are the base pass's, and their sum is taken once per step.
        """
        fw, T = self.fw, self.T
        P = len(flat)
        k, j = np.unravel_index(flat, self.params[name].shape)
        total = np.zeros(P, dtype=np.complex128)
        shares, peak = np.zeros(P), np.zeros(P)
        for t in range(T):
            coef = fw.hs[t][j] if name == "Why" else 1.0
            y_k = fw.ys[t][k] + step * coef  # the logit that moves: (Why + i eta E_kj) h_t
            m = fw.ys[t].max()  # a real shift: exp cannot overflow
            E = np.exp(fw.ys[t] - m)  # the softmax sum's terms
            lse = np.log((E.sum() - E[k]) + np.exp(y_k - m)) + m  # log-sum-exp
            target = self.batch.targets[t]
            picked = np.where(k == target, y_k, fw.ys[t][target])
            total += lse - picked  # -log p[target]
            shares += np.abs(lse.imag) + np.abs(picked.imag)
            np.maximum(peak, np.abs(y_k.imag), out=peak)
        return total, shares, peak, peak.copy()


@dataclasses.dataclass(frozen=True)
class Sensitivities:
    """Per-step complex-step factors of the unperturbed forward pass, and their responses."""

    k: np.ndarray  # (T, H): Im tanh(a_t + i eta) / eta
    gy: np.ndarray  # (T, V): Im L_t(y_t + i eta e_k) / eta
    w: np.ndarray  # (T, H): w_t = Why^T gy_t
    WhhT: np.ndarray  # (H, H): Whh^T, once (not once per step)
    G: np.ndarray  # (H, T): G[i, s], the loss's response to a unit impulse into a_s[i]
    Gabs: np.ndarray  # (H, T): the summed magnitude of its per-step shares


def sensitivities(params: Params, fw: Forward, batch: Batch, eta: float,
                  rows: int = 512, workers: int = 1) -> Sensitivities:
    """k_t, gy_t and w_t, each from one complex evaluation per unit and step; then G.

    ``rows`` impulse rows advance together (a (rows, H) array); ``workers``
    threads share them (the caller limits BLAS to one thread each).
    """
    k = np.tanh(fw.pre + 1j * eta).imag / eta  # complex tanh, per unit
    m = fw.ys.max(axis=1, keepdims=True)
    E = np.exp(fw.ys - m)  # the terms of the softmax sum
    moved = np.exp((fw.ys - m) + 1j * eta) - E  # the one term that moves
    lse = np.log(E.sum(axis=1, keepdims=True) + moved) + m  # log-sum-exp, one logit moved
    T, V = fw.ys.shape
    moved_target = np.zeros((T, V), dtype=np.complex128)
    moved_target[np.arange(T), list(batch.targets)] = 1j * eta
    Lt = lse - (fw.ys[np.arange(T), list(batch.targets)][:, None] + moved_target)
    gy = Lt.imag / eta
    w = gy @ params["Why"]
    WhhT = np.ascontiguousarray(params["Whh"].T)
    G, Gabs = impulse_responses(k, WhhT, w, rows, workers)
    return Sensitivities(k, gy, w, WhhT, G, Gabs)


def impulse_responses(k: np.ndarray, WhhT: np.ndarray, w: np.ndarray, rows: int = 512,
                      workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(G, Gabs), both (H, T): the tangent recursion from a unit impulse e_i at step s.

    One row per (s, i), H T rows in all, cut into chunks of at most ``rows`` rows
    (whole start steps when H <= rows, else part of the units of one start step).
    """
    T, H = k.shape
    rows = max(1, rows)
    per, width = max(1, rows // H), min(H, rows)  # start steps, units per chunk
    spans = [(s, min(T, s + per), i, min(H, i + width))
             for s in range(0, T, per) for i in range(0, H, width)]
    G, Gabs = np.zeros((H, T)), np.zeros((H, T))

    def run(span: tuple[int, int, int, int]) -> None:
        s0, s1, i0, i1 = span
        G[i0:i1, s0:s1], Gabs[i0:i1, s0:s1] = _impulses(k, WhhT, w, s0, s1, i0, i1)

    if workers > 1 and len(spans) > 1:
        from concurrent.futures import ThreadPoolExecutor

        # Later starts are shorter: the longest are handed out first.
        with ThreadPoolExecutor(min(workers, len(spans))) as pool:
            list(pool.map(run, spans))
    else:
        for span in spans:
            run(span)
    return G, Gabs


def _impulses(k: np.ndarray, WhhT: np.ndarray, w: np.ndarray, s0: int, s1: int, i0: int,
              i1: int) -> tuple[np.ndarray, np.ndarray]:
    """G and Gabs (i1 - i0, s1 - s0) for impulses e_i, i0 <= i < i1, at steps s0 <= s < s1."""
    T, H = k.shape
    units = i1 - i0
    n_rows = (s1 - s0) * units
    B = np.zeros((n_rows, H))  # Im h_t / eta, one row per (s, i), s-major
    Z = np.empty((n_rows, H))  # Im a_t / eta
    g, scale = np.zeros(n_rows), np.zeros(n_rows)
    eye = np.eye(H)[i0:i1]
    live = 0
    for t in range(s0, T):
        if live:
            np.matmul(B[:live], WhhT, out=Z[:live])  # Whh B_{t-1}
        if t < s1:
            Z[live : live + units] = eye  # rows starting now: the impulse e_i, B_{t-1} = 0
            live += units
        np.multiply(Z[:live], k[t], out=B[:live])  # through the complex tanh
        share = B[:live] @ w[t]  # B_t . w_t: step t's loss share
        g[:live] += share
        scale[:live] += np.abs(share)
    return g.reshape(s1 - s0, units).T, scale.reshape(s1 - s0, units).T


class StructuredLoss(_ComplexLoss):
    """L(theta + i eta e_i) as base + i eta g, g from the impulse responses above.

    Its complex evaluations (k_t, gy_t) use its own ``eta``; its answers are linear in
    the eta of the probes, so the engine probes it with PROBE_ETA, large enough that
    eta g stays far above the subnormal range for gradients as small as 1e-300.
    """

    def __init__(self, params: Params, batch: Batch, eta: float,
                 fw: Forward | None = None, rows: int = 512, workers: int = 1) -> None:
        super().__init__(params, batch, fw)
        self.sens = sensitivities(params, self.fw, batch, eta, rows, workers)

    def measure(self, probes: ElementProbes) -> tuple[np.ndarray, np.ndarray]:
        """base + i eta g: exactly linear in the probe's eta (see :data:`PROBE_ETA`)."""
        if not probes.is_complex:
            raise ValueError("StructuredLoss answers complex steps only")
        name, flat, eta = probes.name, probes.index, probes.step.imag
        if name in HIDDEN_PARAMS:
            rows, cols = np.unravel_index(flat, self.params[name].shape)
            g, scale = tangents(name, rows, cols, self.sens, self.fw.hs_before,
                                self.batch.inputs)
        else:
            g, scale = output_gradient(name, flat, self.sens, self.fw)
        return self.base + 1j * eta * g, np.abs(eta) * noise(scale, self.H, self.T)


def tangents(name: str, rows: np.ndarray, cols: np.ndarray, sens: Sensitivities,
             prev: np.ndarray, inputs: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """dL/dtheta and its rounding scale for hidden-layer elements, by superposition.

    ``prev`` is (T, H): h_{t-1} for every step. The forcing of element (i, j) at
    step s is c_s (module docstring), so g = sum_s c_s G[i, s]; the scale is
    sum_s |c_s| Gabs[i, s].
    """
    T = sens.G.shape[1]
    if name == "Whh":
        force = prev[:, cols].T  # (P, T): h_{s-1}[j]
    elif name == "Wxh":
        force = (np.asarray(inputs)[None, :] == cols[:, None]).astype(np.float64)  # x_s[j]
    else:  # bh
        force = np.ones((len(rows), T))
    G, Gabs = sens.G[rows], sens.Gabs[rows]
    g: np.ndarray = np.einsum("pt,pt->p", G, force)
    scale: np.ndarray = np.einsum("pt,pt->p", Gabs, np.abs(force))
    return g, scale


def output_gradient(name: str, flat: np.ndarray, sens: Sensitivities, fw: Forward
                    ) -> tuple[np.ndarray, np.ndarray]:
    """dL/dWhy or dL/dby at flat indices, and the summed magnitude of the per-step shares."""
    if name == "by":
        return sens.gy.sum(axis=0)[flat], np.abs(sens.gy).sum(axis=0)[flat]
    V, H = sens.gy.shape[1], fw.hs.shape[1]
    k, j = np.unravel_index(flat, (V, H))
    shares = sens.gy[:, k] * fw.hs[:, j]  # (T, P): y_t[k] moves by i eta h_t[j]
    return shares.sum(axis=0), np.abs(shares).sum(axis=0)
