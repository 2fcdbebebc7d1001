"""Hygiene checks on the user's function: what a loss-and-gradient function must not do.

A finding fails the check (exit 1) even when the numbers agree: the function
changes its arguments in place or rebinds the weights, two calls with the same
arguments differ, or it returns NaN or inf. Findings are :class:`Finding`
objects: a kind (``mutation``, ``nondeterminism``, ``non-finite``) and a
sentence; they read as ``"kind: sentence"`` wherever a string is expected.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..findings import Finding as Finding  # re-exported: defined once, NumPy-free
from ..model import Batch, Params


def mutations(name: str, form: str, names: Mapping[str, str], params: Params, batch: Batch,
          given: dict[str, np.ndarray], hprev: np.ndarray,
          now: Mapping[str, Any], cprev: np.ndarray | None = None) -> tuple[Finding, ...]:
    """What the call did to its arguments: weights changed in place or rebound, hprev
    (and cprev, given for the LSTM)."""
    where = {"globals": "global ", "method": "attribute self.", "explicit": "params key ",
             "arguments": "argument "}
    in_place, rebound = [], []
    for t, o in names.items():
        if not np.array_equal(given[t], params[o]):
            in_place.append(t)
        elif now.get(t) is not given[t]:
            rebound.append(t)
    out = []
    for how, changed in (("changes the weights in place", in_place),
                         ("rebinds the weights", rebound)):
        if changed:
            prefix = where[form]
            listed = ", ".join(f"{prefix}{t}".replace(". ", ".") for t in changed)
            out.append(Finding("mutation", f"{name} {how} ({listed}); a loss-and-gradient "
                               "function must leave them alone"))
    if not np.array_equal(hprev, batch.hprev):
        out.append(Finding("mutation", f"{name} changes hprev in place"))
    if cprev is not None and batch.cprev is not None and not np.array_equal(cprev, batch.cprev):
        out.append(Finding("mutation", f"{name} changes cprev in place"))
    return tuple(out)


def same(a: Any, b: Any) -> list[str]:
    """What differs between two calls with the same arguments (bit for bit)."""
    out = []
    if not (a.loss == b.loss or (math.isnan(a.loss) and math.isnan(b.loss))):
        out.append(f"loss ({a.loss!r} then {b.loss!r})")
    for n in a.grads:  # the cell's parameters, in its order (a bias-free model has three)
        if not np.array_equal(a.grads[n], b.grads[n], equal_nan=True):
            with np.errstate(invalid="ignore"):
                diff = float(np.nanmax(np.abs(a.grads[n] - b.grads[n]), initial=0.0))
            out.append(f"d{n} (largest difference {diff:.2e})")
    return out


def nonfinite(result: Any) -> list[str]:
    """Where the returned values are NaN or inf."""
    out = []
    if getattr(result, "returns_loss", True) and not math.isfinite(result.loss):
        out.append(f"the loss is {result.loss}")
    for n, g in result.grads.items():
        bad = ~np.isfinite(g)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            out.append(f"d{n} has {int(bad.sum())} non-finite values (first at {n}{list(first)})")
    return out
