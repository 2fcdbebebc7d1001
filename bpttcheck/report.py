"""The result of a check, as data: verdict, exit code, JSON, saved arrays, plain words.

Nothing here draws to a terminal (that is :mod:`bpttcheck.render`); everything
a renderer shows is computed here, so the JSON and the table never disagree.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .compare import Element, PairResult
from .engines import Gradients
from .errors import ExitCode, SpecError
from .model import Problem
from .spec import Spec

SCHEMA = 1  # bump when a field of to_dict() changes meaning or disappears
USER_ENGINES = ("impl", "impl-numeric")  # the user's code (--impl) and its own numeric check


@dataclasses.dataclass(frozen=True)
class Report:
    """Everything a check found. ``passed`` is the verdict; ``exit_code`` follows from it."""

    spec: Spec
    problem: Problem
    results: dict[str, Gradients]
    comparisons: tuple[PairResult, ...]
    sample: int | None = None
    impl: Any = None  # bpttcheck.impl.ImplReport when the user's code was checked (--impl)
    directions: Any = None  # bpttcheck.directions.Screen when --directions K pre-screened

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.comparisons) and (self.impl is None
                                                             or self.impl.passed)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.AGREE if self.passed else ExitCode.MISMATCH

    @property
    def engines(self) -> tuple[str, ...]:
        return tuple(self.results)

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        seen: dict[tuple[str, str], None] = {}
        for c in self.comparisons:
            seen[(c.a, c.b)] = None
        return tuple(seen)

    def comparison(self, parameter: str, a: str, b: str) -> PairResult:
        for c in self.comparisons:
            if (c.parameter, c.a, c.b) == (parameter, a, b):
                return c
        raise KeyError((parameter, a, b))

    def worst(self, a: str, b: str) -> float:
        """Largest elementwise relative error of the pair over all parameters."""
        worst = max(c.max_rel_error for c in self.comparisons if (c.a, c.b) == (a, b))
        if self.directions is not None and b == "numeric":  # and over the projections
            worst = max([worst, *(max(p.rel_errors, default=0.0)
                                  for p in self.directions.projections if p.engine == a)])
        return worst

    def worst_norm(self, a: str, b: str) -> float:
        """Largest norm-wise relative error of the pair over all parameters."""
        return max(c.norm_rel_error for c in self.comparisons if (c.a, c.b) == (a, b))

    @property
    def loss(self) -> float:
        return self.results[self.engines[0]].loss

    def odd_one_out(self, parameter: str) -> str | None:
        """The engine that disagrees with all others on ``parameter`` while they agree."""
        cs = [c for c in self.comparisons if c.parameter == parameter]
        if len(self.engines) < 3 or all(c.passed for c in cs):
            return None
        for e in self.engines:
            mine = [c for c in cs if e in (c.a, c.b)]
            others = [c for c in cs if e not in (c.a, c.b)]
            if all(not c.passed for c in mine) and all(c.passed for c in others):
                return e
        return None

    @property
    def coverage(self) -> str:
        n = self.problem.n_params
        screen = self.directions
        if (self.sample is None and screen is None) or "numeric" not in self.results:
            return f"all {n} elements"
        checked = sum(c.compared for c in self.comparisons if c.b == "numeric"
                      and c.a == self.engines[0])
        text = f"{checked} of {n} elements"
        if self.sample is not None:
            text += f" ({self.sample} sampled per parameter)"
        if screen is not None:  # directions: say which parameters were checked how
            parts = []
            if screen.screened:
                noun = "projection" if screen.k == 1 else "projections"
                parts.append(f"{screen.k} random {noun} per parameter for "
                             f"{', '.join(screen.screened)}")
            if screen.drilled:
                parts.append(f"{', '.join(screen.drilled)} element by element, {text} "
                             "(their projections disagreed)")
            text = "; ".join(parts)
        return text

    def sampled(self) -> dict[str, list[tuple[int, ...]]]:
        """The elements numerical differentiation checked, per parameter, when sampling."""
        numeric = self.results.get("numeric")
        if self.sample is None or numeric is None or numeric.covered is None:
            return {}
        return {
            name: [tuple(int(i) for i in np.unravel_index(int(f), self.problem.params[name].shape))
                   for f in flat]
            for name, flat in numeric.covered.items()
        }

    def notes(self) -> list[str]:
        out = [note for g in self.results.values() for note in g.notes]
        limited = sum(c.precision_limited for c in self.comparisons)
        if limited:
            out.append(f"{limited} element comparisons differ by more than the tolerance but "
                       "within numerical differentiation's own error bar: limited by "
                       "numerical precision, not counted as failures")
            numeric = self.results.get("numeric")
            exact = (None, "complex", "difference", "complex-literal")
            if numeric is not None and numeric.method not in exact:
                out.append(f"the {numeric.method} method's error bar is wide; --method complex "
                           "differentiates to rounding level")
        if self.directions is not None and self.directions.screened:
            out.append(f"{', '.join(self.directions.screened)}: checked only by "
                       f"{self.directions.k} random projection(s) each (--directions), not "
                       "element by element")
        return out

    def verdict(self) -> list[str]:
        """The answer in plain words, a sentence a line."""
        return _verdict(self)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (schema documented in README, ``"schema": 1``)."""
        p = self.problem
        return {
            **header(),
            "passed": self.passed,
            "exit_code": int(self.exit_code),
            "spec": self.spec.to_dict(),
            "problem": problem_dict(p, self.loss),
            "engines": {
                name: _engine_dict(g, p) for name, g in self.results.items()
            },
            "coverage": self.coverage,
            "directions": self.directions.to_dict() if self.directions is not None else None,
            "sampled": {name: [list(i) for i in where] for name, where in self.sampled().items()},
            "comparisons": [_pair_dict(c) for c in self.comparisons],
            "verdict": self.verdict(),
            "notes": self.notes(),
            **({"impl": self.impl.to_dict()} if self.impl is not None else {}),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def save(self, path: str | Path) -> None:
        """Write the arrays used and every engine's gradient to an ``.npz`` file."""
        save_arrays(path, run_arrays(self.problem, self.results, self.loss))


def header() -> dict[str, Any]:
    """The first keys of every JSON document bpttcheck prints."""
    return {"schema": SCHEMA, "tool": "bpttcheck", "version": __version__}


def problem_dict(p: Problem, loss: float) -> dict[str, Any]:
    """The ``"problem"`` object: sizes, where the tokens came from, the loss."""
    return {"hidden": p.hidden, "vocab": p.vocab, "seq": p.batch.seq,
            "parameters": p.n_params, "tokens": p.tokens.source, "loss": finite(loss)}


def run_arrays(problem: Problem, results: dict[str, Gradients],
               loss: float) -> dict[str, np.ndarray]:
    """The ``--save`` keys: the weights, the batch, the loss, ``<engine>.d<param>``."""
    p = problem
    arrays: dict[str, np.ndarray] = dict(p.params)
    arrays.update(hprev=p.batch.hprev, inputs=np.array(p.batch.inputs),
                  targets=np.array(p.batch.targets), loss=np.array(loss))
    for engine, g in results.items():
        for name, grad in g.grads.items():
            arrays[f"{engine}.d{name}"] = grad
        if g.dhprev is not None:
            arrays[f"{engine}.dhprev"] = g.dhprev
    return arrays


def save_arrays(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to an ``.npz`` file; an unwritable path is a ``--save`` error."""
    try:
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]  # numpy's stub
    except OSError as exc:
        raise SpecError(f"--save {path}: cannot write ({exc.strerror})") from None


def finite(x: float) -> float | None:
    """``x`` for JSON: None where it is not finite (JSON has no inf or NaN)."""
    return float(x) if math.isfinite(x) else None


def _element_dict(e: Element | None) -> dict[str, Any] | None:
    if e is None:
        return None
    return {"index": list(e.index), "a": finite(e.a), "b": finite(e.b),
            "rel_error": finite(e.rel_error)}


def _pair_dict(c: PairResult) -> dict[str, Any]:
    return {
        "parameter": c.parameter,
        "a": c.a,
        "b": c.b,
        "max_rel_error": finite(c.max_rel_error),
        "norm_rel_error": finite(c.norm_rel_error),
        "worst_index": list(c.worst.index) if c.worst else None,
        "worst": _element_dict(c.worst),
        "rtol": c.rtol,
        "passed": c.passed,
        "compared": c.compared,
        "failed": c.failed,
        "clipped": c.clipped,
        "precision_limited": c.precision_limited,
        "nonfinite": c.nonfinite,
        "failures": [_element_dict(e) for e in c.failures],
        "clipped_elements": [_element_dict(e) for e in c.clipped_elements],
        "steps": list(c.steps),
    }


def _engine_dict(g: Gradients, p: Problem) -> dict[str, Any]:
    out: dict[str, Any] = {"loss": finite(g.loss), "covered": _coverage(g, p)}
    if g.method is not None:  # numerical differentiation: how, and how long it took
        out.update(method=g.method, step=g.step, timing=g.timing)
    return out


def _coverage(g: Gradients, p: Problem) -> int:
    if g.covered is None:
        return p.n_params
    return sum(len(i) for i in g.covered.values())


def format_index(parameter: str, index: tuple[int, ...]) -> str:
    """``Whh[3, 7]``; biases, which are columns, as ``bh[3]``."""
    if parameter in ("bh", "by") and len(index) == 2 and index[1] == 0:
        index = index[:1]
    return f"{parameter}[{', '.join(str(i) for i in index)}]"


def sci(x: float) -> str:
    """``1.2e-13``: how every report prints an error or a norm."""
    return f"{x:.1e}" if math.isfinite(x) else "inf"


def format_steps(steps: tuple[int, ...]) -> str:
    """``k = 0..22, 24`` for a sorted tuple of steps."""
    runs: list[str] = []
    start = prev = None
    for k in (*steps, None):
        if k is not None and prev is not None and k == prev + 1:
            prev = k
            continue
        if start is not None:
            runs.append(str(start) if start == prev else f"{start}..{prev}")
        start = prev = k
    return "k = " + ", ".join(runs)


def describe_failure(c: PairResult) -> str:
    """One line naming the parameter, the worst element, both values, the steps."""
    w = c.worst
    where = format_index(c.parameter, w.index) if w else c.parameter
    if c.nonfinite:
        head = f"{c.parameter} {c.pair}: {c.nonfinite} non-finite values"
    else:
        head = f"{c.parameter} {c.pair}: {c.failed} of {c.compared} elements differ"
    line = head
    if w:
        line += (f"; worst {where}: {c.a} {w.a:.6g}, {c.b} {w.b:.6g} "
                 f"(rel. error {sci(w.rel_error)} > {c.rtol:.0e})")
    if c.steps:
        line += f"; contributions differ at time steps {format_steps(c.steps)}"
    return line


_NAMES = {"tutorial": "the tutorial's backward pass", "reference": "the explicit sum over k ≤ t",
          "numeric": "numerical differentiation", "impl": "your code",
          "impl-numeric": "numerical differentiation of your loss"}


# Whom to show a wrong engine's disagreement with first: the witness a reader trusts most.
_WITNESS_ORDER = ("reference", "impl-numeric", "numeric", "tutorial")


def _witness_rank(c: PairResult, wrong: str) -> int:
    """Where the other engine of ``c`` (not ``wrong``) stands in _WITNESS_ORDER."""
    other = c.b if c.a == wrong else c.a
    return _WITNESS_ORDER.index(other) if other in _WITNESS_ORDER else len(_WITNESS_ORDER)


def _and(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _verdict(r: Report) -> list[str]:
    lines: list[str] = []
    if r.impl is not None:  # the user's code first: it is what they asked about
        impl_ok = all(c.passed for c in r.comparisons if "impl" in (c.a, c.b))
        lines.extend(r.impl.lines(impl_ok))
    engines = r.engines
    if r.passed:
        analytic = [e for e in engines if e not in ("numeric", *USER_ENGINES)]
        if "tutorial" in engines and "reference" in engines:
            elementwise = sci(r.worst("tutorial", "reference"))
            normwise = sci(r.worst_norm("tutorial", "reference"))
            lines.append(
                "Yes: the tutorial's dhnext recursion computes exactly the lecture's sum over all "
                f"k ≤ t: it matches the explicit double loop to {elementwise} (largest "
                f"elementwise relative error; {normwise} norm-wise)."
            )
        if "numeric" in engines:
            for e in analytic:
                elements = any(c.compared for c in r.comparisons if (c.a, c.b) == (e, "numeric"))
                normwise = (f" ({sci(r.worst_norm(e, 'numeric'))} norm-wise)" if elements
                            else "")
                lines.append(
                    f"Numerical differentiation confirms {_NAMES.get(e, e)} to "
                    f"{sci(r.worst(e, 'numeric'))}{normwise} on {r.coverage}."
                )
    else:
        bad = [c for c in r.comparisons if not c.passed]
        params = [n for n in r.problem.params if any(c.parameter == n for c in bad)]
        culprits = {n: r.odd_one_out(n) for n in params}
        blamed = sorted({e for e in culprits.values() if e is not None})
        if len(blamed) == 1 and all(culprits.values()):
            e = blamed[0]
            others = _and([_NAMES.get(o, o) for o in r.engines if o != e])
            lines.append(f"No: {_NAMES.get(e, e)} is wrong in {', '.join(params)}: it disagrees "
                         f"with {others}, which agree with each other.")
            # One line per parameter, against the most trusted witness; the rest say the same.
            for n in params:
                mine = [c for c in bad if c.parameter == n]
                lines.append(describe_failure(min(mine, key=lambda c: _witness_rank(c, e))))
            hidden = len(bad) - len(params)
            if hidden:
                noun = "comparison says" if hidden == 1 else "comparisons say"
                lines.append(f"({hidden} more failing {noun} the same of these parameters; "
                             "--format json lists them all.)")
        else:
            pairs = sorted({c.pair for c in bad})
            lines.append(f"No: the gradients disagree on {', '.join(params)} "
                         f"({'; '.join(pairs)}).")
            lines.extend(describe_failure(c) for c in bad)
    clip = r.spec.clip
    clipped = [c for c in r.comparisons if c.clipped]
    if clip is not None:
        if clipped:
            seen: dict[str, PairResult] = {}
            for c in clipped:
                seen.setdefault(c.parameter, c)
            parts = []
            for name, c in seen.items():
                shown = ", ".join(f"{format_index(name, e.index)} ({_clip_pair(e, clip)})"
                                  for e in c.clipped_elements[:3])
                more = f" and {c.clipped - 3} more" if c.clipped > 3 else ""
                parts.append(f"{c.clipped} in {name}: {shown}{more}")
            lines.append(f"Clipping to ±{clip:g} changed " + "; ".join(parts) +
                         ". Those elements are marked clipped and not counted as failures.")
        else:
            lines.append(f"Clipping to ±{clip:g} changed no element for this spec.")
    return lines


def _clip_pair(e: Element, clip: float) -> str:
    true = e.b if abs(e.a) == clip else e.a
    return f"{true:.4g} → {math.copysign(clip, true):g}"
