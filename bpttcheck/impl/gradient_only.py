"""Check a function that returns gradients only, no loss (``return [dLdU, dLdV, dLdW]``).

Such a function has no loss of its own, so half of :func:`bpttcheck.impl.check.check_impl`
does not apply: there is no loss to compare with the model's, to relate to it, to
differentiate numerically, or to probe for parameters it ignores. What remains is the
rule's other half, at the same two points: the gradient it returns must be the
declared loss's gradient (the model's summed loss by default; ``--impl-loss mean=T``
and the other factors scale the truth), on every element, against every built-in
engine at the spec's point and the reference at the second. A function without an
initial state is called at zero states at both points (:func:`.check.second_problem`).

Everything else is the full check's own pieces, reused: hygiene (mutations, two
identical calls, NaN), precision (the returned dtypes and the measured resolution of
the gradient), the per-point comparisons (:func:`.check._judge`), the returned
states, and the diagnosis against the declared loss's gradient, which is known on
every element here (truncation, a missing ``dhnext``, a wrong index, ...), with the
loss steps that disagree found from calls on prefixes of the sequence.

The report never speaks of its loss: the JSON's ``loss``, ``loss_match`` and each
point's ``loss`` and ``loss_ok`` are null, ``returns_loss`` is false, and the
"Checked" line says once that it returns no loss.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .. import prose
from ..compare import PairResult
from ..engines import Gradients, Options
from ..errors import ImplError
from ..findings import Finding
from ..model import Problem
from ..precision import lowest
from ..report import describe_failure
from .adapters import Result, engine_gradients, nonfinite
from .check import (
    HLAST_KEYS,
    LOSS_RTOL,
    UNRESOLVED,
    DeclaredLoss,
    ImplReport,
    PointCheck,
    _At,
    _batch_causes,
    _causes,
    _gradient_resolution,
    _judge,
    _model,
    _points_text,
    _returned_states,
    call_findings,
    call_second,
)
from .runner import Code


@dataclasses.dataclass(frozen=True)
class GradientOnlyReport(ImplReport):
    """An :class:`ImplReport` for a function with no loss: its JSON claims none."""

    returns_loss: bool = False
    stateless: bool = False  # it takes no initial state: zero at both points

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update(loss=None, loss_match=None, returns_loss=False, stateless=self.stateless)
        for point in out["points"]:
            point.update(loss=None, loss_ok=None)
        return out


def check_gradients(code: Code, problem: Problem, options: Options,
                    results: dict[str, Gradients], declared: DeclaredLoss, first: Result
                    ) -> tuple[dict[str, Gradients], list[PairResult], ImplReport]:
    """Judge a gradient-only function (see module docstring); ``first`` is its first call
    at the spec's point. Same return as :func:`.check.check_impl`."""
    spec, params, batch = problem.spec, problem.params, problem.batch
    name = code.loaded.name
    factor = declared.factor(batch.seq, batch.width or 1)
    if factor is None:
        raise ImplError(f"--impl-loss own: {name} returns no loss, only gradients, so there "
                        "is no loss of its own to check them against; leave out --impl-loss "
                        "(the model's summed loss) or declare a multiple of it (mean=T, bits, "
                        "scale=C)")
    m = _model(problem)
    findings = call_findings(code, params, batch, first)
    prec = lowest(first.dtypes, _gradient_resolution(code, problem))
    second, at_second = call_second(code, spec, m)
    ats = []
    for pr, res in ((problem, first), (second, at_second)):
        ref = (results.get("reference") if pr is problem else None) or \
            m.reference(pr.params, pr.batch, Options())
        ats.append(_At(pr, res, m.forward(pr.params, pr.batch), ref, None))
    findings.extend(Finding("non-finite", f"at the second point: {w}")
                    for w in nonfinite(at_second) if not nonfinite(first))
    widest: dict[str, float] = {}
    certified = [0]  # never used: there is no loss of its own to differentiate
    # _judge's loss_ok is False here (the loss is NaN); the report's JSON says null.
    points = [_judge(i, at, results, factor, prec, LOSS_RTOL, options, widest, certified)
              for i, at in enumerate(ats)]
    notes: list[str] = []
    for at, pt in zip(ats, points, strict=True):
        findings.extend(_returned_states(at, factor, prec, spec.floor, pt.where))
    what = prose.impl_declared(declared.describe(batch.seq, batch.width), declared.flag)
    gradient_ok = all(p.gradient_ok for p in points)
    more = [] if gradient_ok else [prose.impl_gradient_wrong(what)]
    findings = more + findings
    if getattr(code, "stateless", False):
        notes.append(prose.impl_stateless(name, m.states))
    if first.hlast is None and not any(k in first.extras for k in HLAST_KEYS):
        notes.append("it returns no hidden state (hlast): nothing to compare there")
    if not prec.reduced:
        notes.extend(first.notes)
    else:
        notes.append(prose.impl_precision(prec.describe(), f"returns "
                                          f"{', '.join(first.dtypes) or 'float64'}",
                                          max(widest.values(), default=0.0)))
        blurred = [n for n, w in widest.items() if w > UNRESOLVED]
        if blurred:  # a check that cannot fail there is vacuous: never a pass
            findings.append(prose.impl_unresolved(prec.dtype, blurred))
    notes.extend(code.output_notes())
    # The truth is the declared loss's gradient, known on every element: diagnose against
    # it where it is first seen wrong, as the full check does when the loss is right.
    seen = next((i for i, p in enumerate(points) if p.gradient_ok is False), 0)
    judged = dataclasses.replace(points[seen], loss_ok=True)  # the truth is known everywhere
    steps: tuple[int, ...] = ()
    if any(f.kind == "nondeterminism" for f in findings):
        notes.append(prose.impl_no_cause_nondeterministic())
        causes = []
    elif batch.width is not None:
        causes = _batch_causes(code, ats[seen], judged, declared, factor)
    else:
        causes, steps = _causes(code, ats[seen], judged, factor, prec, (), notes)
        causes = list(causes)
    failures: list[str] = []
    for pt in points:
        shown: dict[str, PairResult] = {}
        for c in pt.comparisons:
            if not c.passed:
                shown.setdefault(c.parameter, c)
        failures.extend(f"{describe_failure(c)} [{pt.where}]" for c in shown.values())
    where = _points_text(points)
    checked = (prose.impl_no_loss_checked(where, declared.describe(batch.seq, batch.width),
                                          prose.join_names(list(results)))
               + (f"; in {prec.dtype}, with measured error bars" if prec.reduced else ""))
    findings = list(dict.fromkeys(findings))
    if not findings:
        verdict = prose.impl_pass_gradient(what, where)
    elif more:
        verdict = prose.impl_fail("gradient", what)
    else:
        verdict = prose.impl_fail_other_gradient(sorted({f.kind for f in findings}))
    report = GradientOnlyReport(
        target=name, label=code.label, form=code.form, names=dict(code.names),
        loaded=code.loaded.summary(), python2=code.loaded.python2, loss=float("nan"),
        spec_loss=ats[0].fw.loss, loss_match=False, checked=checked,
        findings=tuple(findings), causes=tuple(causes), steps=steps, notes=tuple(notes),
        seq=batch.seq, verdict=verdict, declared=declared.flag, relation=None,
        precision=prec.dtype, points=tuple(_no_loss(p) for p in points),
        failures=tuple(failures), stateless=bool(getattr(code, "stateless", False)))
    return {"impl": engine_gradients(first, options)}, list(points[0].comparisons), report


def _no_loss(point: PointCheck) -> PointCheck:
    """A point as judged, its loss fields NaN and False (never read; null in the JSON)."""
    return dataclasses.replace(point, loss=float("nan"), loss_ok=False,
                               own_ok=None)
