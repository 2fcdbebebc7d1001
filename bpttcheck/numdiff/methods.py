"""Differentiation methods, one object each: step, copies, combination, error bars.

Every method estimates dL/dtheta_i from the loss at a few points
theta + c_k h e_i (``offsets`` c_k, ``h`` the step, relative to
max(1, |theta_i|)) as one linear combination::

    g = sum_k w_k L(theta + c_k h e_i) / h

(the complex step takes the imaginary part first). Its error bar is the sum of

- **rounding**: each answer's own rounding r_k, carried through the same
  combination, sum_k |w_k| r_k / h. Rounding grows as h shrinks;
- **truncation**: the Taylor terms the combination leaves, of order h^p
  (``order`` p). Each method estimates it from the answers it already has
  (:meth:`Method.truncation`), so it shrinks as h does.

The default step balances the two: h^p (truncation) against eps / h
(rounding) is smallest near h = eps^(1/(p+1)), with eps the machine epsilon
*of the loss's own precision* (a float32 loss gets float32 steps and bars).

``complex``
    Im L(theta + i eta e_i) / eta. Nothing is subtracted, so eta can be tiny
    and truncation (eta^2) is far below rounding. Needs a loss that accepts
    complex steps.
``central``
    (L(theta + h e) - L(theta - h e)) / 2h, p = 2, h = eps^(1/3).
``forward``
    (L(theta + h e) - L(theta)) / h, p = 1, h = eps^(1/2). Half the work,
    much less accurate.
``richardson``
    central at h and h/2, extrapolated: (4 D(h/2) - D(h)) / 3, p = 4,
    h = eps^(1/5). Its truncation estimate is measured for every element:
    |D(h) - D(h/2)| / 3.
``difference``
    central differences on a loss that answers in *difference form*
    (changes L(theta + d) - L(theta) propagated without cancellation; see
    :class:`bpttcheck.engines.finite_difference.DifferenceLoss`), so rounding is
    relative to the change and the step can be small: h = 1e-8.
``complex-literal``
    the complex step on the loss's plain complex forward pass for every element
    (no structured fast path; see :mod:`bpttcheck.engines.complex_step`).

The list :data:`METHODS` is the one definition; ``spec.METHOD_CHOICES`` (kept
NumPy-free for the command line) is checked against it on import.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..spec import METHOD_CHOICES

FD_MIN_STEP_ULPS = 512.0  # below 512 eps (1.1e-13 in float64) a difference is rounding alone
FD_MAX_STEP = 0.1  # beyond this it no longer approximates a derivative (and exp may overflow)
COMPLEX_MAX_STEP = 1e-4  # eta^2 truncation reaches 1e-8 relative above this
COMPLEX_STEP = 1e-20  # as small as is safe in float64: eta |g| stays far above subnormals
# Rounding of one answer when the loss says nothing better, in units of eps |L|: a few
# ulps per operation of a softmax and a tanh recurrence (see engines/numeric.py).
PLAIN_NOISE = 16.0


def eps_of(dtype: np.dtype | type) -> float:
    return float(np.finfo(np.dtype(dtype)).eps)


@dataclasses.dataclass(frozen=True)
class Method:
    """A finite combination of loss values that estimates one derivative."""

    name: str
    formula: str  # in words, with {h} for the step
    offsets: tuple[float, ...]  # points theta + c h e_i, one perturbed copy each
    weights: tuple[float, ...]  # g = sum w_k L_k / h
    order: int  # truncation O(h^order)
    base_weight: float = 0.0  # weight of L(theta) itself (forward differences)
    complex: bool = False
    exact_change: bool = False  # needs a loss answering in difference form
    calibrate: bool = False  # truncation estimate is a guess: measure it at h/2 on a sample

    @property
    def copies(self) -> int:
        return len(self.offsets)

    def default_step(self, dtype: np.dtype | type = np.float64) -> float:
        """Where truncation h^p and rounding eps / h balance: h = eps^(1/(p+1))."""
        return float(eps_of(dtype) ** (1.0 / (self.order + 1)))

    def step_range(self, dtype: np.dtype | type = np.float64) -> tuple[float, float]:
        return FD_MIN_STEP_ULPS * eps_of(dtype), FD_MAX_STEP

    def describe(self, h: float) -> str:
        return self.formula.format(h=f"{h:.1e}")

    def combine(self, values: np.ndarray, h: np.ndarray, base: float) -> np.ndarray:
        """g from (P, copies) answers at steps h (P,), ``base`` = L(theta) (0 for changes)."""
        g: np.ndarray = (values.real @ np.asarray(self.weights) + self.base_weight * base) / h
        return g

    def rounding(self, r: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Rounding error of g from (P, copies) rounding errors of the answers."""
        bar: np.ndarray = (r @ np.abs(self.weights) + abs(self.base_weight) * r.max(axis=1)) / h
        return bar

    def truncation(self, values: np.ndarray, h: np.ndarray, unit: np.ndarray,
                   base: float) -> np.ndarray:
        """An estimate of the truncation error from the answers themselves (P,)."""
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Central(Method):
    def truncation(self, values: np.ndarray, h: np.ndarray, unit: np.ndarray,
                   base: float) -> np.ndarray:
        # h^2 f''' / 6, guessed as h^2 f'' / 6 on the unit scale of theta: the second
        # difference L+ + L- - 2 L0 is h^2 f''.
        v = values.real
        second: np.ndarray = np.abs(v[:, 0] + v[:, 1] - 2 * base) / (6 * unit)
        return second


@dataclasses.dataclass(frozen=True)
class Forward(Method):
    def truncation(self, values: np.ndarray, h: np.ndarray, unit: np.ndarray,
                   base: float) -> np.ndarray:
        g = (values[:, 0].real - base) / h
        out: np.ndarray = h * np.abs(g) / (2 * unit)  # h f'' / 2, guessing f'' ~ f'
        return out


@dataclasses.dataclass(frozen=True)
class Richardson(Method):
    def truncation(self, values: np.ndarray, h: np.ndarray, unit: np.ndarray,
                   base: float) -> np.ndarray:
        v = values.real
        d1 = (v[:, 0] - v[:, 1]) / (2 * h)  # central at h
        d2 = (v[:, 2] - v[:, 3]) / h  # central at h/2
        out: np.ndarray = np.abs(d1 - d2) / 3  # the h^2 error of D(h/2), which bounds g's
        return out


@dataclasses.dataclass(frozen=True)
class Difference(Central):
    def default_step(self, dtype: np.dtype | type = np.float64) -> float:
        # Rounding is relative to the change, so truncation h^2 is below it at 1e-8
        # (measured); never below the smallest step of the precision.
        return max(1e-8, self.step_range(dtype)[0])


@dataclasses.dataclass(frozen=True)
class ComplexStep(Method):
    literal: bool = False  # every element on the plain complex forward pass

    def default_step(self, dtype: np.dtype | type = np.float64) -> float:
        return max(COMPLEX_STEP, self.step_range(dtype)[0] * 1e4)

    def step_range(self, dtype: np.dtype | type = np.float64) -> tuple[float, float]:
        # Below sqrt(tiny) the imaginary parts eta |g| reach the subnormal range.
        return float(np.sqrt(np.finfo(np.dtype(dtype)).tiny)), COMPLEX_MAX_STEP

    def describe(self, h: float) -> str:
        return self.formula.format(h=f"{h:.0e}")

    def combine(self, values: np.ndarray, h: np.ndarray, base: float) -> np.ndarray:
        g: np.ndarray = values[:, 0].imag / h
        return g

    def truncation(self, values: np.ndarray, h: np.ndarray, unit: np.ndarray,
                   base: float) -> np.ndarray:
        return np.zeros(len(h))  # O(eta^2) ~ 1e-40 relative: nothing to estimate


UNIT = "·max(1,|θ|)"
COMPLEX = ComplexStep("complex", "complex step, structured: Im L(θ+iη·e)/η, η = {h}" + UNIT,
                      (1.0,), (1.0,), 2, complex=True)
CENTRAL = Central("central", "(L(θ+h·e) − L(θ−h·e))/2h, h = {h}" + UNIT,
                  (1.0, -1.0), (0.5, -0.5), 2, calibrate=True)
FORWARD = Forward("forward", "(L(θ+h·e) − L(θ))/h, h = {h}" + UNIT, (1.0,), (1.0,), 1,
                  base_weight=-1.0, calibrate=True)
RICHARDSON = Richardson("richardson", "central at h and h/2, extrapolated, h = {h}" + UNIT,
                        (1.0, -1.0, 0.5, -0.5), (-1 / 6, 1 / 6, 4 / 3, -4 / 3), 4)
DIFFERENCE = Difference("difference", "central differences in difference form, h = {h}" + UNIT,
                        (1.0, -1.0), (0.5, -0.5), 2, exact_change=True)
COMPLEX_LITERAL = ComplexStep("complex-literal",
                              "complex step, literal: Im L(θ+iη·e)/η on the complex forward "
                              "pass, η = {h}" + UNIT, (1.0,), (1.0,), 2, complex=True,
                              literal=True)
METHODS: tuple[Method, ...] = (COMPLEX, CENTRAL, FORWARD, RICHARDSON, DIFFERENCE,
                               COMPLEX_LITERAL)
if tuple(m.name for m in METHODS) != METHOD_CHOICES:  # pragma: no cover - a programming error
    raise ImportError("spec.METHOD_CHOICES and numdiff.methods.METHODS list different methods")


def by_name(name: str) -> Method:
    """The method called ``name`` (ValueError for any other name)."""
    for m in METHODS:
        if m.name == name:
            return m
    raise ValueError(f"expected one of {', '.join(m.name for m in METHODS)}, got {name!r}")
