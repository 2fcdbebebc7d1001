"""See the sum for a gated cell: the (t, k) map, the LSTM's c/h paths, reach against vanilla.

For a parameter theta of the gates, the reference engine's double sum is

    dL/dtheta = sum_t sum_{k<=t} term(t, k),   term(t, k) = outer(dL_t/da_k, z_k)

with a_k the gate's pre-activation at step k and z_k what theta multiplies
(z_k = [h_{k-1}; x_k]; for the GRU's Wn, [r_k h_{k-1}; x_k]; 1 for a bias).
dL_t/da_k comes from dL_t/ds_k, the gradient that reached the state s_k
= (h_k, c_k) (LSTM) or h_k (GRU) from loss step t, through the explicit state
Jacobians of :mod:`bpttcheck.cells.lstm_reference` / ``gru_reference``.
Row sums (fixed t) are the lecture's grouping, column sums (fixed k) the
tutorial's (dhnext and dcnext carry every later step's share to step k); both
are compared with every term summed with compensation and with the tutorial's
gradient, as for the vanilla cell (:mod:`bpttcheck.explain`).

**Paths (LSTM).** dL_t/ds_k has two parts: dL_t/dh_k and dL_t/dc_k. The
(t, k) term of a gate parameter splits exactly into the share that reached
step k through the cell state c_k and the share that reached it through h_k
(the output gate's is all through h). Far-back terms travel through c, whose
Jacobian dc_j/dc_{j-1} = diag(f_j) has no weight matrix and no tanh' factor.

**Reach.** r(d) = mean over t of ||dL_t/ds_{t-d}||, relative to r(0): how much
of a loss step's gradient is still there d steps back. The reach is the
largest d with r(d) >= :data:`REACH_FRACTION`. The vanilla cell is run on the
same spec (same seed, text, sizes and init scale) for comparison.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..budget import check_explain_memory
from ..compare import norm_rel_error, rel_error
from ..engines import reference as vanilla_reference
from ..engines.base import Gradients, Options
from ..errors import SpecError
from ..explain import Agreement, CompensatedSum, ContributionMap, _bin_map, _floats
from ..model import Problem, build
from ..model import forward as vanilla_forward
from ..report import header, problem_dict, run_arrays, save_arrays
from ..spec import CELL_PARAM_NAMES, Spec
from . import check_reference_time, get, gru_reference, lstm_reference

REACH_FRACTION = 0.01  # "how far back 1% of the gradient still reaches"


@dataclasses.dataclass(frozen=True)
class Paths:
    """The LSTM's split of ``parameter``'s terms: through c_k and through h_k."""

    via_c: np.ndarray  # (T, T): ||share of term(t, k) that reached step k through c_k||
    via_h: np.ndarray  # (T, T)
    total_c: np.ndarray  # the gradient's share through c (sum of every term's c share)
    total_h: np.ndarray

    def by_lag(self, which: np.ndarray) -> np.ndarray:
        T = which.shape[0]
        return np.array([np.diagonal(which, offset=-d).sum() for d in range(T)])

    def to_dict(self) -> dict[str, Any]:
        return {"via_c": _floats(self.via_c), "via_h": _floats(self.via_h),
                "norm_via_c": float(np.linalg.norm(self.total_c)),
                "norm_via_h": float(np.linalg.norm(self.total_h)),
                "by_lag_via_c": _floats(self.by_lag(self.via_c)),
                "by_lag_via_h": _floats(self.by_lag(self.via_h))}


@dataclasses.dataclass(frozen=True)
class ReachComparison:
    """r(d) for the gated cell and the vanilla cell on the same spec."""

    cell: str
    cell_profile: np.ndarray  # (T,) r(d) / r(0)
    vanilla_profile: np.ndarray  # (T,)
    fraction: float

    @staticmethod
    def reach(profile: np.ndarray, fraction: float) -> int:
        above = np.flatnonzero(profile >= fraction)
        return int(above.max()) if len(above) else 0

    @property
    def cell_reach(self) -> int:
        return self.reach(self.cell_profile, self.fraction)

    @property
    def vanilla_reach(self) -> int:
        return self.reach(self.vanilla_profile, self.fraction)

    def to_dict(self) -> dict[str, Any]:
        return {"fraction": self.fraction, "lags": list(range(len(self.cell_profile))),
                self.cell: _floats(self.cell_profile), "vanilla": _floats(self.vanilla_profile),
                f"{self.cell}_reach": self.cell_reach, "vanilla_reach": self.vanilla_reach}


@dataclasses.dataclass(frozen=True)
class GatedExplanation:
    """Everything ``bpttcheck explain --cell lstm|gru`` shows, as data."""

    spec: Spec
    problem: Problem
    parameter: str
    contribution_norms: np.ndarray  # (T, T)
    row_sums: np.ndarray  # (T, *shape)
    column_sums: np.ndarray  # (T, *shape)
    gradient: np.ndarray  # the tutorial engine's
    exact: np.ndarray  # every term, compensated
    rows_vs_gradient: Agreement
    columns_vs_gradient: Agreement
    tutorial_vs_exact: Agreement
    columns_vs_steps: Agreement
    map: ContributionMap
    paths: Paths | None
    reach: ReachComparison
    results: dict[str, Gradients]

    @property
    def diagonal(self) -> bool:
        return self.parameter in ("Why", "by")

    @property
    def seq(self) -> int:
        return self.problem.batch.seq

    @property
    def passed(self) -> bool:
        rtol = self.spec.rtol_analytic
        return all(a.rel_error <= rtol for a in (self.rows_vs_gradient, self.columns_vs_gradient,
                                                 self.columns_vs_steps, self.tutorial_vs_exact))

    def to_dict(self) -> dict[str, Any]:
        return {
            **header(),
            "command": "explain",
            "passed": self.passed,
            "spec": self.spec.to_dict(),
            "problem": problem_dict(self.problem, self.results["tutorial"].loss),
            "cell": self.spec.cell,
            "parameter": self.parameter,
            "diagonal": self.diagonal,
            "gradient_norm": float(np.linalg.norm(self.gradient)),
            "contribution_norms": _floats(self.contribution_norms),
            "row_sums": self.rows_vs_gradient.to_dict(),
            "column_sums": {**self.columns_vs_gradient.to_dict(),
                            "tutorial_steps": self.columns_vs_steps.to_dict()},
            "tutorial_vs_exact": self.tutorial_vs_exact.to_dict(),
            "map": self.map.to_dict(),
            "paths": self.paths.to_dict() if self.paths is not None else None,
            "reach": self.reach.to_dict(),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def save(self, path: str | Path) -> None:
        arrays = run_arrays(self.problem, self.results, self.results["tutorial"].loss)
        arrays.update({"explain.parameter": np.array(self.parameter),
                       "explain.contribution_norms": self.contribution_norms,
                       "explain.row_sums": self.row_sums,
                       "explain.column_sums": self.column_sums,
                       "explain.reach": self.reach.cell_profile,
                       "explain.vanilla_reach": self.reach.vanilla_profile})
        if self.paths is not None:
            arrays["explain.via_c"] = self.paths.via_c
            arrays["explain.via_h"] = self.paths.via_h
        save_arrays(path, arrays)


def default_parameter(cell: str) -> str:
    """The recurrent weight explain shows unless told: Wf (LSTM), Wz (GRU), Whh (vanilla)."""
    return {"lstm": "Wf", "gru": "Wz"}.get(cell, "Whh")


def explain(spec: Spec, parameter: str | None = None, *,
            with_reference: bool = False) -> GatedExplanation:
    """The (t, k) map of ``parameter``'s gradient, its paths and reach, for a gated cell."""
    cell = get(spec.cell)
    names = CELL_PARAM_NAMES[spec.cell]
    parameter = parameter if parameter is not None else default_parameter(spec.cell)
    if parameter not in names:
        raise SpecError(f"--param: expected one of {', '.join(names)} for --cell {spec.cell}, "
                        f"got {parameter!r}")
    check_reference_time(cell, spec.hidden, spec.seq)  # every (t, k) term is formed
    problem = build(spec)
    params, batch = problem.params, problem.batch
    check_explain_memory(problem.n_params, problem.hidden, problem.vocab, batch.seq, parameter,
                         int(params[parameter].size), spec.max_memory)
    fw = cell.forward(params, batch)
    T = batch.seq
    shape = params[parameter].shape
    norms = np.zeros((T, T))
    row_sums = np.zeros((T, *shape))
    column_sums = np.zeros((T, *shape))
    exact = CompensatedSum(shape)
    lstm = spec.cell == "lstm"
    via_c, via_h = np.zeros((T, T)), np.zeros((T, T))
    total_c, total_h = CompensatedSum(shape), CompensatedSum(shape)
    state_norms = np.zeros((T, T))  # ||dL_t/ds_k||
    ref = lstm_reference if lstm else gru_reference
    dys = fw.ps.copy()
    dys[np.arange(T), list(batch.targets)] -= 1.0
    if parameter in ("Why", "by"):  # the output layer: only k = t
        out = fw.hs if parameter == "Why" else np.ones((T, 1))
        for t in range(T):
            term = np.outer(dys[t], out[t]).reshape(shape)
            norms[t, t] = np.linalg.norm(term)
            row_sums[t] = column_sums[t] = term
            exact.add(term)
    gate = cell.model.WEIGHTS.index(parameter) if parameter in cell.model.WEIGHTS else (
        cell.model.BIASES.index(parameter) if parameter in cell.model.BIASES else None)
    multiplies = fw.zns if parameter == "Wn" else fw.zs
    H = fw.hs.shape[1]
    local = [lstm_reference.immediate(fw, k) for k in range(T)] if lstm else []
    for t, k, dLt_ds, dLt_da in ref.contributions(params, fw, batch):
        state_norms[t, k] = np.linalg.norm(dLt_ds)
        if gate is None:
            continue
        da = dLt_da[gate]
        z = multiplies[k] if parameter in cell.model.WEIGHTS else np.ones(1)
        term = np.outer(da, z).reshape(shape)
        norms[t, k] = np.linalg.norm(term)
        row_sums[t] += term
        column_sums[k] += term
        exact.add(term)
        if lstm:  # the share that reached step k through c_k, and through h_k
            da_c = dLt_ds[H:] @ local[k][gate][H:]
            part_c = np.outer(da_c, z).reshape(shape)
            via_c[t, k] = np.linalg.norm(part_c)
            via_h[t, k] = np.linalg.norm(term - part_c)
            total_c.add(part_c)
            total_h.add(term - part_c)
    with_steps = cell.engines["tutorial"](params, batch, Options(record_steps=True))
    assert with_steps.steps is not None
    gradient = with_steps.grads[parameter]
    floor = spec.floor
    results = {"tutorial": dataclasses.replace(with_steps, steps=None)}
    if with_reference:
        results["reference"] = cell.engines["reference"](params, batch, Options())
    paths = (Paths(via_c, via_h, total_c.total(), total_h.total())
             if lstm and parameter not in ("Why", "by") else None)
    return GatedExplanation(
        spec=spec, problem=problem, parameter=parameter, contribution_norms=norms,
        row_sums=row_sums, column_sums=column_sums, gradient=gradient, exact=exact.total(),
        rows_vs_gradient=_agreement(row_sums.sum(axis=0), exact.total(), floor),
        columns_vs_gradient=_agreement(column_sums.sum(axis=0), exact.total(), floor),
        tutorial_vs_exact=_agreement(gradient, exact.total(), floor),
        columns_vs_steps=_agreement(column_sums, with_steps.steps[parameter], floor),
        map=_bin_map(norms, row_sums, column_sums), paths=paths,
        reach=ReachComparison(spec.cell, _profile(state_norms), _vanilla_profile(spec),
                              REACH_FRACTION),
        results=results)


def _agreement(a: np.ndarray, b: np.ndarray, floor: float) -> Agreement:
    return Agreement(float(rel_error(a, b, floor).max(initial=0.0)), norm_rel_error(a, b))


def _profile(state_norms: np.ndarray) -> np.ndarray:
    """r(d) / r(0), r(d) = mean over t of ||dL_t/ds_{t-d}||."""
    T = state_norms.shape[0]
    mean = np.array([np.diagonal(state_norms, offset=-d).mean() for d in range(T)])
    out: np.ndarray = mean / mean[0] if mean[0] > 0 else mean
    return out


def _vanilla_profile(spec: Spec) -> np.ndarray:
    """The same profile for the vanilla cell on the same spec: ||dL_t/dh_k||."""
    vanilla = dataclasses.replace(spec, cell="vanilla")
    problem = build(vanilla)
    params, batch = problem.params, problem.batch
    fw = vanilla_forward(params, batch)
    T = batch.seq
    norms = np.zeros((T, T))
    Whh, Why = params["Whh"], params["Why"]
    for t, k, dLt_dak in vanilla_reference.contributions(params, fw, batch):
        if k == t:
            dy = fw.ps[t].copy()
            dy[batch.targets[t]] -= 1
            norms[t, t] = np.linalg.norm(Why.T @ dy)  # dL_t/dh_t
        if k > 0:
            norms[t, k - 1] = np.linalg.norm(Whh.T @ dLt_dak)  # dL_t/dh_{k-1}
    return _profile(norms)


__all__ = ["GatedExplanation", "Paths", "ReachComparison", "default_parameter", "explain"]
