"""Check the user's code: its loss, its gradient, what else it returns, at two points.

Called by :func:`bpttcheck.checker.run` when an ``impl`` is given. **The rule**:
the check passes only when both the loss the function returns and its gradient
are those of the model's loss (the summed cross-entropy), or of the loss declared
with ``--impl-loss`` (:class:`DeclaredLoss`), at both points:

- the spec's own point, and
- :func:`bpttcheck.model.second_point`: another seed, non-zero biases and a
  random ``hprev``, where a forward pass that drops a term (``+ by``) shows.

At each point the user's function becomes two engines: ``impl`` (what it returns)
and ``impl-numeric`` (numerical differentiation of the loss it returns,
:mod:`bpttcheck.impl.numeric`). ``impl`` is compared with the declared loss's
gradient (each engine run, times the declared factor) and with ``impl-numeric``;
every pair goes through :func:`bpttcheck.compare.compare`. With ``own`` the
gradient must be that of the function's own loss, and the loss must not be a
constant. A returned ``hlast`` is compared with the model's last hidden state, a
returned ``dhprev`` (a dict key) with the model's dL/dhprev.

When the loss is not the declared one, its relation to the model's is *measured*
(:func:`relate`): a constant, x1/T, ln 2, a constant scale, an offset, a partial
sum of the per-step losses, the loss without a parameter, a temperature, or
unrelated. Every candidate with a free constant is fitted at the first point and
verified at the second.

Code that computes in float32 is judged with error bars measured from the model
run in that precision (:mod:`bpttcheck.precision`), and its own loss is
differentiated with a step that suits it.

**Findings** fail the check (exit 1): a wrong loss, a wrong gradient, a wrong
hlast or dhprev, a loss that ignores a parameter whose returned gradient is not
zero, a function that changes its arguments, differs between two identical calls,
or returns NaN or inf. Wrong shapes, exceptions and time-outs are input errors
(ImplError, exit 2).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import diagnose_gated, prose
from ..compare import PairResult, compare, norm_rel_error, rel_error, tolerance
from ..diagnose import Cause, diagnose, disagreeing_steps, ignored_parameters
from ..engines import Gradients, Options
from ..errors import ImplError
from ..findings import Finding
from ..gated_variants import walk
from ..model import Batch, Forward, Params, Problem, build, tempered_loss
from ..model import second_point as second_spec
from ..precision import ROUNDING_SAFETY, Precision, bars, lowest, resolution
from ..prose import plural
from ..report import describe_failure, finite
from . import numeric
from .adapters import ImplOptions, Result, engine_gradients, nonfinite, same
from .clips import unreached
from .declared import Declared, declared
from .options import check_order
from .runner import Code, code_for, own_gradients

LOSS_RTOL = 1e-9  # the same loss, summed in another order, agrees to far better than this
SCALE_RTOL = 1e-6  # impl-numeric = c * reference to this (norm-wise): a constant-multiple loss
IMPL_STREAM = 2  # seed word for the sampled elements (checker uses 1 for its own sample)
PROBE_STREAM = 3  # seed word for the loss-resolution direction and the independence probes
# Independence probe: each parameter moved by s x (0.1 + max|p|) x randn, with s = 1e4 x the
# loss tolerance (so that a loss depending on it moves far beyond rounding), kept within
# [1e-3, 0.5] (small enough not to push a script's unshifted softmax into overflow).
PROBE_RANGE = (1e-3, 0.5)
ROUNDING_ULPS = 4.0  # float32 own-loss differences: this x its measured rounding noise
UNRESOLVED = 0.1  # a bar wider than this fraction of the parameter's scale: not resolvable
RATIO_KINDS = ("mean-T", "mean-B", "mean-TB", "bits", "scale")  # relations: model's loss x c
ROUNDING_FIT = 10.0  # float32 causes: fit to this x the rounding of a correct float32 gradient
TEMPERATURES = np.geomspace(1e-2, 1e2, 401)  # grid on which a temperature is bracketed
HLAST_KEYS = ("hlast", "h_last", "hprev", "hnext", "h_next", "last_h", "h")
CLAST_KEYS = ("clast", "c_last", "cprev", "cnext", "c_next", "last_c", "c")
DHPREV_KEYS = ("dhprev", "dh_prev", "dh0", "dhinit", "dh_init", "dhnext")
MEANS = {"T": "the mean over the T steps", "B": "the mean over the B sequences of the batch",
         "TB": "the mean over the T steps and the B sequences"}


@dataclasses.dataclass(frozen=True)
class DeclaredLoss:
    """The loss the user's function is meant to return (``--impl-loss``).

    ``sum`` (default): the model's summed cross-entropy. ``mean=T|B|TB``: that over
    T, over the batch size B (``--batch``; one sequence is B = 1), or both. ``bits``: in
    bits (over ln 2). ``scale=C``: C times the sum. ``own``: whatever the function
    returns; its gradient must be that loss's gradient.
    """

    kind: str = "sum"  # "sum", "mean", "bits", "scale", "own"
    over: str = ""  # for mean: "T", "B" or "TB"
    value: float = 1.0  # for scale

    @property
    def flag(self) -> str | None:
        """How it was written on the command line (None: the default)."""
        return {"sum": None, "mean": f"mean={self.over}", "bits": "bits",
                "scale": f"scale={self.value:g}", "own": "own"}[self.kind]

    def factor(self, seq: int, batch: int = 1) -> float | None:
        """The declared loss over the model's summed loss (None for ``own``)."""
        if self.kind == "own":
            return None
        if self.kind == "mean":
            return 1.0 / ((seq if "T" in self.over else 1) * (batch if "B" in self.over else 1))
        return {"sum": 1.0, "bits": 1 / math.log(2), "scale": self.value}[self.kind]

    def describe(self, seq: int, batch: int | None = None) -> str:
        """In words; ``batch`` is B (None: one sequence, which is B = 1)."""
        if self.kind == "mean":
            text = f"the model's loss x1/{'T' if self.over == 'T' else self.over}: " \
                   f"{MEANS[self.over]} (T = {seq}, B = {batch or 1})"
            return text + ("; B = 1 here, so it is the sum" if self.over == "B"
                           and (batch or 1) == 1 else "")
        return {"sum": "the model's summed loss", "bits": "the model's loss in bits (/ ln 2)",
                "scale": f"the model's summed loss x{self.value:g}",
                "own": "its own loss"}[self.kind]


def parse_loss(text: str | None) -> DeclaredLoss:
    """``mean=T``, ``bits``, ``scale=0.5``, ``own``, ``sum`` -> a :class:`DeclaredLoss`."""
    if text is None or text.strip() in ("", "sum"):
        return DeclaredLoss()
    raw = text.strip()
    key, _, value = raw.partition("=")
    if key == "mean" and value in MEANS:
        return DeclaredLoss("mean", over=value)
    if key in ("bits", "own") and not value:
        return DeclaredLoss(key)
    if key == "scale":
        try:
            c = float(value)
        except ValueError:
            c = float("nan")
        if math.isfinite(c) and c != 0:
            return DeclaredLoss("scale", value=c)
    raise ImplError(f"--impl-loss: expected sum, mean=T, mean=B, mean=TB, bits, scale=C "
                    f"(C a non-zero number) or own, got {raw!r}")


@dataclasses.dataclass(frozen=True)
class ImplRequest:
    """What to check: ``PATH.py:NAME`` (or ``Class.method``, ``module:NAME``) and how."""

    target: str | Callable[..., Any]  # a string from the CLI; a function from the API
    options: ImplOptions = dataclasses.field(default_factory=ImplOptions)
    loss: DeclaredLoss = dataclasses.field(default_factory=DeclaredLoss)
    fix: bool = False  # search a verified one-line fix when the code is wrong (bpttcheck.fix)
    fix_budget: float | None = None  # seconds for that search (None: the cell's default,
    # bpttcheck.fix.budget_for)


@dataclasses.dataclass(frozen=True)
class Relation:
    """How the user's loss relates to the model's, as measured at both points."""

    kind: str  # equal, constant, mean-T, bits, scale, offset, prefix, suffix, without,
    #            no-hprev, temperature, independent, unrelated
    text: str
    value: float | None = None
    hint: str | None = None  # an --impl-loss value declaring exactly this loss

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text,
                "value": finite(self.value) if self.value is not None else None,
                "hint": self.hint}


@dataclasses.dataclass(frozen=True)
class PointCheck:
    """The user's code at one point: its loss, and its gradient against two truths."""

    name: str  # "spec" or "second"
    where: str  # in words
    loss: float
    model_loss: float
    target_loss: float | None  # the declared loss here (None: own)
    loss_ok: bool
    gradient_ok: bool | None  # against the declared loss's gradient (None: own)
    own_ok: bool | None  # against numerical differentiation of its own loss (None: not run)
    comparisons: tuple[PairResult, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"point": self.name, "where": self.where, "loss": finite(self.loss),
                "model_loss": finite(self.model_loss),
                "declared_loss": finite(self.target_loss) if self.target_loss is not None
                else None, "loss_ok": self.loss_ok, "gradient_ok": self.gradient_ok,
                "own_gradient_ok": self.own_ok,
                "failed": [f"{c.parameter} {c.a}↔{c.b}" for c in self.comparisons
                           if not c.passed]}


@dataclasses.dataclass(frozen=True)
class ImplReport:
    """What was found about the user's code, beyond the pairwise comparisons."""

    target: str
    label: str
    form: str
    names: dict[str, str]
    loaded: str  # what the loader executed and skipped
    python2: bool
    loss: float
    spec_loss: float
    loss_match: bool  # its loss is the declared one at every point
    checked: str  # which elements numerical differentiation of their loss covered
    findings: tuple[Finding, ...] = ()
    causes: tuple[Cause, ...] = ()
    steps: tuple[int, ...] = ()  # loss steps t whose dL_t/dtheta disagrees
    notes: tuple[str, ...] = ()
    seq: int = 0
    verdict: str = ""  # the first sentence: yes, or which part is wrong
    declared: str | None = None  # the --impl-loss value, None for the default (sum)
    relation: Relation | None = None
    precision: str = "float64"
    points: tuple[PointCheck, ...] = ()
    failures: tuple[str, ...] = ()  # failing comparisons in words, both points
    fix: Any = None  # a bpttcheck.fix.Fix, when a search found one
    fix_reason: str | None = None  # when a search ran and found none: what it tried

    @property
    def passed(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target, "form": self.form, "names": self.names,
            "loaded": self.loaded, "python2": self.python2, "loss": finite(self.loss),
            "spec_loss": finite(self.spec_loss), "loss_match": self.loss_match,
            "checked": self.checked,
            "findings": list(self.findings), "causes": [c.to_dict() for c in self.causes],
            "steps": list(self.steps), "passed": self.passed, "notes": list(self.notes),
            "verdict": self.verdict, "declared_loss": self.declared or "sum",
            "relation": self.relation.to_dict() if self.relation is not None else None,
            "precision": self.precision, "points": [p.to_dict() for p in self.points],
            "fix": self.fix.to_dict() if self.fix is not None else None,
            "fix_reason": self.fix_reason,
        }


def prepare_request(request: ImplRequest, problem: Problem) -> Code:
    """Load and wrap the user's code, and call it once, so that a broken target fails fast."""
    sizes = code_sizes(problem)
    options = dataclasses.replace(request.options, cell=problem.cell)
    if options.order is not None:  # the model's parameters (a bias-free model has three)
        check_order(options.order, tuple(n for n in _model(problem).params
                                         if n in problem.params))
    code = code_for(request.target, options, sizes, problem.spec.time_budget)
    code.call(problem.params, problem.batch)
    return code


def code_sizes(problem: Problem) -> dict[str, int]:
    """The sizes the user's code is loaded with: hidden, vocab, seq, and B for a batch,
    ``biases`` 0 for a bias-free model."""
    return {"hidden": problem.hidden, "vocab": problem.vocab, "seq": problem.batch.seq,
            **({"batch": problem.batch.width} if problem.batch.width is not None else {}),
            **({"biases": 0} if not problem.spec.biases else {})}


def call_findings(code: Code, params: Params, batch: Batch, first: Result) -> list[Finding]:
    """What calling the code showed beside its answer: hygiene findings of ``first`` and of a
    second call with the same arguments, a second answer that differs (nondeterminism), and
    non-finite values in ``first``."""
    again = code.call(params, batch)
    findings = list(dict.fromkeys(first.findings + again.findings))
    differs = same(first, again)
    if differs:
        findings.append(Finding("nondeterminism", "two calls with the same arguments returned "
                                f"different {', '.join(differs)} (random numbers, or state kept "
                                "between calls?)"))
    findings.extend(Finding("non-finite", w) for w in nonfinite(first))
    return findings


def call_second(code: Code, spec: Any, m: Declared) -> tuple[Problem, Result]:
    """The second point (:func:`second_problem`) and the code's answer there; an error
    there names the point."""
    second = second_problem(code, spec)
    try:
        return second, code.call(second.params, second.batch)
    except ImplError as exc:
        biases = "non-zero biases, " if second.spec.biases else ""
        raise ImplError(f"at the second point (seed {second.spec.seed}, {biases}"
                        f"{'random' if second.spec.hprev == 'random' else 'zero'} "
                        f"{' and '.join(m.states)}; bpttcheck checks every "
                        f"term there): {exc}") from None


def second_problem(code: Code, spec: Any) -> Problem:
    """The second point (:func:`bpttcheck.model.second_point`); with zero initial states for
    a function that takes none (``bptt(self, x, y)``: it starts from zero)."""
    return build(second_spec_for(spec, bool(getattr(code, "stateless", False))))


def second_spec_for(spec: Any, stateless: bool) -> Any:
    """The second point's spec; its hprev zero when the function takes no initial state."""
    second = second_spec(spec)
    return dataclasses.replace(second, hprev="zeros") if stateless else second


def _model(problem: Problem) -> Declared:
    """The declared model of the problem's cell (:mod:`.declared`)."""
    return declared(problem.cell)


def _loss_rtol(m: Declared, params: Params, batch: Batch, exact: float,
               precision: Precision) -> float:
    """:func:`bpttcheck.precision.loss_rtol`, with the cell's model as the rounding witness."""
    tol = precision.loss_rtol(batch.seq)
    if precision.reduced:
        rounded = m.witness(params, batch, precision.dtype).loss
        measured = abs(rounded - exact) if np.isfinite(rounded) else np.inf
        tol = max(tol, ROUNDING_SAFETY * float(measured) / max(1.0, abs(exact)))
    return tol


def _error_bars(m: Declared, params: Params, batch: Batch, exact: dict[str, np.ndarray],
                precision: Precision, floor: float, factor: float = 1.0
                ) -> dict[str, np.ndarray]:
    """:func:`bpttcheck.precision.error_bars`, with the cell's model as the witness.

    ``exact`` is the declared loss's gradient, ``factor`` times the model's; the witness
    (the model's gradient in ``precision``) is scaled by the same factor, so that the bars
    measure rounding, not the difference between the declared loss and the sum."""
    rounded = m.witness(params, batch, precision.dtype).grads
    return {n: bars(g, factor * rounded[n], precision, floor) for n, g in exact.items()}


@dataclasses.dataclass
class _At:
    """Everything measured at one point, before it is judged."""

    problem: Problem
    result: Result
    fw: Forward
    ref: Gradients
    own: Gradients | None  # numerical differentiation of their loss, where it was run


def check_impl(code: Code, problem: Problem, options: Options,
               results: dict[str, Gradients], declared: DeclaredLoss | None = None
               ) -> tuple[dict[str, Gradients], list[PairResult], ImplReport]:
    """Run the user's code as engines ``impl`` and ``impl-numeric`` and judge it (see above)."""
    declared = declared or DeclaredLoss()
    spec, params, batch = problem.spec, problem.params, problem.batch
    m = _model(problem)
    first = code.call(params, batch)
    if not first.returns_loss:  # gradients alone: judged against the model's gradient only
        from .gradient_only import check_gradients

        return check_gradients(code, problem, options, results, declared, first)
    findings = call_findings(code, params, batch, first)
    notes: list[str] = []
    rng = np.random.default_rng([spec.seed, PROBE_STREAM])
    measured = resolution(lambda p: code.call(p, batch).loss, params, rng,
                          lambda p: m.loss(p, batch))
    # Two precisions: the gradients' (the dtypes of the arrays returned: their error bars)
    # and the loss's (those dtypes, or how finely the loss resolves changes: its tolerance
    # and the step its own finite differences take). A float64 gradient is judged as float64
    # even when the loss it comes with is rounded to float32.
    prec = lowest(first.dtypes, _gradient_resolution(code, problem))
    lprec = lowest(first.dtypes, measured)
    factor = declared.factor(batch.seq, batch.width or 1)
    sample = _sample(code.options, options, problem)
    second, at_second = call_second(code, spec, m)
    ats = []
    for pr, res in ((problem, first), (second, at_second)):
        ref = (results.get("reference") if pr is problem else None) or \
            m.reference(pr.params, pr.batch, Options())
        # At the second point the model's gradient is compared on every element; its own
        # loss is differentiated there only when that is the declared truth (``own``).
        # In float32 it is not differentiated at all when the model's gradient is the truth
        # (see prose.impl_precision_own_skipped for why).
        wanted = factor is None or (pr is problem and not lprec.reduced)
        own = _own_numeric(code, pr, options, sample, lprec, measured) if wanted else None
        ats.append(_At(pr, res, m.forward(pr.params, pr.batch), ref, own))
    findings.extend(Finding("non-finite", f"at the second point: {w}")
                    for w in nonfinite(ats[1].result)
                    if not nonfinite(first))
    ltol = max([LOSS_RTOL, *(_loss_rtol(m, a.problem.params, a.problem.batch, a.fw.loss, lprec)
                             for a in ats)])
    independent = _independent(code, second, lprec, ltol, rng)
    relation = relate([a.result.loss for a in ats], [a.fw for a in ats], [a.problem for a in ats],
                      ltol, independent)
    known = (1.0 if relation.kind == "equal" else
             relation.value if relation.kind in RATIO_KINDS else None)
    # --impl-loss own, and their loss is measured to be the model's times a constant: its
    # gradient is then known on every element, so every element is judged against it, not
    # only the ones sampled for numerical differentiation (a wrong unsampled element must
    # not pass).
    everywhere = factor is None and known is not None
    judged = known if everywhere else factor  # the factor on the model's gradient, if known
    widest: dict[str, float] = {}  # widest precision bar / scale, per parameter
    certified = [0]  # elements whose finite difference failed but moved as the model's does
    points = [_judge(i, at, results, judged, prec, ltol, options, widest, certified)
              for i, at in enumerate(ats)]
    if certified[0]:
        notes.append(prose.impl_certified(certified[0]))
    for at, pt in zip(ats, points, strict=True):
        findings.extend(_returned_states(at, factor, lprec, spec.floor, pt.where))
    verdict, more = _verdict(declared, points, relation, batch.seq, ats)
    findings = more + findings
    ignored = [prose.impl_ignores(n) for n in independent
               if any(np.any(a.result.grads[n] != 0) for a in ats)
               and relation.kind != "constant"]
    findings = ignored + findings
    if getattr(code, "stateless", False):
        notes.append(prose.impl_stateless(code.loaded.name, m.states))
    unknown = sorted(k for k in first.extras if k not in HLAST_KEYS + DHPREV_KEYS
                     + (CLAST_KEYS if "cprev" in m.states else ()))
    if unknown:
        notes.append(prose.impl_unchecked_keys(unknown))
    if first.hlast is None and not any(k in first.extras for k in HLAST_KEYS):
        notes.append("it returns no hidden state (hlast): nothing to compare there")
    if not prec.reduced:
        notes.extend(first.notes)
        if lprec.reduced:
            notes.append(prose.impl_loss_precision(lprec.dtype, measured))
    else:  # the adapter's "compared as float64" note is the precision note below
        how = (f"returns {', '.join(first.dtypes)}" if prec.dtype in first.dtypes else
               f"returns {', '.join(first.dtypes) or 'float64'}, but its loss resolves only "
               f"relative changes of {measured:.0e}")
        notes.append(prose.impl_precision(prec.describe(), how, max(widest.values(),
                                                                    default=0.0)))
        notes.append(prose.impl_precision_own(prec.step) if factor is None
                     else prose.impl_precision_own_skipped(prec.dtype))
        blurred = [n for n, w in widest.items() if w > UNRESOLVED]
        if blurred:  # a check that cannot fail there is vacuous: never a pass
            findings.append(prose.impl_unresolved(prec.dtype, blurred, own=factor is None))
    own1 = ats[0].own
    notes.extend(code.output_notes())  # what their code printed, counted, never shown on stdout
    where = getattr(getattr(code, "loaded", None), "path", None)
    if isinstance(where, Path):  # a clip no element reached: its bound is not tested
        notes.extend(prose.impl_clip_unreached(*u) for u in unreached(
            where, code.loaded.name, (a.result.grads for a in ats)))
    # Diagnose where the gradient is seen to be wrong: the spec's point, or else the second
    # (a bug in the handling of hprev or of the biases shows only there).
    seen = 0 if points[0].gradient_ok is False or points[0].own_ok is False else next(
        (i for i, p in enumerate(points) if p.gradient_ok is False), 0)
    causes: list[Cause] = []
    steps: tuple[int, ...] = ()
    if any(f.kind == "nondeterminism" for f in findings):
        notes.append(prose.impl_no_cause_nondeterministic())  # one call's difference: no cause
    elif batch.width is not None:  # a batch: column by column, then the batch
        causes = _batch_causes(code, ats[seen], points[seen], declared, factor)
    else:
        causes, steps = _causes(code, ats[seen], points[seen], judged, prec, independent, notes)
        if points[seen].loss_ok and not all(p.loss_ok for p in points):
            # Their loss is the model's at this point only (``+ by`` dropped, with by = 0
            # here): a pattern measured here would call right what the other point shows
            # wrong. Causes about the loss itself stay; the loss's relation is the finding.
            causes, steps = [c for c in causes if c.kind == "ignored-param"], ()
    failures: list[str] = []
    for pt in points:
        bad = [c for c in pt.comparisons if not c.passed]
        shown: dict[str, PairResult] = {}
        for c in bad:  # one line per parameter, against the most trusted truth
            shown.setdefault(c.parameter, c)
        failures.extend(f"{describe_failure(c)} [{pt.where}]" for c in shown.values())
    n_own = (0 if own1 is None else
             sum(len(i) for i in sample.values()) if sample is not None else problem.n_params)
    truths = (f"{declared.describe(batch.seq, batch.width)}'s gradient on every element ("
              f"{prose.join_names(list(results))} at the spec's point, the reference at the "
              "second), " if factor is not None else "")
    if everywhere:
        truths = (f"the gradient of {relation.text} on every element (its loss is measured to "
                  f"be that: {prose.join_names(list(results))} at the spec's point, the "
                  "reference at the second), ")
    checked = (f"at {_points_text(points)}: {truths}numerical differentiation of its own loss "
               f"on {n_own} of {problem.n_params} elements"
               + (" (at the spec's point)" if factor is not None and n_own else "")
               + (f", {max(len(i) for i in sample.values())} sampled per parameter "
                  "(seeded)" if sample is not None and n_own else "")
               + (f"; in {prec.dtype}, with measured error bars" if prec.reduced else ""))
    findings = list(dict.fromkeys(findings))
    if findings and not more:  # loss and gradient right, something else wrong: never "Yes"
        verdict = prose.impl_fail_other(sorted({f.kind for f in findings}))
    report = ImplReport(
        target=code.loaded.name, label=code.label, form=code.form, names=dict(code.names),
        loaded=code.loaded.summary(), python2=code.loaded.python2, loss=first.loss,
        spec_loss=ats[0].fw.loss, loss_match=all(p.loss_ok for p in points) and (
            declared.kind != "own" or relation.kind == "equal"), checked=checked,
        findings=tuple(findings), causes=tuple(causes), steps=steps,
        notes=tuple(notes), seq=batch.seq, verdict=verdict, declared=declared.flag,
        relation=relation, precision=prec.dtype, points=tuple(points),
        failures=tuple(failures))
    impl1 = engine_gradients(first, options)
    engines = {"impl": impl1, **({"impl-numeric": own1} if own1 is not None else {})}
    return engines, list(points[0].comparisons), report


def _gradient_resolution(code: Code, problem: Problem) -> float:
    """How finely the returned gradient resolves changes (0: float64's), measured like the
    loss's (:func:`bpttcheck.precision.resolution`) on a fixed random projection of it, with
    the tutorial's float64 gradient as the smooth reference. Code that computes in float32
    and returns float64 arrays shows float32's staircase here; float64 code with only its
    loss rounded to float32 does not."""
    params, batch = problem.params, problem.batch
    rng = np.random.default_rng([problem.spec.seed, PROBE_STREAM, 1])
    w = {n: rng.standard_normal(p.shape) for n, p in params.items()}

    def projected(g: dict[str, np.ndarray]) -> float:
        return float(sum(float(np.sum(w[n] * np.asarray(g[n], dtype=np.float64))) for n in w))

    return resolution(lambda p: projected(code.call(p, batch).grads), params, rng,
                      lambda p: projected(_model(problem).tutorial(p, batch, Options()).grads))


def _causes(code: Code, at: _At, p1: PointCheck, factor: float | None, prec: Precision,
            independent: tuple[str, ...], notes: list[str]
            ) -> tuple[list[Cause], tuple[int, ...]]:
    """Likely causes and the loss steps that disagree, from the spec's point.

    Against the declared loss's gradient when the loss is right (the truth is known on
    every element), else against the gradient of their own loss. A note is added to
    ``notes`` when the steps could not be localised.
    """
    problem, first, ref1, own1 = at.problem, at.result, at.ref, at.own
    params, batch, g1 = problem.params, problem.batch, at.result.grads
    causes: list[Cause] = []
    steps: tuple[int, ...] = ()
    if p1.gradient_ok is False or (not p1.own_ok and p1.gradient_ok is not True):
        if p1.gradient_ok is False and p1.loss_ok:  # the declared loss: truth known everywhere
            f = factor if factor is not None else 1.0
            truth = {n: f * v for n, v in ref1.grads.items()}
            causes = (diagnose(g1, truth, params, batch, f, _rounding(at, prec),
                               code.options.order)
                      if problem.cell == "vanilla" else
                      diagnose_gated.diagnose(problem.cell, g1, truth, params, batch, f))
        elif own1 is not None:
            causes = _own_causes(g1, own1, ref1, problem, first.loss)
        if prec.reduced and factor == 1.0 and p1.loss_ok:
            notes.append(f"not localised in time: per-step gradients in {prec.dtype} are "
                         "too coarse to compare step by step")
        # Not for clipping (not per step), nor when the cause already names its steps:
        # prefixes move the last step, so a bug at t = T-1 shows at every prefix.
        elif factor == 1.0 and p1.loss_ok and not (causes and (causes[0].kind == "clip"
                                                               or causes[0].steps)):
            steps, why_not, entry = _localise(code, problem)
            if why_not is not None:
                notes.append(why_not)
            if entry and problem.cell != "vanilla":
                causes.append(diagnose_gated.entry(problem.cell, entry, min(steps),
                                                   tuple(params)))
    elif own1 is not None and not p1.own_ok:
        # A gradient that is the declared loss's is right: against their own loss only a
        # parameter that loss ignores is a cause (a ratio would blame the right gradient).
        causes = (ignored_parameters(g1, own1.grads, own1.covered, own1.noise)
                  if p1.gradient_ok is True else
                  _own_causes(g1, own1, ref1, problem, first.loss))
    # A cause that names a parameter whose gradient passed every comparison is not true
    # (in float32 the diagnosis, which fits patterns to 1e-6, cannot tell which are wrong).
    right = {n for n in params if all(c.passed for c in p1.comparisons if c.parameter == n)}
    causes = [c for c in causes if not set(c.params) & right]
    # A parameter the loss ignores is the finding; "only its update is wrong" would mislead.
    causes = [c for c in causes if not (c.kind == "bias" and set(c.params) <= set(independent))]
    if causes and causes[0].kind == "clip" and problem.spec.clip is None and causes[0].value:
        causes[0] = dataclasses.replace(
            causes[0], message=f"{causes[0].message}; {prose.impl_clip_hint(causes[0].value)}")
    return causes, steps


def _rounding(at: _At, prec: Precision) -> float:
    """What rounding alone does to a correct gradient computed in ``prec`` (0 for float64):
    the model's own gradient run in that dtype, against the reference, worst parameter,
    times ROUNDING_FIT. A cause for float32 code is then a pattern that reproduces their
    gradient as closely as float32 can, not to float64's 1e-6."""
    if not prec.reduced:
        return 0.0
    rounded = _model(at.problem).witness(at.problem.params, at.problem.batch, prec.dtype)
    return ROUNDING_FIT * max(norm_rel_error(rounded.grads[n], at.ref.grads[n])
                              for n in at.ref.grads if n in rounded.grads)


def _batch_causes(code: Code, at: _At, p1: PointCheck, declared: DeclaredLoss,
                  factor: float | None) -> list[Cause]:
    """Causes for a batched function (:mod:`bpttcheck.diagnose_batch`), when its loss is the
    declared one and its gradient is not; otherwise the loss's relation says what is wrong."""
    from ..diagnose_batch import batch_causes

    if factor is None or not p1.loss_ok or p1.gradient_ok is not False:
        return []
    pr = at.problem
    one = declared.factor(pr.batch.seq, 1)
    return batch_causes(lambda p, b: code.call(p, b).grads, pr.params, pr.batch,
                        at.result.grads, factor, one if one is not None else 1.0,
                        tolerance(pr.spec, "impl", "reference"), pr.spec.floor)


def _own_causes(g: dict[str, np.ndarray], own: Gradients, ref: Gradients, problem: Problem,
                loss_value: float) -> list[Cause]:
    """Causes against the gradient of their own loss: a parameter that loss ignores first
    (the truth-based patterns cannot see it), then the measured patterns for the rest."""
    causes = ignored_parameters(g, own.grads, own.covered, own.noise)
    if problem.cell != "vanilla":  # the measured patterns below are the vanilla cell's
        return causes
    ignored = {p for c in causes for p in c.params}
    return causes + [c for c in _diagnose(g, own, ref, problem, False, loss_value)
                     if not set(c.params) <= ignored]


def _judge(i: int, at: _At, results: dict[str, Gradients], factor: float | None,
           prec: Precision, ltol: float, options: Options,
           widest: dict[str, float], certified: list[int]) -> PointCheck:
    """Compare at one point: ``impl`` against the declared loss's gradient (every engine at
    the spec's point, the reference at the second) and against its own loss's; the loss
    against the declared one. Records the widest precision bars in ``widest`` and the
    elements :func:`_certify` vouched for in ``certified``."""
    spec, params = at.problem.spec, at.problem.params
    scale = factor if factor is not None else 1.0
    truth = {n: scale * v for n, v in at.ref.grads.items()}
    noise = None
    if prec.reduced:
        noise = _error_bars(_model(at.problem), params, at.problem.batch, truth, prec,
                            spec.floor, scale)
        for n, b in noise.items():
            top = float(np.abs(truth[n]).max(initial=0.0))
            widest[n] = max(widest.get(n, 0.0), float(b.max(initial=0.0)) / top if top else 0)
        if factor is None and at.own is not None:  # own: the bars are its own loss's noise
            for n in params:
                flat = (at.own.covered[n] if at.own.covered is not None
                        else np.arange(params[n].size))
                bar = np.asarray((at.own.noise or {}).get(n, np.zeros(0))).ravel()[flat]
                top = float(np.abs(at.own.grads[n].ravel()[flat]).max(initial=0.0))
                if bar.size:
                    widest[n] = max(widest.get(n, 0.0),
                                    float(bar.max()) / top if top else float("inf"))
    impl = dataclasses.replace(engine_gradients(at.result, options), noise=noise)
    engines = dict(results) if i == 0 else {"reference": at.ref}
    target_loss = None if factor is None else factor * at.fw.loss
    loss_ok = (target_loss is None
               or abs(at.result.loss - target_loss) <= ltol * max(1.0, abs(target_loss)))
    gradient_ok = None
    against: list[PairResult] = []
    if factor is not None:
        against = [compare(n, impl, _scaled(g, factor), tolerance(spec, "impl", e),
                           spec.floor) for e, g in engines.items() for n in params]
        gradient_ok = all(c.passed for c in against)
    own = at.own
    if own is not None and factor is not None and loss_ok and gradient_ok and not prec.reduced:
        own = _certify(own, impl, at.problem, factor, options, spec, certified)
    cs: list[PairResult] = [] if own is None else [
        compare(n, impl, own, tolerance(spec, "impl", "impl-numeric"), spec.floor)
        for n in params]
    own_ok = None if own is None else all(c.passed for c in cs)
    cs = against + cs
    states = " and ".join(_model(at.problem).states)
    where = ("the spec's point" if i == 0 else
             f"a second point (seed {spec.seed}, "
             f"{f'biases {spec.bias_scale:g} x randn' if spec.biases else 'no biases'}, "
             f"{'random' if spec.hprev == 'random' else 'zero'} {states})")
    return PointCheck("spec" if i == 0 else "second", where, at.result.loss, at.fw.loss,
                      target_loss, loss_ok, gradient_ok, own_ok, tuple(cs))


def _certify(own: Gradients, impl: Gradients, problem: Problem, factor: float,
             options: Options, spec: Any, certified: list[int]) -> Gradients:
    """Finite differences of their loss that did not certify an element, judged again.

    Here their loss is the declared one at this point and their gradient matches the
    declared loss's on every element (exact engines and the numeric witness). Where the
    finite difference of their loss still disagrees with their gradient (a chaotic or
    saturated network: Richardson's truncation far beyond its bar), the same finite
    difference, at the same points, is taken of the declared loss itself. If the two
    agree, their loss moves exactly as the declared one under those perturbations, so the
    disagreement is the method's, not their code's: the element's error bar is widened to
    cover it, and it counts as limited by precision (``certified`` gets the count).
    """
    params, batch = problem.params, problem.batch
    rtol = tolerance(spec, "impl", "impl-numeric")
    bad = {n: c for n in params
           if not (c := compare(n, impl, own, rtol, spec.floor)).passed}
    if not bad:
        return own
    sample = {n: (own.covered[n] if own.covered is not None else np.arange(params[n].size))
              if n in bad else np.zeros(0, dtype=np.intp) for n in params}
    m = _model(problem)
    model = numeric.gradients(lambda p, b: factor * m.loss(p, b), params, batch, options,
                              sample)
    noise = {n: np.array(v, dtype=np.float64) for n, v in (own.noise or {}).items()}
    for n in bad:
        flat = sample[n]
        theirs, ours = own.grads[n].reshape(-1)[flat], model.grads[n].reshape(-1)[flat]
        same = rel_error(theirs, ours, spec.floor) <= rtol  # the two losses move alike
        gap = np.abs(impl.grads[n].reshape(-1)[flat] - theirs)
        bar = noise.setdefault(n, np.zeros(params[n].shape)).reshape(-1)
        widened = same & (gap > bar[flat])
        bar[flat[widened]] = gap[widened]
        certified[0] += int(widened.sum())
    return dataclasses.replace(own, noise=noise)


def _points_text(points: list[PointCheck]) -> str:
    return "both points (" + "; ".join(p.where for p in points) + ")"


def _scaled(g: Gradients, factor: float) -> Gradients:
    """An engine's gradients times the declared loss's factor (its error bars too)."""
    if factor == 1.0:
        return g
    noise = None if g.noise is None else {n: abs(factor) * v for n, v in g.noise.items()}
    return dataclasses.replace(g, grads={n: factor * v for n, v in g.grads.items()},
                               noise=noise, loss=factor * g.loss)


def _own_numeric(code: Code, problem: Problem, options: Options,
                 sample: dict[str, np.ndarray] | None, prec: Precision,
                 resolved: float = 0.0) -> Gradients:
    """Numerical differentiation of their loss, with a step that suits its precision.

    :mod:`bpttcheck.impl.numeric` steps by ``numeric.STEP`` (float64's). For a
    coarser dtype the loss is differentiated in stretched coordinates,
    theta = theta0 + k (phi - theta0) with k = prec.step / numeric.STEP, so that
    its step in theta is prec.step; the result is divided by k and its error bar
    widened by the rounding of a loss in that dtype.
    """
    params, batch = problem.params, problem.batch

    def theirs(p: dict[str, np.ndarray] | Any, b: Batch) -> float:
        return code.call(p, b).loss

    if not prec.reduced:  # batched: through the child process in one round trip per batch
        return own_gradients(code, params, batch, options, sample)
    k = prec.step / numeric.METHOD.default_step(np.float64)  # the float64 step it would take

    def stretched(p: dict[str, np.ndarray] | Any, b: Batch) -> float:
        return code.call({n: params[n] + k * (p[n] - params[n]) for n in params}, b).loss

    g = numeric.gradients(stretched, params, batch, options, sample)
    # Rounding of their loss: its measured resolution (at least eps), a few times over,
    # divided by the step (each central difference subtracts two rounded values).
    rounding = ROUNDING_ULPS * max(resolved, prec.eps) * max(1.0, abs(g.loss))
    noise = {n: np.asarray(v) / k + rounding / (prec.step * np.maximum(1.0, np.abs(params[n])))
             for n, v in (g.noise or {}).items()}
    return dataclasses.replace(g, grads={n: v / k for n, v in g.grads.items()}, noise=noise)


def _returned_states(at: _At, factor: float | None, prec: Precision, floor: float,
                     where: str) -> list[Finding]:
    """hlast (the tuple's last value or a dict key) and dhprev (a dict key), if returned."""
    out = []
    res, fw = at.result, at.fw
    m = _model(at.problem)
    params, batch = at.problem.params, at.problem.batch
    witness = m.witness(params, batch, prec.dtype) if prec.reduced else None
    hlast = res.hlast
    clast = None
    if isinstance(hlast, tuple):  # the LSTM's (hlast, clast)
        hlast, clast = hlast if len(hlast) == 2 else (hlast[0], None)
    if hlast is None:
        hlast = next((res.extras[k] for k in HLAST_KEYS if k in res.extras), None)
    if clast is None and "cprev" in m.states:
        clast = next((res.extras[k] for k in CLAST_KEYS if k in res.extras), None)
    if clast is not None:
        rounded = (walk(m.cell, params, batch, prec.dtype).clast if prec.reduced else None)
        wrong = _state(clast, m.last_states(params, batch)["clast"], rounded, prec, floor,
                       "c_{T-1}", "the model's last cell state")
        if wrong:
            out.append(prose.impl_clast(where, wrong))
    if hlast is not None:
        truth = fw.hlast if isinstance(fw, Forward) else m.last_states(params, batch)["hlast"]
        wrong = _state(hlast, truth, witness.hlast if witness else None, prec,
                       floor, "h_{T-1}", "the model's last hidden state")
        if wrong:
            out.append(prose.impl_hlast(where, wrong))
    dh = next((res.extras[k] for k in DHPREV_KEYS if k in res.extras), None)
    if dh is not None and factor is not None and at.ref.dhprev is not None:
        wrong = _state(dh, factor * at.ref.dhprev,
                       factor * witness.dhprev if witness else None, prec, floor, "dhprev",
                       "the model's dL/dhprev")
        if wrong:
            out.append(prose.impl_dhprev(where, wrong))
    return out


def _state(value: Any, truth: np.ndarray, rounded: np.ndarray | None, prec: Precision,
           floor: float, name: str, what: str) -> str | None:
    """Why ``value`` is not ``truth`` (an (H, 1) column, (H, B) for a batch), or None."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return f"is a {type(value).__name__}, not an array"
    if arr.size != truth.size:
        return f"has shape {arr.shape}; {what} has shape {truth.shape}"
    arr = arr.reshape(truth.shape)
    if not np.isfinite(arr).all():
        return "contains NaN or inf"
    if rounded is not None:
        ok = np.abs(arr - truth) <= bars(truth, rounded, prec, floor)
    else:
        ok = rel_error(arr, truth, floor) <= LOSS_RTOL * 1e1  # summed in another order
    if ok.all():
        return None
    i = int(np.argmax(np.where(ok, -1.0, np.abs(arr - truth)).ravel()))
    return (f"differs from {what} {name}: {int((~ok).sum())} of {truth.size} entries, worst "
            f"[{i}]: yours {arr.ravel()[i]:.6g}, the model's {truth.ravel()[i]:.6g}")


def _independent(code: Code, problem: Problem, prec: Precision, ltol: float,
                 rng: np.random.Generator) -> tuple[str, ...]:
    """Parameters their loss does not depend on: moving one leaves the loss unchanged
    (to rounding) while the model's loss moves by far more."""
    params, batch = problem.params, problem.batch
    loss = _model(problem).loss
    base = code.call(params, batch).loss
    size = min(PROBE_RANGE[1], max(PROBE_RANGE[0], 1e4 * ltol))
    out = []
    for n in params:  # the model's parameters (a bias-free model has three)
        p = params[n]
        moved = dict(params)
        moved[n] = p + size * (0.1 + float(np.abs(p).max())) * rng.standard_normal(p.shape)
        theirs = code.call(moved, batch).loss
        model_change = abs(loss(moved, batch) - loss(params, batch))
        bound = ltol * max(1.0, abs(base))
        if abs(theirs - base) <= bound < model_change / 100:
            out.append(n)
    return tuple(out)


def relate(theirs: list[float], fws: list[Forward], problems: list[Problem], tol: float,
           independent: tuple[str, ...]) -> Relation:
    """How their losses at the two points relate to the model's (see module docstring)."""
    models = [fw.loss for fw in fws]
    T = problems[0].batch.seq
    m = _model(problems[0])
    loss = m.loss

    def close(a: float, b: float) -> bool:
        return abs(a - b) <= tol * max(1.0, abs(b))

    def fits(values: list[float]) -> bool:
        return all(close(a, b) for a, b in zip(theirs, values, strict=True))

    if not all(math.isfinite(x) for x in theirs):
        return Relation("unrelated", "not finite")
    if fits(models):
        return Relation("equal", "the model's loss")
    if len(independent) == len(problems[0].params) or (
            close(theirs[1], theirs[0]) and not close(models[1], models[0])):
        return Relation("constant", f"a constant ({theirs[0]:.10g}): it does not depend on "
                        "the weights", theirs[0])
    sums = [np.cumsum(fw.losses) for fw in fws]
    for k in range(T - 1):
        if fits([float(s[k]) for s in sums]):
            return Relation("prefix", f"the model's loss over steps 0..{k} only (of "
                            f"0..{T - 1}): it leaves out the last {T - 1 - k}", float(k))
    for k in range(1, T):
        if fits([float(fw.losses[k:].sum()) for fw in fws]):
            return Relation("suffix", f"the model's loss over steps {k}..{T - 1} only: it "
                            f"leaves out the first {k}", float(k))
    if models[0] != 0:
        r = theirs[0] / models[0]
        if fits([r * m for m in models]):
            return _ratio(r, T, problems[0].batch.width or 1)
    c = theirs[0] - models[0]
    if fits([m + c for m in models]):
        return Relation("offset", f"the model's loss {c:+.6g} (a constant offset)", c)
    if independent:
        without = []
        for pr in problems:
            zeroed = {n: (np.zeros_like(p) if n in independent else p)
                      for n, p in pr.params.items()}
            without.append(loss(zeroed, pr.batch))
        names = prose.join_names(list(independent))
        if fits(without):
            return Relation("without", f"the model's loss without {names} (it does not depend "
                            f"on {names})")
    # Every initial state taken as zero, then (the LSTM) each one alone.
    for zeroed_states in (m.states, *((s,) for s in m.states if len(m.states) > 1)):
        no_hprev = [loss(pr.params, _zero_states(pr.batch, zeroed_states)) for pr in problems]
        if fits(no_hprev):
            states = " and ".join(zeroed_states)
            return Relation("no-hprev", f"the model's loss with {states} taken as zero: it "
                            f"ignores the {states} it is given")
    tau = _temperature(theirs, fws, problems, tol)
    if tau is not None:
        return Relation("temperature", f"the model's loss at temperature {tau:.6g} (softmax "
                        f"of logits / {tau:.6g})", tau)
    if independent:
        names = prose.join_names(list(independent))
        return Relation("independent", f"unrelated to the model's, and does not depend on "
                        f"{names}")
    return Relation("unrelated", "unrelated to the model's: no constant scale, offset, "
                    "temperature or partial sum over steps fits at both points")


def _ratio(r: float, T: int, B: int = 1) -> Relation:
    def near(x: float) -> bool:
        return abs(r / x - 1) < 1e-6

    if B > 1 and near(1.0 / B):
        return Relation("mean-B", f"the mean of the model's loss over the B = {B} sequences "
                        "of the batch (x1/B)", r, "mean=B")
    if B > 1 and T > 1 and near(1.0 / (T * B)):
        return Relation("mean-TB", f"the mean of the model's loss over the T = {T} steps and "
                        f"the B = {B} sequences (x1/TB)", r, "mean=TB")

    if T > 1 and near(1.0 / T):
        return Relation("mean-T", f"the mean of the model's loss over the T = {T} steps "
                        "(x1/T)", r, "mean=T")
    if near(1 / math.log(2)):
        return Relation("bits", "in bits (the model's loss x1/ln 2: log2 instead of ln)", r,
                        "bits")
    if near(math.log(2)):
        return Relation("scale", "the model's loss x ln 2 (nats taken for bits?)", r,
                        f"scale={r:.12g}")
    return Relation("scale", f"the model's loss x{r:.6g} (a constant scale)", r,
                    f"scale={r:.12g}")


def _zero_states(batch: Batch, states: tuple[str, ...]) -> Batch:
    """``batch`` with the named initial states (hprev, cprev) set to zero."""
    return dataclasses.replace(batch, **{
        s: np.zeros_like(getattr(batch, s)) for s in states if getattr(batch, s) is not None})


def _tempered(fw: Forward, targets: tuple[Any, ...], tau: float) -> float:
    return tempered_loss(fw, targets, tau)  # one sequence or a batch (bpttcheck.model)


def _temperature(theirs: list[float], fws: list[Forward], problems: list[Problem],
                 tol: float) -> float | None:
    """A tau != 1 with loss(logits / tau) = theirs at the first point, verified at the second."""
    t0 = problems[0].batch.targets
    values = np.array([_tempered(fws[0], t0, float(tau)) for tau in TEMPERATURES]) - theirs[0]
    for i in np.flatnonzero(np.sign(values[:-1]) != np.sign(values[1:])):
        lo, hi = float(TEMPERATURES[i]), float(TEMPERATURES[i + 1])
        for _ in range(80):  # bisection
            mid = math.sqrt(lo * hi)
            if np.sign(_tempered(fws[0], t0, mid) - theirs[0]) == np.sign(values[i]):
                lo = mid
            else:
                hi = mid
        tau = math.sqrt(lo * hi)
        if abs(tau - 1) < 1e-6:
            continue
        second = _tempered(fws[1], problems[1].batch.targets, tau)
        if abs(theirs[1] - second) <= max(tol, 1e-9) * max(1.0, abs(second)):
            return tau
    return None


def _verdict(declared: DeclaredLoss, points: list[PointCheck], relation: Relation,
             seq: int, ats: list[_At]) -> tuple[str, list[Finding]]:
    """The first sentence, and the findings that say which part is wrong."""
    where = _points_text(points)
    measured = [p.own_ok for p in points if p.own_ok is not None]
    own_ok = all(measured)
    own_state = all(measured) if measured else None  # None: not differentiated at all
    if declared.kind == "own":
        if relation.kind == "constant":
            return prose.impl_fail_constant(), [prose.impl_constant(points[0].loss)]
        if any(p.gradient_ok is False for p in points):  # judged on every element
            what = f"its own loss ({relation.text})"
            return prose.impl_fail("gradient", what), [prose.impl_gradient_only(what)]
        if own_ok:
            return prose.impl_pass_own(where, relation.text), []
        return prose.impl_fail("gradient", "its own loss"), [prose.impl_own_fail()]
    what = prose.impl_declared(declared.describe(seq, ats[0].problem.batch.width),
                               declared.flag)
    loss_ok = all(p.loss_ok for p in points)
    gradient_ok = all(p.gradient_ok for p in points)
    if loss_ok and gradient_ok and own_ok:
        return prose.impl_pass(what, where), []
    if loss_ok and gradient_ok:  # its loss agrees in value but not as a function
        return prose.impl_fail("gradient", what), [prose.impl_own_fail()]
    if gradient_ok:
        of = "the summed loss" if declared.kind == "sum" else what
        text = (f"its mean (x1/T, T = {seq})" if relation.kind == "mean-T"
                and declared.kind == "sum" else relation.text)
        return prose.impl_fail("loss", what), [prose.impl_loss_only(of, text)]
    if loss_ok:
        return prose.impl_fail("gradient", what), [prose.impl_gradient_only(what)]
    if relation.kind == "constant":
        return prose.impl_fail("loss and gradient", what), [prose.impl_constant(
            points[0].loss)]
    return prose.impl_fail("loss and gradient", what), [
        prose.impl_both(relation.text, own_state, relation.hint)]


def _sample(impl_options: ImplOptions, options: Options,
            problem: Problem) -> dict[str, np.ndarray] | None:
    if options.sample is not None:  # --sample: the same elements as the spec's numeric engine
        return {n: np.asarray(i) for n, i in options.sample.items()}
    if impl_options.sample is None:
        return None
    rng = np.random.default_rng([problem.spec.seed, IMPL_STREAM])
    return {n: np.sort(rng.choice(p.size, size=min(impl_options.sample, p.size), replace=False))
            for n, p in problem.params.items()}


def _diagnose(g: dict[str, np.ndarray], own: Gradients, ref: Gradients, problem: Problem,
              loss_match: bool, their_loss: float) -> list[Cause]:
    """The truth is the gradient of their own loss; find what turns it into theirs."""
    params, batch = problem.params, problem.batch
    names = tuple(params)  # the model's parameters (a bias-free model has three)
    if loss_match:
        return diagnose(g, ref.grads, params, batch)
    covered = own.covered
    mask = {n: np.zeros(p.size, dtype=bool) for n, p in params.items()}
    for n in params:
        mask[n][covered[n] if covered is not None else slice(None)] = True
    own_c = np.concatenate([own.grads[n].ravel()[mask[n]] for n in names])
    ref_c = np.concatenate([ref.grads[n].ravel()[mask[n]] for n in names])
    scale = their_loss / ref.loss if ref.loss else 0.0
    if scale and norm_rel_error(own_c, scale * ref_c) <= SCALE_RTOL:
        # Their loss is a constant multiple of the spec's: the truth is known everywhere.
        truth = {n: scale * ref.grads[n] for n in names}
        return diagnose(g, truth, params, batch, scale)
    if covered is None:  # a different loss, but differentiated numerically everywhere
        return diagnose(g, own.grads, params, batch, float("nan"))
    # Only sampled elements are known: compare there, as flat vectors.
    g_c = {n: g[n].ravel()[mask[n]] for n in names}
    t_c = {n: own.grads[n].ravel()[mask[n]] for n in names}
    return [c for c in diagnose(g_c, t_c, params, batch, float("nan"))
            if c.kind not in ("clip",)]


def _localise(code: Code, problem: Problem
              ) -> tuple[tuple[int, ...], str | None, tuple[str, ...]]:
    """Loss steps t where their dL_t/dtheta differs, from calls on prefixes of the sequence.

    Their gradient on the first m steps minus that on the first m-1 is their
    dL_{m-1}/dtheta; the reference's comes from its (t, k) terms. Skipped (no
    steps named) when their code cannot run on a shorter sequence or its
    prefix losses differ from the model's; the second value then says why. The
    third is the parameters whose share is wrong at the first wrong step (for a
    gated cell: the gate where the error enters, before later steps carry it on).
    """
    params, batch = problem.params, problem.batch
    model = _model(problem)
    ref_steps = model.per_step(params, batch)
    prev = {n: np.zeros_like(p) for n, p in params.items()}
    theirs = {n: np.zeros((batch.seq, *p.shape)) for n, p in params.items()}
    for m in range(1, batch.seq + 1):
        part = dataclasses.replace(batch, inputs=batch.inputs[:m], targets=batch.targets[:m])
        try:
            r = code.call(params, part)
        except Exception as exc:  # noqa: BLE001 - their code may insist on the full length
            return (), (f"not localised in time: {code.loaded.name} failed on the first "
                        f"{plural(m, 'step')} of the sequence ({type(exc).__name__}: {exc})"), ()
        if r.returns_loss and abs(r.loss - model.loss(params, part)) > LOSS_RTOL * max(
                1.0, abs(r.loss)):  # gradients alone: nothing to compare the loss with
            return (), (f"not localised in time: on the first {plural(m, 'step')} its loss differs "
                        "from the model's"), ()
        for n in params:
            theirs[n][m - 1] = r.grads[n] - prev[n]
            prev[n] = r.grads[n]
    bad: set[int] = set()
    for n in params:
        bad.update(disagreeing_steps(theirs[n], ref_steps[n]))
    if not bad:
        return (), None, ()
    first = min(bad)
    entry = tuple(n for n in params if first in disagreeing_steps(theirs[n], ref_steps[n]))
    return tuple(sorted(bad)), None, entry
