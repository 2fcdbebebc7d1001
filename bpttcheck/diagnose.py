"""Name the likely cause of a wrong gradient from the pattern of its error.

Given the user's gradient g and the true gradient of their loss (the reference
BPTT, times a constant when their loss is a constant multiple of the spec's),
each hypothesis below is a way of computing a *wrong* gradient from the truth
or from the model; a hypothesis is named when g matches it to DIAG_RTOL
(norm-wise relative error), i.e. when the pattern fits, not by guessing:

- a constant ratio c on every gradient: c = T or 1/T (mean loss, summed
  gradient), ln 2 or 1/ln 2 (bits vs nats), -1 (a sign flip), anything else
  (a temperature or scale in the forward pass missing from the backward pass);
- the same on one parameter only; the transpose of one (square) parameter;
- gradient clipping at a bound c: exactly the elements whose true value
  exceeds c in size differ, and they sit at +-c;
- truncated BPTT with window w: the double sum of the reference BPTT,
  sum_t sum_{k<=t} dL_t/da_k ..., keeping only the terms with t - k < w
  (:func:`bpttcheck.engines.reference.contributions`); w = 1 is ``dhnext``
  missing (each step's own loss only);
- named slips in the tutorial's loop, each recomputed exactly
  (:func:`variant`): the tanh derivative missing, h_t where h_{t-1} belongs in
  dWhh, Whh instead of Whh.T carrying dhnext, dhnext taken before the tanh
  derivative, dy without the -1 at the target;
- one bias wrong and everything else right; the output layer right and the
  hidden layer wrong (something in dh, dhraw or dhnext).

Localisation in time compares the user's per-loss-step gradients dL_t/dtheta
(obtained by the caller from prefixes of the sequence) with the reference's
(:func:`per_step`), and names the steps t that disagree.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np

from .compare import norm_rel_error, rel_error
from .engines.reference import contributions
from .model import HIDDEN_PARAMS, PARAM_NAMES, Batch, Params, forward

DIAG_RTOL = 1e-6  # a hypothesis fits when it reproduces g to this norm-wise relative error
ELEMENT_RTOL = 1e-6  # per element: "this element differs" for the clipping pattern
FLOOR = 1e-4  # same role as the spec's floor: tiny entries judged on the parameter's scale


@dataclasses.dataclass(frozen=True)
class Cause:
    """A named cause: ``kind`` is a stable id, ``message`` the sentence for people."""

    kind: str
    message: str
    params: tuple[str, ...] = ()
    value: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "message": self.message, "params": list(self.params),
                "value": self.value}


def close(a: np.ndarray, b: np.ndarray) -> bool:
    return norm_rel_error(np.asarray(a), np.asarray(b)) <= DIAG_RTOL


def _all_close(g: Mapping[str, np.ndarray], h: Mapping[str, np.ndarray]) -> bool:
    return all(close(g[n], h[n]) for n in PARAM_NAMES)


def per_lag(params: Params, batch: Batch) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(output-layer gradients, lags) with lags[name][d] the sum of the terms t - k = d."""
    fw = forward(params, batch)
    T = batch.seq
    out = {"Why": np.zeros_like(params["Why"]), "by": np.zeros_like(params["by"])}
    for t in range(T):
        dy = fw.ps[t].copy()
        dy[batch.targets[t]] -= 1  # dL_t/dy_t
        out["Why"] += np.outer(dy, fw.hs[t])
        out["by"][:, 0] += dy
    lags = {n: np.zeros((T, *params[n].shape)) for n in HIDDEN_PARAMS}
    for t, k, da in contributions(params, fw, batch):
        lags["Whh"][t - k] += np.outer(da, fw.h_before(k))
        lags["Wxh"][t - k][:, batch.inputs[k]] += da
        lags["bh"][t - k][:, 0] += da
    return out, lags


def per_step(params: Params, batch: Batch) -> dict[str, np.ndarray]:
    """steps[name][t] = dL_t/dtheta: loss step t's share of the gradient (sum over k <= t)."""
    fw = forward(params, batch)
    steps = {n: np.zeros((batch.seq, *p.shape)) for n, p in params.items()}
    for t in range(batch.seq):
        dy = fw.ps[t].copy()
        dy[batch.targets[t]] -= 1
        steps["Why"][t] = np.outer(dy, fw.hs[t])
        steps["by"][t, :, 0] = dy
    for t, k, da in contributions(params, fw, batch):
        steps["Whh"][t] += np.outer(da, fw.h_before(k))
        steps["Wxh"][t][:, batch.inputs[k]] += da
        steps["bh"][t][:, 0] += da
    return steps


def variant(params: Params, batch: Batch, *, tanh_grad: bool = True, prev_state: bool = True,
            transpose: bool = True, after_tanh: bool = True,
            subtract_one: bool = True) -> dict[str, np.ndarray]:
    """The tutorial's backward pass with one slip switched on (all True: correct)."""
    fw = forward(params, batch)
    Whh, Why = params["Whh"], params["Why"]
    g = {n: np.zeros_like(p) for n, p in params.items()}
    dhnext = np.zeros(Whh.shape[0])
    for t in reversed(range(batch.seq)):
        dy = fw.ps[t].copy()
        if subtract_one:
            dy[batch.targets[t]] -= 1  # backprop into y
        g["Why"] += np.outer(dy, fw.hs[t])
        g["by"][:, 0] += dy
        dh = Why.T @ dy + dhnext  # backprop into h
        dhraw = (1 - fw.hs[t] ** 2) * dh if tanh_grad else dh  # through tanh
        g["bh"][:, 0] += dhraw
        g["Wxh"][:, batch.inputs[t]] += dhraw
        g["Whh"] += np.outer(dhraw, fw.h_before(t) if prev_state else fw.hs[t])
        carried = dhraw if after_tanh else dh
        dhnext = Whh.T @ carried if transpose else Whh @ carried  # to step t-1
    return g


VARIANTS: tuple[tuple[str, dict[str, bool], str], ...] = (
    ("tanh-derivative", {"tanh_grad": False},
     "the tanh derivative (1 - h*h) is missing: dhraw = dh"),
    ("hs-t-for-t-1", {"prev_state": False},
     "dWhh uses h_t where h_{t-1} belongs: dWhh += dhraw @ hs[t].T should be hs[t-1].T"),
    ("recursion-transpose", {"transpose": False},
     "dhnext is carried back through Whh instead of Whh.T: dhnext = Whh.T @ dhraw"),
    ("dhnext-before-tanh", {"after_tanh": False},
     "dhnext is computed from dh, before the tanh derivative: use Whh.T @ dhraw"),
    ("dy-target", {"subtract_one": False},
     "dy is the softmax output without subtracting 1 at the target: dy[targets[t]] -= 1"),
)


def _ratio_name(c: float, T: int) -> tuple[str, str]:
    def near(x: float) -> bool:
        return abs(c / x - 1) < 1e-6

    if near(-1.0):
        return "sign", "a sign flip: every gradient is -1 times the truth"
    if T > 1 and near(float(T)):
        return "ratio-T", (f"every gradient is T = {T} times the truth: the loss is averaged "
                           "over the T steps (mean) but the gradient is summed")
    if T > 1 and near(1.0 / T):
        return "ratio-T", (f"every gradient is 1/T = 1/{T} times the truth: the gradient is "
                           "averaged over the T steps but the loss is summed")
    if near(math.log(2)) or near(1 / math.log(2)):
        return "ratio-ln2", (f"every gradient is {c:.6g} times the truth, a factor of ln 2: "
                             "the loss is in bits (log2) and the gradient in nats, or the reverse")
    return "ratio", (f"every gradient is {c:.6g} times the truth: a constant (a temperature or "
                     "a scale in the forward pass) missing from the backward pass, or the reverse")


def _fit(g: np.ndarray, t: np.ndarray) -> float | None:
    den = float(np.sum(t * t))
    return float(np.sum(g * t)) / den if den > 0 else None


def diagnose(g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray], params: Params,
             batch: Batch, scale: float = 1.0) -> list[Cause]:
    """Likely causes, best first ([] when g matches the truth or nothing fits).

    ``truth`` is the gradient of the user's own loss; ``scale`` is that loss
    over the spec loss, so the model-based hypotheses are ``scale`` times the
    spec's gradients (``nan``: their loss is another model's, or only sampled
    elements are given as flat arrays; only truth-based patterns are tried).
    """
    if not all(np.isfinite(g[n]).all() for n in PARAM_NAMES):
        return [Cause("nonfinite", "the gradient contains NaN or inf")]
    wrong = tuple(n for n in PARAM_NAMES if not close(g[n], truth[n]))
    if not wrong:
        return []
    T = batch.seq
    # One constant on everything.
    flat_g = np.concatenate([g[n].ravel() for n in PARAM_NAMES])
    flat_t = np.concatenate([truth[n].ravel() for n in PARAM_NAMES])
    c = _fit(flat_g, flat_t)
    if c is not None and close(flat_g, c * flat_t):
        kind, message = _ratio_name(c, T)
        return [Cause(kind, message, PARAM_NAMES, c)]
    causes: list[Cause] = []
    clip = _clip_bound(g, truth, wrong)
    if clip is not None:
        bound, count = clip
        causes.append(Cause("clip", f"gradient clipping at ±{bound:g}: exactly the {count} "
                            f"elements whose true gradient exceeds {bound:g} in size differ, "
                            "and they sit at the bound", wrong, bound))
        return causes
    model_based = math.isfinite(scale)  # nan: the truth is not a multiple of the model's
    if model_based and set(wrong) <= set(HIDDEN_PARAMS) and T > 1:
        out, lags = per_lag(params, batch)
        for w in range(1, T):
            cut = {**{n: scale * v for n, v in out.items()},
                   **{n: scale * lags[n][:w].sum(axis=0) for n in HIDDEN_PARAMS}}
            if _all_close(g, cut):
                if w == 1:
                    return [Cause("no-dhnext", "dhnext is missing: each step's hidden-layer "
                                  "gradient sees only its own loss; nothing flows back in time "
                                  "(only the output layer Why, by is right)", wrong, 1.0)]
                return [Cause("truncated", f"truncated BPTT with a window of {w} steps: the "
                              f"gradient matches the sum over k <= t with t - k < {w} only "
                              f"(each loss reaches {w - 1} steps back)", wrong, float(w))]
    for kind, flags, message in VARIANTS if model_based else ():
        v = variant(params, batch, **flags)
        if _all_close(g, {n: scale * v[n] for n in PARAM_NAMES}):
            return [Cause(kind, message, wrong)]
    for n in wrong:  # one parameter at a time: scale, sign, transpose
        cn = _fit(g[n], truth[n])
        if cn is not None and close(g[n], cn * truth[n]):
            if abs(cn + 1) < 1e-6:
                causes.append(Cause("sign", f"d{n} has the wrong sign (-1 times the truth)",
                                    (n,), -1.0))
            else:
                causes.append(Cause("ratio", f"d{n} is {cn:.6g} times the truth", (n,), cn))
        elif g[n].ndim == 2 and g[n].shape[0] == g[n].shape[1] and close(g[n], truth[n].T):
            causes.append(Cause("transpose", f"d{n} is transposed: it equals the transpose "
                                "of the true gradient", (n,)))
    explained = {p for c in causes for p in c.params}
    rest = [n for n in wrong if n not in explained]
    if len(rest) == 1 and rest[0] in ("bh", "by"):
        causes.append(Cause("bias", f"only d{rest[0]} is wrong: every other gradient is right, "
                            f"so the error is in the {rest[0]} update itself", (rest[0],)))
    elif rest and set(rest) <= set(HIDDEN_PARAMS) and not causes:
        causes.append(Cause("hidden", "the output layer (Why, by) is right and the hidden "
                            f"layer ({', '.join(rest)}) is wrong: look at dh, dhraw and dhnext",
                            tuple(rest)))
    elif rest and not causes:
        causes.append(Cause("unknown", f"no known pattern fits; wrong: {', '.join(rest)}",
                            tuple(rest)))
    return causes


def _clip_bound(g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
                wrong: tuple[str, ...]) -> tuple[float, int] | None:
    """(bound, elements) when the differences are exactly gradient clipping."""
    bounds, count = [], 0
    for n in wrong:
        rel = rel_error(g[n], truth[n], FLOOR)
        diff = rel > ELEMENT_RTOL
        vals = np.abs(g[n][diff])
        if vals.size == 0:
            return None
        b = float(vals.max())
        if not np.allclose(vals, b, rtol=1e-12, atol=0):
            return None
        if not (np.abs(truth[n][diff]) > b).all():
            return None
        if not (np.sign(g[n][diff]) == np.sign(truth[n][diff])).all():
            return None
        bounds.append(b)
        count += int(diff.sum())
    if not bounds or not np.allclose(bounds, bounds[0], rtol=1e-12):
        return None
    b = bounds[0]
    for n in PARAM_NAMES:  # every element beyond the bound must have been clipped
        beyond = np.abs(truth[n]) > b * (1 + 1e-9)
        if beyond.any() and not np.allclose(np.abs(g[n][beyond]), b, rtol=1e-12, atol=0):
            return None
    return b, count


def disagreeing_steps(theirs: np.ndarray, ref: np.ndarray) -> tuple[int, ...]:
    """Loss steps t whose share dL_t/dtheta differs: arrays (T, *shape), one parameter."""
    return tuple(int(t) for t in range(ref.shape[0]) if not close(theirs[t], ref[t]))
