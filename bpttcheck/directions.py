"""Random-projection pre-screen (``--directions K``), with drill-down to elements.

Like PyTorch's gradcheck fast mode or JAX's ``check_grads``: instead of every
element, compare K directional derivatives per parameter. For a random
direction v (standard normal entries, seeded), the analytic side is v . g and
the numerical side is dL/ds of L(theta + s v) at s = 0, one differentiation per
direction whatever the parameter's size, by the one differentiator
(:func:`bpttcheck.numdiff.along`) on the numeric engine's own losses:

- ``complex`` and ``complex-literal``: Im L(theta + i eta v) / eta, the forward
  pass run on complex numbers as written;
- the finite-difference methods: the same methods as per element, on plain
  forward passes; since a direction costs a handful of passes, a guessed
  truncation error bar is measured instead, by repeating the difference at h/2
  (``difference`` is judged as ``central``).

A projection *agrees* when |v.g - D_v| / max(|v.g| + |D_v|, floor sum|v_i g_i|) is
within the numeric tolerance, or the difference is within the error bar (the
numeric method's own, plus the rounding of the sum v . g). One projection can
be blind to a bug (a wrong element whose v_i is small, or two that cancel),
which is why a parameter whose projections all agree is reported as
"screened", not "checked", and why any disagreement drills down: that
parameter is then differentiated element by element and the failing elements
are named like in a full check.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .engines.base import Gradients
from .engines.complex_step import LiteralLoss
from .engines.finite_difference import PlainLoss
from .model import Batch, Params
from .numdiff import along, by_name
from .numdiff.methods import CENTRAL, COMPLEX_LITERAL

EPS = float(np.finfo(np.float64).eps)

DIRECTIONS_STREAM = 3  # seed word: directions do not disturb the weights' or samples' streams
DOT_NOISE = 4.0  # ulps per term of the rounding of v . g (pairwise summation does better)


@dataclasses.dataclass(frozen=True)
class Projection:
    """K directional derivatives of one parameter, one analytic engine against numeric."""

    parameter: str
    engine: str
    analytic: tuple[float, ...]  # v_k . g
    numeric: tuple[float, ...]  # D_{v_k} L
    rel_errors: tuple[float, ...]
    limited: int  # projections outside rtol but within the error bar
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        return {"parameter": self.parameter, "engine": self.engine,
                "analytic": list(self.analytic), "numeric": list(self.numeric),
                "rel_errors": list(self.rel_errors),
                "max_rel_error": max(self.rel_errors, default=0.0),
                "precision_limited": self.limited, "passed": self.passed}


@dataclasses.dataclass(frozen=True)
class Screen:
    """The pre-screen's outcome: every projection, and the parameters drilled into."""

    k: int
    method: str
    projections: tuple[Projection, ...]
    drilled: tuple[str, ...]  # parameters differentiated element by element afterwards

    @property
    def screened(self) -> tuple[str, ...]:
        """Parameters whose projections all agreed (checked only by projection)."""
        names = dict.fromkeys(p.parameter for p in self.projections)
        return tuple(n for n in names if n not in self.drilled)

    def to_dict(self) -> dict[str, Any]:
        return {"k": self.k, "method": self.method, "drilled_down": list(self.drilled),
                "screened_only": list(self.screened),
                "projections": [p.to_dict() for p in self.projections]}


def random_directions(params: Params, k: int, seed: int) -> dict[str, np.ndarray]:
    """K standard-normal directions per parameter, shape (K, *shape), from their own stream."""
    rng = np.random.default_rng([seed, DIRECTIONS_STREAM])
    return {name: rng.standard_normal((k, *p.shape)) for name, p in params.items()}


def directional(params: Params, batch: Batch, name: str, v: np.ndarray, method: str,
                step: float | None = None) -> tuple[float, float]:
    """dL/ds of L(params with ``name`` + s v) at s = 0, and its error bar."""
    values, errors = directionals(params, batch, name, v[None], method, step)
    return float(values[0]), float(errors[0])


def directionals(params: Params, batch: Batch, name: str, vs: np.ndarray, method: str,
                 step: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """K directional derivatives along vs (K, *shape) of parameter ``name``, and error bars."""
    m = by_name(method)
    if m.complex:
        loss: LiteralLoss | PlainLoss = LiteralLoss(params, batch)
        m = COMPLEX_LITERAL
    else:
        loss = PlainLoss(params, batch)
        m = CENTRAL if m.exact_change else m
    unit = max(1.0, float(np.abs(params[name]).max(initial=0.0)))
    return along(loss, m, {name: vs}, unit, step=step)


def screen(params: Params, batch: Batch, analytic: Mapping[str, Gradients], k: int,
           method: str, seed: int, rtol: float, floor: float,
           step: float | None = None,
           directional_fn: Callable[[str, np.ndarray], tuple[float, float]] | None = None
           ) -> Screen:
    """Project every parameter's gradient on K random directions; list those to drill into.

    ``directional_fn(name, v)`` -> (value, error bar) replaces :func:`directional`
    (the vanilla model's) for other models, such as the gated cells.
    """
    dirs = random_directions(params, k, seed)
    if directional_fn is None:  # the vanilla model: every direction in one batched call
        numeric = {name: directionals(params, batch, name, dirs[name], method, step)
                   for name in params}
    else:
        numeric = {}
        for name in params:
            pairs = [directional_fn(name, v) for v in dirs[name]]  # (value, error bar) each
            numeric[name] = (np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
    projections = []
    drilled: dict[str, None] = {}
    for engine, g in analytic.items():
        for name in params:
            a = np.array([float(np.sum(v * g.grads[name])) for v in dirs[name]])
            terms = np.array([float(np.sum(np.abs(v * g.grads[name]))) for v in dirs[name]])
            n, bar = numeric[name]
            bar = bar + DOT_NOISE * EPS * params[name].size * terms
            finite = np.isfinite(a) & np.isfinite(n)
            diff = np.abs(np.where(finite, a - n, 0.0))
            den = np.maximum(np.abs(a) + np.abs(n), np.maximum(floor * terms, 1e-300))
            rel = np.where(finite, diff / den, np.inf)
            limited = finite & (rel > rtol) & (diff <= bar)
            passed = bool(np.all(finite & ((rel <= rtol) | limited)))
            if not passed:
                drilled[name] = None
            projections.append(Projection(name, engine, tuple(float(x) for x in a),
                                          tuple(float(x) for x in n),
                                          tuple(float(x) for x in rel), int(limited.sum()),
                                          passed))
    order = list(params)
    return Screen(k, method, tuple(projections), tuple(sorted(drilled, key=order.index)))
