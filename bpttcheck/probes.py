"""The batched-call protocol: how numerical differentiation asks any loss for many values.

Numerical differentiation needs the loss at many points near one base point
theta: theta + delta e_i for single elements (every method), and
theta + delta v along a dense direction v (``--directions``). Whatever computes
the loss -- the vanilla model's forward pass, a gated cell's, a layer function's
<G, h>, or a user's function running in a child process -- is asked for them in
batches, so that one vectorised forward pass, or one round trip to the child,
serves many points. This module is that contract and nothing else: the
differentiator (which points, which differences, which error bars) lives
elsewhere and knows only what is written here.

Probe sets
    :class:`ElementProbes` moves element ``index[p]`` of one parameter ``name``
    by ``step[p]``; :class:`DirectionProbes` moves every parameter by
    ``step[p] * directions[name][p]``. Steps are float64, or complex128 for the
    complex step (point theta + i eta e_i). Probe sets are plain arrays and
    strings, so they pickle cheaply across a pipe.

A batched loss (:class:`BatchedLoss`)
    holds the base point and answers probe sets with one loss per point, as a
    float64 array (complex128 for complex steps). It says what it can do:

    - ``dtype``: the precision it really computes in (float32 user code is
      differentiated with float32-sized steps and judged with float32 error bars);
    - ``accepts_complex``: whether complex steps may be sent at all;
    - ``returns_change``: whether answers are L(theta + d) - L(theta), formed
      without cancellation, instead of L(theta + d) itself;
    - ``scale(name, index)``: the rounding scale of each element's loss (the part
      of |L| a perturbation of it can change), for error bars.

:class:`ScalarLoss` turns any ``loss(params) -> scalar`` into a batched loss by
calling it once per point on a perturbed copy. It is the obvious, slow, always
correct implementation: faster ones (a model's vectorised forward pass) must
agree with it, and tests hold them to that.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Protocol, runtime_checkable

import numpy as np

Arrays = Mapping[str, np.ndarray]


@dataclasses.dataclass(frozen=True)
class ElementProbes:
    """P points, each the base point with one element of ``name`` moved by ``step[p]``."""

    name: str
    index: np.ndarray  # (P,) flat indices into params[name]
    step: np.ndarray  # (P,) float64 or complex128

    def __post_init__(self) -> None:
        if self.index.shape != self.step.shape or self.index.ndim != 1:
            raise ValueError("ElementProbes: index and step must be 1-D arrays of one length")

    def __len__(self) -> int:
        return int(self.index.shape[0])

    @property
    def is_complex(self) -> bool:
        return bool(np.iscomplexobj(self.step))


@dataclasses.dataclass(frozen=True)
class DirectionProbes:
    """K points, point p being theta + step[p] * directions[:, p] (every parameter at once)."""

    directions: dict[str, np.ndarray]  # name -> (K, *params[name].shape)
    step: np.ndarray  # (K,) float64 or complex128

    def __len__(self) -> int:
        return int(self.step.shape[0])

    @property
    def is_complex(self) -> bool:
        return bool(np.iscomplexobj(self.step))


@runtime_checkable
class BatchedLoss(Protocol):
    """A loss around a fixed base point that answers probe sets in batches."""

    dtype: np.dtype  # the precision it computes in (np.float64 or np.float32)
    accepts_complex: bool
    returns_change: bool  # answers are L(theta + d) - L(theta), not L(theta + d)

    @property
    def base(self) -> float:
        """L(theta) at the base point."""
        ...

    def elements(self, probes: ElementProbes) -> np.ndarray:
        """(P,) losses (or changes) at the points of ``probes``."""
        ...

    def along(self, probes: DirectionProbes) -> np.ndarray:
        """(K,) losses (or changes) along the directions of ``probes``."""
        ...

    def scale(self, name: str, index: np.ndarray) -> np.ndarray:
        """(P,) the magnitude of the loss that moving each element can change (rounding)."""
        ...


class ScalarLoss:
    """Any ``loss(params) -> float`` (or complex) as a :class:`BatchedLoss`, one call a point.

    ``loss`` is called with a dict of fresh copies, never the caller's arrays, so
    a loss that mutates its argument cannot corrupt the base point.
    ``accepts_complex`` must be declared by whoever knows the loss is analytic
    and written with complex-safe operations (``abs`` and comparisons are not).
    """

    returns_change = False

    def __init__(self, loss: Callable[[dict[str, np.ndarray]], float | complex], params: Arrays,
                 *, dtype: np.dtype | type = np.float64, accepts_complex: bool = False) -> None:
        self._loss = loss
        self._params = {name: np.array(p) for name, p in params.items()}
        self.dtype = np.dtype(dtype)
        self.accepts_complex = accepts_complex
        self._base: float | None = None

    @property
    def base(self) -> float:
        if self._base is None:
            self._base = float(np.real(self._loss(self._copy(np.float64))))
        return self._base

    def _copy(self, kind: type) -> dict[str, np.ndarray]:
        return {name: p.astype(kind, order="C", copy=True)  # C order: reshape(-1) is a view
                for name, p in self._params.items()}

    def _check_complex(self, is_complex: bool) -> type:
        if is_complex and not self.accepts_complex:
            raise ValueError("this loss does not accept complex steps")
        return np.complex128 if is_complex else np.float64

    def elements(self, probes: ElementProbes) -> np.ndarray:
        kind = self._check_complex(probes.is_complex)
        out: np.ndarray = np.empty(len(probes), dtype=kind)
        for p in range(len(probes)):
            point = self._copy(kind)
            point[probes.name].reshape(-1)[probes.index[p]] += probes.step[p]
            out[p] = self._loss(point)
        return out

    def along(self, probes: DirectionProbes) -> np.ndarray:
        kind = self._check_complex(probes.is_complex)
        out: np.ndarray = np.empty(len(probes), dtype=kind)
        for p in range(len(probes)):
            point = self._copy(kind)
            for name, v in probes.directions.items():
                point[name] += probes.step[p] * v[p]
            out[p] = self._loss(point)
        return out

    def scale(self, name: str, index: np.ndarray) -> np.ndarray:
        return np.full(len(index), abs(self.base))
