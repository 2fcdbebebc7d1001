"""The numeric witness, confirmed where the analytic engines disagree with it most.

Runs after every engine, before the comparisons (:func:`bpttcheck.checker.run`):

- **Structured complex step** (the default): the elements of each parameter
  where numeric agrees *worst* with the analytic engines (WORST per parameter,
  per engine) are recomputed by the literal complex step, on top of the seeded
  sample the engine verifies on every run; a disagreement beyond rounding
  raises SelfCheckError (exit 3), never a verdict.
- **Finite differences** (central, forward, richardson, difference): an
  element that disagrees with an analytic engine beyond both the tolerance and
  its error bar is not certified by the method (its truncation bar is an
  estimate, and on saturated or chaotic networks estimates fail). Such elements
  are recomputed by the literal complex step, which has no truncation error,
  before anything is called wrong, and a note says how many.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from .compare import rel_error
from .engines import ANALYTIC, Gradients
from .engines import numeric as numeric_engine
from .model import Problem
from .numdiff import by_name
from .numdiff.methods import COMPLEX

WORST = 8  # worst-agreeing elements per parameter and analytic engine, verified literally


def _covered(g: Gradients, name: str, size: int) -> np.ndarray:
    return np.arange(size) if g.covered is None else np.asarray(g.covered[name], dtype=np.intp)


def _clipped(a: Gradients, name: str, flat: np.ndarray) -> np.ndarray:
    if a.clipped is None:
        return np.zeros(len(flat), dtype=bool)
    mask: np.ndarray = a.clipped[name].reshape(-1)[flat]
    return mask


def confirm(problem: Problem, results: Mapping[str, Gradients], rtol: float, floor: float,
            step: float | None, max_memory: int) -> dict[str, Gradients]:
    """``results`` with the numeric engine's answer confirmed (see the module docstring).

    ``rtol`` and ``floor`` are the comparison's; ``step`` the numeric run's (None:
    the method's default); ``max_memory`` bounds the work arrays, as for the engine.
    """
    out = dict(results)
    g = results.get("numeric")
    analytic = [results[e] for e in ANALYTIC if e in results]
    if g is None or g.noise is None or g.method is None or not analytic:
        return out
    method = by_name(g.method)
    if method.complex and method is not COMPLEX:
        return out  # the literal complex step is its own witness
    params = problem.params
    picks: dict[str, np.ndarray] = {}
    for name, p in params.items():
        flat = _covered(g, name, p.size)
        if len(flat) == 0:
            continue
        n, bar = g.grads[name].reshape(-1)[flat], g.noise[name].reshape(-1)[flat]
        chosen = []
        for a in analytic:
            x = a.grads[name].reshape(-1)[flat]
            rel = np.where(_clipped(a, name, flat), 0.0, rel_error(x, n, floor))
            if method is COMPLEX:
                chosen.append(flat[np.argsort(-rel, kind="stable")[:WORST]])
            else:
                beyond = (rel > rtol) & (np.abs(np.nan_to_num(x - n)) > bar)
                chosen.append(flat[beyond])
        picks[name] = np.unique(np.concatenate(chosen))
    if method is COMPLEX:
        values = {n: v.reshape(-1) for n, v in g.grads.items()}
        errors = {n: e.reshape(-1) for n, e in g.noise.items()}
        note = numeric_engine.verify(params, problem.batch, values, errors, picks,
                                     step if step is not None else COMPLEX.default_step(),
                                     max_memory)
        out["numeric"] = _with_note(g, note.replace("elements", "elements agreeing worst with "
                                                    "the analytic engines", 1))
    else:
        out["numeric"] = numeric_engine.escalate(params, problem.batch, g, picks, max_memory)
    return out


def _with_note(g: Gradients, note: str) -> Gradients:
    return dataclasses.replace(g, notes=(*g.notes, note))
