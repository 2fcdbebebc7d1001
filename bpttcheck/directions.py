"""Random-projection pre-screen (``--directions K``), with drill-down to elements.

Like PyTorch's gradcheck fast mode or JAX's ``check_grads``: instead of every
element, compare K directional derivatives per parameter. For a random
direction v (standard normal entries, seeded), the analytic side is v . g and
the numerical side is dL/ds of L(theta + s v) at s = 0, one differentiation per
direction whatever the parameter's size:

- ``complex``: Im L(theta + i eta v) / eta, the forward pass run on complex
  numbers as written (:func:`bpttcheck.engines.complex_step.complex_loss`);
- the finite-difference methods: the same formulas as per element
  (:mod:`bpttcheck.engines.numeric`) on plain forward passes; since a
  direction costs a handful of passes, the truncation error bar is measured
  by repeating the difference at h/2 (``difference`` is judged as ``central``).

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

from .engines import complex_step
from .engines.base import Gradients
from .engines.numeric import EPS, PLAIN_NOISE, STEPS
from .model import Batch, Params, forward

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
    theta = params[name]
    unit = max(1.0, float(np.abs(theta).max(initial=0.0)))
    if method == "complex":
        eta = (step if step is not None else complex_step.COMPLEX_STEP) * unit
        moved: dict[str, np.ndarray] = {n: np.asarray(p, dtype=np.complex128)
                                        for n, p in params.items()}
        moved[name] = theta + 1j * eta * v
        value = complex_step.complex_loss(moved, batch).imag / eta
        T, H = batch.seq, params["Whh"].shape[0]
        return value, complex_step.noise(np.array(abs(value)), H, T).item()
    kind = "central" if method == "difference" else method
    h = (step if step is not None else STEPS[kind]) * unit

    def change(s: float) -> tuple[float, float]:
        bumped = dict(params)
        bumped[name] = theta + s * v
        fw = forward(bumped, batch)
        return fw.loss, float(np.abs(fw.losses).sum() + np.abs(fw.ys).max(axis=1).sum())

    base, scale = change(0.0)
    rounding = PLAIN_NOISE * EPS * scale / h
    # Each direction costs only a few forward passes, so the truncation error is measured
    # (the same difference at h/2) instead of guessed from the second difference.
    up, up2 = change(h)[0] - base, change(h / 2)[0] - base
    if kind == "forward":
        f1, f2 = up / h, up2 / (h / 2)
        return f1, 2 * abs(f1 - f2) + 2 * rounding  # error of f1 ~ h f''/2 = 2 (f1 - f2)
    down, down2 = change(-h)[0] - base, change(-h / 2)[0] - base
    d1 = (up - down) / (2 * h)
    d2 = (up2 - down2) / h
    if kind == "central":
        return d1, 4 * abs(d1 - d2) / 3 + 3 * rounding  # error of d1 ~ 4 (d1 - d2) / 3
    return (4 * d2 - d1) / 3, abs(d1 - d2) / 3 + 3 * rounding


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
    if directional_fn is None:
        def directional_fn(name: str, v: np.ndarray) -> tuple[float, float]:
            return directional(params, batch, name, v, method, step)
    numeric: dict[str, list[tuple[float, float]]] = {
        name: [directional_fn(name, v) for v in dirs[name]] for name in params
    }
    projections = []
    drilled: dict[str, None] = {}
    for engine, g in analytic.items():
        for name in params:
            a = np.array([float(np.sum(v * g.grads[name])) for v in dirs[name]])
            terms = np.array([float(np.sum(np.abs(v * g.grads[name]))) for v in dirs[name]])
            n = np.array([value for value, _ in numeric[name]])
            bar = np.array([err for _, err in numeric[name]])
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
