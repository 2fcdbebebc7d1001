"""How well an edit of a line could explain what was measured: the candidates' order."""

from __future__ import annotations

import ast
import collections
import dataclasses
import re
from collections.abc import Mapping

from .syntax import MODULES, header_exprs, ln, mentions, subscripted, walk_statements


def defs_uses(stmt: ast.stmt) -> tuple[set[str], set[str]]:
    """Names a statement writes (the base name of each target) and reads."""
    targets: list[ast.expr] = []
    if isinstance(stmt, ast.Assign):
        targets = list(stmt.targets)
    elif isinstance(stmt, ast.AugAssign | ast.AnnAssign | ast.For):
        targets = [stmt.target]
    defs: set[str] = set()
    indices: set[str] = set()  # read in a target's subscripts (``t`` in ``hs[t] = ...``)

    def written(t: ast.expr) -> None:
        if isinstance(t, ast.Name):
            defs.add(t.id)
        elif isinstance(t, ast.Tuple | ast.List):
            for e in t.elts:
                written(e)
        elif isinstance(t, ast.Starred):
            written(t.value)
        elif isinstance(t, ast.Subscript | ast.Attribute):
            if isinstance(t, ast.Subscript):
                indices.update(n.id for n in ast.walk(t.slice) if isinstance(n, ast.Name))
            written(t.value)

    for t in targets:
        written(t)
    uses = {n.id for root in header_exprs(stmt) for n in ast.walk(root)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} | indices
    if isinstance(stmt, ast.AugAssign):
        uses |= defs
    return defs, uses


@dataclasses.dataclass(frozen=True)
class Flows:
    """Names that feed the wrong parameters' gradients, and those that feed the right ones."""

    bad: frozenset[str]
    good: frozenset[str]
    bad_sinks: frozenset[int]  # id() of statements that write a wrong parameter's gradient
    good_sinks: frozenset[int]


def flows_of(func: ast.FunctionDef, lines: list[str], bad: set[str], good: set[str],
             plain: frozenset[str] = frozenset(), cut: frozenset[str] = frozenset()
             ) -> Flows:
    """A backward slice over names: from the statements that mention a gradient (the
    parameter's name, ``dNAME``, a ``"NAME"`` key, or a name of ``plain``: what a helper
    returns into its caller's gradients, :func:`returned_into`), through every statement
    that writes a name they read, except those that write only names of ``cut`` (at one
    time step, what is carried to the next is never read). Coarse (names, not values),
    but enough to rank lines."""
    stmts = [s for s in walk_statements(func.body)
             if not isinstance(s, ast.FunctionDef | ast.ClassDef)]
    # a dict of gradients keyed by parameter (``grads["Whh"]``) is not one value: writing
    # one key defines nothing the others read, and reading one key reads that gradient only
    keys = {k for a in bad | good for k in (a, f"d{a}")}
    keyed: dict[int, set[int]] = {}
    info: dict[int, tuple[set[str], set[str]]] = {}
    for s in stmts:
        keyed[id(s)] = {id(n.value) for n in ast.walk(s) if isinstance(n, ast.Subscript)
                        and isinstance(n.value, ast.Name) and isinstance(n.slice, ast.Constant)
                        and n.slice.value in keys}
        defs, uses = defs_uses(s)
        targets = s.targets if isinstance(s, ast.Assign) else [s.target] if isinstance(
            s, ast.AugAssign) else []
        if targets and all(_keyed_target(t, keyed[id(s)]) for t in targets):
            defs = set()
        info[id(s)] = (defs, uses)

    def text(s: ast.stmt) -> str:
        return "\n".join(lines[s.lineno - 1:s.end_lineno or s.lineno])

    def closure(aliases: set[str]) -> tuple[frozenset[str], frozenset[int]]:
        if not aliases:
            return frozenset(), frozenset()
        sinks: set[int] = set()
        names: set[str] = set()
        # a gradient is written where dNAME, or a "NAME" key, appears (not the weight NAME)
        grads = {a for a in aliases if a.startswith("d") or a in plain}
        bare = "|".join(re.escape(a) for a in aliases if a not in grads)
        quoted = re.compile(rf"""["']({bare})["']""" if bare else r"(?!x)x")
        for s in stmts:
            if not isinstance(s, ast.Assign | ast.AugAssign | ast.Return | ast.Expr):
                continue
            for k in range(s.lineno, (s.end_lineno or s.lineno) + 1):
                if not (mentions(lines[k - 1], grads) or quoted.search(lines[k - 1])):
                    continue
                sinks.add(id(s))
                # a container written into (``grads["dWn"] += ...``) is not a value read
                containers = keyed[id(s)] | {id(t.value) for t in ast.walk(s) if isinstance(
                    t, ast.Subscript) and isinstance(t.ctx, ast.Store)}
                on_line = [n for n in ast.walk(s) if isinstance(n, ast.Name)
                           and isinstance(n.ctx, ast.Load) and ln(n) == k
                           and id(n) not in containers]
                exact = {n.id for n in on_line if n.id in aliases}
                passed = {a.id for c in ast.walk(s) if isinstance(c, ast.Call)
                          for arg in c.args for a in ast.walk(arg) if isinstance(a, ast.Name)}
                if exact and not (exact & info[id(s)][0]) and not (exact & passed):
                    names |= exact  # `return dWxh, ...`
                else:  # `dWhh += ...`, `"W": Dz @ S.T`, `g["Whh"] += ...`
                    names |= {n.id for n in on_line} | (info[id(s)][1] if exact else set())
        names -= MODULES
        changed = True
        while changed:
            changed = False
            for s in stmts:
                defs, uses = info[id(s)]
                if defs & names and not uses <= names and not defs <= cut:
                    names |= uses
                    changed = True
        return frozenset(names), frozenset(sinks)

    b, bs = closure(bad)
    g, gs = closure(good)
    return Flows(b, g, bs, gs)


def _base(t: ast.expr) -> str | None:
    """The name a subscript chain indexes: ``g`` for ``g["Wn"][:, :H]``."""
    n = subscripted(t)
    return n.id if isinstance(n, ast.Name) else None


def _keyed_target(t: ast.expr, keyed: set[int]) -> bool:
    """Whether the target ``t`` writes into one key of a gradient dict: ``g["Wn"]``, or
    a part of it, ``g["Wn"][:, :H]``."""
    while isinstance(t, ast.Subscript):
        if id(t.value) in keyed:
            return True
        t = t.value
    return False


def passed_as(defs: list[ast.FunctionDef], names: Mapping[str, set[str]]
              ) -> dict[str, set[str]]:
    """Each parameter's names inside the helpers it is passed to: ``Wh`` and ``b`` in
    ``def step(x, h, Wx, Wh, b)`` when the target calls ``step(x, h, Wxh, Whh, bh)``
    (``names``: each parameter's names in the caller; helpers called from helpers too)."""
    funcs = {f.name: f for f in defs}
    known = {p: set(v) for p, v in names.items()}
    for _ in range(len(defs)):  # a helper's helper learns from the helper
        grew = False
        for caller in defs:
            for call in ast.walk(caller):
                if not isinstance(call, ast.Call):
                    continue
                fn = call.func
                called = funcs.get(fn.id if isinstance(fn, ast.Name) else
                                   fn.attr if isinstance(fn, ast.Attribute) else "")
                if called is None or called is caller:
                    continue
                args = [a.arg for a in called.args.args]
                if args and args[0] in ("self", "cls") and isinstance(fn, ast.Attribute):
                    args = args[1:]
                bound = list(zip(args, call.args, strict=False)) + [
                    (k.arg, k.value) for k in call.keywords if k.arg is not None]
                for param, value in bound:
                    if not isinstance(value, ast.Name):
                        continue
                    for spelled in known.values():
                        if value.id in spelled and param not in spelled:
                            spelled.add(param)
                            grew = True
        if not grew:
            break
    added = {p: v - set(names[p]) for p, v in known.items()}
    # a helper called for two parameters (``affine(h, W, b)`` for both layers): its names
    # stand for neither
    seen = collections.Counter(n for v in added.values() for n in v)
    return {p: {n for n in v if seen[n] == 1} for p, v in added.items()
            if any(seen[n] == 1 for n in v)}


def returned_into(caller: ast.FunctionDef, caller_flows: Flows, helper: ast.FunctionDef
                  ) -> tuple[set[str], set[str]]:
    """The names ``helper`` returns that its caller's lines make wrong gradients of only,
    and those it makes right ones of only: ``return dx, dWx, dWh`` against the caller's
    ``dx, g_wx, g_wh = step_back(...)``, position by position, read in the caller's flows
    (a cs231n-style step function's gradients, named as it likes)."""
    returns = [[e.id if isinstance(e, ast.Name) else None for e in r.value.elts]
               for r in ast.walk(helper) if isinstance(r, ast.Return)
               and isinstance(r.value, ast.Tuple)]
    bad: set[str] = set()
    good: set[str] = set()
    for st in ast.walk(caller):
        if not (isinstance(st, ast.Assign) and len(st.targets) == 1
                and isinstance(st.targets[0], ast.Tuple) and isinstance(st.value, ast.Call)):
            continue
        fn = st.value.func
        called = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(
            fn, ast.Attribute) else None
        if called != helper.name:
            continue
        site = [e.id if isinstance(e, ast.Name) else None for e in st.targets[0].elts]
        for ret in returns:
            if len(ret) != len(site):
                continue
            for mine, theirs in zip(ret, site, strict=True):
                if mine is None or theirs is None:
                    continue
                to_bad, to_good = theirs in caller_flows.bad, theirs in caller_flows.good
                if to_bad and not to_good:
                    bad.add(mine)
                elif to_good and not to_bad:
                    good.add(mine)
    return bad, good - bad


def result_feeds(caller: ast.FunctionDef, caller_flows: Flows, helper: ast.FunctionDef
                 ) -> tuple[bool, bool]:
    """Whether the caller's lines that use ``helper``'s result in an expression
    (``e_a = tanh_grad(h) * e_h``) feed wrong gradients, and whether they feed right ones
    (what a helper's returned names feed is :func:`returned_into`'s)."""
    bad = good = False
    for st in walk_statements(caller.body):
        if isinstance(st, ast.FunctionDef | ast.ClassDef) or not any(
                isinstance(n, ast.Call) and (n.func.id if isinstance(n.func, ast.Name)
                                             else n.func.attr if isinstance(
                                                 n.func, ast.Attribute) else None)
                == helper.name for root in header_exprs(st) for n in ast.walk(root)):
            continue
        defs, _ = defs_uses(st)
        bad = bad or id(st) in caller_flows.bad_sinks or bool(defs & caller_flows.bad)
        good = good or id(st) in caller_flows.good_sinks or bool(defs & caller_flows.good)
    return bad, good


def flow_score(stmt: ast.stmt, flows: Flows) -> float:
    """Lines feeding only the wrong gradients first; lines feeding only right ones last."""
    defs, _ = defs_uses(stmt)
    to_bad = id(stmt) in flows.bad_sinks or bool(defs & flows.bad)
    to_good = id(stmt) in flows.good_sinks or bool(defs & flows.good)
    if isinstance(stmt, ast.For | ast.While | ast.If):
        return 1.0
    # a line writing gradients writes wrong ones only, or right ones only (whatever
    # container it writes them into: ``grads["dWn"] += ...`` defines ``grads`` for all)
    bad_sink, good_sink = id(stmt) in flows.bad_sinks, id(stmt) in flows.good_sinks
    if bad_sink != good_sink:
        written = defs - {_base(t) for t in ast.walk(stmt) if isinstance(t, ast.Subscript)
                          and isinstance(t.ctx, ast.Store)}
        if bad_sink and not written & flows.good:
            return 5.0
        if good_sink and not written & flows.bad:
            return -5.0
    if to_bad and not to_good:
        return 5.0
    if to_bad:
        return 1.0
    if to_good:
        return -5.0
    return -1.0


def relevance_of(stmt: ast.stmt, text: str, bad: set[str], good: set[str], carried: set[str],
               recursion: bool, everything: bool) -> float:
    """How well an edit of this line could explain which parameters were measured wrong."""
    mentions_bad = bool(bad) and mentions(text, bad)
    mentions_good = bool(good) and mentions(text, good)
    writes_carried = any(isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
                         and n.id in carried for n in ast.walk(stmt)
                         if not isinstance(stmt, ast.For | ast.While | ast.If))
    if recursion and writes_carried:
        return 3.0
    if mentions_bad and not everything:
        return 1.0
    if mentions_good and not mentions_bad:
        return -1.0
    return 0.0


# A step-to-step reach in an index: ``hs[t - 1]``, ``s[i+1]``.
SHIFTED = re.compile(r"\[\s*\w+\s*[-+]\s*1\s*[\],]")


# A quantity scaled by the sequence's length: ``/ len(xs)``, ``* (1.0 / T)``.
BY_LENGTH = re.compile(r"[/*]\s*\(?\s*(?:1(?:\.0*)?\s*/\s*)?(?:len\(|T\b|n_steps|seq)")


def one_step_score(stmt: ast.stmt, text: str, flows: Flows | None, recurrent: bool,
                   carried: set[str], summing: frozenset[int] = frozenset()) -> float:
    """What the unedited code measured at one time step (:meth:`.trials.Trials.one_step`).

    Wrong there: the bug is in one step's own lines, so the lines feeding the gradients
    wrong at one step (``flows``, their backward slice) come first and those feeding only
    gradients right there last. Right there (``recurrent``) though wrong over several
    steps: the bug is in what one step leaves out, so the lines of the recurrence come
    first: the loops (their direction and bounds), the lines that write or read what is
    carried between steps, reach another step's value, read the initial state (which
    only the first step should), sum a gradient over the steps (``summing``: ``=`` for
    ``+=`` is right at one step), or scale by the length. Neither
    (nothing measured, or everything wrong at one step too): no opinion."""
    if flows is not None:
        return flow_score(stmt, flows)
    if not recurrent:
        return 0.0
    if isinstance(stmt, ast.For | ast.While):
        return 2.0
    if isinstance(stmt, ast.If):
        return 0.0
    defs, uses = defs_uses(stmt)
    if defs & carried:
        return 3.0
    if uses & carried or SHIFTED.search(text) or BY_LENGTH.search(text) \
            or INITIAL.search(text) or id(stmt) in summing:
        return 1.5
    return 0.0


LOSS_NAME = re.compile(r"^(loss|cost|nll|xent|ce|L|J|E)$|loss|cost", re.IGNORECASE)


INITIAL = re.compile(r"(?<![A-Za-z0-9])(hprev|h_prev|h0|h_0|h_init|hinit|init_h|h_start)"
                     r"(?![A-Za-z0-9])|\[\s*-\s*1\s*\]")


def measured_score(stmt: ast.stmt, text: str, loss: bool | None, second_only: bool,
              biases: set[str]) -> float:
    """What the measurement says of this line beyond which gradients are wrong: whether the
    loss is (lines writing it), and whether only the second point fails (lines reading the
    biases or the initial hidden state, which are zero at the spec's point)."""
    score = 0.0
    if loss is not None and not isinstance(stmt, ast.For | ast.While | ast.If):
        defs, _ = defs_uses(stmt)
        if defs and all(LOSS_NAME.search(d) for d in defs):
            score += 3.0 if loss else -2.0
    if second_only and (INITIAL.search(text) or mentions(text, biases)):
        score += 2.0
    return score


# The check's likely cause (bpttcheck.diagnose.Cause.kind) -> the kinds of edit that could
# have produced it: a transposed gradient comes from a transpose or swapped operands, a
# constant ratio from a scale, a literal or a reduction, and so on. A cause is a hint, not
# a verdict (its message says "likely"), so the boost reorders; it removes nothing.
CAUSE_EDITS: dict[str, frozenset[str]] = {
    "transpose": frozenset({"transpose", "operands", "weight"}),
    "no-dhnext": frozenset({"carry", "insert", "accumulate", "drop", "init", "result"}),
    "dhnext": frozenset({"carry", "insert", "accumulate", "transpose", "unwrap", "drop",
                         "neighbour", "swap", "weight", "init", "result"}),
    "truncated": frozenset({"bound", "carry", "insert", "init"}),
    "tanh-derivative": frozenset({"tanh", "dtanh", "unwrap", "literal", "index", "swap",
                                  "neighbour"}),
    "derivative-index": frozenset({"tanh", "dtanh", "index", "swap", "neighbour"}),
    "step-shift": frozenset({"index", "bound", "neighbour", "swap", "init"}),
    "dy": frozenset({"insert", "copy", "sign", "scale", "literal", "unwrap", "index", "swap"}),
    "dy-index": frozenset({"index", "swap", "neighbour", "insert"}),
    "ratio": frozenset({"scale", "literal", "reduce", "drop", "accumulate"}),
    "step-weight": frozenset({"scale", "literal", "index", "bound", "reduce"}),
    "sign": frozenset({"sign"}),
    "zero": frozenset({"delete", "accumulate", "swap", "neighbour", "insert", "copy", "init",
                       "result"}),
    "constant": frozenset({"accumulate", "reduce", "clip", "swap", "neighbour"}),
    "clip": frozenset({"clip"}),
    "skipped-steps": frozenset({"bound", "loop", "index"}),
    "step-term": frozenset({"accumulate", "reduce", "index", "bound"}),
    "single-step": frozenset({"init", "bound", "index", "accumulate"}),
    "bias": frozenset({"term", "bias", "drop", "reduce", "swap", "neighbour", "init",
                       "accumulate"}),
    "param-line": frozenset({"index", "swap", "neighbour", "transpose", "operands",
                             "accumulate", "reduce", "weight"}),
    # the model-based variants (diagnose.VARIANTS): each names the line's bug
    "hs-t-for-t-1": frozenset({"index", "neighbour", "swap", "init"}),
    "recursion-transpose": frozenset({"transpose", "operands", "weight"}),
    "dhnext-before-tanh": frozenset({"swap", "neighbour", "dtanh"}),
    "dy-target": frozenset({"insert", "copy", "index"}),
    "loop-direction": frozenset({"loop", "bound"}),
    "target-shift": frozenset({"index", "swap", "neighbour"}),
    "input-shift": frozenset({"index", "swap", "neighbour"}),
    "no-carry": frozenset({"carry", "insert", "accumulate", "drop", "init", "result"}),
    "ignored-param": frozenset({"term", "bias", "wrap", "swap", "neighbour", "weight", "init"}),
    "nonfinite": frozenset({"unwrap", "literal", "sign", "init"}),
    "ratio-T": frozenset({"scale", "literal", "reduce"}),
    "hidden": frozenset({"tanh", "dtanh", "wrap", "unwrap", "carry", "insert", "term", "bias",
                         "drop", "init", "transpose", "result"}),
    # a gated cell's slips (bpttcheck.gated_variants, reproduced by the gated diagnosis)
    "dc-not-carried": frozenset({"carry", "insert", "accumulate", "drop"}),
    "no-tanh-prime-c": frozenset({"tanh"}),
    "o-uses-c": frozenset({"tanh", "swap"}),
    "o-on-c": frozenset({"tanh", "swap"}),
    "forget-wrong-state": frozenset({"index", "swap", "neighbour"}),
    "tanh-prime-f": frozenset({"tanh"}),
    "tanh-prime-i": frozenset({"tanh"}),
    "tanh-prime-o": frozenset({"tanh"}),
    "tanh-prime-u": frozenset({"tanh"}),
    "tanh-prime-r": frozenset({"tanh"}),
    "sigmoid-prime-g": frozenset({"tanh"}),
    "sigmoid-prime-n": frozenset({"tanh"}),
    "recurrent-transposed": frozenset({"transpose", "operands"}),
    "loop-forwards": frozenset({"loop", "bound"}),
    "skip-first": frozenset({"bound", "loop", "index"}),
    "skip-last": frozenset({"bound", "loop", "index"}),
    "u-flipped": frozenset({"sign", "swap"}),
    "du-sign": frozenset({"sign", "operands"}),
    "reset-no-h": frozenset({"insert", "neighbour", "swap"}),
    "reset-not-carried": frozenset({"carry", "insert", "accumulate"}),
    "reset-wrong-input": frozenset({"insert", "swap", "neighbour"}),
    "direct-not-carried": frozenset({"carry", "insert", "accumulate"}),
    "carry-scaled": frozenset({"literal", "scale", "carry"}),
}


CAUSE_BONUS = 2.0  # about one step of PRIORITY: the cause reorders kinds within a line's rank


# Causes found by matching the measured gradient against one model of a bug (a variant of
# the tutorial's pass that reproduces it: diagnose.VARIANTS, the skipped steps, the ratio 1/T,
# a clip bound): they name the kind of edit, so its candidates come before the other lines'.
SPECIFIC = frozenset({"hs-t-for-t-1", "recursion-transpose", "dhnext-before-tanh", "dy-target",
                      "loop-direction", "target-shift", "input-shift", "skipped-steps",
                      "ratio-T", "clip", "sign", "tanh-derivative", "no-dhnext", "no-carry",
                      "dc-not-carried", "no-tanh-prime-c", "o-uses-c", "o-on-c",
                      "forget-wrong-state", "tanh-prime-f", "tanh-prime-i", "tanh-prime-o",
                      "tanh-prime-u", "tanh-prime-r", "sigmoid-prime-g", "sigmoid-prime-n",
                      "recurrent-transposed", "loop-forwards", "skip-first", "skip-last",
                      "u-flipped", "du-sign", "reset-no-h", "reset-not-carried",
                      "reset-wrong-input", "direct-not-carried"})
SPECIFIC_BONUS = 6.0  # more than the flow score's +5 for a line that feeds only wrong gradients


def cause_score(kind: str, cause: str | None) -> float:
    """A bonus for an edit of ``kind`` when the check's likely cause is one it could produce."""
    if cause is None or kind not in CAUSE_EDITS.get(cause, frozenset()):
        return 0.0
    return SPECIFIC_BONUS if cause in SPECIFIC else CAUSE_BONUS


TARGET_CAUSES = frozenset({"target-shift", "dy-target", "dy-index", "dy"})
LINE_BONUS = 3.0


def cause_line_score(cause: str | None, text: str, targets: set[str],
                     whh_grads: set[str]) -> float:
    """A bonus for a line the cause points at: the targets' lines for a dy cause (the
    names the loss's log-probability is picked with: ``targets`` in ``ps[t][targets[t], 0]``),
    the Whh gradient's lines for h_t used where h_{t-1} belongs."""
    if cause in TARGET_CAUSES and targets and mentions(text, targets - MODULES):
        return LINE_BONUS
    if cause == "hs-t-for-t-1" and (mentions(text, {g for g in whh_grads if g.startswith("d")})
                                    or any(f'"{g}"' in text or f"'{g}'" in text
                                           for g in whh_grads if not g.startswith("d"))):
        return LINE_BONUS
    return 0.0
