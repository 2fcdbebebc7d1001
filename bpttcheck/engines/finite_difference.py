"""The vanilla RNN's loss as batched losses for real steps: plain and difference form.

The numeric engine's own forward pass (:func:`base_pass`) is written here
again, on purpose: numerical differentiation must not share code with the
analytic engines (they use :func:`bpttcheck.model.forward`), or a bug there
would bend the witness the same way as the engines it judges.

:class:`PlainLoss` answers L(theta + delta e_i) - L(theta) for P perturbed
copies of the network, run through the real forward pass (tanh, shifted
softmax, -log p) in float64. The only liberties change no value beyond rounding:

- **Shared prefix.** Before the first step that feels theta_i
  (:func:`start_steps`), the perturbed network is the unperturbed one, so its
  losses L_t for t < start are the same numbers and are not recomputed. What
  is returned is sum_{t >= start} (L~_t - L_t).
- **Perturbed weights are never formed.** (Whh + delta E_ij) h~ is computed
  as Whh h~ plus delta h~[j] added to row i (a rank-one change of a linear
  layer), so delta is exactly the step taken.
- **One product per step.** h~_{t-1} [Whh^T | Why^T] gives the next
  pre-activation and step t-1's logits at once, for P copies.
- **Output layer.** Why and by do not change the hidden states; moving one
  logit by u changes one term of the softmax sum, S_t - E_tk + exp(y_tk + u - m).

:class:`DifferenceLoss` answers the same changes in *difference form*: the
change itself is propagated instead of the perturbed state, with exact
identities and no subtraction of nearly equal numbers::

    dh_t = tanh(a_t + da_t) - tanh(a_t) = tanh(da_t) sech^2(a_t) / (1 + h_t tanh(da_t))
    dL_t = log(sum_i p_i exp(dy_i)) - dy_target = log1p(sum_i p_i expm1(dy_i)) - dy_target

so rounding is relative to the change and no longer grows as the step shrinks.
Both are tested against L(theta + d e_i) - L(theta).
"""

from __future__ import annotations

import numpy as np

from ..model import HIDDEN_PARAMS, Batch, Forward, Params
from ..numdiff.methods import PLAIN_NOISE
from ..probes import DirectionProbes, ElementProbes

EPS = float(np.finfo(np.float64).eps)
DIFFERENCE_NOISE = 64.0  # difference form: a few ulps per operation, T steps
TANH_CLIP = 80.0  # 2a beyond which tanh(a) rounds to 1 (from 2a = 38.1); exp(80) is finite


def base_pass(params: Params, batch: Batch) -> Forward:
    """The unperturbed forward pass, the numeric engine's own (see the module docstring)."""
    Wxh, Whh, Why = params["Wxh"], params["Whh"], params["Why"]
    bh, by = params["bh"][:, 0], params["by"][:, 0]
    T, H = batch.seq, Whh.shape[0]
    hs, pre = np.empty((T, H)), np.empty((T, H))
    h = batch.hprev[:, 0]
    for t in range(T):
        pre[t] = Wxh[:, batch.inputs[t]] + Whh @ h + bh  # x_t one-hot: column inputs[t]
        h = hs[t] = np.tanh(pre[t])  # hidden state
    ys = hs @ Why.T + by  # logits
    m = ys.max(axis=1, keepdims=True)
    lse = np.log(np.exp(ys - m).sum(axis=1)) + m[:, 0]  # log-sum-exp, shifted
    ps = np.exp(ys - lse[:, None])  # softmax
    losses = lse - ys[np.arange(T), list(batch.targets)]  # -log p_t[target_t]
    return Forward(hs, pre, batch.hprev[:, 0].copy(), ys, ps, losses, False)


def start_steps(name: str, flat: np.ndarray, params: Params, fw: Forward,
                batch: Batch) -> np.ndarray:
    """First step t whose forward pass uses each element (T: never, its gradient is 0)."""
    T = batch.seq
    if name not in HIDDEN_PARAMS or name == "bh":
        return np.zeros(len(flat), dtype=np.intp)
    cols = np.unravel_index(flat, params[name].shape)[1]
    if name == "Wxh":  # x_t is one-hot: column j is read first where inputs[t] == j
        first = np.full(params["Wxh"].shape[1], T, dtype=np.intp)
        for t in range(T - 1, -1, -1):
            first[batch.inputs[t]] = t
        return first[cols]
    nonzero = fw.hs_before != 0  # Whh[i, j] multiplies h_{t-1}[j]
    first = np.where(nonzero.any(axis=0), nonzero.argmax(axis=0), T).astype(np.intp)
    return first[cols]


def rounding_scale(fw: Forward, batch: Batch) -> np.ndarray:
    """(T + 1,): the summed size of the parts of L_t for t >= s, the rounding scale."""
    T = batch.seq
    per_step = (np.abs(fw.losses) + np.abs(fw.ys.max(axis=1))
                + np.abs(fw.ys[np.arange(T), list(batch.targets)]))
    return np.concatenate([np.cumsum(per_step[::-1])[::-1], [0.0]])


class _ModelLoss:
    """What the model's batched losses share: the base point and its forward pass."""

    dtype = np.dtype(np.float64)
    accepts_complex = False
    returns_change = True

    def __init__(self, params: Params, batch: Batch, fw: Forward | None = None) -> None:
        self.params, self.batch = params, batch
        self.fw = base_pass(params, batch) if fw is None else fw
        self.suffix = rounding_scale(self.fw, batch)

    @property
    def base(self) -> float:
        return float(self.fw.losses.sum())

    def starts(self, name: str, flat: np.ndarray) -> np.ndarray:
        return start_steps(name, flat, self.params, self.fw, self.batch)

    def scale(self, name: str, index: np.ndarray) -> np.ndarray:
        scale: np.ndarray = self.suffix[self.starts(name, index)]
        return scale

    def elements(self, probes: ElementProbes) -> np.ndarray:
        return self.measure(probes)[0]

    def measure(self, probes: ElementProbes) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def along(self, probes: DirectionProbes) -> np.ndarray:
        return self.measure_along(probes)[0]

    def measure_along(self, probes: DirectionProbes) -> tuple[np.ndarray, np.ndarray]:
        """L(theta + s v) - L(theta) by whole forward passes, one per direction."""
        if probes.is_complex:
            raise ValueError("this loss does not accept complex steps")
        out = np.empty(len(probes))
        for p in range(len(probes)):
            moved = dict(self.params)
            for name, v in probes.directions.items():
                moved[name] = self.params[name] + probes.step[p] * v[p]
            out[p] = float(base_pass(moved, self.batch).losses.sum()) - self.base
        return out, np.full(len(probes), PLAIN_NOISE * EPS * self.suffix[0])


class PlainLoss(_ModelLoss):
    """L(theta + delta e_i) - L(theta) by plain perturbed forward passes, batched."""

    def __init__(self, params: Params, batch: Batch, fw: Forward | None = None) -> None:
        super().__init__(params, batch, fw)
        Wxh, Whh, Why = params["Wxh"], params["Whh"], params["Why"]
        self.N = np.ascontiguousarray(np.hstack([Whh.T, Why.T]))  # [Whh^T | Why^T]
        self.input_part = Wxh[:, list(batch.inputs)].T + params["bh"][:, 0]  # Wxh x_t + bh
        self.prev = self.fw.hs_before  # h_{t-1}
        self.whh_prev = self.prev @ Whh.T  # Whh h_{t-1}, unperturbed
        self.m = self.fw.ys.max(axis=1)  # the softmax shift

    def measure(self, probes: ElementProbes) -> tuple[np.ndarray, np.ndarray]:
        if probes.is_complex:
            raise ValueError("this loss does not accept complex steps")
        name, flat, delta = probes.name, probes.index, probes.step
        if name not in HIDDEN_PARAMS:
            change = self._output_changes(name, flat, delta)
            return change, np.full(len(flat), PLAIN_NOISE * EPS * self.suffix[0])
        start = self.starts(name, flat)
        order = np.argsort(start, kind="stable")
        rows, cols = np.unravel_index(flat[order], self.params[name].shape)
        change = np.empty(len(flat))
        change[order] = self._hidden_changes(name, rows, cols, start[order], delta[order])
        return change, PLAIN_NOISE * EPS * self.suffix[start]

    def _step_losses(self, logits: np.ndarray, t: int) -> np.ndarray:
        """L~_t = log(sum exp(y~ - m)) + m - y~[target] for rows of logits (changed in place)."""
        target = logits[:, self.batch.targets[t]].copy()
        np.subtract(logits, self.m[t], out=logits)
        np.exp(logits, out=logits)
        losses: np.ndarray = np.log(logits.sum(axis=1)) + self.m[t] - target
        return losses

    def _hidden_changes(self, name: str, rows: np.ndarray, cols: np.ndarray,
                        start: np.ndarray, delta: np.ndarray) -> np.ndarray:
        """sum_{t >= start} (L~_t - L_t) for hidden-layer elements (sorted by start)."""
        P = len(rows)
        T, H = self.input_part.shape
        V = self.N.shape[1] - H
        losses, by, inputs = self.fw.losses, self.params["by"][:, 0], self.batch.inputs
        S = np.empty((P, H))  # perturbed hidden states h~_t
        Z = np.empty((P, H + V))  # [Whh h~_{t-1} | logits of step t-1 without by]
        change = np.zeros(P)
        active = np.searchsorted(start, np.arange(T), side="right")
        ar = np.arange(P)
        n_prev = 0
        for t in range(int(start[0]) if P else T, T):
            n = int(active[t])
            if n_prev:
                np.matmul(S[:n_prev], self.N, out=Z[:n_prev])
                logits = Z[:n_prev, H:]
                logits += by
                change[:n_prev] += self._step_losses(logits, t - 1) - losses[t - 1]
            S[n_prev:n] = self.prev[t]  # rows starting now: h~_{t-1} = h_{t-1}
            Z[n_prev:n, :H] = self.whh_prev[t]
            pre = Z[:n, :H]
            pre += self.input_part[t]  # Wxh x_t + Whh h~_{t-1} + bh
            if name == "Whh":
                pre[ar[:n], rows[:n]] += delta[:n] * S[ar[:n], cols[:n]]  # + delta E_ij h~_{t-1}
            elif name == "Wxh":
                hit = cols[:n] == inputs[t]  # + delta E_ij x_t
                pre[ar[:n][hit], rows[:n][hit]] += delta[:n][hit]
            else:  # bh
                pre[ar[:n], rows[:n]] += delta[:n]
            tanh_into(pre, S[:n])  # hidden state
            n_prev = n
        if n_prev:
            logits = S[:n_prev] @ self.N[:, H:] + by
            change[:n_prev] += self._step_losses(logits, T - 1) - losses[T - 1]
        return change

    def _output_changes(self, name: str, flat: np.ndarray, delta: np.ndarray) -> np.ndarray:
        """sum_t (L~_t - L_t) when Why or by moves by delta: one logit per step."""
        fw = self.fw
        T, V = fw.ys.shape
        H = fw.hs.shape[1]
        if name == "by":
            k = flat
            u = np.broadcast_to(delta, (T, len(flat)))  # y_t[k] + delta
        else:
            k, j = np.unravel_index(flat, (V, H))
            u = fw.hs[:, j] * delta  # y_t[k] + delta h_t[j]
        targets = np.array(self.batch.targets)
        E = np.exp(fw.ys - self.m[:, None])
        moved_sum = E.sum(axis=1)[:, None] - E[:, k] + np.exp(fw.ys[:, k] + u - self.m[:, None])
        target_moves = (k[None, :] == targets[:, None]) * u
        moved = (np.log(moved_sum) + self.m[:, None]
                 - (fw.ys[np.arange(T), targets][:, None] + target_moves))
        change: np.ndarray = (moved - fw.losses[:, None]).sum(axis=0)
        return change


def tanh_into(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """tanh(a) = 1 - 2 / (exp(2a) + 1), written into ``out``.

    NumPy's tanh is not vectorised for float64 on this machine's CPUs (measured
    18 ns an element against 6.4 ns for this form at P = 512, H = 100), and the
    hidden states' tanh was 40% of a central-difference run. The error is within
    an ulp of 1 in absolute terms (for |a| << 1 it is absolute, not relative:
    1e-13 relative at a = 1e-3), far below the rounding bar of a difference
    of losses (PLAIN_NOISE eps times their size). 2a is clipped to
    [-TANH_CLIP, TANH_CLIP], beyond which tanh is +-1 in float64, so that exp
    neither overflows nor underflows.
    """
    np.multiply(a, 2.0, out=out)
    np.clip(out, -TANH_CLIP, TANH_CLIP, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.divide(2.0, out, out=out)
    np.subtract(1.0, out, out=out)
    return out


def _sech2(a: np.ndarray) -> np.ndarray:
    """1 - tanh(a)^2, computed from a so that it stays accurate when |tanh(a)| ~ 1."""
    e = np.exp(-2.0 * np.abs(a))  # never overflows
    sech2: np.ndarray = 4.0 * e / (1.0 + e) ** 2
    return sech2


def _loss_change(dy: np.ndarray, p: np.ndarray, target: int) -> tuple[np.ndarray, np.ndarray]:
    """(dL_t, rounding scale) for logit changes dy (P, V) around probabilities p (V,)."""
    change = np.log1p(np.expm1(dy) @ p) - dy[:, target]
    scale = np.abs(dy) @ p + np.abs(dy[:, target])
    return change, scale


class DifferenceLoss(_ModelLoss):
    """L(theta + delta e_i) - L(theta) in difference form (module docstring)."""

    def measure(self, probes: ElementProbes) -> tuple[np.ndarray, np.ndarray]:
        if probes.is_complex:
            raise ValueError("this loss does not accept complex steps")
        change, scale = difference_losses(self.params, self.fw, self.batch, probes.name,
                                          probes.index, probes.step)
        return change, DIFFERENCE_NOISE * EPS * scale


def difference_losses(
    params: Params, fw: Forward, batch: Batch, name: str, flat: np.ndarray, deltas: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """L(theta + deltas[p] e_flat[p]) - L(theta) for each p, and its rounding scale."""
    Whh, Why = params["Whh"], params["Why"]
    rows, cols = np.unravel_index(flat, params[name].shape)
    P = len(flat)
    total = np.zeros(P)
    scale = np.zeros(P)
    if name in ("Why", "by"):  # the hidden states do not change: dy_t = d h_t[j] e_i or d e_i
        for t in range(batch.seq):
            dy = np.zeros((P, Why.shape[0]))
            coef = fw.hs[t][cols] if name == "Why" else 1.0
            dy[np.arange(P), rows] = deltas * coef
            change, mag = _loss_change(dy, fw.ps[t], batch.targets[t])
            total += change
            scale += mag
        return total, scale
    dh = np.zeros((P, Whh.shape[0]))  # h_{t-1}(perturbed) - h_{t-1}
    sech2 = _sech2(fw.pre)
    for t in range(batch.seq):
        da = dh @ Whh.T  # Whh dh_{t-1}
        if name == "Whh":  # (Whh + d E_ij) acting on the perturbed h_{t-1}
            coef = fw.h_before(t)[cols] + dh[np.arange(P), cols]
        elif name == "Wxh":  # x_t is one-hot: only inputs[t] == j feels it
            coef = (cols == batch.inputs[t]).astype(np.float64)
        else:  # bh
            coef = np.ones(P)
        da[np.arange(P), rows] += deltas * coef
        s = np.tanh(da)
        dh = s * sech2[t] / (1.0 + fw.hs[t] * s)  # tanh(a + da) - tanh(a), exactly
        change, mag = _loss_change(dh @ Why.T, fw.ps[t], batch.targets[t])
        total += change
        scale += mag
    return total, scale
