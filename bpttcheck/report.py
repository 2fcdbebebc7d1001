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

from . import __version__, prose
from .compare import Element, PairResult
from .engines import Gradients
from .errors import ExitCode
from .model import Problem
from .prose import USER_ENGINES as USER_ENGINES  # re-exported: the user's engines
from .prose import describe_failure as describe_failure  # re-exported for junit and the CLI
from .prose import format_index as format_index
from .prose import format_steps as format_steps
from .prose import sci as sci
from .spec import Spec

SCHEMA = 1  # bump when a field of to_dict() changes meaning or disappears


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
    warnings: tuple[str, ...] = ()  # warnings raised during the check (NumPy's), as notes

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """In Jupyter, the report shows inline: the terminal's rendering, as HTML and text."""
        import io

        from rich.console import Console

        from .render import render

        console = Console(record=True, width=100, file=io.StringIO(), color_system="truecolor")
        render(self, console)
        return {"text/plain": console.export_text(),
                "text/html": console.export_html(inline_styles=True)}

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
        """Which elements numerical differentiation checked, in words."""
        return prose.coverage(self)

    def made(self) -> tuple[PairResult, ...]:
        """The comparisons actually made: at least one element compared."""
        return tuple(c for c in self.comparisons if c.compared)

    def not_compared(self) -> tuple[PairResult, ...]:
        """Engine pairs with no element compared for a parameter (screened only, say)."""
        return tuple(c for c in self.comparisons if not c.compared)

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
        """Things worth knowing that do not change the verdict, a sentence each."""
        return prose.notes(self)

    def verdict(self) -> list[str]:
        """The details of the answer in plain words, a sentence a line."""
        return prose.verdict(self)

    def headline(self) -> str:
        """The answer in one line, with ✓ or ✗ (the last line of the table output)."""
        return prose.headline(self)

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
            "comparisons": [_pair_dict(c) for c in self.made()],
            "not_compared": [{"parameter": c.parameter, "a": c.a, "b": c.b,
                              "reason": prose.not_compared_reason(self, c)}
                             for c in self.not_compared()],
            "verdict": self.verdict(),
            "headline": self.headline(),
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


def error_document(exit_code: int, message: str) -> dict[str, Any]:
    """The one JSON document of a run that ended in an error (exit 2, 3 or 130)."""
    return {**header(), "error": {"exit_code": exit_code, "message": message}}


def problem_dict(p: Problem, loss: float) -> dict[str, Any]:
    """The ``"problem"`` object: sizes, where the tokens came from, the loss."""
    return {"hidden": p.hidden, "vocab": p.vocab, "seq": p.batch.seq, "batch": p.batch.width,
            "parameters": p.n_params, "tokens": p.tokens.source, "loss": finite(loss)}


def run_arrays(problem: Problem, results: dict[str, Gradients],
               loss: float) -> dict[str, np.ndarray]:
    """The ``--save`` keys: the weights, the batch, the loss, ``<engine>.d<param>``."""
    p = problem
    arrays: dict[str, np.ndarray] = dict(p.params)
    arrays.update(hprev=p.batch.hprev, inputs=np.array(p.batch.inputs),
                  targets=np.array(p.batch.targets), loss=np.array(loss))
    if p.batch.cprev is not None:  # the LSTM's initial cell state
        arrays["cprev"] = p.batch.cprev
    for engine, g in results.items():
        for name, grad in g.grads.items():
            arrays[f"{engine}.d{name}"] = grad
        if g.dhprev is not None:
            arrays[f"{engine}.dhprev"] = g.dhprev
    return arrays


def save_arrays(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to an ``.npz`` file atomically (an unwritable path: a --save error)."""
    from .outputs import write_atomic

    write_atomic("--save", path, lambda fh: np.savez(fh, **arrays))  # type: ignore[arg-type]


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
        "status": status(c),
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


def status(c: PairResult) -> str:
    """The state of one comparison: ``fail``; else ``precision`` when some element passed
    only within numerical differentiation's error bar; else ``clipped`` when some element
    was explained by clipping; else ``agree``."""
    if not c.passed:
        return "fail"
    if c.precision_limited:
        return "precision"
    if c.clipped:
        return "clipped"
    return "agree"
