"""The sentences people read: verdicts, headlines, counts, with their plurals, in one place.

report.py holds the result as data (JSON, npz); renderers lay it out. Every
sentence a person reads about a result is written here, so that its grammar is
tested in one place and no two places word the same finding differently.

The shape of every command's output (table mode) is: details in a calm style,
then a slot for a suggested fix, then one *headline* as the last line: ``✓`` or
``✗`` and the answer in words (:func:`headline`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .findings import Finding

if TYPE_CHECKING:  # types only: prose never imports the modules it describes at run time
    from .compare import Element, PairResult
    from .report import Report

PASS_MARK = "✓"
FAIL_MARK = "✗"
PRECISION_MARK = "≈"  # a cell limited by numerical precision
CLIPPED_MARK = "✂"  # a cell with clipped elements
NOT_COMPARED = "—"  # a cell that was not compared: no number is shown for it

PLEASE_REPORT = ("This is a bug in bpttcheck, not in your code: please report it with the "
                 "command line and the spec.")

# The numerical differentiation methods whose error bar is wide: their agreement is
# approximate, and the words say so (complex step is exact to rounding).
APPROXIMATE_METHODS = ("forward",)

ENGINE_NAMES = {"tutorial": "the tutorial's backward pass",
                "reference": "the explicit sum over k ≤ t",
                "numeric": "numerical differentiation", "impl": "your code",
                "impl-numeric": "numerical differentiation of your loss"}

# Whom to show a wrong engine's disagreement with first: the witness a reader trusts most.
_WITNESS_ORDER = ("reference", "impl-numeric", "numeric", "tutorial")
USER_ENGINES = ("impl", "impl-numeric")
BIASES = ("bh", "by", "bf", "bi", "bc", "bo", "bz", "br", "bn")  # every cell's (H, 1) columns


# ---------------------------------------------------------------- words and numbers

def ended(sentence: str) -> str:
    """``sentence`` with a full stop, unless it already ends as a sentence (``?``, ``.``)."""
    return sentence if sentence.rstrip().endswith((".", "?", "!")) else f"{sentence}."


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 element``, ``2 elements``; ``many`` for irregular plurals (``2 entries``)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def join_names(names: list[str] | tuple[str, ...]) -> str:
    """``Wxh``, ``Wxh and Whh``, ``Wxh, Whh and bh``."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def sci(x: float) -> str:
    """``1.2e-13``: how every report prints an error or a norm."""
    return f"{x:.1e}" if math.isfinite(x) else "inf"


def duration(seconds: float, approx: bool = True) -> str:
    """``about 45 seconds``, ``about 1 hour``, ``about 3 hours``: never ``1 hours``.
    ``approx=False`` drops the ``about`` (for a limit, which is exact)."""
    about = "about " if approx else ""
    for unit, size in (("day", 86400.0), ("hour", 3600.0), ("minute", 60.0)):
        if seconds >= size:
            return about + plural(round(seconds / size), unit)
    return about + plural(max(1, round(seconds)), "second")


def distinct(a: float, b: float, least: int = 4) -> tuple[str, str]:
    """``a`` and ``b`` with just enough significant digits to tell them apart (at least
    ``least``, at most 17, which round-trips any float64)."""
    for digits in range(least, 18):
        sa, sb = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if sa != sb:
            return sa, sb
    return repr(a), repr(b)


def format_index(parameter: str, index: tuple[int, ...]) -> str:
    """``Whh[3, 7]``; biases, which are columns, as ``bh[3]``."""
    if parameter in BIASES and len(index) == 2 and index[1] == 0:
        index = index[:1]
    return f"{parameter}[{', '.join(str(i) for i in index)}]"


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


def engine_name(engine: str) -> str:
    return ENGINE_NAMES.get(engine, engine)


def warning_notes(caught: list[Any]) -> list[str]:
    """Captured warnings as report notes: the message and how often it came, never the
    line of source that raised it (NumPy's RuntimeWarnings quote bpttcheck's own code)."""
    counts: dict[str, int] = {}
    for w in caught:
        text = " ".join(str(w.message).split())
        counts[text] = counts.get(text, 0) + 1
    return [f"warning during the check: {text}" + (f" ({plural(n, 'time')})" if n > 1 else "")
            for text, n in counts.items()]


# ---------------------------------------------------------------- one comparison

def describe_failure(c: PairResult) -> str:
    """One line naming the parameter, the worst element, both values, the steps."""
    w = c.worst
    where = format_index(c.parameter, w.index) if w else c.parameter
    if c.nonfinite:
        head = f"{c.parameter} {c.pair}: {plural(c.nonfinite, 'non-finite value')}"
    else:
        verb = "differs" if c.failed == 1 else "differ"
        head = f"{c.parameter} {c.pair}: {c.failed} of {plural(c.compared, 'element')} {verb}"
    line = head
    if w:
        va, vb = distinct(w.a, w.b)
        line += (f"; worst {where}: {c.a} {va}, {c.b} {vb} "
                 f"(rel. error {sci(w.rel_error)} > {c.rtol:.0e})")
    if c.steps:
        line += f"; contributions differ at time steps {format_steps(c.steps)}"
    return line


def not_compared_reason(report: Report, c: PairResult) -> str:
    """Why a pair of engines has no number for a parameter."""
    screen = report.directions
    if screen is not None and c.parameter in screen.screened:
        return (f"screened only by {plural(screen.k, 'random projection')} (--directions), "
                "which agreed; not differentiated element by element")
    return "no element was computed by both engines"


# ---------------------------------------------------------------- the whole report

def coverage(report: Report) -> str:
    """Which elements numerical differentiation checked, in words."""
    n = report.problem.n_params
    screen = report.directions
    checked = sum(c.compared for c in report.comparisons if c.b == "numeric"
                  and c.a == report.engines[0])
    if "numeric" not in report.results or (report.sample is None and screen is None
                                           and checked == n):
        return f"all {plural(n, 'element')}"
    text = f"{checked} of {plural(n, 'element')}"
    if report.sample is not None:
        text += f" ({report.sample} sampled per parameter)"
    if screen is not None:  # directions: say which parameters were checked how
        parts = []
        if screen.screened:
            parts.append(f"{plural(screen.k, 'random projection')} per parameter for "
                         f"{join_names(screen.screened)}")
        if screen.drilled:
            noun = "its projections" if len(screen.drilled) == 1 else "their projections"
            parts.append(f"{join_names(screen.drilled)} element by element, {text} "
                         f"({noun} disagreed)")
        text = "; ".join(parts)
    return text


def approximate(report: Report) -> bool:
    """Whether numerical differentiation here is a low-accuracy method, or some element
    was judged only within its error bar: then agreement with it is approximate."""
    numeric = report.results.get("numeric")
    if numeric is None:
        return False
    limited = any(c.precision_limited for c in report.comparisons  # the built-in pairs only:
                  if "numeric" in (c.a, c.b) and not {c.a, c.b} & set(USER_ENGINES))
    return numeric.method in APPROXIMATE_METHODS or limited


def notes(report: Report) -> list[str]:
    out = [note for g in report.results.values() for note in g.notes]
    limited = sum(c.precision_limited for c in report.comparisons)
    if limited:
        verb = "differs" if limited == 1 else "differ"
        bars = ("the engines' own error bars (numerical differentiation's, or the rounding "
                "of --impl code in float32)" if report.impl is not None
                else "numerical differentiation's own error bar")
        out.append(f"{plural(limited, 'element comparison')} {verb} by more than the tolerance "
                   f"but within {bars}: limited by numerical "
                   f"precision (marked {PRECISION_MARK}), not counted as failures")
        numeric = report.results.get("numeric")
        if numeric is not None and numeric.method not in (None, "complex", "difference",
                                                           "complex-literal"):
            out.append(f"the {numeric.method} method's error bar is wide; --method complex "
                       "differentiates to rounding level")
    if report.directions is not None and report.directions.screened:
        screen = report.directions
        out.append(f"{join_names(screen.screened)}: checked only by "
                   f"{plural(screen.k, 'random projection')} each (--directions), not "
                   f"element by element (shown as {NOT_COMPARED})")
    out.extend(report.warnings)
    return out


def _witness_rank(c: PairResult, wrong: str) -> int:
    """Where the other engine of ``c`` (not ``wrong``) stands in _WITNESS_ORDER."""
    other = c.b if c.a == wrong else c.a
    return _WITNESS_ORDER.index(other) if other in _WITNESS_ORDER else len(_WITNESS_ORDER)


def _confirm(report: Report, engine: str) -> str:
    """Numerical differentiation's word on one analytic engine, worded by its accuracy."""
    elements = any(c.compared for c in report.comparisons if (c.a, c.b) == (engine, "numeric"))
    normwise = (f" ({sci(report.worst_norm(engine, 'numeric'))} norm-wise)" if elements else "")
    numeric = report.results["numeric"]
    if approximate(report):
        return (f"Numerical differentiation ({numeric.method}) is consistent with "
                f"{engine_name(engine)} only approximately, within its own error bar: largest "
                f"relative error {sci(report.worst(engine, 'numeric'))}{normwise} on "
                f"{coverage(report)}.")
    return (f"Numerical differentiation confirms {engine_name(engine)} to "
            f"{sci(report.worst(engine, 'numeric'))}{normwise} on {coverage(report)}.")


def _builtin_summary(report: Report) -> str:
    """With --impl: the built-in engines' confirmation, in one line."""
    ours = [e for e in report.engines if e not in USER_ENGINES]
    pairs = [(a, b) for a, b in report.pairs if a in ours and b in ours]
    if not pairs:
        return ""
    worst = max(report.worst(a, b) for a, b in pairs)
    ok = all(c.passed for c in report.comparisons if c.a in ours and c.b in ours)
    word = "agree" if ok else "DISAGREE"
    how = " (approximately: within numerical differentiation's error bar)" \
        if approximate(report) else ""
    return (f"The built-in engines ({join_names(ours)}) {word} with each other: largest "
            f"relative error {sci(worst)}{how}.")


def verdict(report: Report) -> list[str]:
    """The details of the answer in plain words, a sentence a line (the headline aside)."""
    lines: list[str] = []
    every = report  # the clipping sentence counts every pair, the user's included
    if report.impl is not None:  # the user's code first: it is what they asked about
        lines.extend(impl_lines(report.impl))  # its verdict names the comparisons it made
    engines = report.engines
    ours_ok = all(c.passed for c in report.comparisons
                  if not {c.a, c.b} & set(USER_ENGINES))
    if report.impl is not None and not ours_ok:
        # The sentences below are then about bpttcheck's own engines only.
        report = dataclasses.replace(report, impl=None, results={
            e: g for e, g in report.results.items() if e not in USER_ENGINES},
            comparisons=tuple(c for c in report.comparisons
                              if not {c.a, c.b} & set(USER_ENGINES)))
        engines = report.engines
    if report.impl is not None and ours_ok:
        bad = [c for c in report.comparisons if not c.passed]
        for n in report.problem.params:  # one line per parameter, against the best witness
            mine = [c for c in bad if c.parameter == n]
            if mine:
                lines.append(describe_failure(min(mine, key=lambda c: _witness_rank(c, "impl"))))
        summary = _builtin_summary(report)
        if summary:
            lines.append(summary)
    elif report.passed:
        analytic = [e for e in engines if e not in ("numeric", *USER_ENGINES)]
        if "tutorial" in engines and "reference" in engines:
            elementwise = sci(report.worst("tutorial", "reference"))
            normwise = sci(report.worst_norm("tutorial", "reference"))
            carried = ("dhnext and dcnext recursion" if report.problem.cell == "lstm"
                       else "dhnext recursion")
            lines.append(
                f"The tutorial's {carried} computes exactly the lecture's sum over all "
                f"k ≤ t: it matches the explicit double loop to {elementwise} (largest "
                f"elementwise relative error; {normwise} norm-wise)."
            )
        if "numeric" in engines:
            lines.extend(_confirm(report, e) for e in analytic)
    else:
        bad = [c for c in report.comparisons if not c.passed]
        params = [n for n in report.problem.params if any(c.parameter == n for c in bad)]
        culprits = {n: report.odd_one_out(n) for n in params}
        blamed = sorted({e for e in culprits.values() if e is not None})
        if len(blamed) == 1 and all(culprits.values()):
            e = blamed[0]
            others = join_names([engine_name(o) for o in report.engines if o != e])
            lines.append(f"{engine_name(e)[0].upper()}{engine_name(e)[1:]} is wrong in "
                         f"{join_names(params)}: it disagrees with {others}, which agree with "
                         "each other.")
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
            lines.append(f"The gradients disagree on {join_names(params)} "
                         f"({'; '.join(pairs)}).")
            lines.extend(describe_failure(c) for c in bad)
    lines.extend(_clipping(every))
    return lines


def _clipping(report: Report) -> list[str]:
    clip = report.spec.clip
    if clip is None:
        return []
    clipped = [c for c in report.comparisons if c.clipped]
    if not clipped:
        return [f"Clipping to ±{clip:g} changed no element for this spec."]
    seen: dict[str, PairResult] = {}
    for c in clipped:
        seen.setdefault(c.parameter, c)
    parts = []
    for name, c in seen.items():
        shown = ", ".join(f"{format_index(name, e.index)} ({_clip_pair(e, clip)})"
                          for e in c.clipped_elements[:3])
        more = f" and {c.clipped - 3} more" if c.clipped > 3 else ""
        parts.append(f"{c.clipped} in {name}: {shown}{more}")
    return [f"Clipping to ±{clip:g} changed " + "; ".join(parts) +
            f". Those elements are marked clipped ({CLIPPED_MARK}) and not counted as failures."]


def _clip_pair(e: Element, clip: float) -> str:
    true = e.b if abs(e.a) == clip else e.a
    return f"{true:.4g} → {math.copysign(clip, true):g}"


def headline(report: Report) -> str:
    """The answer in one line, with ✓ or ✗: the last line a person reads."""
    if report.impl is not None:
        return _impl_headline(report)
    if report.passed:
        engines = [e for e in report.engines if e not in USER_ENGINES]
        pairs = [(a, b) for a, b in report.pairs]
        worst = max((report.worst(a, b) for a, b in pairs), default=0.0)
        how = ("agree approximately (within numerical differentiation's error bar)"
               if approximate(report) else "agree")
        return (f"{PASS_MARK} {join_names(engines)} {how} on {coverage(report)} "
                f"(largest relative error {sci(worst)})")
    bad = [c for c in report.comparisons if not c.passed]
    params = [n for n in report.problem.params if any(c.parameter == n for c in bad)]
    culprits = {n: report.odd_one_out(n) for n in params}
    blamed = sorted({e for e in culprits.values() if e is not None})
    if len(blamed) == 1 and all(culprits.values()):
        return f"{FAIL_MARK} {engine_name(blamed[0])} is wrong in {join_names(params)}"
    return f"{FAIL_MARK} the gradients disagree on {join_names(params)}"


def _impl_headline(report: Report) -> str:
    impl = report.impl
    label = impl.label
    mine = [c for c in report.comparisons if "impl" in (c.a, c.b)]
    # The gradient is wrong where it fails against the declared loss's gradient at any point
    # (or, with --impl-loss own, against its own loss's); a wrong loss alone is a finding.
    every = [c for p in getattr(impl, "points", ()) for c in p.comparisons] or mine
    truth = [c for c in every if {c.a, c.b} & {"tutorial", "reference", "numeric"}]
    judged = truth or [c for c in every if "impl-numeric" in (c.a, c.b)]
    wrong = [n for n in report.problem.params
             if any(c.parameter == n and not c.passed for c in judged)]
    cause = f"; likely cause: {impl.causes[0].message}" if impl.causes else ""
    no_loss = not getattr(impl, "returns_loss", True)  # gradients only: nothing about a loss
    if (not cause and not impl.loss_match and not no_loss
            and impl.relation.kind not in ("equal", "unrelated")):
        cause = f"; the loss it returns is {impl.relation.text}"  # the forward is the cause
    if report.passed:
        against = [c for c in mine if {c.a, c.b} == {"impl", "reference"}] or \
            [c for c in mine if {c.a, c.b} & {"tutorial", "reference", "numeric"}] or mine
        # Each element once, however many truths it was compared with (numeric: two).
        elements = sum(max(c.compared for c in against if c.parameter == n)
                       for n in dict.fromkeys(c.parameter for c in against))
        worst = max((c.max_rel_error for c in against), default=0.0)
        what = ("this RNN's gradient" if impl.loss_match or no_loss
                else "the gradient of its own loss (which is not this RNN's loss)")
        complete = elements >= report.problem.n_params
        return (f"{PASS_MARK} {label} computes {what} "
                f"({'all ' if complete else ''}{plural(elements, 'element')}"
                f"{'' if complete else ' sampled: --impl-sample 0 checks all'}, "
                f"≤ {sci(worst)})")
    if wrong:
        theirs = {o: t for t, o in impl.names.items()}  # ours -> the name in their code
        named = [n if theirs.get(n, n) == n else f"{n} (your {theirs[n]})" for n in wrong]
        return f"{FAIL_MARK} {label} is wrong in {join_names(named)}{cause}"
    if impl.findings:
        return f"{FAIL_MARK} {label} is wrong: {impl.findings[0]}{cause}"
    return f"{FAIL_MARK} {label} passes, but the built-in engines disagree: {headline_ours(report)}"


def headline_ours(report: Report) -> str:
    bad = [c for c in report.comparisons if not c.passed and not {c.a, c.b} & set(USER_ENGINES)]
    return join_names(sorted({c.pair for c in bad}))


def quiet_lines(report: Report) -> list[str]:
    """What --quiet prints on failure: what failed, the likely cause, the headline."""
    lines = [describe_failure(c) for c in report.comparisons if not c.passed]
    if report.impl is not None:
        lines.extend(report.impl.findings)
        lines.extend(f"likely cause: {c.message}" for c in report.impl.causes)
    return [*lines, headline(report)]


# ---------------------------------------------------------------- other commands

def explain_headline(ex: Any) -> str:
    """``explain``: whether both groupings of the double sum reproduce the gradient."""
    name = f"d{ex.parameter}"
    worst = max(a.rel_error for a in (ex.rows_vs_gradient, ex.columns_vs_gradient,
                                      ex.columns_vs_steps, ex.tutorial_vs_exact))
    if ex.passed:
        return (f"{PASS_MARK} the row sums (lecture) and the column sums (tutorial) both add "
                f"up to {name} (largest relative error {sci(worst)})")
    return (f"{FAIL_MARK} the regrouped sums do not reproduce {name} within "
            f"{ex.spec.rtol_analytic:.0e} (largest relative error {sci(worst)}): an engine is "
            "wrong")


def selftest_headline(result: Any) -> str:
    mark = PASS_MARK if result.passed else FAIL_MARK
    word = "every case as intended" if result.passed else "NOT every case as intended"
    return f"{mark} selftest: {word}: {result.summary()}"


# -- User code (--impl): the verdict on a person's own loss and gradient ----------------------
# Every sentence below names only what was measured: the loss, the gradient, the points at
# which they were compared, and what the loss was compared with.

def impl_declared(what: str, flag: str | None) -> str:
    """``the model's summed loss`` or ``the loss you declared with --impl-loss mean=T (...)``."""
    return what if flag is None else f"the loss you declared with --impl-loss {flag} ({what})"


def impl_pass(declared: str, points: str) -> str:
    return f"Yes: its loss and its gradient are those of {declared}, at {points}."


def impl_pass_own(points: str, relation: str) -> str:
    return (f"Yes: its gradient is the gradient of its own loss (--impl-loss own), at {points}; "
            f"that loss is {relation}.")


def impl_fail(part: str, declared: str) -> str:
    """The first line of a failing verdict: which part is wrong (loss, gradient or both)."""
    if part == "loss":
        return f"No: the loss it returns is not {declared}."
    if part == "gradient":
        return f"No: the gradient it returns is not the gradient of {declared}."
    return f"No: neither the loss it returns nor its gradient is that of {declared}."


def impl_fail_other(kinds: list[str]) -> str:
    """Loss and gradient agree, yet the check fails: say what did, not "Yes"."""
    return (f"No: its loss and gradient agree where compared, but the check fails on "
            f"{join_names(kinds)} (below).")


def impl_fail_constant() -> str:
    return "No: the loss it returns is a constant, so there is nothing to differentiate."


def impl_loss_only(gradient_of: str, relation: str) -> Finding:
    """The model's gradient with a wrong loss, e.g. a mean loss with the summed gradient."""
    return Finding("loss", f"your gradient is {gradient_of}'s; the loss you return is "
                   f"{relation}. They disagree with each other, so one of them is wrong")


def impl_gradient_only(declared: str) -> Finding:
    return Finding("gradient",
                   f"your loss is {declared}, but the gradient you return is not its gradient")


def impl_both(relation: str, own_ok: bool | None, hint: str | None) -> Finding:
    own = ("your gradient is the gradient of that loss" if own_ok else
           "and your gradient is not even the gradient of that loss" if own_ok is False else
           "whether your gradient is that loss's was not measured (see the notes)")
    text = f"the loss you return is {relation}; {own}"
    return Finding("loss and gradient", text + (
        f" (if that loss is intended, declare it: --impl-loss {hint})" if hint else ""))


def impl_own_fail() -> Finding:
    return Finding("gradient", "the gradient you return is not the gradient of your own loss")


def impl_constant(value: float) -> Finding:
    return Finding("loss", f"your loss is a constant ({value:.10g} at every point checked): "
                   "it depends on no weight, so no gradient can be checked against it")


def impl_ignores(name: str) -> Finding:
    return Finding("loss", f"your loss does not depend on {name}, but the d{name} you return "
                   f"is not zero: is {name} missing from your forward pass?")


def impl_hlast(point: str, detail: str) -> Finding:
    return Finding("hlast", f"at {point} the hidden state you return {detail}")


def impl_dhprev(point: str, detail: str) -> Finding:
    return Finding("dhprev", f"at {point} the gradient with respect to hprev you return {detail}")


def impl_unchecked_keys(keys: list[str]) -> str:
    return (f"returned keys bpttcheck does not know how to check: {join_names(keys)} (only "
            "the five gradients, hlast and dhprev are compared)")


def impl_clip_unreached(line: int, bound: float, largest: float) -> str:
    return (f"the clip at line {line} (±{bound:g}) never acted at the check's points: no "
            f"returned gradient element reached it (the largest was {largest:.2g}), so its "
            "bound is not tested; a larger --init-scale makes the gradients larger")


def impl_clip_hint(bound: float) -> str:
    return (f"if clipping at ±{bound:g} is intended, --clip {bound:g} accepts it (clipped "
            "elements are then compared with the clipped true gradient)")


def impl_precision(precision: str, measured: str, worst: float) -> str:
    return (f"your code computes in {precision} ({measured}): it is judged against the "
            "float64 model with per-element error bars measured by running the model's own "
            f"backward pass in that precision (16x its rounding error, plus 8 ulps); the "
            f"widest bar is {worst:.1e} of the parameter's largest gradient")


def impl_precision_own(step: float) -> str:
    return (f"its own loss is differentiated with a step of {step:.1e} (about eps^(1/3) for "
            "its precision, not float64's 1e-5), with the error bar widened to match")


def impl_precision_own_skipped(dtype: str) -> str:
    return (f"its own loss is not differentiated numerically: in {dtype} a finite difference "
            "resolves a gradient only to about eps^(2/3) of |L| / |theta| at its best step, "
            "and not at all where the loss is chaotic; the model's float64 gradient, at both "
            "points, is the truth it is judged against")


def impl_unresolved(dtype: str, names: list[str], own: bool = False) -> Finding:
    what = (f"numerical differentiation of your {dtype} loss cannot resolve the gradient of "
            f"{join_names(names)} to 10% of its scale" if own else
            f"{dtype} rounding alone changes the gradient of {join_names(names)} by more "
            "than 10% of its scale")
    return Finding("precision", f"at this spec {what}, so a backward pass in {dtype} cannot "
                   "be verified here (this is not a bug found in your code); use a smaller "
                   "--init-scale or --seq")


def impl_certified(n: int) -> str:
    """Own-loss finite differences that broke down, vouched for by the model's loss."""
    return (f"{plural(n, 'element')} of the numerical differentiation of your loss disagreed "
            "with your gradient beyond the method's error bar, but the same differences of the "
            "declared loss, at the same points, gave the same values: your loss moves exactly "
            "as the declared one there, so these are limits of finite differences (a chaotic or "
            "saturated network), counted as limited by precision, not as failures")


IMPL_FORMS = {"globals": "module globals", "method": "instance attributes",
              "explicit": "a params dict argument", "arguments": "arguments bound by name"}


def impl_lines(impl: Any) -> list[str]:
    """What was found about the user's code (an ``ImplReport``), a sentence a line."""
    names = ", ".join(impl.names)
    head = (f"Your code: {impl.label}, weights as {IMPL_FORMS.get(impl.form, impl.form)} "
            f"({names})" + ("; a Python 2 file, read block by block" if impl.python2 else "")
            + ".")
    out = [impl.verdict, head] if impl.verdict else [head]
    if impl.loaded:  # empty for a function passed in from Python
        out.append(f"Loaded without running the script: {impl.loaded}.")
    out.append(f"Checked: {impl.checked}.")
    out.extend(f"{FAIL_MARK} {f}" for f in impl.findings)
    out.extend(impl.failures)
    out.extend(f"Likely cause: {ended(c.message)}" for c in impl.causes)
    if impl.steps:
        out.append("In time: its per-step gradient dL_t/dθ differs from the reference at "
                   f"loss steps {format_steps(impl.steps).replace('k =', 't =')} "
                   f"(of 0..{impl.seq - 1}).")
    out.extend(f"Note: {n}." for n in impl.notes)
    return out


def not_localised_memory(need: int, limit: int) -> str:
    """A failing pair whose time steps were not named: the per-step record would not fit."""
    return (f"the disagreeing time steps are not named: recording every step's contribution "
            f"would need about {need / 2**20:,.0f} MB, more than --max-memory "
            f"{limit / 2**20:g} MB (raise it to have them named)")


def impl_loss_precision(dtype: str, measured: float) -> str:
    """A loss rounded to float32 that comes with float64 gradients."""
    return (f"the loss you return resolves only relative changes of {measured:.0e} (about "
            f"{dtype}), but your gradients are float64 arrays: the loss is compared with "
            f"{dtype} tolerance, the gradients as float64 (if your backward pass really "
            f"computes in {dtype}, return {dtype} arrays)")


def impl_no_cause_nondeterministic() -> str:
    return ("no likely cause is named: two calls with the same arguments returned different "
            "gradients, so the difference measured from one call says nothing certain")


# ---------------------------------------------------------------- check_function

def function_no_complex() -> str:
    return ("the loss does not accept complex input (or drops its imaginary part: abs, float, "
            "comparisons), so it is differentiated by central differences, with error bars")


def function_headline(report: Any) -> str:
    """The answer of :func:`bpttcheck.check_function` in one line."""
    label = report.label
    screen = report.screen
    if report.passed:
        if not report.comparisons:
            return (f"{PASS_MARK} {label} passes the adjoint screen in "
                    f"{plural(len(screen.yours), 'random direction')} (elements not compared)")
        elements = sum(c.compared for c in report.comparisons)
        worst = max(c.max_rel_error for c in report.comparisons)
        return (f"{PASS_MARK} {label} is the gradient of the loss (all "
                f"{plural(elements, 'element')}, ≤ {sci(worst)})")
    cause = f"; likely cause: {report.causes[0].message}" if report.causes else ""
    if report.wrong:
        return f"{FAIL_MARK} {label} is wrong in {join_names(list(report.wrong))}{cause}"
    return f"{FAIL_MARK} {label} fails the adjoint screen <grad, v> = J v{cause}"


def function_lines(report: Any) -> list[str]:
    """The details of :func:`bpttcheck.check_function`'s answer, the headline last."""
    out = []
    screen = report.screen
    if screen is not None:
        worst = max(screen.rel_errors, default=0.0)
        how = ("complex step" if screen.method == "complex"
               else "central differences")
        mark = PASS_MARK if screen.passed else FAIL_MARK
        out.append(f"{mark} adjoint screen: <grad, v> against J v ({how}) in "
                   f"{plural(len(screen.yours), 'random direction')}, largest relative "
                   f"error {sci(worst)}")
    if report.comparisons:
        out.append(f"Numerical differentiation: {report.method}, {report.step}.")
    out.extend(describe_failure(c) for c in report.comparisons if not c.passed)
    out.extend(f"Likely cause: {ended(c.message)}" for c in report.causes)
    out.extend(f"Note: {n}." for n in report.notes)
    out.append(function_headline(report))
    return out


# ---------------------------------------------------------------- layer functions

def layer_forward_differs(state: str, index: tuple[int, ...], t: int, count: int, size: int,
                          theirs: float, ours: float,
                          equation: str = "h_t = tanh(W_xh x_t + W_hh h_(t-1) + b)") -> str:
    return (f"the forward pass differs from {equation}: "
            f"{count} of {size} entries of {state}, worst {format_index(state, index)} (step "
            f"t = {t}): yours {theirs:.6g}, the layer's {ours:.6g}")


def _layer_worst(report: Any) -> str:
    """The worst failing element, theirs and ours, and the loss steps it is wrong at."""
    bad = [c for c in (*report.function.comparisons, *report.reference) if not c.passed]
    if not bad:
        return ""
    c = max(bad, key=lambda c: c.max_rel_error)
    if c.worst is None:
        return ""
    steps = report.steps.get(c.parameter, ())
    at = f" at loss steps {format_steps(steps).replace('k =', 't =')}" if steps else ""
    gate = report.place(c.parameter, c.worst.index).gate  # i14-layers: a gated layer's gate
    return (f"; worst d{format_index(c.parameter, c.worst.index)} ("
            f"{f'gate {gate}, ' if gate else ''}our "
            f"d{report.ours(c.parameter, c.worst.index)}){at}")


def layer_headline(report: Any) -> str:
    label = report.label
    if report.passed:
        compared = report.reference or report.function.comparisons
        elements = sum(c.compared for c in compared)
        worst = max((c.max_rel_error for c in (*report.function.comparisons,
                                               *report.reference)), default=0.0)
        return (f"{PASS_MARK} {label} is the gradient of <G, {report.style.state_name}> "
                f"(all {plural(elements, 'element')}, ≤ {sci(worst)})")
    wrong = list(report.wrong)
    causes = report.function.causes
    cause = f"; likely cause: {causes[0].message}" if causes else ""
    if report.findings:  # a wrong forward pass first: every gradient is judged through it
        also = f"; also wrong: {join_names([f'd{n}' for n in wrong])}" if wrong else ""
        return f"{FAIL_MARK} {label}: {report.findings[0]}{also}"
    if wrong:
        names = join_names([f"d{n}" for n in wrong])
        gates = gated_wrong_gates(report)  # i14-layers
        return f"{FAIL_MARK} {label} is wrong in {names}{_layer_worst(report)}{gates}{cause}"
    if report.findings:
        return f"{FAIL_MARK} {label}: {report.findings[0]}"
    return f"{FAIL_MARK} the reference and numerical differentiation disagree: {PLEASE_REPORT}"


def layer_lines(report: Any) -> list[str]:
    s = report.sizes
    out = [f"Your layer: {report.label}, {report.style.describe}.",
           f"Checked with L = <G, {report.style.state_name}> for a seeded random upstream "
           f"gradient G, dense inputs N = {s['N']}, T = {s['T']}, D = {s['D']}, H = {s['H']}; "
           "against numerical differentiation through your forward and the explicit sum over "
           "k ≤ t."]
    out.append(f"Names: {report.style.names_text}.")
    failing = {describe_failure(c): c for c in report.function.comparisons if not c.passed}
    out.extend(gated_failure(report, failing[line]) if line in failing else line
               for line in function_lines(report.function)[:-1])
    numeric = sum(c.compared for c in report.function.comparisons)
    every = sum(c.compared for c in report.reference)
    if report.function.comparisons and numeric < every:
        out.append(f"Numerical differentiation checked {numeric} of {plural(every, 'element')} "
                   "(--impl-sample K per parameter; 0 for all); the explicit sum, all of them.")
    out.extend(gated_failure(report, c) for c in (*report.reference, *report.witness)
               if not c.passed)
    for name, steps in report.steps.items():
        out.append(f"In time: d{name} is wrong for the loss at steps "
                   f"{format_steps(steps).replace('k =', 't =')} (of 0..{s['T'] - 1}).")
    out.extend(gated_gate_lines(report))  # i14-layers
    out.extend(f"{FAIL_MARK} {f}" for f in report.findings)
    out.append(layer_headline(report))
    return out


# -- the fix search (bpttcheck.fix) -----------------------------------------------------

def line_ranges(lines: Sequence[int]) -> str:
    """``[3, 4, 5, 9]`` -> ``3-5, 9``."""
    out: list[str] = []
    for n in sorted(set(lines)):
        if out and out[-1].split("-")[-1] == str(n - 1):
            out[-1] = f"{out[-1].split('-')[0]}-{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


def fix_found(elements: int, max_rel: float, specs: int, edits: int,
              beside: str = "loss") -> str:
    """``beside``: what was verified beside the gradient ("loss", "forward", or "" for a
    function that returns its gradients alone)."""
    what = "this edit" if edits == 1 else f"these {edits} edits"
    also = {"loss": "its loss and ", "forward": "its forward pass and "}.get(beside, "")
    return (f"Fix found (verified: with {what} your function passes the whole --impl check, "
            f"{also}all {elements} gradient elements, max rel {sci(max_rel)}, at "
            f"{plural(specs, 'independent point')}):")


def fix_partial(fixed: Sequence[str], remaining: Sequence[str], specs: int) -> str:
    names = join_names([f"d{n}" if n != "loss" else "the loss" for n in remaining])
    made = join_names([f"d{n}" for n in fixed]) if fixed else "the loss"
    verb = "is" if len(remaining) == 1 else "are"
    return (f"Partial fix (verified at {plural(specs, 'independent point')}: it makes {made} "
            f"exact and no parameter worse); with this edit only {names} {verb} still wrong:")


def fix_none(tried: int, generated: int, lines: str, seconds: float, rejected: int = 0,
             pairs: int = 0) -> str:
    """``lines``: the lines searched, as the user counts them (``lines 3-9``); ``rejected``:
    edits that passed the screen at both points (what it compares: the loss, when the code
    returns one, and every gradient element) but failed the whole --impl check (a returned
    state, say); ``pairs``: pairs of edits tried after them."""
    where = f" over {lines}" if lines else ""
    both = f" and {plural(pairs, 'pair')} of them" if pairs else ""
    refused = (f" ({plural(rejected, 'edit')} passed the screen at both points but failed the "
               "whole check)" if rejected else "")
    return (f"No verified one-line fix: tried {tried} of {plural(generated, 'candidate edit')}"
            f"{where}{both} in {seconds:.1f} s{refused}; the likely cause above is what was "
            "measured")


def fix_unrunnable(budget: float) -> str:
    return (f"your unedited file, copied, did not run within the {budget:g} s of "
            "--fix-budget")


def fix_nothing_wrong() -> str:
    return ("its loss and gradient agree with the reference at both points; what is wrong "
            "(above) is not something a one-line edit of the gradient is searched for")


def fix_skipped(why: str) -> str:
    return f"No fix searched: {why}"


def fix_failed(error: str) -> str:
    """The fix search stopped on a defect of its own (the check's verdict stands)."""
    return (f"No fix: the search stopped on an internal error ({error}); the verdict above "
            "is unaffected; please report it (BPTTCHECK_DEBUG=1 shows the traceback)")


def fix_written(path: str, remaining: Sequence[str] = ()) -> str:
    """``remaining``: what a partial fix leaves wrong (the copy is still wrong there)."""
    if remaining:
        names = join_names([f"d{n}" if n != "loss" else "the loss" for n in remaining])
        return (f"Patched copy written to {path} (your file is unchanged); it holds the "
                f"partial fix only, so {names} {'is' if len(remaining) == 1 else 'are'} "
                "still wrong there.")
    return f"Patched copy written to {path} (your file is unchanged)."


# --- i14-scripts: gated cells' --impl (bpttcheck.impl.check, bpttcheck.diagnose_gated) ---
def impl_clast(point: str, detail: str) -> Finding:
    return Finding("clast", f"at {point} the cell state you return {detail}")


# ---------------------------------------------------------------- i14-layers: gated layers

def layer_extra_keys(keys: Sequence[str]) -> str:
    return (f"its backward also returns {join_names(list(keys))}, which the check does not "
            "use (c0 = 0 is not an input of the layer)")


def layer_left_out(grads: Sequence[str], arrays: Sequence[str]) -> str:
    return (f"its backward does not return {join_names(list(grads))}: "
            f"{join_names(list(arrays))} {'is' if len(arrays) == 1 else 'are'} held fixed and "
            "not checked")


def layer_gate_order(order: Sequence[str], usual: Sequence[str], cell: str = "lstm") -> str:
    whose = "cs231n's" if cell == "lstm" else "the usual"
    return (f"your forward reads the stacked gates in the order {', '.join(order)} ({whose} "
            f"is {', '.join(usual)}): your arrays are checked in your order")


def layer_row_order(rows: str, usual: str) -> str:
    """A stacked matrix read with its row blocks in another order than the style's
    (``rows``, ``usual``: what the blocks meet, ``[1, x_t, h_(t-1)]``)."""
    return (f"your forward applies the stacked matrix to {rows} (the usual is {usual}): "
            "your arrays are checked in your order")


def gated_wrong_gates(report: Any) -> str:
    """``; gate f (forget) wrong first, at loss step 0, then i, g (from step 1)`` for a
    gated layer's headline ("" otherwise): the gates wrong at the first wrong loss step
    are where the error starts; the others may only receive it, carried back."""
    wrong = [g for g in report.gates if g.wrong]
    if not wrong:
        return ""
    timed = [g for g in wrong if g.steps]
    if not timed:
        return "; " + ("gate" if len(wrong) == 1 else "gates") + " wrong: " + ", ".join(
            f"{g.gate} ({g.label})" for g in wrong)
    first = min(g.steps[0] for g in timed)
    lead = [g for g in timed if g.steps[0] == first]
    rest = [g for g in wrong if g not in lead]
    names = join_names([f"{g.gate} ({g.label})" for g in lead])
    out = f"; {'gate' if len(lead) == 1 else 'gates'} {names} wrong first, at loss step {first}"
    if rest:
        later = min((g.steps[0] for g in rest if g.steps), default=first)
        out += f", then {join_names([g.gate for g in rest])} (from step {later})"
    return out


def gated_gate_lines(report: Any) -> list[str]:
    """One line per gate of a gated layer: right, or wrong in which parameters and when."""
    out = []
    T = report.sizes["T"]
    for g in report.gates:
        ours = join_names(list(g.params))
        if not g.wrong:
            out.append(f"Gate {g.gate} ({g.label}; our {ours}): right.")
            continue
        when = ""
        if g.steps:
            when = (f", for the loss at steps {format_steps(g.steps).replace('k =', 't =')} "
                    f"(of 0..{T - 1}; first {g.steps[0]}, last {g.steps[-1]})")
        also = f" (our {g.worst_ours})" if g.worst_ours != g.worst else ""
        out.append(f"Gate {g.gate} ({g.label}; our {ours}): wrong in "
                   f"{join_names([f'd{n}' for n in g.wrong])}{when}; worst {g.worst}{also}, "
                   f"relative error {sci(g.worst_error)}.")
    return out


def gated_failure(report: Any, c: Any) -> str:
    """A failing comparison of a layer's gradient; for a gated layer its worst element is
    named with its gate and as ours: ``worst Wx[2, 12] (gate o, our Wo[0, 7]):``."""
    line = describe_failure(c)
    if report.style.cell == "rnn" or c.worst is None:
        return line
    where = report.place(c.parameter, c.worst.index)
    name = format_index(c.parameter, c.worst.index)
    gate = f"gate {where.gate}, " if where.gate else ""
    if not gate and format_index(where.ours, where.index) == name:
        return line
    return line.replace(f"worst {name}:", f"worst {name} ({gate}our "
                        f"{format_index(where.ours, where.index)}):", 1)


def gated_cause_no_c_carry() -> str:
    return ("dc is not carried to step t-1: only the loss at the same step reaches c (your "
            "gradient equals the explicit sum with the path back through c_(t-1) removed)")


def gated_cause_carry_without_f() -> str:
    return ("dc is carried to step t-1 without the forget gate: your gradient equals the "
            "explicit sum with dc_t/dc_(t-1) = 1 instead of f_t (dc_prev = dc, not dc * f)")


def gated_cause_no_tanh_prime() -> str:
    return ("tanh'(c) missing in the path from h to c: your gradient equals the explicit sum "
            "with dh_t/dc_t = o instead of o (1 - tanh(c_t)^2)")


def gated_cause_forget_against_c_t() -> str:
    return ("the forget gate's derivative is taken against c_t instead of c_(t-1): your "
            "gradient equals the explicit sum with dc_t/da_f = c_t f (1 - f)")


def gated_cause_output_on_c() -> str:
    return ("the output gate's derivative is taken against c_t instead of tanh(c_t): your "
            "gradient equals the explicit sum with dh_t/da_o = c_t o (1 - o)")


def gated_cause_no_carry() -> str:
    return ("nothing is carried back in time: each step's error sees only its own upstream "
            "gradient (neither dh nor dc reaches the previous step)")


def gated_cause_gru_flipped() -> str:
    return ("the update gate's roles are swapped in the backward pass: your gradient equals "
            "the explicit sum for h_t = (1 - u) h_(t-1) + u n, while the forward computes "
            "h_t = u h_(t-1) + (1 - u) n")


def gated_cause_gru_no_reset() -> str:
    return ("nothing reaches the reset gate: your gradient equals the explicit sum with "
            "dL/da_r = 0 (the path through r * h_(t-1) in the candidate is dropped)")


def gated_cause_no_carry_gru() -> str:
    return ("nothing is carried back in time: each step's error sees only its own upstream "
            "gradient (dh does not reach the previous step)")


def gated_cause_truncated(window: int) -> str:
    return (f"truncated BPTT with a window of {window} steps: each loss step reaches only "
            f"{window - 1} steps back")


def gated_cause_stack_order(order: Sequence[str], slots: Sequence[str],
                            pair: Sequence[tuple[str, str]]) -> str:
    moved = join_names([f"gate {q}'s in gate {s}'s" for q, s in pair])
    return (f"the stacked gradient's blocks are in the order {', '.join(order)} while the "
            f"forward slices {', '.join(slots)}: {moved} columns (your gradient equals the "
            "explicit sum with the gates so paired with the parameters)")


# ---------------------------------------------------------------- gradient-only functions

def impl_stateless(name: str, states: Sequence[str]) -> str:
    """A function without an initial state (``bptt(self, x, y)``): what was done about it."""
    s = " and ".join(states)
    return (f"{name} takes no initial state (no {s} argument), so {s} was taken as zero at "
            f"both points (bpttcheck's second point otherwise starts from a random {s})")


def impl_no_loss_checked(points: str, truth: str, engines: str) -> str:
    """The "Checked:" line for a function that returns gradients only, no loss."""
    return (f"it returns no loss, so its gradient was checked against the model's only: at "
            f"{points}, {truth}'s gradient on every element ({engines} at the spec's point, "
            "the reference at the second)")


def impl_pass_gradient(declared: str, points: str) -> str:
    return f"Yes: its gradient is the gradient of {declared}, at {points}."


def impl_gradient_wrong(declared: str) -> Finding:
    """A gradient-only function's gradient is not the declared loss's (it has no loss)."""
    return Finding("gradient", f"the gradient you return is not the gradient of {declared}")


def impl_fail_other_gradient(kinds: list[str]) -> str:
    """A gradient-only function whose gradient agrees, yet the check fails: say what did."""
    return (f"No: its gradient agrees where compared, but the check fails on "
            f"{join_names(kinds)} (below).")


