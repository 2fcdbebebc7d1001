"""See the sum: the (t, k) terms of the BPTT gradient, how they regroup, how far they reach.

The lecture writes the gradient of a hidden-layer parameter theta (Wxh, Whh,
bh) as a double sum over loss steps t and the steps k <= t each loss reaches
back through::

    dL/dtheta = sum_t sum_{k<=t} term(t, k),   term(t, k) = outer(dL_t/da_k, z_k)

with a_k step k's pre-activation and z_k what theta multiplies at step k:
h_{k-1} for Whh, the one-hot x_k for Wxh (so the term is dL_t/da_k placed in
column inputs[k]) and 1 for bh. The output layer has no recurrence: Why and
by only have the diagonal terms outer(dy_t, h_t) and dy_t.

Because every term is an outer product, its Frobenius norm is
||dL_t/da_k|| * ||z_k||. Summing a row of the map (fixed t) gives loss step
t's whole gradient, the lecture's grouping. Summing a column (fixed k) gives
sum_{t>=k} term(t, k) = outer(dhraw_k, z_k): the tutorial's grouping, where
``dhraw`` at step k already holds every later loss step's share, carried back
by ``dhnext``. Both totals are the gradient; :func:`explain` shows it by
comparing them with every term summed with compensation (:class:`CompensatedSum`,
accurate to about one rounding), and each column with the tutorial engine's
per-step term. The tutorial's own float64 gradient is compared with the
compensated sum too: that is the rounding its summation order costs.

The vectors dL_t/da_k come from :func:`bpttcheck.engines.reference.contributions`
(the one place the double sum is written out). From them this module also takes
the gradient's reach, ||dL_t/dh_k|| against the lag t - k (dL_t/dh_{k-1} =
Whh^T dL_t/da_k), what truncated BPTT with a window of K steps drops (every
term with t - k >= K), dL/dhprev (what chunking drops: hprev is a constant to
the next chunk), and which elements the tutorial's +-5 clip changes.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from .budget import check_explain_memory, check_reference_time
from .compare import norm_rel_error, rel_error
from .engines import Gradients, Options, reference, tutorial
from .errors import SpecError
from .model import HIDDEN_PARAMS, PARAM_NAMES, Batch, Forward, Params, Problem, build, forward
from .report import finite, header, problem_dict, run_arrays, save_arrays
from .spec import Spec

TUTORIAL_CLIP = 5.0  # min-char-rnn's np.clip(dparam, -5, 5)
MAX_CELLS = 40  # the map is binned to at most this many rows and columns (legible at seq 200)
MAX_CLIPPED_LISTED = 5  # clipped elements listed per parameter, largest change first
# A unit with 1 - h^2 below this passes on less than a tenth of its gradient:
# call it saturated.
SATURATED = 0.1


@dataclasses.dataclass(frozen=True)
class Agreement:
    """How closely a regrouped total matches the tutorial engine's gradient."""

    rel_error: float  # largest elementwise relative error (compare.rel_error)
    norm_rel_error: float  # ||a - b|| / max(||a||, ||b||)

    def to_dict(self) -> dict[str, Any]:
        return {"rel_error": finite(self.rel_error),
                "norm_rel_error": finite(self.norm_rel_error)}


@dataclasses.dataclass(frozen=True)
class ContributionMap:
    """The (t, k) map binned to at most MAX_CELLS cells a side, for drawing.

    Step ``t`` falls in bin ``t // size``. ``cells[i][j]`` is the largest
    ||term(t, k)|| with t in bin i and k in bin j (0 where j > i);
    ``row_norms[i]`` is ||sum of the row sums over bin i|| and ``column_norms[j]``
    ||sum of the column sums over bin j||.
    """

    size: int
    starts: np.ndarray  # (B,) first step of each bin
    cells: np.ndarray  # (B, B)
    row_norms: np.ndarray  # (B,)
    column_norms: np.ndarray  # (B,)

    def to_dict(self) -> dict[str, Any]:
        return {"bin": self.size, "starts": [int(s) for s in self.starts],
                "cells": _floats(self.cells), "row_norms": _floats(self.row_norms),
                "column_norms": _floats(self.column_norms)}


@dataclasses.dataclass(frozen=True)
class Reach:
    """How far back a loss step's gradient reaches: ||dL_t/dh_k|| by lag t - k."""

    dh_norms: np.ndarray  # (T, T): [t, k] = ||dL_t/dh_k||, 0 for k > t
    mean: np.ndarray  # (T,): mean over t of ||dL_t/dh_{t-lag}||, index = lag
    max: np.ndarray  # (T,)
    factor: float | None  # per-step factor of a log-linear fit of mean against lag
    spectral_radius: float  # max |eigenvalue| of Whh
    whh_norm: float  # ||Whh||_2, the largest singular value
    tanh_min: float  # of 1 - h_t^2 over every step and unit
    tanh_mean: float
    tanh_max: float
    saturated: float  # fraction of (t, unit) with 1 - h^2 < SATURATED
    step_bound: float  # max(1 - h^2) * ||Whh||_2 >= ||diag(1 - h_j^2) Whh||_2 for every j

    def to_dict(self) -> dict[str, Any]:
        return {
            "dh_norms": _floats(self.dh_norms),
            "lags": list(range(len(self.mean))),
            "mean": _floats(self.mean),
            "max": _floats(self.max),
            "factor_per_step": finite(self.factor) if self.factor is not None else None,
            "spectral_radius": finite(self.spectral_radius),
            "whh_norm": finite(self.whh_norm),
            "tanh_derivative": {"min": self.tanh_min, "mean": self.tanh_mean,
                                "max": self.tanh_max, "saturated": self.saturated,
                                "saturated_below": SATURATED},
            "step_bound": finite(self.step_bound),
        }


@dataclasses.dataclass(frozen=True)
class Truncation:
    """What truncated BPTT keeping the last ``window`` steps (t - k < window) drops."""

    window: int
    full_norm: dict[str, float]  # ||dL/dtheta||
    discarded_norm: dict[str, float]  # ||full - truncated||
    truncated: dict[str, np.ndarray]  # the truncated gradients

    @property
    def fractions(self) -> dict[str, float]:
        return {name: (self.discarded_norm[name] / full if full > 0 else 0.0)
                for name, full in self.full_norm.items()}

    def to_dict(self) -> dict[str, Any]:
        return {"window": self.window, "fractions": _float_dict(self.fractions),
                "discarded_norm": _float_dict(self.discarded_norm),
                "full_norm": _float_dict(self.full_norm)}


@dataclasses.dataclass(frozen=True)
class ClippedElement:
    index: tuple[int, ...]
    value: float  # the unclipped gradient
    clipped: float  # after np.clip


@dataclasses.dataclass(frozen=True)
class ClipEffect:
    """What clipping to +-bound does to one parameter's gradient."""

    parameter: str
    size: int
    clipped: int  # elements changed
    max_abs: float  # largest |gradient| before clipping
    change_fraction: float  # ||g - clip(g)|| / ||g||
    elements: tuple[ClippedElement, ...]  # up to MAX_CLIPPED_LISTED, largest change first

    def to_dict(self) -> dict[str, Any]:
        return {"parameter": self.parameter, "size": self.size, "clipped": self.clipped,
                "max_abs": finite(self.max_abs), "change_fraction": finite(self.change_fraction),
                "elements": [{"index": list(e.index), "value": finite(e.value),
                              "clipped": finite(e.clipped)} for e in self.elements]}


@dataclasses.dataclass(frozen=True)
class Explanation:
    """Everything ``bpttcheck explain`` shows, as data (arrays per parameter are float64)."""

    spec: Spec
    problem: Problem
    parameter: str
    contribution_norms: np.ndarray  # (T, T): [t, k] = ||term(t, k)||_F, 0 for k > t
    row_sums: np.ndarray  # (T, *shape): row t = sum_k term(t, k), the lecture's grouping
    column_sums: np.ndarray  # (T, *shape): column k = sum_t term(t, k), the tutorial's
    gradient: np.ndarray  # the tutorial engine's (unclipped) gradient of ``parameter``
    exact: np.ndarray  # every (t, k) term summed with compensation: the gradient, to ~1 ulp
    rows_vs_gradient: Agreement  # sum of the row sums against ``exact``
    columns_vs_gradient: Agreement  # sum of the column sums against ``exact``
    tutorial_vs_exact: Agreement  # the tutorial engine's float64 dtheta against ``exact``
    columns_vs_steps: Agreement  # column sums against the tutorial's per-step terms
    map: ContributionMap
    reach: Reach
    dhprev: np.ndarray  # (H, 1): dL/dhprev
    truncation: Truncation | None
    clip_bound: float
    clip_applied: bool  # the spec clips (else: what the tutorial's 5 would do)
    clipping: tuple[ClipEffect, ...]
    results: dict[str, Gradients]  # the tutorial engine (and the reference's), unclipped

    @property
    def diagonal(self) -> bool:
        """Why and by: the output layer has no recurrence, only k = t terms."""
        return self.parameter not in HIDDEN_PARAMS

    @property
    def seq(self) -> int:
        return self.problem.batch.seq

    @property
    def passed(self) -> bool:
        """Both regroupings reproduce the gradient to the analytic tolerance."""
        rtol = self.spec.rtol_analytic
        return all(a.rel_error <= rtol for a in
                   (self.rows_vs_gradient, self.columns_vs_gradient, self.columns_vs_steps,
                    self.tutorial_vs_exact))

    @property
    def row_norms(self) -> np.ndarray:
        return _norms(self.row_sums)

    @property
    def column_norms(self) -> np.ndarray:
        return _norms(self.column_sums)

    @property
    def dhprev_norm(self) -> float:
        return float(np.linalg.norm(self.dhprev))

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``explain --format json`` (schema 1, see README)."""
        return {
            **header(),
            "command": "explain",
            "passed": self.passed,
            "spec": self.spec.to_dict(),
            "problem": problem_dict(self.problem, self.results["tutorial"].loss),
            "parameter": self.parameter,
            "diagonal": self.diagonal,
            "gradient_norm": float(np.linalg.norm(self.gradient)),
            "contribution_norms": _floats(self.contribution_norms),
            "row_sums": {"norms": _floats(self.row_norms), **self.rows_vs_gradient.to_dict()},
            "column_sums": {"norms": _floats(self.column_norms),
                            **self.columns_vs_gradient.to_dict(),
                            "tutorial_steps": self.columns_vs_steps.to_dict()},
            "tutorial_vs_exact": self.tutorial_vs_exact.to_dict(),
            "map": self.map.to_dict(),
            "reach": self.reach.to_dict(),
            "truncation": {"window": self.truncation.window if self.truncation else None,
                           "fractions": (_float_dict(self.truncation.fractions)
                                         if self.truncation else None),
                           **({} if self.truncation is None else {
                               "discarded_norm": _float_dict(self.truncation.discarded_norm),
                               "full_norm": _float_dict(self.truncation.full_norm)}),
                           "dhprev_norm": finite(self.dhprev_norm)},
            "clipping": {"bound": self.clip_bound, "applied": self.clip_applied,
                         "parameters": [c.to_dict() for c in self.clipping]},
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def save(self, path: str | Path) -> None:
        """Write the arrays to ``.npz``: ``compare --save``'s keys plus ``explain.*``."""
        arrays = run_arrays(self.problem, self.results, self.results["tutorial"].loss)
        arrays.update({
            "explain.parameter": np.array(self.parameter),
            "explain.contribution_norms": self.contribution_norms,
            "explain.row_sums": self.row_sums,
            "explain.column_sums": self.column_sums,
            "explain.dh_norms": self.reach.dh_norms,
        })
        if self.truncation is not None:
            arrays["explain.truncate"] = np.array(self.truncation.window)
            for name, truncated in self.truncation.truncated.items():
                arrays[f"explain.truncated.d{name}"] = truncated
        save_arrays(path, arrays)


class CompensatedSum:
    """Neumaier's compensated summation of arrays, element by element.

    The total is accurate to about one rounding of the result, whatever the order
    and the cancellation, so it can stand for "the gradient" when judging how
    closely float64 regroupings of the same terms reproduce it.
    """

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.s = np.zeros(shape)
        self.c = np.zeros(shape)  # the low-order parts lost from s so far

    def add(self, x: np.ndarray) -> None:
        t = self.s + x
        big = np.abs(self.s) >= np.abs(x)
        self.c += np.where(big, (self.s - t) + x, (x - t) + self.s)
        self.s = t

    def total(self) -> np.ndarray:
        out: np.ndarray = self.s + self.c
        return out


def by_loss_step(params: Params, fw: Forward, batch: Batch) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (t, D_t) with D_t[k] = dL_t/da_k for k = 0..t: the reference's terms, by row."""
    H = params["Whh"].shape[0]
    for t, group in itertools.groupby(reference.contributions(params, fw, batch),
                                      key=itemgetter(0)):
        rows = np.zeros((t + 1, H))
        for _, k, dLt_dak in group:
            rows[k] = dLt_dak
        yield t, rows


def multipliers(params: Params, fw: Forward, batch: Batch) -> dict[str, np.ndarray]:
    """Z[name][k]: what a hidden-layer parameter multiplies at step k.

    The (t, k) term of dL/d(name) is ``outer(dL_t/da_k, Z[name][k])``.
    """
    T, V = batch.seq, params["Wxh"].shape[1]
    xs = np.zeros((T, V))
    xs[np.arange(T), list(batch.inputs)] = 1.0  # one-hot x_k
    return {"Wxh": xs, "Whh": fw.hs_before, "bh": np.ones((T, 1))}


def explain(spec: Spec, parameter: str = "Whh", truncate: int | None = None, *,
            with_reference: bool = False) -> Explanation:
    """Compute the (t, k) map of ``parameter``'s gradient and everything around it.

    ``with_reference`` also runs the reference engine (O(T^2) outer products),
    so that :meth:`Explanation.save` writes its gradients too, as ``compare --save`` does.
    """
    if parameter not in PARAM_NAMES:
        raise SpecError(f"--param: expected one of {', '.join(PARAM_NAMES)}, got {parameter!r}")
    if truncate is not None and truncate < 1:
        raise SpecError(f"--truncate: expected a window of at least 1 step, got {truncate}")
    if spec.batch is not None:
        raise SpecError("--batch: explain maps the (t, k) terms of one sequence; run it "
                        "without --batch (a batch's gradient is the sum of its columns')")
    check_reference_time(spec.hidden, spec.seq)  # every (t, k) term is formed: O(T^2)
    problem = build(spec)
    params, batch = problem.params, problem.batch
    check_explain_memory(problem.n_params, problem.hidden, problem.vocab, batch.seq, parameter,
                         int(params[parameter].size), spec.max_memory)
    fw = forward(params, batch)
    Whh, Why = params["Whh"], params["Why"]
    T, H = batch.seq, Whh.shape[0]
    Z = multipliers(params, fw, batch)
    dys = fw.ps.copy()
    dys[np.arange(T), list(batch.targets)] -= 1.0  # dL_t/dy_t

    a_norms = np.zeros((T, T))  # ||dL_t/da_k||
    dh_norms = np.zeros((T, T))  # ||dL_t/dh_k||
    dhraw = np.zeros((T, H))  # column sums of dL_t/da_k: the tutorial's dhraw at step k
    kept = np.zeros((T, H))  # the part of dhraw that a window of `truncate` steps keeps
    dhprev = np.zeros(H)
    hidden = parameter in HIDDEN_PARAMS
    shape = params[parameter].shape
    row_sums = np.zeros((T, *shape))
    exact = CompensatedSum(shape)  # every (t, k) term, summed to about one rounding
    for t, D in by_loss_step(params, fw, batch):
        a_norms[t, : t + 1] = np.linalg.norm(D, axis=1)
        back = D @ Whh  # row k: Whh^T dL_t/da_k = dL_t/dh_{k-1}
        dh_norms[t, :t] = np.linalg.norm(back[1:], axis=1)
        dh_norms[t, t] = np.linalg.norm(Why.T @ dys[t])  # dL_t/dh_t
        dhprev += back[0]  # dL_t/dhprev
        dhraw[: t + 1] += D
        if truncate is not None:
            first = max(0, t - truncate + 1)
            kept[first : t + 1] += D[first:]
        if hidden:
            row_sums[t] = D.T @ Z[parameter][: t + 1]  # sum_k outer(dL_t/da_k, z_k)
            for k in range(t + 1):
                exact.add(np.outer(D[k], Z[parameter][k]).reshape(shape))

    if hidden:
        z = Z[parameter]
        norms = a_norms * np.linalg.norm(z, axis=1)[None, :]
        column_sums = dhraw[:, :, None] * z[:, None, :]  # outer(dhraw_k, z_k)
    else:
        out = fw.hs if parameter == "Why" else np.ones((T, 1))
        diagonal = dys[:, :, None] * out[:, None, :]  # outer(dy_t, h_t) or dy_t
        norms = np.diag(np.linalg.norm(dys, axis=1) * np.linalg.norm(out, axis=1))
        row_sums = column_sums = diagonal
        for term in diagonal:
            exact.add(term)

    options = Options(record_steps=True)
    tut = tutorial.gradients(params, batch, options)
    assert tut.steps is not None
    gradient = tut.grads[parameter]
    floor = spec.floor
    rows_total, columns_total = row_sums.sum(axis=0), column_sums.sum(axis=0)
    bound = spec.clip if spec.clip is not None else TUTORIAL_CLIP
    clipped = tutorial.gradients(params, batch, Options(clip=bound))
    return Explanation(
        spec=spec,
        problem=problem,
        parameter=parameter,
        contribution_norms=norms,
        row_sums=row_sums,
        column_sums=column_sums,
        gradient=gradient,
        exact=exact.total(),
        rows_vs_gradient=_agreement(rows_total, exact.total(), floor),
        columns_vs_gradient=_agreement(columns_total, exact.total(), floor),
        tutorial_vs_exact=_agreement(gradient, exact.total(), floor),
        columns_vs_steps=_agreement(column_sums, tut.steps[parameter], floor),
        map=_bin_map(norms, row_sums, column_sums),
        reach=_reach(params, fw, dh_norms),
        dhprev=dhprev[:, None],
        truncation=(None if truncate is None else
                    _truncation(truncate, params, Z, dhraw, kept, tut.grads)),
        clip_bound=bound,
        clip_applied=spec.clip is not None,
        clipping=tuple(_clip_effect(name, tut.grads[name], clipped) for name in PARAM_NAMES),
        results={"tutorial": _unstepped(tut),
                 **({"reference": reference.gradients(params, batch, Options())}
                    if with_reference else {})},
    )


def _agreement(a: np.ndarray, b: np.ndarray, floor: float) -> Agreement:
    return Agreement(float(rel_error(a, b, floor).max(initial=0.0)), norm_rel_error(a, b))


def _norms(stack: np.ndarray) -> np.ndarray:
    """Frobenius norm of each slice stack[i]."""
    norms: np.ndarray = np.linalg.norm(stack.reshape(stack.shape[0], -1), axis=1)
    return norms


def bin_size(seq: int, max_cells: int = MAX_CELLS) -> int:
    """Steps per bin so that the map has at most ``max_cells`` bins a side."""
    return max(1, math.ceil(seq / max_cells))


def _bin_map(norms: np.ndarray, row_sums: np.ndarray, column_sums: np.ndarray) -> ContributionMap:
    T = norms.shape[0]
    size = bin_size(T)
    starts = np.arange(0, T, size)
    B = len(starts)
    pad = B * size - T
    padded = np.pad(norms, ((0, pad), (0, pad)))
    cells = padded.reshape(B, size, B, size).max(axis=(1, 3))

    def binned(stack: np.ndarray) -> np.ndarray:
        return _norms(np.add.reduceat(stack, starts, axis=0))

    return ContributionMap(size, starts, cells, binned(row_sums), binned(column_sums))


def _reach(params: Params, fw: Forward, dh_norms: np.ndarray) -> Reach:
    T = dh_norms.shape[0]
    Whh = params["Whh"]
    by_lag = [np.diagonal(dh_norms, offset=-lag) for lag in range(T)]  # t - k = lag
    mean = np.array([d.mean() for d in by_lag])
    top = np.array([d.max() for d in by_lag])
    usable = np.flatnonzero(np.isfinite(mean) & (mean > 0))
    factor = None
    if len(usable) >= 2:
        slope = np.polyfit(usable.astype(np.float64), np.log(mean[usable]), 1)[0]
        factor = float(np.exp(slope))
    tanh_d = 1.0 - fw.hs**2  # the tanh derivative at every step and unit
    whh_norm = float(np.linalg.norm(Whh, 2))
    return Reach(
        dh_norms=dh_norms,
        mean=mean,
        max=top,
        factor=factor,
        spectral_radius=float(np.abs(np.linalg.eigvals(Whh)).max()),
        whh_norm=whh_norm,
        tanh_min=float(tanh_d.min()),
        tanh_mean=float(tanh_d.mean()),
        tanh_max=float(tanh_d.max()),
        saturated=float((tanh_d < SATURATED).mean()),
        step_bound=float(tanh_d.max()) * whh_norm,
    )


def _truncation(window: int, params: Params, Z: dict[str, np.ndarray], dhraw: np.ndarray,
                kept: np.ndarray, full: dict[str, np.ndarray]) -> Truncation:
    """Truncated gradients: the hidden layer keeps only `kept`; Why and by lose nothing."""
    truncated: dict[str, np.ndarray] = {}
    discarded: dict[str, float] = {}
    for name in PARAM_NAMES:
        if name in HIDDEN_PARAMS:
            truncated[name] = kept.T @ Z[name]  # sum_k outer(kept_k, z_k)
            discarded[name] = float(np.linalg.norm((dhraw - kept).T @ Z[name]))
        else:  # only k = t terms, which every window keeps
            truncated[name] = full[name].copy()
            discarded[name] = 0.0
    return Truncation(window, {n: float(np.linalg.norm(full[n])) for n in PARAM_NAMES},
                      discarded, truncated)


def _clip_effect(name: str, g: np.ndarray, clipped: Gradients) -> ClipEffect:
    after = clipped.grads[name]
    assert clipped.clipped is not None
    mask = clipped.clipped[name]
    change = np.abs(g - after)
    order = np.argsort(-change, axis=None, kind="stable")[: min(MAX_CLIPPED_LISTED,
                                                                 int(mask.sum()))]
    elements = tuple(
        ClippedElement(tuple(int(i) for i in np.unravel_index(int(f), g.shape)),
                       float(g.flat[f]), float(after.flat[f]))
        for f in order)
    full = float(np.linalg.norm(g))
    return ClipEffect(name, int(g.size), int(mask.sum()), float(np.abs(g).max(initial=0.0)),
                      float(np.linalg.norm(g - after)) / full if full > 0 else 0.0, elements)


def _unstepped(g: Gradients) -> Gradients:
    return dataclasses.replace(g, steps=None)


def _floats(a: np.ndarray) -> Any:
    """A nested list of floats, non-finite values as None (JSON has no inf)."""
    if np.isfinite(a).all():
        return a.tolist()
    if a.ndim == 0:
        return finite(float(a))
    return [_floats(x) for x in a]


def _float_dict(d: dict[str, float]) -> dict[str, float | None]:
    return {k: finite(v) for k, v in d.items()}
