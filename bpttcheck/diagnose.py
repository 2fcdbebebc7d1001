"""Name the likely cause of a wrong gradient from measured properties of its error.

Given the user's gradient g and the true gradient of their loss (the reference
BPTT, times a constant when their loss is a constant multiple of the spec's),
the difference D = g - truth is measured, and a cause is named only when a
measurement reproduces g exactly, never by guessing. "Exactly" is
:func:`fit_tolerance`: DIAG_RTOL norm-wise, or FIT_SHARE of the error itself when
the error is small (a slip at one step of a tiny gradient), never below
ROUNDING. In order, first fit wins:

- **pinned values**: every element of the wrong parameters is one constant
  (``-5`` everywhere: a clip to (-5, -5), or a constant), zero, or +-c;
- **a constant ratio** c on every gradient: c = T or 1/T (mean loss, summed
  gradient), ln 2 (bits vs nats), -1 (a sign flip), anything else;
- **gradient clipping** at a bound c: exactly the elements whose true value
  exceeds c in size differ, and they sit at +-c;
- **truncated BPTT** with window w (:func:`per_lag`; w = 1 is ``dhnext``
  missing);
- **named slips** in the tutorial's loop, each recomputed exactly
  (:func:`variant`): the tanh derivative missing, h_t for h_{t-1}, Whh for
  Whh.T, dhnext before the tanh derivative, dy without the -1, the backward
  loop run forwards in time, an index shift t+-1 in the targets or inputs;
- **skipped steps**: a backward loop visiting only steps lo..hi (:func:`visited`);
- **one parameter**: a ratio (one cause when several share it), a sign, a
  transpose, or exactly one step's term;
- **where the error enters** (:func:`decompose`), when the hidden layer is
  wrong. The output-layer gradients are sums over steps, dWhy = sum_t dy_t h_t^T
  and dby = sum_t dy_t, so their errors determine the error in each step's dy_t
  (a small least-squares solve, exact when T <= H + 1); likewise dbh, dWhh and
  dWxh determine the error in each step's dhraw_k. Subtracting what the
  recursion carries back from later steps leaves the *source* of the error at
  each step. From these: loss steps weighted by their target class or input;
  dy from the softmax of another step, or scaled, or off by a one-hot that
  follows the targets; a single step wrong (the first or the last, with the
  tanh derivative it used); what dhnext carried (a multiple, a running sum);
  the form of the tanh derivative used (a + b h^2, a + b h, another step's h);
  values stored one step off; or, failing all, where and how big the error is;
- **a line by its upstream**: dWxh wrong with dbh right means dhraw is right, so
  the dWxh line itself is wrong (dby right: dy is right);
- otherwise a description of what was measured (:func:`_measured`).

A separate check, :func:`ignored_parameters`, compares the returned gradient
with the numerical derivative of the user's own loss: a parameter the loss does
not depend on but whose gradient is non-zero.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np

from .compare import norm_rel_error, rel_error
from .engines.reference import contributions
from .model import HIDDEN_PARAMS, PARAM_NAMES, Batch, Forward, Params, forward, with_biases
from .prose import join_names, plural

DIAG_RTOL = 1e-6  # a hypothesis fits when it reproduces g to this norm-wise relative error
ELEMENT_RTOL = 1e-6  # per element: "this element differs" for the clipping pattern
FLOOR = 1e-4  # same role as the spec's floor: tiny entries judged on the parameter's scale
WRONG_RTOL = 1e-10  # a parameter is wrong beyond this norm-wise error (rounding is ~1e-15)
ROUNDING = 1e-12  # no fit is asked to be more exact than this
FIT_SHARE = 1e-3  # a decomposition is exact when its residual is below this share of D too
OUTPUT_PARAMS = ("Why", "by")


@dataclasses.dataclass(frozen=True)
class Cause:
    """A named cause: ``kind`` is a stable id, ``message`` the sentence for people.

    ``params`` are the parameters it is about, ``steps`` the time steps it names
    (empty when it is about every step) and ``value`` its number (a ratio, a
    bound, a window, a constant).
    """

    kind: str
    message: str
    params: tuple[str, ...] = ()
    value: float | None = None
    steps: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "message": self.message, "params": list(self.params),
                "value": self.value, "steps": list(self.steps)}


def close(a: np.ndarray, b: np.ndarray, tol: float = DIAG_RTOL) -> bool:
    return norm_rel_error(np.asarray(a), np.asarray(b)) <= tol


def _present(g: Mapping[str, np.ndarray]) -> tuple[str, ...]:
    """The parameters ``g`` has: all five, or a bias-free model's Wxh, Whh and Why."""
    return tuple(n for n in PARAM_NAMES if n in g)


def _all_close(g: Mapping[str, np.ndarray], h: Mapping[str, np.ndarray], tol: float) -> bool:
    return all(close(g[n], h[n], tol) for n in _present(g))


def fit_tolerance(g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray]) -> float:
    """How exactly a hypothesis must reproduce g: DIAG_RTOL, or FIT_SHARE of the error
    itself when the error is small (a bug at one step of a tiny gradient), never below
    rounding (ROUNDING)."""
    flat_g = np.concatenate([np.ravel(g[n]) for n in _present(g)])
    flat_t = np.concatenate([np.ravel(truth[n]) for n in _present(g)])
    return max(min(DIAG_RTOL, FIT_SHARE * norm_rel_error(flat_g, flat_t)), ROUNDING)


def _output_layer(g: Mapping[str, np.ndarray]) -> str:
    """``Why, by``, or ``Why`` for a bias-free model: the output layer's parameters."""
    return ", ".join(n for n in OUTPUT_PARAMS if n in g)


def _d(names: Sequence[str]) -> str:
    """``dWxh and dbh``."""
    return join_names([f"d{n}" for n in names])


def _steps_text(steps: Sequence[int]) -> str:
    """``0..3, 7`` for sorted steps."""
    runs: list[str] = []
    i = 0
    steps = list(steps)
    while i < len(steps):
        j = i
        while j + 1 < len(steps) and steps[j + 1] == steps[j] + 1:
            j += 1
        runs.append(str(steps[i]) if i == j else f"{steps[i]}..{steps[j]}")
        i = j + 1
    return ", ".join(runs)


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
    steps = {n: np.zeros((batch.seq, *p.shape)) for n, p in with_biases(params).items()}
    for t in range(batch.seq):
        dy = fw.ps[t].copy()
        dy[batch.targets[t]] -= 1
        steps["Why"][t] = np.outer(dy, fw.hs[t])
        steps["by"][t, :, 0] = dy
    for t, k, da in contributions(params, fw, batch):
        steps["Whh"][t] += np.outer(da, fw.h_before(k))
        steps["Wxh"][t][:, batch.inputs[k]] += da
        steps["bh"][t][:, 0] += da
    return {n: v for n, v in steps.items() if n in params}  # a bias-free model: no bh, by


def variant(params: Params, batch: Batch, *, tanh_grad: bool = True, prev_state: bool = True,
            transpose: bool = True, after_tanh: bool = True, subtract_one: bool = True,
            backwards: bool = True, target_shift: int = 0,
            input_shift: int = 0) -> dict[str, np.ndarray]:
    """The tutorial's backward pass with one slip switched on (defaults: correct).

    ``backwards=False`` runs the loop t = 0..T-1; a shift s reads ``targets[t+s]``
    or ``inputs[t+s]`` (Python's indexing: -1 is the last step; past the end wraps).
    """
    fw = forward(params, batch)
    Whh, Why = params["Whh"], params["Why"]
    T = batch.seq
    g = {n: np.zeros_like(p) for n, p in params.items()}
    dhnext = np.zeros(Whh.shape[0])
    for t in reversed(range(T)) if backwards else range(T):
        dy = fw.ps[t].copy()
        if subtract_one:
            dy[batch.targets[(t + target_shift) % T]] -= 1  # backprop into y
        g["Why"] += np.outer(dy, fw.hs[t])
        g["by"][:, 0] += dy
        dh = Why.T @ dy + dhnext  # backprop into h
        dhraw = (1 - fw.hs[t] ** 2) * dh if tanh_grad else dh  # through tanh
        g["bh"][:, 0] += dhraw
        g["Wxh"][:, batch.inputs[(t + input_shift) % T]] += dhraw
        g["Whh"] += np.outer(dhraw, fw.h_before(t) if prev_state else fw.hs[t])
        carried = dhraw if after_tanh else dh
        dhnext = Whh.T @ carried if transpose else Whh @ carried  # to the next step visited
    return g


VARIANTS: tuple[tuple[str, dict[str, bool | int], str], ...] = (
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
    ("loop-direction", {"backwards": False},
     "the backward loop runs forwards in time (t = 0, 1, ..., T-1): dhnext then carries step "
     "t-1's gradient into step t, the reverse of BPTT; loop over reversed(range(T))"),
    ("target-shift", {"target_shift": -1},
     "dy subtracts 1 at targets[t-1] instead of targets[t]: the error follows the targets "
     "shifted one step back"),
    ("target-shift", {"target_shift": 1},
     "dy subtracts 1 at targets[t+1] instead of targets[t]: the error follows the targets "
     "shifted one step ahead"),
    ("input-shift", {"input_shift": -1},
     "dWxh accumulates into column inputs[t-1] instead of inputs[t]: the error follows the "
     "inputs shifted one step back"),
    ("input-shift", {"input_shift": 1},
     "dWxh accumulates into column inputs[t+1] instead of inputs[t]: the error follows the "
     "inputs shifted one step ahead"),
)


def visited(params: Params, batch: Batch, lo: int, hi: int,
            output_everywhere: bool) -> dict[str, np.ndarray]:
    """The tutorial's backward pass visiting only steps hi, hi-1, ..., lo.

    ``output_everywhere``: dWhy and dby still sum over every step (a vectorised
    pass computes them outside the loop), and so does Why^T dy in dh.
    """
    fw = forward(params, batch)
    Whh, Why = params["Whh"], params["Why"]
    g = {n: np.zeros_like(p) for n, p in params.items()}
    dys = fw.ps.copy()
    dys[np.arange(batch.seq), list(batch.targets)] -= 1
    dhnext = np.zeros(Whh.shape[0])
    for t in reversed(range(batch.seq)):
        if output_everywhere or lo <= t <= hi:
            g["Why"] += np.outer(dys[t], fw.hs[t])
            g["by"][:, 0] += dys[t]
        if not lo <= t <= hi:
            continue
        dhraw = (1 - fw.hs[t] ** 2) * (Why.T @ dys[t] + dhnext)
        g["bh"][:, 0] += dhraw
        g["Wxh"][:, batch.inputs[t]] += dhraw
        g["Whh"] += np.outer(dhraw, fw.h_before(t))
        dhnext = Whh.T @ dhraw
    return g


def _skipped_steps(g: Mapping[str, np.ndarray], params: Params, batch: Batch,
                   scale: float, tol: float) -> Cause | None:
    """A backward loop that misses steps at either end of the sequence."""
    T = batch.seq
    windows = [(0, hi) for hi in range(T - 1)] + [(lo, T - 1) for lo in range(1, T)]
    for lo, hi in windows:
        for everywhere in (False, True):
            v = visited(params, batch, lo, hi, everywhere)
            if _all_close(g, {n: scale * v[n] for n in PARAM_NAMES}, tol):
                missed = tuple(t for t in range(T) if not lo <= t <= hi)
                ends = [name for name, k in (("t = 0", 0), (f"t = T-1 = {T - 1}", T - 1))
                        if k in missed]
                what = "dhraw" + ("" if everywhere else " and dy")
                return Cause("skipped-steps", f"the backward loop visits only steps t = "
                             f"{_steps_text(tuple(range(lo, hi + 1)))}: {what} at steps "
                             f"{_steps_text(missed)} never reach the gradient; it misses "
                             f"{join_names(ends)}; check the loop's range", (), float(len(missed)),
                             missed)
    return None


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


def _swapped(g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
             wrong: tuple[str, ...], tol: float,
             order: Sequence[str] | None = None) -> Cause | None:
    """Same-shaped gradients returned in each other's places (dWxh and dWhy when hidden
    equals vocab, or dbh and dby): each wrong one is exactly another's truth, and together
    they are a permutation. ``order``: the --impl-order the gradients were read in (our
    names, slot by slot; None: ours), so the order suggested is the one that reads them
    right, not a step from ours."""
    moved: dict[str, str] = {}  # a -> b: the gradient labelled a is the true d{b}
    for a in wrong:
        fits = [b for b in wrong if b != a and g[a].shape == g[b].shape
                and close(g[a], truth[b], tol)]
        if len(fits) != 1:
            return None
        moved[a] = fits[0]
    if sorted(moved.values()) != sorted(wrong):
        return None
    slots = list(order) if order is not None else list(_present(g))
    fixed = [moved.get(n, n) for n in slots]
    pairs = "; ".join(f"your d{a} is exactly the true d{b}" for a, b in moved.items())
    what = (f"d{wrong[0]} and d{wrong[1]} are swapped" if len(wrong) == 2
            else f"{_d(wrong)} are returned in each other's places")
    return Cause("order", f"{what}: {pairs}; if your function returns them in another order, "
                 "give it with --impl-order " + ",".join(f"d{n}" for n in fixed), wrong)


def diagnose(g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray], params: Params,
             batch: Batch, scale: float = 1.0, rounding: float = 0.0,
             order: Sequence[str] | None = None) -> list[Cause]:
    """Likely causes, best first ([] when g matches the truth).

    ``rounding``: the norm-wise relative error that rounding alone leaves in a correct
    gradient computed as theirs is (float32 code: measured on the model run in float32;
    0 for float64). A hypothesis fits to within it, and a parameter is wrong beyond it.
    ``order``: the --impl-order the gradients were read in, for the order a swap suggests.

    ``truth`` is the gradient of the user's own loss; ``scale`` is that loss
    over the spec loss, so the model-based hypotheses are ``scale`` times the
    spec's gradients (``nan``: their loss is another model's, or only sampled
    elements are given as flat arrays; only truth-based patterns are tried).
    When no pattern fits, the one cause returned describes what was measured.
    """
    names = _present(g)  # a bias-free model: its hypotheses run with bh = by = 0
    params = with_biases(params) if len(names) < len(PARAM_NAMES) else params
    if not all(np.isfinite(g[n]).all() for n in names):
        return [Cause("nonfinite", "the gradient contains NaN or inf")]
    wrong = tuple(n for n in names if not close(g[n], truth[n], max(WRONG_RTOL, rounding)))
    if not wrong:
        return []
    tol = max(fit_tolerance(g, truth), rounding)
    T = batch.seq
    swapped = _swapped(g, truth, wrong, tol, order)
    if swapped is not None:
        return [swapped]
    pinned = _pinned(g, truth, wrong)
    if pinned is not None:
        return [pinned]
    # One constant on everything.
    flat_g = np.concatenate([g[n].ravel() for n in names])
    flat_t = np.concatenate([truth[n].ravel() for n in names])
    c = _fit(flat_g, flat_t)
    if c is not None and close(flat_g, c * flat_t, tol) and abs(c - 1) > 1e-9:
        kind, message = _ratio_name(c, T)
        return [Cause(kind, message, names, c)]
    clip = _clip_bound(g, truth, wrong)
    if clip is not None:
        bound, count = clip
        return [Cause("clip", f"gradient clipping at ±{bound:g}: exactly the "
                      f"{plural(count, 'element')} whose true gradient exceeds {bound:g} in "
                      "size differ, and they sit at the bound", wrong, bound)]
    model_based = math.isfinite(scale)  # nan: the truth is not a multiple of the model's
    if model_based and set(wrong) <= set(HIDDEN_PARAMS) and T > 1:
        out, lags = per_lag(params, batch)
        for w in range(1, T):
            cut = {**{n: scale * v for n, v in out.items()},
                   **{n: scale * lags[n][:w].sum(axis=0) for n in HIDDEN_PARAMS}}
            if _all_close(g, cut, tol):
                if w == 1:
                    return [Cause("no-dhnext", "dhnext is missing: each step's hidden-layer "
                                  "gradient sees only its own loss; nothing flows back in time "
                                  f"(only the output layer {_output_layer(g)} is right)",
                                  wrong, 1.0)]
                return [Cause("truncated", f"truncated BPTT with a window of {w} steps: the "
                              f"gradient matches the sum over k <= t with t - k < {w} only "
                              f"(each loss reaches {w - 1} steps back)", wrong, float(w))]
    for kind, flags, message in VARIANTS if model_based else ():
        v = variant(params, batch, **flags)  # type: ignore[arg-type]
        if _all_close(g, {n: scale * v[n] for n in PARAM_NAMES}, tol):
            return [Cause(kind, message, wrong)]
    skipped = _skipped_steps(g, params, batch, scale, tol) if model_based and T > 1 else None
    if skipped is not None:
        return [dataclasses.replace(skipped, params=wrong)]
    causes = _one_parameter(g, truth, wrong, tol)
    # The per-step decomposition solves for bias rows too: not for a bias-free model.
    fw = forward(params, batch) if model_based and len(names) == len(PARAM_NAMES) else None
    if fw is not None and not causes:
        found = _decomposed(g, truth, wrong, params, batch, fw, scale, tol)
        if found is not None:
            return [found]
        causes = _step_terms(g, truth, wrong, params, batch, fw, scale, tol)
    explained = {p for c in causes for p in c.params}
    rest = tuple(n for n in wrong if n not in explained)
    if not rest:
        return causes
    right = [n for n in names if n not in rest]
    if len(rest) == 1 and rest[0] in ("bh", "by"):
        others = _d(right)
        causes.append(Cause("bias", f"only d{rest[0]} is wrong: {others} are right, so the "
                            f"error is in the {rest[0]} update itself", (rest[0],)))
    else:
        line = _line_by_upstream(rest, right)
        causes.append(line if line is not None else _measured(g, truth, rest, right))
    return causes


def _pinned(g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
            wrong: tuple[str, ...]) -> Cause | None:
    """Every wrong parameter's gradient is one value, zero, or +-one magnitude.

    Zero includes rounding's zero: a gradient no larger than ``ROUNDING`` times the true
    one (``-4e-16`` everywhere, say, from summing a softmax gradient over the vocabulary)
    is zero computed inexactly, not a constant someone chose."""
    if all(np.max(np.abs(g[n])) <= ROUNDING * np.max(np.abs(truth[n])) for n in wrong):
        names = _d(wrong)
        largest = max(float(np.max(np.abs(g[n]))) for n in wrong)
        return Cause("zero", f"{names} {'is' if len(wrong) == 1 else 'are'} zero everywhere"
                     + (f" up to rounding (at most {largest:.1e})" if largest else "")
                     + ": the gradient is never accumulated into, is reset after the loop, or "
                     "sums to zero (as a softmax gradient summed over the vocabulary does)",
                     wrong, 0.0)
    values = []
    for n in wrong:
        v = g[n].ravel()
        if v.size < 2 or not np.all(np.abs(v) == abs(v[0])):
            return None
        values.append(float(v[0]) if np.all(v == v[0]) else None)
    names = _d(wrong)
    if all(v is not None for v in values):
        distinct = sorted({v for v in values if v is not None})
        if len(distinct) == 1:
            c = distinct[0]
            return Cause("constant", f"every element of {names} is {c:g}, whatever the true "
                         f"gradient: a clip with equal bounds (np.clip(d, {c:g}, {c:g})) or a "
                         "constant assigned in place of the gradient", wrong, c)
        listed = ", ".join(f"d{n} = {v:g}" for n, v in zip(wrong, values, strict=True))
        return Cause("constant", f"each of {names} is one constant in every element "
                     f"({listed}), whatever the true gradient", wrong)
    mags = {float(abs(g[n].ravel()[0])) for n in wrong}
    if len(mags) != 1:
        return None
    c = mags.pop()
    agrees = all(np.all(np.sign(g[n]) == np.sign(truth[n])) for n in wrong)
    how = ("with the true gradient's sign: only the sign survives (c * np.sign(d), or a clip "
           "whose bounds every element exceeds)") if agrees else "whatever the true gradient"
    return Cause("constant", f"every element of {names} is +{c:g} or -{c:g}, {how}", wrong, c)


def _one_parameter(g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
                   wrong: tuple[str, ...], tol: float) -> list[Cause]:
    """Per parameter: a constant ratio, a sign, a transpose."""
    causes = []
    for n in wrong:
        cn = _fit(g[n], truth[n])
        if cn is not None and close(g[n], cn * truth[n], tol):
            if abs(cn + 1) < 1e-6:
                causes.append(Cause("sign", f"d{n} has the wrong sign (-1 times the truth)",
                                    (n,), -1.0))
            elif abs(cn) < 1e-12:
                causes.append(Cause("zero", f"d{n} is zero everywhere: it is never "
                                    "accumulated into, or reset after the loop", (n,), 0.0))
            else:
                causes.append(Cause("ratio", f"d{n} is {cn:.6g} times the truth: a constant "
                                    f"factor on the line that computes d{n}", (n,), cn))
        elif g[n].ndim == 2 and g[n].shape[0] == g[n].shape[1] and close(g[n], truth[n].T,
                                                                          tol):
            causes.append(Cause("transpose", f"d{n} is transposed: it equals the transpose "
                                "of the true gradient", (n,)))
    return _merge_ratios(causes)


def _merge_ratios(causes: list[Cause]) -> list[Cause]:
    """Several parameters off by the same factor: one cause naming them all."""
    groups: dict[tuple[str, float], list[Cause]] = {}
    for c in causes:
        if c.kind in ("ratio", "sign", "zero") and c.value is not None:
            groups.setdefault((c.kind, round(c.value, 6)), []).append(c)
    out = []
    for c in causes:
        group = groups.get((c.kind, round(c.value, 6))) if c.value is not None else None
        if group is None or len(group) == 1:
            out.append(c)
        elif group[0] is c:
            names = tuple(p for g in group for p in g.params)
            hidden = set(names) == set(HIDDEN_PARAMS)
            where = ("the hidden layer's gradient is scaled as a whole: a factor on dh or dhraw"
                     if hidden else "a factor shared by those lines")
            what = {"sign": "has the wrong sign (-1 times the truth)",
                    "zero": "is zero everywhere"}.get(c.kind, f"is {c.value:.6g} times the truth")
            out.append(Cause(c.kind, f"each of {_d(names)} {what}: {where}", names, c.value))
    return out


@dataclasses.dataclass(frozen=True)
class _True:
    """The true per-step quantities of the tutorial's backward pass (times ``scale``)."""

    dy: np.ndarray  # (T, V)
    dh: np.ndarray  # (T, H)
    dhraw: np.ndarray  # (T, H)
    terms: dict[str, np.ndarray]  # terms[name][k]: what step k adds to dname


def _truth_steps(params: Params, batch: Batch, fw: Forward, scale: float) -> _True:
    Whh, Why = params["Whh"], params["Why"]
    T, H = fw.hs.shape
    dys = fw.ps.copy()
    dys[np.arange(T), list(batch.targets)] -= 1
    dys *= scale
    dh, dhraw = np.zeros((T, H)), np.zeros((T, H))
    terms = {n: np.zeros((T, *p.shape)) for n, p in params.items()}
    dhnext = np.zeros(H)
    for t in reversed(range(T)):
        dh[t] = Why.T @ dys[t] + dhnext  # backprop into h
        dhraw[t] = (1 - fw.hs[t] ** 2) * dh[t]  # through tanh
        dhnext = Whh.T @ dhraw[t]  # to step t-1
        terms["Why"][t] = np.outer(dys[t], fw.hs[t])
        terms["by"][t, :, 0] = dys[t]
        terms["bh"][t, :, 0] = dhraw[t]
        terms["Wxh"][t][:, batch.inputs[t]] = dhraw[t]
        terms["Whh"][t] = np.outer(dhraw[t], fw.h_before(t))
    return _True(dys, dh, dhraw, terms)


def _step_terms(g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
                wrong: tuple[str, ...], params: Params, batch: Batch, fw: Forward,
                scale: float, tol: float) -> list[Cause]:
    """A parameter off by a multiple of one step's term, or holding one step's term only."""
    true = _truth_steps(params, batch, fw, scale)
    T = batch.seq
    causes = []
    for n in wrong:
        D = g[n] - truth[n]
        for k in _boundary_first(T):
            term = true.terms[n][k]
            a = _fit(g[n], term)
            if a is not None and close(g[n], a * term, tol) and T > 1:
                times = "" if abs(a - 1) < 1e-6 else f" ({a:.6g} times it)"
                causes.append(Cause("step-term", f"d{n} holds step t = {k}'s term only{times}: "
                                    "the other steps are lost; is it assigned (=) where it "
                                    "should accumulate (+=), or reset inside the loop?",
                                    (n,), a, (k,)))
                break
            a = _fit(D, term)
            if a is not None and close(g[n], truth[n] + a * term, tol):
                what = ("missing" if abs(a + 1) < 1e-6 else "counted twice" if abs(a - 1) < 1e-6
                        else f"counted {1 + a:.6g} times")
                causes.append(Cause("step-term", f"d{n} is right except at step t = {k} "
                                    f"({_boundary_name(k, T)}), whose term is {what}",
                                    (n,), 1 + a, (k,)))
                break
    return causes


def _boundary_first(T: int) -> list[int]:
    """Steps to try, the sequence boundaries first."""
    return list(dict.fromkeys([0, T - 1, *range(1, T - 1)]))


def _boundary_name(k: int, T: int) -> str:
    if k == T - 1:
        return "the last step, the first iteration of the backward loop"
    if k == 0:
        return "the first step, the last iteration of the backward loop"
    return "an inner step"


@dataclasses.dataclass(frozen=True)
class Decomposition:
    """Where the error enters: per-step errors of dy and dhraw, and their sources."""

    dy_error: np.ndarray | None  # (T, V) or None when the output-layer error is not of that form
    dhraw_error: np.ndarray | None  # (T, H) or None likewise
    source: np.ndarray | None  # (T, H): dhraw error not carried back from later steps or dy


def _solve(M: np.ndarray, B: np.ndarray, ref: float, tol: float) -> np.ndarray | None:
    """X with M X = B exactly (to ``tol`` of ``ref`` and FIT_SHARE of B), else None."""
    if np.linalg.matrix_rank(M) < M.shape[1]:
        return None  # more steps than equations: not identifiable
    X, *_ = np.linalg.lstsq(M, B, rcond=None)
    res = float(np.linalg.norm(M @ X - B))
    size = float(np.linalg.norm(B))
    if res <= tol * ref and (size <= tol * ref or res <= FIT_SHARE * size):
        return np.asarray(X)
    return None


def decompose(g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray], params: Params,
              batch: Batch, fw: Forward, tol: float = DIAG_RTOL) -> Decomposition:
    """Measure the per-step errors of dy and dhraw that explain D = g - truth, if any do.

    dWhy = sum_t dy_t h_t^T and dby = sum_t dy_t: for output unit j the errors
    e_t = err(dy_t)[j] solve [1; h_t] e = [D_by[j]; D_Why[j, :]], one equation
    per row, T unknowns. dbh, dWhh and dWxh give the same for dhraw_k with the
    columns [1; h_{k-1}; x_k]. The source at step k is the dhraw error not
    explained by the recursion: err(dhraw_k) - (1 - h_k^2) * (Why^T err(dy_k) +
    Whh^T err(dhraw_{k+1})).
    """
    T = batch.seq
    V = params["Why"].shape[0]
    D = {n: g[n] - truth[n] for n in PARAM_NAMES}
    M_out = np.vstack([np.ones((1, T)), fw.hs.T])  # (1+H, T)
    B_out = np.vstack([D["by"][:, 0][None, :], D["Why"].T])  # (1+H, V)
    ref_out = math.hypot(*(float(np.linalg.norm(truth[n])) for n in OUTPUT_PARAMS))
    dy_err = _solve(M_out, B_out, ref_out, tol)
    onehot = np.zeros((V, T))
    onehot[list(batch.inputs), np.arange(T)] = 1
    M_hid = np.vstack([np.ones((1, T)), fw.hs_before.T, onehot])  # (1+H+V, T)
    B_hid = np.vstack([D["bh"][:, 0][None, :], D["Whh"].T, D["Wxh"].T])  # (1+H+V, H)
    ref_hid = math.hypot(*(float(np.linalg.norm(truth[n])) for n in HIDDEN_PARAMS))
    dhraw_err = _solve(M_hid, B_hid, ref_hid, tol)
    source = None
    if dy_err is not None and dhraw_err is not None:
        Whh, Why = params["Whh"], params["Why"]
        source = np.zeros_like(dhraw_err)
        carried = np.zeros(Whh.shape[0])
        for k in reversed(range(T)):
            source[k] = dhraw_err[k] - (1 - fw.hs[k] ** 2) * (Why.T @ dy_err[k] + carried)
            carried = Whh.T @ dhraw_err[k]
    return Decomposition(dy_err, dhraw_err, source)


def _significant(err: np.ndarray, true: np.ndarray, tol: float) -> tuple[int, ...]:
    """Steps whose error row is above ``tol`` of the largest true row."""
    top = float(np.abs(true).max(initial=0.0))
    if top == 0:
        return ()
    norms = np.linalg.norm(err, axis=1)
    return tuple(int(k) for k in np.flatnonzero(norms > tol * top * math.sqrt(err.shape[1])))


def _decomposed(g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
                wrong: tuple[str, ...], params: Params, batch: Batch, fw: Forward,
                scale: float, tol: float) -> Cause | None:
    """A cause from :func:`decompose`: where in time the error enters, and through what.

    Only when the hidden layer is wrong: dy feeds dh, so a dy error with a right
    hidden layer is no explanation (a wrong h factor in dWhy, paired with the step
    before, is indistinguishable from a shifted dy in dWhy alone).
    """
    if not set(wrong) & set(HIDDEN_PARAMS):
        return None
    T = batch.seq
    true = _truth_steps(params, batch, fw, scale)
    dec = decompose(g, truth, params, batch, fw, tol)
    if dec.dy_error is None or dec.dhraw_error is None or dec.source is None:
        return None
    dy_steps = _significant(dec.dy_error, true.dy, tol)
    src_steps = _significant(dec.source, true.dhraw, tol)
    if dy_steps and not src_steps:
        weighted = _weights(dec.dy_error, true.dy, dy_steps, batch, wrong, tol)
        if weighted is not None:
            return weighted
        softmax = _dy_softmax(true.dy + dec.dy_error, fw, batch, scale, wrong, tol)
        if softmax is not None:
            return softmax
        return _dy_pattern(dec.dy_error, dy_steps, batch, wrong)
    steps = tuple(sorted(set(dy_steps) | set(src_steps)))
    if len(steps) == 1:
        k = steps[0]
        where = _boundary_name(k, T)
        parts = []
        if dy_steps:
            parts.append(f"dy at t = {k}")
        if src_steps:
            parts.append(f"dhraw at t = {k} (beyond what dhnext carries back)")
            parts.append(_derivative_used(dec, true, fw, k, tol))
        parts = [p for p in parts if p]
        return Cause("single-step", f"only step t = {k} ({where}) is wrong: the error enters "
                     f"through {'; '.join(parts)}; every other step's own contribution is "
                     "right and is carried back correctly", wrong, float(k), (k,))
    carry = _carry(dec, true, params, fw, wrong, tol) if src_steps else None
    if carry is not None:
        return carry
    derivative = _derivative_form(dec, true, params, fw, wrong, tol) if src_steps else None
    if derivative is not None:
        return derivative
    stored = _stored_off(dec, true, wrong, tol) if src_steps or dy_steps else None
    if stored is not None:
        return stored
    shift = _derivative_shift(dec, true, params, fw, tol) if src_steps else None
    if shift is not None:
        a, b = (f"hs[t{x:+d}]".replace("+0", "") for x in shift)
        used = f"{a}**2" if a == b else f"{a} * {b}"
        return Cause("derivative-index", f"the tanh derivative uses the wrong step's h: "
                     f"dhraw = (1 - {used}) * dh should be (1 - hs[t]**2) * dh; measured from "
                     "the dhraw each step must have used", wrong, float(shift[0]), src_steps)
    if not dy_steps and src_steps:
        rel = [float(np.linalg.norm(dec.dhraw_error[k]) /
                     max(float(np.linalg.norm(true.dhraw[k])), 1e-300)) for k in range(T)]
        trend = _trend(rel)
        hidden = join_names([n for n in wrong if n in HIDDEN_PARAMS])
        at = _steps_text(_significant(dec.dhraw_error, true.dhraw, tol))
        return Cause("hidden", f"the output layer ({_output_layer(g)}) is right and the "
                     f"hidden layer ({hidden}) is wrong: dhraw is wrong at steps {at}, and the "
                     f"error enters at steps {_steps_text(src_steps)} beyond what "
                     f"dhnext carries back; its relative size per step{trend}: look at the "
                     "lines computing dh, dhraw and dhnext", wrong, None, src_steps)
    return None


def _trend(rel: list[float]) -> str:
    """`` grows toward the early steps (0.01 at t = 9 to 2.3 at t = 0)`` or a range."""
    T = len(rel)
    if T < 3:
        return f" is {', '.join(f'{r:.2g}' for r in rel)}"
    ups = sum(rel[k] > rel[k + 1] for k in range(T - 1))
    span = f"{rel[T - 1]:.2g} at t = {T - 1} to {rel[0]:.2g} at t = 0"
    if ups >= 0.8 * (T - 1) and rel[0] > 2 * rel[T - 1]:
        return f" grows toward the early steps ({span})"
    if ups <= 0.2 * (T - 1) and rel[T - 1] > 2 * rel[0]:
        return f" grows toward the late steps ({span})"
    worst = int(np.argmax(rel))
    return f" is largest at t = {worst} ({rel[worst]:.2g})"


def _user_steps(dec: Decomposition, true: _True) -> tuple[np.ndarray, np.ndarray]:
    """Their dy_t and dhraw_t, from the truth and the measured errors."""
    assert dec.dy_error is not None and dec.dhraw_error is not None
    return true.dy + dec.dy_error, true.dhraw + dec.dhraw_error


def _carry(dec: Decomposition, true: _True, params: Params, fw: Forward,
           wrong: tuple[str, ...], tol: float) -> Cause | None:
    """What dhnext carried into each step, if the tanh derivative is right.

    Their dh_t = dhraw_t / (1 - h_t^2); minus Why^T dy_t it leaves what they
    carried in from step t+1, compared with Whh^T dhraw_{t+1} (right), a multiple
    of it, and the running sum over all later steps (``dhnext +=``).
    """
    dy_u, du = _user_steps(dec, true)
    Whh, Why = params["Whh"], params["Why"]
    T = len(fw.hs)
    deriv = 1 - fw.hs ** 2
    if float(deriv.min(initial=1.0)) < 1e-6:
        return None  # saturated units: dh cannot be read back from dhraw
    carried = du / deriv - dy_u @ Why  # (T, H): row t is dh_t - Why^T dy_t
    right = np.zeros_like(du)
    right[:-1] = du[1:] @ Whh  # row t: Whh^T dhraw_{t+1}
    summed = np.cumsum(right[::-1], axis=0)[::-1]  # row t: sum over all later steps
    ref = float(np.linalg.norm(right))
    if ref == 0 or T < 2:
        return None
    if close(carried, summed, tol) and not close(summed, right, tol):
        return Cause("dhnext", "dhnext accumulates: what is carried into step t is the sum "
                     "of Whh.T @ dhraw over every later step, not only t+1's; "
                     "dhnext += ... should be dhnext = ...", wrong)
    a = _fit(carried, right)
    for s in (-1, 1):  # dh_t built from dy of the step before or after: a read one step off
        local = np.roll(dy_u, -s, axis=0) @ Why  # row t: Why^T dy_{t+s} (Python's wrap)
        if s == 1:
            local[-1] = 0.0  # dy[T] does not exist: a guarded read adds nothing
        if close(du / deriv, local + right, tol):
            return Cause("step-shift", f"dh at step t uses dy from step t{s:+d}: dh = Why.T @ "
                         f"dy[t{s:+d}] + dhnext should read dy[t]; measured from the dh each "
                         "step must have used", wrong, float(s))
    if a is not None and close(carried, a * right, tol) and abs(a - 1) > 1e-6:
        what = ("nothing: dhnext is never added to dh" if abs(a) < 1e-6
                else "the negative of it (a sign slip in dh = ... + dhnext)" if abs(a + 1) < 1e-6
                else f"{a:.6g} times it")
        return Cause("dhnext", "dhnext, the gradient carried into step t from step t+1, "
                     f"should be Whh.T @ dhraw[t+1]; measured at every step it is {what}",
                     wrong, a)
    return None


def _derivative_form(dec: Decomposition, true: _True, params: Params, fw: Forward,
                     wrong: tuple[str, ...], tol: float) -> Cause | None:
    """The tanh derivative they used, if dh is right: fitted as a + b h^2 or a + b h."""
    dy_u, du = _user_steps(dec, true)
    Whh, Why = params["Whh"], params["Why"]
    dh = dy_u @ Why
    dh[:-1] += du[1:] @ Whh  # their dh_t if the carry is right
    ok = np.abs(dh) > 1e-8 * float(np.abs(dh).max(initial=0.0))
    if int(ok.sum()) < 3:
        return None
    used = du[ok] / dh[ok]
    h = fw.hs[ok]
    for power, form in ((2, "h^2"), (1, "h")):
        basis = np.stack([np.ones_like(h), h ** power], axis=1)
        (a, b), *_ = np.linalg.lstsq(basis, used, rcond=None)
        if close(used, basis @ np.array([a, b]), tol) and not (
                power == 2 and abs(a - 1) < 1e-6 and abs(b + 1) < 1e-6):
            a, b = (0.0 if abs(x) < 1e-9 else float(f"{x:.6g}") for x in (a, b))
            if power == 2 and b == -a:  # c (1 - h^2): a factor, on dh or on the derivative
                return Cause("tanh-derivative", f"dhraw is {a:.6g} times what it should be at "
                             f"every step, dhraw / dh = {a:.6g} (1 - h^2): a factor {a:.6g} "
                             "on dh or on the tanh derivative", wrong, a)
            terms = [f"{a:.6g}"] if a else []
            if b:
                terms.append(f"{'- ' if b < 0 else '+ ' if terms else ''}"
                             f"{'' if abs(b) == 1 else f'{abs(b):.6g}*'}{form}")
            formula = " ".join(terms) or "0"
            return Cause("tanh-derivative", f"the tanh derivative used at every step is "
                         f"{formula}, not 1 - h^2 (measured from dhraw / dh, with dh "
                         "right)", wrong, b)
    return None


def _stored_off(dec: Decomposition, true: _True, wrong: tuple[str, ...],
                tol: float) -> Cause | None:
    """Their dy or dhraw at step k is the true one of step k+s: right values, wrong slots.

    Rows that would come from outside the sequence are left out of the match, so
    that a store into ``[t-1]`` (which wraps to the last row at t = 0) still fits.
    """
    dy_u, du = _user_steps(dec, true)
    T = len(du)
    for name, theirs, right in (("dhraw", du, true.dhraw), ("dy", dy_u, true.dy)):
        if close(theirs, right, tol):
            continue
        for s in (1, -1):
            rows = [k for k in range(T) if 0 <= k + s < T]
            if len(rows) >= 2 and close(theirs[rows], right[[k + s for k in rows]], tol):
                return Cause("step-shift", f"{name} at step t holds the value that belongs to "
                             f"step t{s:+d}: the per-step values are right but stored (or read) "
                             f"one step off, e.g. {name}[t{-s:+d}] = ... where {name}[t] = ... "
                             "belongs", wrong, float(s))
    return None


def _derivative_shift(dec: Decomposition, true: _True, params: Params,
                      fw: Forward, tol: float) -> tuple[int, int] | None:
    """(s, r) when every step k's dhraw used the derivative 1 - h_{k+s} h_{k+r}, not 1 - h_k^2.

    Their dh at step k is the true one plus what their errors carry in
    (Why^T err(dy_k) + Whh^T err(dhraw_{k+1})); their dhraw over their dh is the
    derivative they used, where dh is not tiny. h_{-1} is hprev; past the end wraps.
    """
    assert dec.dy_error is not None and dec.dhraw_error is not None
    T = len(fw.hs)
    Whh, Why = params["Whh"], params["Why"]
    pairs = ((-1, -1), (1, 1), (-1, 0), (0, 1), (-1, 1))
    used: list[np.ndarray] = []
    # h_{-1} is hprev in min-char-rnn's dict, the last state in a Python list (wrap).
    expect: dict[tuple[int, int, bool], list[np.ndarray]] = {
        (*p, w): [] for p in pairs for w in (False, True)}

    def state(j: int, wrap: bool) -> np.ndarray:
        return fw.hprev if j == -1 and not wrap else fw.hs[j % T]

    for k in range(T):
        carried = Whh.T @ dec.dhraw_error[k + 1] if k + 1 < T else 0.0
        dh = true.dh[k] + Why.T @ dec.dy_error[k] + carried
        ok = np.abs(dh) > 1e-8 * float(np.abs(dh).max(initial=0.0))
        used.append((true.dhraw[k] + dec.dhraw_error[k])[ok] / dh[ok])
        for s, r, w in expect:
            expect[(s, r, w)].append(1 - state(k + s, w)[ok] * state(k + r, w)[ok])
    for s, r, w in expect:
        if close(np.concatenate(used), np.concatenate(expect[(s, r, w)]), tol):
            return s, r
    return None


def _derivative_used(dec: Decomposition, true: _True, fw: Forward, k: int, tol: float) -> str:
    """Which tanh derivative step k's dhraw used, when it is one of the sequence's."""
    assert dec.dhraw_error is not None
    dh = true.dh[k]
    ok = np.abs(dh) > 1e-8 * float(np.abs(dh).max(initial=0.0))
    if not ok.any():
        return ""
    used = (true.dhraw[k][ok] + dec.dhraw_error[k][ok]) / dh[ok]
    candidates = [(f"1 - h_{j}^2, step {j}'s" if j >= 0 else "1 - hprev^2", 1 - h[ok] ** 2)
                  for j, h in ((j, fw.hs[j] if j >= 0 else fw.hprev) for j in range(-1, len(fw.hs)))
                  if j != k]
    candidates.append(("1, no derivative at all", np.ones(int(ok.sum()))))
    for name, value in candidates:
        if close(used, value, tol):
            return f"its tanh derivative is {name}, not 1 - h_{k}^2 (a stale value)"
    return ""


def _weights(dy_err: np.ndarray, dy_true: np.ndarray, steps: tuple[int, ...], batch: Batch,
             wrong: tuple[str, ...], tol: float) -> Cause | None:
    """dy_t = w_t * true dy_t at every step: loss steps weighted, by target, input or step."""
    T = batch.seq
    w = np.ones(T)
    for t in range(T):
        a = _fit(dy_err[t], dy_true[t])
        miss = float(np.linalg.norm(dy_err[t] - a * dy_true[t])) if a is not None else 1.0
        if a is None or miss > tol * float(np.linalg.norm(dy_true[t])):
            return None
        w[t] = 1 + a
    off = tuple(t for t in range(T) if abs(w[t] - 1) > 1e-6)
    if not off:
        return None
    if len(off) == 1:
        t = off[0]
        times = ("nothing: dy is zero there" if abs(w[t]) < 1e-6
                 else f"{w[t]:.6g} times in dy, every other step once")
        return Cause("step-weight", f"loss step t = {t} ({_boundary_name(t, T)}) counts "
                     f"{times}", wrong, round(float(w[t]), 9), off)
    for key, seq in (("target", batch.targets), ("input", batch.inputs)):
        classes = sorted({seq[t] for t in off})
        grouped = tuple(t for t in range(T) if seq[t] in classes)
        per_class = {c: {round(float(w[t]), 6) for t in grouped if seq[t] == c} for c in classes}
        if grouped == off and len(off) > len(classes) and all(
                len(v) == 1 for v in per_class.values()):
            by_class = ", ".join(f"{key} {c}: x{next(iter(per_class[c])):.6g}" for c in classes)
            return Cause(f"{key}-weighted", f"dy is weighted by the {key} class ({by_class}): "
                         f"exactly the loss steps whose {key} is "
                         f"{join_names([str(c) for c in classes])} (t = {_steps_text(off)}) "
                         "count that many times in the gradient but once in the loss; weight "
                         "the loss the same way, or neither", wrong,
                         float(w[off[0]]), off)
    zero = tuple(t for t in range(T) if abs(w[t]) < 1e-6)
    if zero == off:
        return Cause("step-weight", f"loss steps t = {_steps_text(zero)} contribute nothing to "
                     "the gradient; the loss counts them", wrong, 0.0, zero)
    listed = ", ".join(f"t = {t}: x{w[t]:.4g}" for t in off)
    return Cause("step-weight", f"each loss step's share of dy is scaled differently ({listed})",
                 wrong, None, off)


def _dy_softmax(dy_u: np.ndarray, fw: Forward, batch: Batch, scale: float,
                wrong: tuple[str, ...], tol: float) -> Cause | None:
    """Their dy_t = a p_{t+s} - c onehot(target_t): the softmax output of another step,
    or scaled, or the target's 1 scaled (a, c fitted; s = 0, -1, +1 with Python's wrap)."""
    T = batch.seq
    onehot = np.zeros_like(fw.ps)
    onehot[np.arange(T), list(batch.targets)] = 1
    for s in (0, -1, 1):
        p = scale * np.roll(fw.ps, -s, axis=0)  # row t: p_{t+s}
        basis = np.stack([p.ravel(), -scale * onehot.ravel()], axis=1)
        (a, c), *_ = np.linalg.lstsq(basis, dy_u.ravel(), rcond=None)
        if not close(dy_u.ravel(), basis @ np.array([a, c]), tol):
            continue
        if s:
            return Cause("dy-index", f"dy starts from the softmax output of step t{s:+d}: "
                         f"ps[t{s:+d}] where ps[t] belongs (the error follows the steps "
                         "shifted by one)", wrong, float(s))
        if abs(a - 1) > 1e-6 and abs(c - 1) < 1e-6:
            return Cause("dy", f"dy is {a:.6g} times the softmax output minus 1 at the "
                         f"target: the softmax part of dy is scaled by {a:.6g}", wrong, float(a))
    return None


def _dy_pattern(dy_err: np.ndarray, steps: tuple[int, ...], batch: Batch,
                wrong: tuple[str, ...]) -> Cause:
    """dy wrong at some steps: a one-hot error that follows the targets or inputs, or not."""
    T = batch.seq
    hits: dict[int, tuple[int, float]] = {}
    for t in steps:
        row = dy_err[t]
        j = int(np.argmax(np.abs(row)))
        rest = np.delete(row, j)
        if np.linalg.norm(rest) > 1e-6 * abs(row[j]):
            hits = {}
            break
        hits[t] = (j, float(row[j]))
    if hits:
        for key, seq in (("targets", batch.targets), ("inputs", batch.inputs)):
            for s in (0, -1, 1):
                if all(j == seq[(t + s) % T] for t, (j, _) in hits.items()):
                    where = f"{key}[t{s:+d}]" if s else f"{key}[t]"
                    amount = join_names([f"{a:g}" for a in
                                         sorted({round(v, 6) for _, v in hits.values()})])
                    return Cause("dy-index", f"dy is off by {amount}"
                                 f" at index {where}, at steps t = {_steps_text(tuple(hits))}: the "
                                 "error follows the " + key + (" shifted by one step" if s else "")
                                 + "; check the index on the line that computes dy", wrong, None,
                                 tuple(hits))
    return Cause("dy", f"dy is wrong at steps t = {_steps_text(steps)}, and everything "
                 "downstream of dy is right: look at the lines that compute dy (the softmax "
                 "output and the -1 at the target)", wrong, None, steps)


def _line_by_upstream(rest: tuple[str, ...], right: list[str]) -> Cause | None:
    """One parameter's own line: its upstream dy or dhraw is shown right by a bias gradient."""
    if set(rest) == {"Why"} and "by" in right:
        return Cause("param-line", "dWhy is wrong but dby is right, so dy is right: look at "
                     "the line that accumulates dWhy (dy times h_t^T)", ("Why",))
    hidden = [n for n in rest if n in ("Wxh", "Whh")]
    if rest and len(hidden) == len(rest) and "bh" in right:
        lines = "the line that accumulates" + (" " if len(hidden) == 1 else " each of ")
        return Cause("param-line", f"{_d(hidden)} {'is' if len(hidden) == 1 else 'are'} wrong "
                     f"but dbh is right, so dhraw is right: look at {lines}{_d(hidden)}",
                     tuple(hidden))
    return None


def _measured(g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
              rest: tuple[str, ...], right: list[str]) -> Cause:
    """No pattern fits: say what was measured, where and how big."""
    parts = []
    for n in rest:
        rel = rel_error(g[n], truth[n], FLOOR)
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(rel)), g[n].shape))
        bad = int((rel > ELEMENT_RTOL).sum())
        parts.append(f"d{n} off by {norm_rel_error(g[n], truth[n]):.2g} norm-wise in "
                     f"{bad} of {g[n].size} elements (worst {n}{list(worst)}: "
                     f"{float(g[n][worst]):.4g} for {float(truth[n][worst]):.4g})")
    kind = "hidden" if set(rest) <= set(HIDDEN_PARAMS) else "measured"
    head = (f"the output layer ({_output_layer(g)}) is right and the hidden layer is wrong: "
            if kind == "hidden" else "no single pattern fits; measured: ")
    tail = f"; right: {_d(right)}" if right else ""
    return Cause(kind, head + "; ".join(parts) + tail, rest)


def ignored_parameters(g: Mapping[str, np.ndarray], own: Mapping[str, np.ndarray],
                       covered: Mapping[str, np.ndarray] | None,
                       noise: Mapping[str, np.ndarray] | None = None) -> list[Cause]:
    """Parameters the loss does not depend on (numerical derivative 0) with a non-zero gradient.

    ``own`` is the numerical gradient of the user's own loss, known at the flat
    indices ``covered`` (None: everywhere), with per-element error bars ``noise``.
    """
    causes = []
    names = tuple(n for n in own if n in g)  # the cell's parameters (bias-free: three)
    scale = max(float(np.abs(g[n]).max(initial=0.0)) for n in names)
    for n in names:
        idx = covered[n] if covered is not None else np.arange(g[n].size)
        if len(idx) == 0:
            continue
        theirs = g[n].ravel()[idx]
        numeric = own[n].ravel()[idx]
        bar = noise[n].ravel()[idx] if noise is not None else np.zeros(len(idx))
        flat = np.all(np.abs(numeric) <= np.maximum(np.nan_to_num(bar), 1e-10 * max(scale, 1.0)))
        if flat and float(np.abs(theirs).max()) > 1e-6 * max(scale, 1e-300):
            causes.append(Cause("ignored-param", f"your loss does not depend on {n} (its "
                                f"numerical derivative is 0 at all {plural(len(idx), 'element')} "
                                f"checked) but your d{n} is not 0: {n} is missing from the "
                                f"forward pass, or d{n} should be 0", (n,)))
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
    for n in _present(g):  # every element beyond the bound must have been clipped
        beyond = np.abs(truth[n]) > b * (1 + 1e-9)
        if beyond.any() and not np.allclose(np.abs(g[n][beyond]), b, rtol=1e-12, atol=0):
            return None
    return b, count


def disagreeing_steps(theirs: np.ndarray, ref: np.ndarray) -> tuple[int, ...]:
    """Loss steps t whose share dL_t/dtheta differs: arrays (T, *shape), one parameter."""
    return tuple(int(t) for t in range(ref.shape[0]) if not close(theirs[t], ref[t]))
