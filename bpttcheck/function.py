"""Check any loss and gradient pair: the same witness, comparison and diagnosis, no spec.

:func:`check_function` takes a ``loss_fn(params) -> float``, a
``grad_fn(params) -> gradients`` and the point ``params`` (a dict of arrays,
or one array), and judges the gradient the way every other check here does:

1. **Adjoint pre-screen** (cheap: two or three loss calls per direction). For a
   few seeded random directions v, the directional derivative
   J v = dL(theta + s v)/ds at s = 0, computed by forward mode (the complex step
   Im L(theta + i eta v) / eta when ``loss_fn`` accepts complex input, otherwise
   a central difference with its error bar), must equal <grad, v>, the
   reverse-mode answer dotted with v: <w, J v> = <J^T w, v> with w = 1. One
   wrong element anywhere shows in every direction.
2. **Element by element**: the numeric witness
   (:func:`bpttcheck.numdiff.differentiate` over a
   :class:`~bpttcheck.probes.ScalarLoss`) on every element, compared with
   :func:`bpttcheck.compare.compare` (the one error metric, the element's error
   bar explaining what it can).
3. **A likely cause** for a wrong gradient, from the measurements that need no
   model: one constant everywhere, a constant ratio, a sign, a transpose
   (:mod:`bpttcheck.diagnose`).

Complex input is used only when the loss returns, along a random direction, a
complex-step derivative that agrees with a central difference: a loss that
calls ``abs`` or ``float`` silently drops the imaginary part, and is then
differentiated by central differences instead.

The user's functions run in this process (the API, as for ``bpttcheck.check(impl=f)``).
Bad input (a gradient of the wrong shape, an exception) raises
:class:`~bpttcheck.errors.ImplError`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import prose
from .compare import PairResult, compare, norm_rel_error, rel_error
from .diagnose import DIAG_RTOL, FIT_SHARE, ROUNDING, Cause, _fit, _one_parameter, _pinned, close
from .engines.base import Gradients
from .errors import ExitCode, ImplError
from .numdiff import along, by_name, differentiate
from .probes import BatchedLoss, ScalarLoss
from .spec import FLOOR, RTOL_NUMERIC

SCREEN_DIRECTIONS = 3  # random directions of the adjoint pre-screen
SCREEN_RTOL = 1e-6  # <grad, v> against J v: beyond rounding of either, not beyond a real bug
# A loss "accepts complex" when its complex-step derivative along a direction agrees with a
# central difference to this: central differences are good to ~1e-10 here, a loss that drops
# the imaginary part (abs, float) is off by 100 %.
COMPLEX_AGREEMENT = 1e-5
ENGINE = "yours"  # the name of the user's gradient in the comparisons

LossFn = Callable[[Any], Any]


@dataclasses.dataclass(frozen=True)
class Screen:
    """The adjoint pre-screen: <grad, v> against the directional derivative J v."""

    method: str  # "complex" or "central"
    yours: tuple[float, ...]  # <grad, v_k>
    forward: tuple[float, ...]  # J v_k
    errors: tuple[float, ...]  # error bars of J v_k
    rtol: float

    @property
    def rel_errors(self) -> tuple[float, ...]:
        return tuple(float(r) for r in rel_error(np.array(self.yours), np.array(self.forward),
                                                 0.0))

    @property
    def passed(self) -> bool:
        return all(abs(a - b) <= max(self.rtol * (abs(a) + abs(b)), e)
                   for a, b, e in zip(self.yours, self.forward, self.errors, strict=True))

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "directions": len(self.yours), "passed": self.passed,
                "yours": list(self.yours), "forward": list(self.forward),
                "errors": list(self.errors), "rel_errors": list(self.rel_errors)}


@dataclasses.dataclass(frozen=True)
class FunctionReport:
    """What :func:`check_function` found. ``passed`` is the verdict."""

    label: str
    loss: float
    shapes: dict[str, tuple[int, ...]]
    method: str
    step: str
    screen: Screen | None
    comparisons: tuple[PairResult, ...]  # empty when only screened (full=False, screen passed)
    causes: tuple[Cause, ...] = ()
    notes: tuple[str, ...] = ()
    # The gradients compared, as arrays (not in the JSON): yours and the witness's.
    yours: Gradients | None = None
    witness: Gradients | None = None

    @property
    def passed(self) -> bool:
        screened = self.screen is None or self.screen.passed
        return screened and all(c.passed for c in self.comparisons)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.AGREE if self.passed else ExitCode.MISMATCH

    @property
    def wrong(self) -> tuple[str, ...]:
        return tuple(c.parameter for c in self.comparisons if not c.passed)

    def headline(self) -> str:
        """The answer in one line, with ✓ or ✗."""
        return prose.function_headline(self)

    def lines(self) -> list[str]:
        """The details in plain words, a sentence a line, the headline last."""
        return prose.function_lines(self)

    def to_dict(self) -> dict[str, Any]:
        from .report import header

        return {
            **header(), "command": "check_function",
            "passed": self.passed, "exit_code": int(self.exit_code), "label": self.label,
            "loss": _finite(self.loss), "method": self.method, "step": self.step,
            "parameters": {n: list(s) for n, s in self.shapes.items()},
            "screen": self.screen.to_dict() if self.screen is not None else None,
            "comparisons": [_pair_dict(c) for c in self.comparisons],
            "causes": [c.to_dict() for c in self.causes], "notes": list(self.notes),
            "headline": self.headline(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def check_function(loss_fn: LossFn, grad_fn: LossFn | None, params: Mapping[str, Any] | Any, *,
                   method: str | None = None, step: float | None = None,
                   rtol: float = RTOL_NUMERIC, floor: float = FLOOR,
                   screen: int = SCREEN_DIRECTIONS, full: bool = True, seed: int = 0,
                   sample: int | None = None,
                   label: str | None = None,
                   batched: Callable[[dict[str, np.ndarray], bool], BatchedLoss] | None = None
                   ) -> FunctionReport:
    """Is ``grad_fn`` the gradient of ``loss_fn`` at ``params``? (See the module docstring.)

    ``params`` is a dict of arrays (one array is taken as ``{"x": array}`` and
    passed to the functions as the bare array). ``grad_fn(params)`` returns a
    dict with the same keys, a sequence in the same order, or one array; with
    ``grad_fn=None``, ``loss_fn(params)`` returns ``(loss, gradients)``.
    ``method`` is any numerical differentiation method (default: the complex
    step when the loss accepts complex input, else central differences);
    ``screen`` the number of adjoint directions (0: none); ``full=False`` stops
    after a passing screen, without the element-by-element comparison;
    ``sample`` K differentiates K seeded random elements per parameter, not all.
    ``batched(base, accepts_complex)``, when given, answers the many perturbed
    losses of numerical differentiation in batches (a child process); it must
    compute the same loss as ``loss_fn``.
    """
    single = not isinstance(params, Mapping)
    base = {"x": np.array(params, dtype=np.float64, order="C")} if single else \
        {str(n): np.array(p, dtype=np.float64, order="C") for n, p in params.items()}
    if not base:
        raise ImplError("check_function: params is empty: nothing to differentiate")
    name = str(label or getattr(grad_fn if grad_fn is not None else loss_fn, "__name__",
                                "gradient"))

    def unwrap(point: dict[str, np.ndarray]) -> Any:
        return point["x"] if single else point

    def loss_of(point: dict[str, np.ndarray]) -> Any:
        value = loss_fn(unwrap(point))
        return value[0] if grad_fn is None else value

    value, grads = _evaluate(loss_fn, grad_fn, unwrap, base, name)
    complex_ok = _accepts_complex(loss_of, base, seed)
    notes = []
    if method is None:
        method = "complex-literal" if complex_ok else "central"
        if not complex_ok:
            notes.append(prose.function_no_complex())
    chosen = by_name(method)
    if chosen.exact_change:
        raise ImplError(f"check_function: method {method!r} needs a loss in difference form; "
                        "use complex, central, forward or richardson")
    if chosen.complex and not complex_ok:
        raise ImplError(f"check_function: method {method!r} needs a loss that accepts complex "
                        "input, and this one does not (it drops or refuses the imaginary part)")
    loss: BatchedLoss = batched(base, complex_ok) if batched is not None else \
        ScalarLoss(loss_of, base, accepts_complex=complex_ok)
    shot = _screen(loss, grads, base, screen, seed, complex_ok) if screen > 0 else None
    comparisons: tuple[PairResult, ...] = ()
    causes: tuple[Cause, ...] = ()
    step_text = ""
    ours = Gradients(ENGINE, value, grads)
    witness: Gradients | None = None
    if full or (shot is not None and not shot.passed) or shot is None:
        rng = np.random.default_rng([seed, 6])
        todo = {n: np.sort(rng.choice(p.size, size=sample, replace=False))
                if sample and p.size > sample else np.arange(p.size) for n, p in base.items()}
        sampled = any(len(todo[n]) < p.size for n, p in base.items())
        result = differentiate(loss, base, chosen, todo, step=step)
        step_text = result.step_text
        notes.extend(result.notes)
        truth = {n: result.values[n].reshape(p.shape) for n, p in base.items()}
        noise = {n: result.errors[n].reshape(p.shape) for n, p in base.items()}
        witness = Gradients("numeric", loss.base, truth, noise=noise,
                            covered=todo if sampled else None)
        comparisons = tuple(compare(n, ours, witness, rtol, floor) for n in base)
        if not all(c.passed for c in comparisons):
            if sampled:  # only the sampled elements are known: compare them as flat vectors
                causes = tuple(c for c in generic_causes(
                    {n: grads[n].reshape(-1)[todo[n]] for n in base},
                    {n: truth[n].reshape(-1)[todo[n]] for n in base}) if c.kind != "transpose")
            else:
                causes = tuple(generic_causes(grads, truth))
    return FunctionReport(name, value, {n: p.shape for n, p in base.items()}, chosen.name,
                          step_text, shot, comparisons, causes, tuple(notes), ours, witness)


def generic_causes(g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray]) -> list[Cause]:
    """Causes that need no model: pinned values, one ratio on everything, per-parameter
    ratio, sign or transpose ([] when none fits)."""
    if not all(np.isfinite(g[n]).all() for n in g):
        return [Cause("nonfinite", "the gradient contains NaN or inf")]
    names = tuple(g)
    wrong = tuple(n for n in names if not close(g[n], truth[n], 1e-10))
    if not wrong:
        return []
    tol = _tolerance(g, truth)
    pinned = _pinned(g, truth, wrong)
    if pinned is not None:
        return [pinned]
    flat_g = np.concatenate([g[n].ravel() for n in names])
    flat_t = np.concatenate([truth[n].ravel() for n in names])
    c = _fit(flat_g, flat_t)
    if len(names) > 1 and c is not None and abs(c - 1) > 1e-9 and close(flat_g, c * flat_t, tol):
        return [Cause("ratio", f"every gradient is {c:.6g} times the truth", names, c)]
    return _one_parameter(g, truth, wrong, tol)


def _tolerance(g: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray]) -> float:
    """As diagnose.fit_tolerance, over these parameters: DIAG_RTOL, or FIT_SHARE of the
    error itself when it is small, never below ROUNDING."""
    flat_g = np.concatenate([np.ravel(g[n]) for n in g])
    flat_t = np.concatenate([np.ravel(truth[n]) for n in g])
    return max(min(DIAG_RTOL, FIT_SHARE * norm_rel_error(flat_g, flat_t)), ROUNDING)


def _evaluate(loss_fn: LossFn, grad_fn: LossFn | None, unwrap: Callable[[Any], Any],
              base: dict[str, np.ndarray], name: str) -> tuple[float, dict[str, np.ndarray]]:
    """The loss and the gradients at the base point, checked for shape and finiteness."""
    copy = {n: p.copy() for n, p in base.items()}
    try:
        if grad_fn is None:
            out = loss_fn(unwrap(copy))
            if not isinstance(out, tuple) or len(out) != 2:
                raise ImplError(f"{name}: with grad_fn=None, loss_fn must return (loss, "
                                f"gradients), got {type(out).__name__}")
            raw_loss, raw = out
        else:
            raw_loss = loss_fn(unwrap({n: p.copy() for n, p in base.items()}))
            raw = grad_fn(unwrap(copy))
    except ImplError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's code may raise anything
        raise ImplError(f"{name} raised {type(exc).__name__}: {exc}") from None
    try:
        value = float(np.real(raw_loss))
    except (TypeError, ValueError):
        raise ImplError(f"{name}: the loss is a {type(raw_loss).__name__}, not a number") \
            from None
    grads = _as_gradients(raw, base, name)
    return value, grads


def _as_gradients(raw: Any, base: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
    names = list(base)
    if isinstance(raw, Mapping):
        missing = [n for n in names if n not in raw]
        if missing:
            raise ImplError(f"{name}: the gradients have no {prose.join_names(missing)} "
                            f"(expected keys {', '.join(names)})")
        values = [raw[n] for n in names]
    elif isinstance(raw, Sequence) and not isinstance(raw, str | bytes) and len(names) > 1:
        if len(raw) != len(names):
            raise ImplError(f"{name}: returned {len(raw)} gradients for {len(names)} "
                            f"parameters ({', '.join(names)})")
        values = list(raw)
    else:
        values = [raw]
    out = {}
    for n, v in zip(names, values, strict=True):
        try:
            arr = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            raise ImplError(f"{name}: the gradient of {n} is a {type(v).__name__}, not an "
                            "array") from None
        want = base[n].shape
        if arr.shape != want:
            if arr.size == base[n].size and arr.ndim == 2 and arr.shape == want[::-1]:
                hint = " (the transpose of the parameter's shape: a missing .T?)"
            elif arr.size == base[n].size:
                hint = " (the same size: a reshape?)"
            else:
                hint = ""
            raise ImplError(f"{name}: the gradient of {n} has shape {arr.shape}, the "
                            f"parameter {want}{hint}")
        out[n] = arr
    return out


def _directions(base: Mapping[str, np.ndarray], k: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 5])
    return {n: rng.standard_normal((k, *p.shape)) for n, p in base.items()}


def _accepts_complex(loss_of: Callable[[dict[str, np.ndarray]], Any],
                     base: dict[str, np.ndarray], seed: int) -> bool:
    """Whether the complex step along one random direction agrees with a central difference."""
    v = {n: d[0] for n, d in _directions(base, 1, seed + 1).items()}
    eta, h = 1e-20, 1e-5
    try:
        z = loss_of({n: p + 1j * eta * v[n] for n, p in base.items()})
        plus = float(np.real(loss_of({n: p + h * v[n] for n, p in base.items()})))
        minus = float(np.real(loss_of({n: p - h * v[n] for n, p in base.items()})))
    except Exception:  # noqa: BLE001 - refusing complex input is an answer, not an error
        return False
    if not np.iscomplexobj(z):
        return False
    by_complex = float(np.imag(z)) / eta
    central = (plus - minus) / (2 * h)
    if not (math.isfinite(by_complex) and math.isfinite(central)):
        return False
    return abs(by_complex - central) <= COMPLEX_AGREEMENT * max(abs(central), abs(by_complex),
                                                                1e-300) or (
        by_complex == 0.0 and abs(central) < 1e-12)


def _screen(loss: BatchedLoss, grads: Mapping[str, np.ndarray], base: Mapping[str, np.ndarray],
            k: int, seed: int, complex_ok: bool) -> Screen:
    directions = _directions(base, k, seed)
    method = by_name("complex-literal" if complex_ok else "central")
    jv, err = along(loss, method, directions, 1.0)  # the method's own step: a screen
    yours = [float(sum(np.sum(grads[n] * directions[n][i]) for n in base)) for i in range(k)]
    return Screen("complex" if complex_ok else "central", tuple(yours),
                  tuple(float(x) for x in jv), tuple(float(x) for x in err), SCREEN_RTOL)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _pair_dict(c: PairResult) -> dict[str, Any]:
    from .report import _pair_dict as pair_dict

    out: dict[str, Any] = pair_dict(c)
    return out
