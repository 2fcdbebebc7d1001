"""Check the user's code: hygiene, its loss, its gradient against its own loss, a diagnosis.

Called by :func:`bpttcheck.checker.run` when an ``impl`` is given. The user's
function becomes two engines: ``impl`` (what it returns) and ``impl-numeric``
(central differences of the loss it returns, :mod:`bpttcheck.impl.numeric`).
They are compared with :func:`bpttcheck.compare.compare`, the same code every
other pair goes through:

- ``impl`` vs ``impl-numeric`` always: is the gradient that of *its own* loss?
- ``impl`` vs every other engine run (reference, tutorial, numeric) only when
  its loss equals the spec model's (LOSS_RTOL); otherwise it answers a
  different question and the difference is reported, not judged.

**Findings** fail the check (exit 1) even when the numbers agree: the function
changes its arguments in place (weights or ``hprev``), two calls with the same
arguments differ, or it returns NaN or inf. Wrong shapes, wrong return values,
exceptions and time-outs are input errors (ImplError, exit 2).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from ..compare import PairResult, compare, norm_rel_error, tolerance
from ..diagnose import Cause, diagnose, disagreeing_steps, ignored_parameters, per_step
from ..engines import Gradients, Options
from ..engines import reference as reference_engine
from ..model import PARAM_NAMES, Batch, Problem, loss
from ..report import finite, format_steps
from . import numeric
from .adapters import ImplOptions, UserCode, engine_gradients, nonfinite, prepare, same

LOSS_RTOL = 1e-9  # the same loss, summed in another order, agrees to far better than this
SCALE_RTOL = 1e-6  # impl-numeric = c * reference to this (norm-wise): a constant-multiple loss
IMPL_STREAM = 2  # seed word for the sampled elements (checker uses 1 for its own sample)
FORMS = {"globals": "module globals", "method": "instance attributes",
         "explicit": "a params dict argument"}


@dataclasses.dataclass(frozen=True)
class ImplRequest:
    """What to check: ``PATH.py:NAME`` (or ``Class.method``, ``module:NAME``) and how."""

    target: str | Callable[..., Any]  # a string from the CLI; a function from the API
    options: ImplOptions = dataclasses.field(default_factory=ImplOptions)


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
    loss_match: bool
    checked: str  # which elements numerical differentiation of their loss covered
    findings: tuple[str, ...] = ()
    causes: tuple[Cause, ...] = ()
    steps: tuple[int, ...] = ()  # loss steps t whose dL_t/dtheta disagrees
    notes: tuple[str, ...] = ()
    seq: int = 0

    @property
    def passed(self) -> bool:
        return not self.findings

    def lines(self, gradient_ok: bool) -> list[str]:
        """Plain-words summary, a sentence a line (``gradient_ok``: its pairs all passed)."""
        names = ", ".join(self.names)
        head = (f"Your code: {self.label}, weights as {FORMS[self.form]} ({names})"
                + ("; a Python 2 file, read block by block" if self.python2 else "") + ".")
        out = [head]
        if self.loaded:  # empty for a function passed in from Python
            out.append(f"Loaded without running the script: {self.loaded}.")
        if self.loss_match:
            out.append(f"Its loss {self.loss:.10g} equals the spec model's.")
        else:
            diff = self.loss - self.spec_loss
            ratio = self.loss / self.spec_loss if self.spec_loss else float("nan")
            out.append(f"Its loss {self.loss:.10g} differs from the spec model's "
                       f"{self.spec_loss:.10g} by {diff:+.4g} (ratio {ratio:.6g}): a different "
                       "loss is a different question, so its gradient is judged against its "
                       "own loss only.")
        verdict = "is" if gradient_ok else "is NOT"
        out.append(f"Its gradient {verdict} the gradient of its own loss ({self.checked}).")
        out.extend(f"✗ {f}" for f in self.findings)
        out.extend(f"Likely cause: {c.message}." for c in self.causes)
        if self.steps:
            out.append("In time: its per-step gradient dL_t/dθ differs from the reference at "
                       f"loss steps {format_steps(self.steps).replace('k =', 't =')} "
                       f"(of 0..{self.seq - 1}).")
        out.extend(f"Note: {n}." for n in self.notes)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target, "form": self.form, "names": self.names,
            "loaded": self.loaded, "python2": self.python2, "loss": finite(self.loss),
            "spec_loss": finite(self.spec_loss), "loss_match": self.loss_match,
            "checked": self.checked,
            "findings": list(self.findings), "causes": [c.to_dict() for c in self.causes],
            "steps": list(self.steps), "passed": self.passed, "notes": list(self.notes),
        }


def prepare_request(request: ImplRequest, problem: Problem) -> UserCode:
    """Load and wrap the user's code, and call it once, so that a broken target fails fast."""
    sizes = {"hidden": problem.hidden, "vocab": problem.vocab, "seq": problem.batch.seq}
    code = prepare(request.target, request.options, sizes)
    code.call(problem.params, problem.batch)
    return code


def check_impl(code: UserCode, problem: Problem, options: Options,
               results: dict[str, Gradients]) -> tuple[dict[str, Gradients], list[PairResult],
                                                       ImplReport]:
    """Run the user's code as engines ``impl`` and ``impl-numeric`` and compare them."""
    spec, params, batch = problem.spec, problem.params, problem.batch
    first = code.call(params, batch)
    second = code.call(params, batch)
    findings = list(dict.fromkeys(first.findings + second.findings))
    differs = same(first, second)
    if differs:
        findings.append(f"nondeterminism: two calls with the same arguments returned different "
                        f"{', '.join(differs)} (random numbers, or state kept between calls?)")
    findings.extend(f"non-finite: {w}" for w in nonfinite(first))
    impl = engine_gradients(first, options)
    sample = _sample(code.options, options, problem)
    own = numeric.gradients(lambda p, b: code.call(p, b).loss, params, batch, options, sample)
    ref = results.get("reference") or reference_engine.gradients(params, batch, Options())
    spec_loss = ref.loss
    loss_match = abs(first.loss - spec_loss) <= LOSS_RTOL * max(1.0, abs(spec_loss))
    rtol = tolerance(spec, "impl", "impl-numeric")
    comparisons = [compare(n, impl, own, rtol, spec.floor) for n in params]
    if loss_match:
        for e, g in results.items():
            comparisons.extend(compare(n, impl, g, tolerance(spec, "impl", e), spec.floor)
                               for n in params)
    gradient_ok = all(c.passed for c in comparisons)
    causes: list[Cause] = []
    steps: tuple[int, ...] = ()
    notes = list(first.notes)
    if not gradient_ok:
        # A parameter their loss ignores first: the truth-based patterns cannot see it.
        causes = ignored_parameters(first.grads, own.grads, own.covered, own.noise)
        ignored = {p for c in causes for p in c.params}
        causes += [c for c in _diagnose(first.grads, own, ref, problem, loss_match, first.loss)
                   if not set(c.params) <= ignored]
        # Not for clipping (not per step), nor when the cause already names its steps:
        # prefixes move the last step, so a bug at t = T-1 shows at every prefix.
        if loss_match and not (causes and (causes[0].kind == "clip" or causes[0].steps)):
            steps, why_not = _localise(code, problem)
            if why_not is not None:
                notes.append(why_not)
    n = sum(len(i) for i in sample.values()) if sample is not None else problem.n_params
    checked = (f"numerical differentiation of its loss on {n} of {problem.n_params} elements"
               + (f", {max(len(i) for i in sample.values())} sampled per parameter "
                  "(seeded)" if sample is not None else "")
               + ("; the reference BPTT on all of them" if loss_match else ""))
    report = ImplReport(
        target=code.loaded.name, label=code.label, form=code.form, names=dict(code.names),
        loaded=code.loaded.summary(), python2=code.loaded.python2, loss=first.loss,
        spec_loss=spec_loss, loss_match=loss_match, checked=checked, findings=tuple(findings),
        causes=tuple(causes), steps=steps, notes=tuple(notes), seq=batch.seq)
    return {"impl": impl, "impl-numeric": own}, comparisons, report


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
    if loss_match:
        return diagnose(g, ref.grads, params, batch)
    covered = own.covered
    mask = {n: np.zeros(p.size, dtype=bool) for n, p in params.items()}
    for n in params:
        mask[n][covered[n] if covered is not None else slice(None)] = True
    own_c = np.concatenate([own.grads[n].ravel()[mask[n]] for n in PARAM_NAMES])
    ref_c = np.concatenate([ref.grads[n].ravel()[mask[n]] for n in PARAM_NAMES])
    scale = their_loss / ref.loss if ref.loss else 0.0
    if scale and norm_rel_error(own_c, scale * ref_c) <= SCALE_RTOL:
        # Their loss is a constant multiple of the spec's: the truth is known everywhere.
        truth = {n: scale * ref.grads[n] for n in PARAM_NAMES}
        return diagnose(g, truth, params, batch, scale)
    if covered is None:  # a different loss, but differentiated numerically everywhere
        return diagnose(g, own.grads, params, batch, float("nan"))
    # Only sampled elements are known: compare there, as flat vectors.
    g_c = {n: g[n].ravel()[mask[n]] for n in PARAM_NAMES}
    t_c = {n: own.grads[n].ravel()[mask[n]] for n in PARAM_NAMES}
    return [c for c in diagnose(g_c, t_c, params, batch, float("nan"))
            if c.kind not in ("clip",)]


def _localise(code: UserCode, problem: Problem) -> tuple[tuple[int, ...], str | None]:
    """Loss steps t where their dL_t/dtheta differs, from calls on prefixes of the sequence.

    Their gradient on the first m steps minus that on the first m-1 is their
    dL_{m-1}/dtheta; the reference's comes from its (t, k) terms. Skipped (no
    steps named) when their code cannot run on a shorter sequence or its
    prefix losses differ from the model's; the second value then says why.
    """
    params, batch = problem.params, problem.batch
    ref_steps = per_step(params, batch)
    prev = {n: np.zeros_like(p) for n, p in params.items()}
    theirs = {n: np.zeros((batch.seq, *p.shape)) for n, p in params.items()}
    for m in range(1, batch.seq + 1):
        part = Batch(batch.inputs[:m], batch.targets[:m], batch.hprev)
        try:
            r = code.call(params, part)
        except Exception as exc:  # noqa: BLE001 - their code may insist on the full length
            return (), (f"not localised in time: {code.loaded.name} failed on the first {m} "
                        f"step(s) of the sequence ({type(exc).__name__}: {exc})")
        if abs(r.loss - loss(params, part)) > LOSS_RTOL * max(1.0, abs(r.loss)):
            return (), (f"not localised in time: on the first {m} step(s) its loss differs "
                        "from the model's")
        for n in params:
            theirs[n][m - 1] = r.grads[n] - prev[n]
            prev[n] = r.grads[n]
    bad: set[int] = set()
    for n in params:
        bad.update(disagreeing_steps(theirs[n], ref_steps[n]))
    return tuple(sorted(bad)), None
