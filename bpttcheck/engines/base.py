"""What every gradient engine takes and returns.

An engine is a function ``engine(params, batch, options) -> Gradients``. It
must not modify ``params`` or ``batch``, and it returns one array per
parameter, with the parameter's name and shape, so engines can be compared
element by element and new ones (a user's own backward pass) slot in by name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

import numpy as np

from ..model import Batch, Params

ProgressFn = Callable[[int, int], None]  # (elements done, elements in all)


@dataclasses.dataclass(frozen=True)
class Options:
    """Settings an engine may use; each engine ignores the ones it has no use for."""

    clip: float | None = None  # tutorial: clip every gradient to [-clip, clip]
    method: str = "complex"  # numeric: differentiation method (numeric.METHODS)
    step: float | None = None  # numeric: step, relative to max(1, |theta|)
    sample: Mapping[str, np.ndarray] | None = None  # numeric: flat indices to check
    record_steps: bool = False  # analytic: also return each step's contribution
    progress: ProgressFn | None = None
    max_memory: int = 256 * 2**20  # bytes of work arrays a batched engine may hold
    time_budget: float | None = 300.0  # numeric: refuse runs estimated to take longer (s)
    threads: int | None = None  # numeric: worker threads (None: one per core)


@dataclasses.dataclass(frozen=True)
class Gradients:
    """One engine's answer: dL/dtheta for every parameter, and what it knows of it."""

    engine: str
    loss: float
    grads: dict[str, np.ndarray]
    dhprev: np.ndarray | None = None  # dL/dhprev, where the engine computes it
    # Per-element absolute error estimate of a numerical value (numeric only).
    noise: dict[str, np.ndarray] | None = None
    # Flat indices actually computed, per parameter; None means every element.
    covered: dict[str, np.ndarray] | None = None
    # Elements that gradient clipping changed, and the bound used.
    clipped: dict[str, np.ndarray] | None = None
    clip: float | None = None
    # steps[name][k] is the part of grads[name] added at time step k (analytic engines,
    # when Options.record_steps): for the tutorial the dhnext-regrouped term at step k,
    # for the reference the column sum over t >= k of the double sum.
    steps: dict[str, np.ndarray] | None = None
    notes: tuple[str, ...] = ()
    method: str | None = None  # numeric: how it differentiated ("complex", "central", ...)
    step: str | None = None  # numeric: the formula and step, in words
    timing: dict[str, float] | None = None  # numeric: estimated_s, elapsed_s, threads, elements


class Engine(Protocol):
    def __call__(self, params: Params, batch: Batch, options: Options) -> Gradients: ...


def restricted(g: Gradients, names: Iterable[str]) -> Gradients:
    """``g`` with only the parameters ``names`` (a bias-free model's: no bh, no by)."""
    keep = set(names)

    def only(d: dict[str, np.ndarray] | None) -> dict[str, np.ndarray] | None:
        return None if d is None else {n: v for n, v in d.items() if n in keep}

    return dataclasses.replace(g, grads=only(g.grads) or {}, noise=only(g.noise),
                               covered=only(g.covered), clipped=only(g.clipped),
                               steps=only(g.steps))
