"""The search as the check uses it: when it runs, what it says when it finds nothing."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Any

from .. import prose
from ..engines import Gradients, Options
from ..errors import ImplError
from ..spec import Spec
from .document import Fix, Outcome, unified
from .search import budget_for, search, search_layer


def attach(report: Any, request: Any, spec: Spec,
           results: Mapping[str, Gradients] | None = None,
           engine_options: Options | None = None, stateless: bool = False) -> Any:
    """``report`` (an ImplReport) with ``fix`` or ``fix_reason`` set by a search for
    ``request`` (an ImplRequest with ``fix=True``); ``results`` and ``engine_options``: the
    check's engines at the spec's point, against which each edit is judged again;
    ``stateless``: the user's function takes no initial state."""

    why = _unsearchable(report, spec)
    if why is not None:
        return dataclasses.replace(report, fix_reason=prose.fix_skipped(why))
    if not isinstance(request.target, str):
        return dataclasses.replace(report, fix_reason=prose.fix_skipped(
            "the function was passed in from Python, not read from a file"))
    if request.loss.factor(spec.seq) is None:
        return dataclasses.replace(report, fix_reason=prose.fix_skipped(
            "with --impl-loss own there is no reference gradient to verify an edit against"))
    if engine_options is not None:
        engine_options = dataclasses.replace(engine_options, progress=None)
    float32 = getattr(report, "precision", "float64") == "float32"
    returns_loss = bool(getattr(report, "returns_loss", True))  # False: gradients alone
    # our name -> theirs, as the loader matched them (--impl-names, or a known convention)
    theirs = {ours: mine for mine, ours in getattr(report, "names", {}).items()} or None
    budget = request.fix_budget if request.fix_budget is not None else budget_for(spec.cell)
    found, reason = _found(lambda: search(request.target, request.options, spec,
                                          budget, request.loss, theirs=theirs,
                                          results=results, engine_options=engine_options,
                                          float32=float32, stateless=stateless,
                                          returns_loss=returns_loss,
                                          cause=report.causes[0].kind if report.causes
                                          else None))
    return dataclasses.replace(report, fix=found, fix_reason=reason)


def _unsearchable(report: Any, spec: Spec) -> str | None:
    """Why no edit is searched for this check (None: one is): the gradients are right but
    read in another order. Every model the check knows is searched (each cell, a batch, a
    bias-free model: :class:`.trials.Trials` measures each as the check does)."""
    if report.causes and report.causes[0].kind == "order":
        return ("the gradients are right but read in another order: the --impl-order named "
                "above is the fix, not an edit of your code")
    return None


def for_layer(target: str, forward: str | None, request: Any, spec: Spec,
              style: Any) -> tuple[Fix | None, str | None]:
    """The fix for a layer target (``--impl FILE.py:rnn_backward``), or why there is none;
    ``style``: the layer check's style of their pair (its cell, gate and row orders)."""
    budget = request.fix_budget if request.fix_budget is not None else budget_for(style.cell)
    return _found(lambda: search_layer(target, forward, request.options, spec,
                                       budget, style.cell, style))


def _found(run: Callable[[], Outcome]) -> tuple[Fix | None, str | None]:
    try:
        out = run()
    except (ImplError, OSError, UnicodeDecodeError) as exc:
        return None, prose.fix_skipped(str(exc))
    except Exception as exc:  # a bug of the search itself: said, and the verdict stands
        if os.environ.get("BPTTCHECK_DEBUG"):
            raise
        return None, prose.fix_failed(f"{type(exc).__name__}: {exc}")
    if out.fix is not None:
        return out.fix, None
    if out.why:
        return None, prose.fix_skipped(out.why)
    return None, prose.fix_none(out.tried, out.generated, out.where, out.seconds,
                                out.rejected, out.pairs)


def section(fix: Fix | None, reason: str | None, written: str | None = None) -> list[str]:
    """The fix as plain lines (the layer report's text): sentence, diff, where written."""
    if fix is None:
        return [reason] if reason else []
    out = [heading(fix), *unified(fix, fix.edits[0].path)]
    left = fix.remaining if fix.partial else ()
    return [*out, prose.fix_written(written, left)] if written else out


def heading(fix: Fix) -> str:
    """The sentence above the diff."""

    if fix.verified:
        return prose.fix_found(fix.elements, fix.max_rel_error, fix.specs, len(fix.edits),
                               fix.beside)
    fixed = [n for n in fix.wrong if n not in fix.remaining and n != "loss"]
    return prose.fix_partial(fixed, fix.remaining, fix.specs)
