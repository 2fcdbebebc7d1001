"""``bpttcheck selftest``: a corpus of wrong and right backward passes, checked as users' code.

The files in ``corpus/`` are small scripts written in the forms ``--impl``
accepts (module globals, a method, an explicit params dict; Python 2, a Python 2
class read method by method; U/W/V names; Jupyter notebooks). Each starts with
comment lines (a notebook: its first code cell) that say how to call it and what the
check must find::

    # selftest-expect: no-dhnext        (or "ok" for a correct variant)
    # selftest-target: lossFun          (NAME or Class.method)
    # selftest-order: dWhy,dby,...      (optional: --impl-order)
    # selftest-names: U=Wxh,...         (optional: --impl-names)
    # selftest-factory: make_model      (optional: --impl-factory)
    # selftest-forward: rnn_forward     (optional: --impl-forward, for a layer's backward)
    # selftest-flags: --batch 3         (optional: spec flags, --batch B and --no-biases)
    # selftest-cell: lstm               (optional: --cell lstm or gru; default vanilla)

A case is checked on :data:`SPEC` with its cell and flags (:attr:`Case.spec`); the
summary counts the gated cells' cases apart, after the vanilla cell's.

A target named ``X_backward`` whose partner ``X_forward`` is in the same file is
a layer function (:mod:`bpttcheck.layers`), checked as ``compare --impl`` checks
it: in the child process, with N = 2 sequences of :data:`SPEC`'s sizes.

Each case goes through :func:`bpttcheck.checker.run` with an
:class:`~bpttcheck.impl.ImplRequest`, exactly as ``bpttcheck compare --impl``
does, on :data:`SPEC`. A bug
is *caught* when the check fails; its cause *matches* when the first cause
named (or the first finding) has the expected kind. A correct variant must pass.
"""

from __future__ import annotations

import dataclasses
import json
import time
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import BpttcheckError
from ..report import header
from ..spec import Spec

# Small enough that each case takes a fraction of a second with every element
# differentiated numerically through the user's Python function (140 weights),
# and chosen so that every bug in the corpus provably changes the gradient:
# init_scale 1.0 and seed 1 give gradients beyond 5 in all five parameters (so
# clipping at 5 matters), and terms 11 steps back still carry 2e-3 of the
# gradient (so every truncation window differs from the full sum).
SPEC = Spec(hidden=8, seq=12, vocab=4, seed=1, init_scale=1.0, hprev="random")
TIMEOUT = 20.0  # seconds per call of a corpus function
# Elements per parameter differentiated numerically through the user's function
# (the --impl-sample flag). Each costs four calls of a Python loss function, the
# bulk of the selftest's time; every bug in the corpus changes far more elements
# than this, and when the loss matches, all elements are compared with the
# reference anyway.
SAMPLE = 10
PREFIX = "# selftest-"


@dataclasses.dataclass(frozen=True)
class Case:
    """One corpus file and what it must produce."""

    name: str
    path: Path
    target: str
    expect: str  # "ok" or the kind of the first cause / finding
    description: str
    names: str | None = None
    order: str | None = None
    factory: str | None = None
    forward: str | None = None  # a layer's forward partner, when not X_forward
    flags: str | None = None  # spec flags for this case: --batch B, --no-biases
    cell: str = "vanilla"  # --cell: the declared model the case is checked against

    @property
    def spec(self) -> Spec:
        """:data:`SPEC` with this case's cell and ``selftest-flags``."""
        base = SPEC if self.cell == "vanilla" else dataclasses.replace(SPEC, cell=self.cell)
        return spec_with(base, self.flags, self.name)

    @property
    def correct(self) -> bool:
        return self.expect == "ok"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What the check said about one case."""

    case: Case
    flagged: bool  # the check failed (exit 1) or refused the code (exit 2)
    exit_code: int
    cause: str  # kind of the first cause or finding ("" when none)
    message: str  # the first cause's sentence, the finding, or the error
    seconds: float

    @property
    def caught(self) -> bool:
        return self.flagged and not self.case.correct

    @property
    def cause_matches(self) -> bool:
        return self.case.correct or self.cause == self.case.expect

    @property
    def ok(self) -> bool:
        """A correct variant passed, or a bug was caught with the intended cause."""
        if self.case.correct:
            return not self.flagged
        return self.caught and self.cause_matches and self.exit_code == 1

    @property
    def status(self) -> str:
        if self.case.correct:
            return "passed" if not self.flagged else "FALSE ALARM"
        return "caught" if self.flagged else "MISSED"


@dataclasses.dataclass(frozen=True)
class Result:
    outcomes: tuple[Outcome, ...]
    seconds: float

    @property
    def passed(self) -> bool:
        return all(o.ok for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def summary(self) -> str:
        """The vanilla cell's counts, then (when the corpus has any) the gated cells'."""
        vanilla = [o for o in self.outcomes if o.case.cell == "vanilla"]
        gated = [o for o in self.outcomes if o.case.cell != "vanilla"]
        text = _counts(vanilla) if vanilla or not gated else ""
        if gated:
            cells = "/".join(sorted({o.case.cell.upper() for o in gated}))
            text += ("; " if text else "") + f"gated cells ({cells}): {_counts(gated)}"
        return f"{text}; {self.seconds:.1f} s"

    def to_dict(self) -> dict[str, Any]:
        return {
            **header(), "command": "selftest",
            "passed": self.passed, "seconds": self.seconds, "summary": self.summary(),
            "spec": SPEC.to_dict(),
            "cases": [{"name": o.case.name, "expect": o.case.expect, "status": o.status,
                       "cause": o.cause, "cause_matches": o.cause_matches, "ok": o.ok,
                       "exit_code": o.exit_code, "message": o.message,
                       "seconds": o.seconds} for o in self.outcomes],
        }


def spec_with(spec: Spec, flags: str | None, name: str) -> Spec:
    """``spec`` with a case's flags applied (``--batch B``, ``--no-biases``); ValueError for
    any other flag, naming the case."""
    words = (flags or "").split()
    changes: dict[str, Any] = {}
    while words:
        word = words.pop(0)
        if word == "--batch" and words and words[0].isdigit() and int(words[0]) >= 1:
            changes["batch"] = int(words.pop(0))
        elif word == "--no-biases":
            changes["biases"] = False
        else:
            raise ValueError(f"selftest case {name}: selftest-flags: expected --batch B or "
                             f"--no-biases, got {word!r}")
    return dataclasses.replace(spec, **changes)


def _counts(outcomes: list[Outcome]) -> str:
    from ..prose import plural

    bugs = [o for o in outcomes if not o.case.correct]
    good = [o for o in outcomes if o.case.correct]
    caught = sum(o.caught for o in bugs)
    named = sum(o.caught and o.cause_matches for o in bugs)
    alarms = sum(o.flagged for o in good)
    return (f"{caught} of {plural(len(bugs), 'bug')} caught, {named} with the intended "
            f"cause named; {len(good) - alarms} of {plural(len(good), 'correct variant')} "
            f"passed ({plural(alarms, 'false alarm')})")


def corpus_dir() -> Path:
    return Path(str(resources.files("bpttcheck.selftest").joinpath("corpus")))


def read_case(path: Path) -> Case:
    """A case's header: the file's first comment lines (a notebook's first code cell's)."""
    meta: dict[str, str] = {}
    description = []
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        first = next(c for c in json.loads(text)["cells"] if c["cell_type"] == "code")
        text = "".join(first["source"])
    for line in text.splitlines():
        if line.startswith(PREFIX):
            key, _, value = line[len(PREFIX):].partition(":")
            meta[key.strip()] = value.strip()
        elif line.startswith("#"):
            description.append(line.lstrip("# ").strip())
        else:
            break
    return Case(path.stem, path, meta["target"], meta["expect"], " ".join(description),
                meta.get("names"), meta.get("order"), meta.get("factory"), meta.get("forward"),
                meta.get("flags"), meta.get("cell", "vanilla"))


def cases(directory: Path | None = None) -> list[Case]:
    """The corpus, bugs first, each sorted by name."""
    where = directory or corpus_dir()
    found = sorted([*where.glob("*.py"), *where.glob("*.ipynb")])
    return sorted((read_case(p) for p in found), key=lambda c: (c.correct, c.name))


def run_case(case: Case, timeout: float = TIMEOUT) -> Outcome:
    """Check one case exactly as ``bpttcheck compare --impl`` would, on :data:`SPEC`."""
    from .. import checker
    from ..impl import ImplOptions, ImplRequest, parse_names, parse_order

    start = time.perf_counter()
    target = f"{case.path}:{case.target}"
    from ..layers import is_layer_target

    if is_layer_target(target, case.forward):
        layer = _layer_outcome(case, target, timeout, start)
        if layer is not None:
            return layer
    try:
        names = parse_names(case.names)
        options = ImplOptions(names=names, order=parse_order(case.order, names),
                              factory=case.factory, timeout=timeout, sample=SAMPLE)
        report = checker.run(case.spec, ("reference",),
                             impl=ImplRequest(f"{case.path}:{case.target}", options))
    except BpttcheckError as exc:
        return Outcome(case, True, int(exc.exit_code), "error", str(exc),
                       time.perf_counter() - start)
    impl = report.impl
    cause, message = "", ""
    if impl.causes:
        cause, message = impl.causes[0].kind, impl.causes[0].message
    elif impl.findings:
        message = impl.findings[0]
        first = impl.findings[0]
        relation = getattr(impl, "relation", None)
        # a wrong loss is named by how it relates to the model's (loss:mean-T, loss:bits, ...)
        cause = (f"{first.kind}:{relation.kind}" if first.kind in ("loss", "loss and gradient")
                 and relation is not None else first.kind)
    elif not report.passed:
        message = "the gradient differs (no cause named)"
    return Outcome(case, not report.passed, int(report.exit_code), cause, message,
                   time.perf_counter() - start)


def _layer_outcome(case: Case, target: str, timeout: float, start: float) -> Outcome | None:
    """A layer function's case (None: not a layer after all, check it as a loss function)."""
    from ..impl import ImplOptions
    from ..layers import check_layer
    from ..layers.remote import RemoteLayer

    try:
        layer = RemoteLayer(target, case.forward, ImplOptions(timeout=timeout),
                            SPEC.time_budget)
        spec = case.spec
        try:
            if not layer.found:
                return None
            report = check_layer(layer.forward, layer.backward, spec, target=target,
                                 label=layer.label, style=layer.style,
                                 batched=layer.batched_loss, sample=SAMPLE)
        finally:
            layer.close()
    except BpttcheckError as exc:
        return Outcome(case, True, int(exc.exit_code), "error", str(exc),
                       time.perf_counter() - start)
    cause, message = "", ""
    if report.function.causes:
        cause, message = report.function.causes[0].kind, report.function.causes[0].message
    elif report.findings:
        cause, message = "forward", report.findings[0]
    elif not report.passed:
        message = "the gradient differs (no cause named)"
    return Outcome(case, not report.passed, int(report.exit_code), cause, message,
                   time.perf_counter() - start)


def run(directory: Path | None = None, timeout: float = TIMEOUT) -> Result:
    """Run every case of the corpus."""
    start = time.perf_counter()
    outcomes = tuple(run_case(c, timeout) for c in cases(directory))
    return Result(outcomes, time.perf_counter() - start)
