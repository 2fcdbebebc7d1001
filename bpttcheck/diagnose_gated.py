"""Name the likely cause of a wrong LSTM or GRU gradient, per gate, from measurements.

Given the user's gradient g and the truth (the reference BPTT of the declared
loss, times its factor), a cause is named only when bpttcheck's own backward
pass *with that slip* (:func:`bpttcheck.gated_variants.walk`) reproduces g to
:func:`bpttcheck.diagnose.fit_tolerance` on every parameter. In order, first
fit wins:

- **a constant ratio** c on every wrong parameter (a sign flip, a factor 2);
- **one slip** of :data:`~bpttcheck.gated_variants.LSTM_SLIPS` /
  :data:`~bpttcheck.gated_variants.GRU_SLIPS`: dc not carried to t-1, tanh'(c)
  missing on the way to c, the output gate applied to c instead of tanh(c), the
  forget gate's derivative against c_t, sigmoid' and tanh' exchanged at one
  gate, the GRU's (1 - u) flipped, the reset gate misapplied, the recurrent
  blocks not transposed, dhnext missing, ...;
- **a constant factor** (-1, 2 or 1/2) on what dhnext (or dcnext) carries, or on one
  gate's gradient at every step (:data:`~bpttcheck.gated_variants.SCALED`);
- **two slips** at once (each pair);
- **each wrong parameter on its own** (its line is wrong, not what reaches it):
  a constant multiple of its true gradient, zero, exactly another parameter's
  true gradient (a line that uses the wrong gate's term), one backward step's
  term alone, or every step's but one (the tutorial engine's per-step terms);
- otherwise **which gates are wrong**, measured: each wrong parameter's
  norm-wise error, grouped by the gate it belongs to, the largest first; and
  whether the output layer (Why, by) is right, which clears dy and h.

Each message says what was measured: how closely the slip reproduces the
user's gradient and how far the correct gradient is from it. The loss steps
whose share of the gradient is wrong (first and last) come from
:func:`bpttcheck.impl.check._localise`, as for the vanilla cell.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np

from .compare import norm_rel_error
from .diagnose import DIAG_RTOL, FIT_SHARE, ROUNDING, WRONG_RTOL, Cause
from .gated_variants import SCALED, SLIPS, walk
from .model import Batch, Params
from .prose import join_names

# Each parameter's gate, in words.
GATES: dict[str, dict[str, str]] = {
    "lstm": {"Wf": "forget gate", "bf": "forget gate", "Wi": "input gate", "bi": "input gate",
             "Wc": "candidate g", "bc": "candidate g", "Wo": "output gate", "bo": "output gate",
             "Why": "output layer", "by": "output layer"},
    "gru": {"Wz": "update gate u", "bz": "update gate u", "Wr": "reset gate", "br": "reset gate",
            "Wn": "candidate n", "bn": "candidate n", "Why": "output layer",
            "by": "output layer"},
}
RATIOS = {-1.0: "the sign is flipped", 2.0: "doubled", 0.5: "halved"}
FACTORS = (-1.0, 2.0, 0.5)  # the constant factors tried on what SCALED names


def kind_of(slip: str) -> str:
    """The cause kind of a slip (``dc_not_carried`` -> ``dc-not-carried``)."""
    return slip.replace("_", "-")


def _tolerance(g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray]) -> float:
    flat_g = np.concatenate([np.ravel(g[n]) for n in truth])
    flat_t = np.concatenate([np.ravel(truth[n]) for n in truth])
    return max(min(DIAG_RTOL, FIT_SHARE * norm_rel_error(flat_g, flat_t)), ROUNDING)


def _worst(g: Mapping[str, np.ndarray], h: Mapping[str, np.ndarray]) -> float:
    return max(norm_rel_error(np.asarray(g[n]), np.asarray(h[n])) for n in h)


def wrong_parameters(g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray]
                     ) -> tuple[str, ...]:
    return tuple(n for n in truth if norm_rel_error(np.asarray(g[n]), truth[n]) > WRONG_RTOL)


def gates_of(cell: str, names: tuple[str, ...]) -> list[str]:
    """The gates these parameters belong to, in the cell's order, once each."""
    return list(dict.fromkeys(GATES[cell][n] for n in names))


def diagnose(cell: str, g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
             params: Params, batch: Batch, factor: float = 1.0) -> list[Cause]:
    """Causes for a gated cell's wrong gradient g (see module docstring); [] when g is right."""
    if not all(np.isfinite(g[n]).all() for n in truth):
        return []
    wrong = wrong_parameters(g, truth)
    if not wrong:
        return []
    tol = _tolerance(g, truth)
    gates = join_names(gates_of(cell, wrong))
    ratio = _ratio(g, truth, wrong, tol)
    if ratio is not None:
        how = RATIOS.get(round(ratio, 12), "a constant factor")
        return [Cause("ratio", f"the gradients of {_d(wrong)} ({gates}) are the true ones "
                      f"times {ratio:.6g} ({how}), to {tol:.0e}", wrong, ratio)]
    base = _worst(g, truth)
    slips = tuple(SLIPS[cell])
    singles: list[tuple[str, ...]] = [(s,) for s in slips]
    for combo in singles:
        found = _slips(cell, combo, g, truth, params, batch, factor, tol, base, wrong, gates)
        if found is not None:
            return [found]
    for what, text in SCALED[cell].items():
        for k in FACTORS:
            w = walk(cell, params, batch, scales={what: k})
            err = _worst(g, {n: factor * w.grads[n] for n in truth})
            if err <= tol:
                kind = "carry-scaled" if what.startswith("dhnext") or what == "dcnext" else \
                    "gate-scaled"
                return [Cause(kind, f"{text} is {k:g} times the right value at every step "
                              f"({RATIOS[k]}). Measured: your gradient equals bpttcheck's "
                              f"{cell.upper()} backward pass with that factor to {err:.1e}; "
                              f"the correct gradient differs from yours by {base:.1e}. Wrong: "
                              f"{_d(wrong)} ({gates})", wrong, k)]
    for combo in itertools.combinations(slips, 2):
        found = _slips(cell, combo, g, truth, params, batch, factor, tol, base, wrong, gates)
        if found is not None:
            return [found]
    line = _per_parameter(cell, g, truth, wrong, params, batch, factor, tol)
    if line is not None:
        return [line]
    return [_measured(cell, g, truth, wrong)]


def _slips(cell: str, combo: tuple[str, ...], g: Mapping[str, np.ndarray],
           truth: Mapping[str, np.ndarray], params: Params, batch: Batch, factor: float,
           tol: float, base: float, wrong: tuple[str, ...], gates: str) -> Cause | None:
    """The cause when bpttcheck's backward pass with the slips ``combo`` reproduces g."""
    w = walk(cell, params, batch, slips=combo)
    err = _worst(g, {n: factor * w.grads[n] for n in truth})
    if err > tol:
        return None
    what = "; and ".join(SLIPS[cell][s] for s in combo)
    kind = kind_of(combo[0]) if len(combo) == 1 else "+".join(map(kind_of, combo))
    slip = "this slip" if len(combo) == 1 else "these two slips"
    T = batch.seq
    steps = tuple(sorted({0 for s in combo if s == "skip_first"}
                         | {T - 1 for s in combo if s == "skip_last"}))
    return Cause(kind, f"{what}. Measured: your gradient equals bpttcheck's {cell.upper()} "
                 f"backward pass with {slip} to {err:.1e} (largest norm-wise relative error "
                 "over the parameters); the correct gradient differs from yours by "
                 f"{base:.1e}. Wrong: {_d(wrong)} ({gates})", wrong, err, steps)


def _per_parameter(cell: str, g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
                   wrong: tuple[str, ...], params: Params, batch: Batch, factor: float,
                   tol: float) -> Cause | None:
    """Each wrong parameter's gradient explained on its own (its line is wrong, not what
    reaches it), or None: a constant multiple of its true value, zero, another parameter's
    true gradient, one backward step's term alone, or every step's but one."""
    from . import cells
    from .engines.base import Options

    terms = cells.get(cell).tutorial(params, batch, Options(record_steps=True)).steps
    assert terms is not None
    found: list[tuple[str, str, int | None]] = []  # (kind, sentence, step)
    for n in wrong:
        gn, tn = np.asarray(g[n]), np.asarray(truth[n])
        each = factor * terms[n]
        hit: tuple[str, str, int | None] | None = None
        if not np.any(gn):
            hit = ("zero", f"d{n} is zero", None)
        elif float(tn.ravel() @ tn.ravel()) > 0:
            c = float(gn.ravel() @ tn.ravel()) / float(tn.ravel() @ tn.ravel())
            if c != 0 and norm_rel_error(gn, c * tn) <= tol:
                hit = ("ratio", f"d{n} is its true value times {c:.6g}", None)
        if hit is None:
            other = next((m for m in truth if m != n and truth[m].shape == gn.shape
                          and norm_rel_error(gn, truth[m]) <= tol), None)
            if other is not None:
                hit = ("other-param", f"d{n} is exactly d{other}'s gradient (the "
                       f"{GATES[cell][other]}'s: the line uses the wrong gate's term)", None)
        for k in range(each.shape[0]) if hit is None else ():
            if norm_rel_error(gn, each[k]) <= tol:
                hit = ("step-term", f"d{n} is the term of backward step t = {k} alone (= for "
                       "+=, or the sum reset inside the loop)", k)
                break
            if each.shape[0] > 1 and norm_rel_error(gn, tn - each[k]) <= tol:
                hit = ("step-term", f"d{n} leaves out the term of step t = {k}", k)
                break
        if hit is None:
            return None
        found.append(hit)
    kinds = {k for k, _, _ in found}
    kind = kinds.pop() if len(kinds) == 1 else "param-line"
    steps = tuple(sorted({s for _, _, s in found if s is not None}))
    right = [n for n in truth if n not in wrong]
    return Cause(kind, "; ".join(text for _, text, _ in found) + f". Measured per parameter "
                 f"(to {tol:.0e}); {_d(tuple(right))} are right", wrong, None, steps)


def _ratio(g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
           wrong: tuple[str, ...], tol: float) -> float | None:
    """One constant c with g = c x truth on every wrong parameter, or None."""
    flat_g = np.concatenate([np.ravel(g[n]) for n in wrong])
    flat_t = np.concatenate([np.ravel(truth[n]) for n in wrong])
    denom = float(flat_t @ flat_t)
    if denom == 0:
        return None
    c = float(flat_g @ flat_t) / denom
    if c == 0 or abs(c - 1) < 1e-9:
        return None
    return c if norm_rel_error(flat_g, c * flat_t) <= tol else None


def _measured(cell: str, g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
              wrong: tuple[str, ...]) -> Cause:
    """No slip fits: which gates are wrong, and by how much, largest first."""
    errors = {n: norm_rel_error(np.asarray(g[n]), truth[n]) for n in wrong}
    by_gate: dict[str, float] = {}
    for n, e in errors.items():
        by_gate[GATES[cell][n]] = max(by_gate.get(GATES[cell][n], 0.0), e)
    ranked = sorted(by_gate.items(), key=lambda kv: -kv[1])
    parts = ", ".join(f"{gate} {e:.1e}" for gate, e in ranked)
    right = [n for n in truth if n not in wrong]
    cleared = ""
    if "Why" in right and "by" in right:
        cleared = "; dWhy and dby are right, so dy and the hidden states are right"
    gate_names = [gate for gate, _ in ranked]
    only = "only the " + gate_names[0] if len(gate_names) == 1 else "the " + join_names(
        gate_names)
    return Cause("gates", f"{only} {'is' if len(gate_names) == 1 else 'are'} wrong "
                 f"(largest norm-wise relative error per gate: {parts}){cleared}; no single "
                 f"slip or pair of slips bpttcheck knows for the {cell.upper()} reproduces "
                 "your gradient", wrong, max(errors.values()))


def entry(cell: str, wrong: tuple[str, ...], step: int, params: tuple[str, ...]) -> Cause:
    """Where the error enters: the gates wrong at the first loss step whose share dL_t/dtheta
    is wrong (measured by :func:`bpttcheck.impl.check._localise` from calls on prefixes)."""
    gates = gates_of(cell, wrong)
    right = [g for g in gates_of(cell, params) if g not in gates]
    only = "only " if right else ""
    return Cause("enters", f"the error enters at the {join_names(gates)}: at loss step "
                 f"t = {step}, the first whose share dL_t/dθ is wrong, {only}{_d(wrong)} "
                 "differ from the reference" + (f" ({join_names(right)} right there)"
                                                if right else ""), wrong, None, (step,))


def _d(names: tuple[str, ...]) -> str:
    return join_names([f"d{n}" for n in names])
