"""How well an edit of a line could explain what was measured: the candidates' order."""

from __future__ import annotations

import ast
import dataclasses
import re

from .syntax import MODULES, header_exprs, ln, mentions, walk_statements


def defs_uses(stmt: ast.stmt) -> tuple[set[str], set[str]]:
    """Names a statement writes (the base name of each target) and reads."""
    targets: list[ast.expr] = []
    if isinstance(stmt, ast.Assign):
        targets = list(stmt.targets)
    elif isinstance(stmt, ast.AugAssign | ast.AnnAssign | ast.For):
        targets = [stmt.target]
    defs: set[str] = set()
    for t in targets:
        for n in ast.walk(t):
            if isinstance(n, ast.Name):
                defs.add(n.id)
    uses = {n.id for root in header_exprs(stmt) for n in ast.walk(root)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    if isinstance(stmt, ast.AugAssign):
        uses |= defs
    return defs, uses


@dataclasses.dataclass(frozen=True)
class _Flows:
    """Names that feed the wrong parameters' gradients, and those that feed the right ones."""

    bad: frozenset[str]
    good: frozenset[str]
    bad_sinks: frozenset[int]  # id() of statements that write a wrong parameter's gradient
    good_sinks: frozenset[int]


def flows_of(func: ast.FunctionDef, lines: list[str], bad: set[str], good: set[str]) -> _Flows:
    """A backward slice over names: from the statements that mention a gradient (the
    parameter's name, ``dNAME``, a ``"NAME"`` key), through every statement that writes a
    name they read. Coarse (names, not values), but enough to rank lines."""
    stmts = [s for s in walk_statements(func.body)
             if not isinstance(s, ast.FunctionDef | ast.ClassDef)]
    info = {id(s): defs_uses(s) for s in stmts}

    def text(s: ast.stmt) -> str:
        return "\n".join(lines[s.lineno - 1:s.end_lineno or s.lineno])

    def closure(aliases: set[str]) -> tuple[frozenset[str], frozenset[int]]:
        if not aliases:
            return frozenset(), frozenset()
        sinks: set[int] = set()
        names: set[str] = set()
        # a gradient is written where dNAME, or a "NAME" key, appears (not the weight NAME)
        grads = {a for a in aliases if a.startswith("d")}
        bare = "|".join(re.escape(a) for a in aliases if not a.startswith("d"))
        quoted = re.compile(rf"""["']({bare})["']""" if bare else r"(?!x)x")
        for s in stmts:
            if not isinstance(s, ast.Assign | ast.AugAssign | ast.Return | ast.Expr):
                continue
            for k in range(s.lineno, (s.end_lineno or s.lineno) + 1):
                if not (mentions(lines[k - 1], grads) or quoted.search(lines[k - 1])):
                    continue
                sinks.add(id(s))
                on_line = [n for n in ast.walk(s) if isinstance(n, ast.Name)
                           and isinstance(n.ctx, ast.Load) and ln(n) == k]
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
                if defs & names and not uses <= names:
                    names |= uses
                    changed = True
        return frozenset(names), frozenset(sinks)

    b, bs = closure(bad)
    g, gs = closure(good)
    return _Flows(b, g, bs, gs)


def flow_score(stmt: ast.stmt, flows: _Flows) -> float:
    """Lines feeding only the wrong gradients first; lines feeding only right ones last."""
    defs, _ = defs_uses(stmt)
    to_bad = id(stmt) in flows.bad_sinks or bool(defs & flows.bad)
    to_good = id(stmt) in flows.good_sinks or bool(defs & flows.good)
    if isinstance(stmt, ast.For | ast.While | ast.If):
        return 1.0
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
    # a gated cell's slips (gated_variants.SLIPS) that an edit of the generic kinds undoes
    "du-sign": frozenset({"sign"}),
}


CAUSE_BONUS = 2.0  # about one step of PRIORITY: the cause reorders kinds within a line's rank


# Causes found by matching the measured gradient against one model of a bug (a variant of
# the tutorial's pass that reproduces it: diagnose.VARIANTS, the skipped steps, the ratio 1/T,
# a clip bound): they name the kind of edit, so its candidates come before the other lines'.
SPECIFIC = frozenset({"hs-t-for-t-1", "recursion-transpose", "dhnext-before-tanh", "dy-target",
                      "loop-direction", "target-shift", "input-shift", "skipped-steps",
                      "ratio-T", "clip", "sign", "tanh-derivative", "no-dhnext", "no-carry"})
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
