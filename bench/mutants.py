"""Mutation harness: how well does bpttcheck's --impl check generalise to bugs it never saw?

Usage::

    python bench/mutants.py --seed S [--per-op N] [--sources a,b] [--exclude-seeds S0,S1]
                            [--exclude-per-op M] [--json F] [-v] [--table]

Correct backward passes in different styles live in ``bench/mutant_sources/``
(module globals as in min-char-rnn, a class with ``self.W...``, a vectorised
function taking a params dict, and a held-out file in Goodfellow's notation).
Each marks its backward pass between ``# backward:begin`` and ``# backward:end``;
only nodes there are mutated, so the forward pass and the loss stay correct.

Operators (AST, one change per mutant; see OPERATORS):

- ``op-swap``: ``+`` <-> ``-`` in an expression or an augmented assignment;
- ``drop-term``: ``a + b`` -> ``a`` or ``b`` (e.g. drop ``+ dhnext``);
- ``index-shift``: ``[t]`` -> ``[t-1]`` or ``[t+1]``, ``[t+1]`` -> ``[t]`` or ``[t+2]``;
- ``transpose``: remove a ``.T``, or add one to an operand of ``@``/``np.dot``/``np.outer``;
- ``wrong-var``: a variable replaced by another of the same shape (each source lists them);
- ``scale``: an assigned value multiplied by 2 or 0.5;
- ``loop-direction``: ``reversed(range(T))`` -> ``range(T)``,
  ``range(T-1, -1, -1)`` -> ``range(T)``;
- ``aug-assign``: ``+=`` -> ``=``, or ``=`` -> ``+=`` inside the loop;
- ``range-bound``: the backward loop stops before t = 0 or starts below t = T-1
  (a mutation at a sequence boundary: the cause must name that step).

``--seed S`` picks up to ``--per-op`` sites per (source, operator) at random.

**The independent verdict.** For each mutant the harness itself decides whether
the gradient changed: it differentiates the mutant's own returned loss (the
forward pass is untouched) by central differences, element by element, at the
checked point, and compares. It also tries four random directions at a second
point (non-zero biases, another seed); a mutant that differs only there is
counted separately, since a check at the first point cannot see it. No
bpttcheck code computes any of this.

**Then bpttcheck** checks the mutant as a user would (``checker.run`` with an
``ImplRequest("file.py:NAME")``). Reported: detection on gradient-changing
mutants, false alarms on gradient-preserving ones, and the share of detected
mutants whose first cause is *specific and true* by this rubric: the cause
names every parameter the mutated line writes (for a line that writes no
parameter, every parameter whose gradient the harness saw change); for a
mutation at a sequence boundary it names the step; and its kind is one that
ACCEPTABLE maps the operator to. The table is printed by ``--table``.

**Gated cells.** A source that sets ``CELL = "lstm"`` or ``"gru"`` is checked with
``--cell`` (``bench_call`` then takes the LSTM's ``cprev`` after ``hprev``), on
:data:`GATED_SPEC`. Its first cause counts as specific and true when it is a slip
of :mod:`bpttcheck.gated_variants` (one or two, which by construction reproduce
the mutant's gradient exactly), a constant ratio, or one parameter's own line
measured exactly (zero, another gate's gradient, one step's term), naming every
parameter the mutated line writes; the per-gate summary ("gates") and "enters"
never count.
``GATED_TUNING`` are the gated sources.
"""

from __future__ import annotations

import argparse
import ast
import copy
import dataclasses
import datetime
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bpttcheck import checker  # noqa: E402
from bpttcheck.errors import BpttcheckError  # noqa: E402
from bpttcheck.gated_variants import SLIPS  # noqa: E402
from bpttcheck.impl import ImplOptions, ImplRequest  # noqa: E402
from bpttcheck.model import build  # noqa: E402
from bpttcheck.spec import CELL_PARAM_NAMES, Spec  # noqa: E402

SOURCES = ROOT / "bench" / "mutant_sources"
TUNING = ("globals_minchar", "class_rnn", "vectorised")
HELD_OUT_SOURCES = ("goodfellow_heldout", "layers_heldout2")
GATED_TUNING = ("lstm_explicit", "gru_class")
# Tutorial-small: every element of 536 weights is differentiated through Python
# code in a fraction of a second; init 0.5 keeps tanh away from saturation while
# terms ten steps back still matter.
SPEC = Spec(hidden=16, seq=10, vocab=8, seed=3, init_scale=0.5, hprev="random")
# The gated cells: every element of 4 x 8 x 15 gate weights is differentiated by the
# harness through Python code, so smaller than SPEC; terms 7 steps back still matter.
GATED_SPEC = Spec(hidden=8, seq=8, vocab=6, seed=3, init_scale=0.5, hprev="random")
SECOND_SEED = 1003  # the second point: other weights, non-zero biases
FD_STEP = 1e-5  # central differences: error ~ h^2 |f'''| + eps/h, about 1e-10 here
CHANGED = 1e-5  # norm-wise relative difference above which the gradient changed
SAME = 1e-7  # ... and below which it did not (between: "uncertain", reported)
DIRECTIONS = 4  # random directions tried at the second point
PER_OP = 3

SCALE = {"ratio", "ratio-T", "ratio-ln2", "sign", "zero", "constant"}
LINE = {"param-line", "bias", "step-term", "transpose", "sign", "ratio", "zero", "constant"}
TIME = {"single-step", "step-weight", "step-term", "no-dhnext", "truncated", "loop-direction",
        "skipped-steps"}
DY = {"dy-target", "dy-index", "dy", "target-shift", "target-weighted", "input-weighted",
      "step-weight"}
HIDDEN = {"tanh-derivative", "derivative-index", "recursion-transpose", "dhnext-before-tanh",
          "hs-t-for-t-1", "no-dhnext", "truncated", "input-shift", "dhnext"}
# operator -> cause kinds that count as specific and true for it. The catch-alls
# "hidden" (output right, hidden wrong) and "measured" (no pattern) never count.
ACCEPTABLE: dict[str, set[str]] = {
    "op-swap": SCALE | LINE | DY | HIDDEN,
    "drop-term": LINE | DY | HIDDEN | TIME,
    "index-shift": {"hs-t-for-t-1", "derivative-index", "target-shift", "input-shift",
                    "dy-index", "single-step", "step-term", "step-weight", "param-line",
                    "step-shift", "no-dhnext", "truncated"},
    "transpose": {"transpose", "recursion-transpose", "param-line"},
    "wrong-var": LINE | HIDDEN | DY | {"single-step"},
    "scale": SCALE | LINE | DY | {"single-step", "dhnext", "tanh-derivative"},
    "loop-direction": {"loop-direction"},
    "aug-assign": {"step-term", "zero", "no-dhnext", "truncated", "param-line", "bias",
                   "single-step", "dhnext"},
    "range-bound": {"single-step", "step-term", "step-weight", "skipped-steps"},
}
OPERATORS = tuple(ACCEPTABLE)
# Measured explanations of a gated gradient (bpttcheck.diagnose_gated): the slips, a ratio,
# and one parameter's own line (zero, another gate's term, one step's term).
GATED_KINDS = {k.replace("_", "-") for slips in SLIPS.values() for k in slips} | {
    "ratio", "zero", "other-param", "step-term", "param-line"}


def spec_for(cell: str) -> Spec:
    return SPEC if cell == "vanilla" else dataclasses.replace(GATED_SPEC, cell=cell)


def acceptable(operator: str, kind: str, cell: str) -> bool:
    """Is ``kind`` a specific and true first cause for a mutant by ``operator``?"""
    if cell == "vanilla":
        return kind in ACCEPTABLE[operator]
    return all(part in GATED_KINDS for part in kind.split("+"))


# -- sites -------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Site:
    """One mutation: where (the n-th node of ast.walk order), what, and its line."""

    source: str
    operator: str
    node: int
    variant: str
    line: int
    code: str  # the original line, stripped
    boundary: int | None = None  # the step a range-bound mutation removes (T-1 as -1)

    @property
    def id(self) -> str:
        return f"{self.source}:{self.line}:{self.operator}:{self.node}:{self.variant}"


def region(text: str) -> tuple[int, int]:
    lines = text.splitlines()
    begin = next(i for i, s in enumerate(lines, 1) if "# backward:begin" in s)
    end = next(i for i, s in enumerate(lines, 1) if "# backward:end" in s)
    return begin, end


def _in_slice(node: ast.AST, parents: dict[int, ast.AST]) -> bool:
    child, p = node, parents.get(id(node))
    while p is not None:
        if isinstance(p, ast.Subscript) and p.slice is child:
            return True
        child, p = p, parents.get(id(p))
    return False


def _is_t(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "t"


def _t_offset(node: ast.AST) -> int | None:
    """0 for ``t``, c for ``t + c``, -c for ``t - c``; None otherwise."""
    if _is_t(node):
        return 0
    if (isinstance(node, ast.BinOp) and _is_t(node.left) and isinstance(node.op, ast.Add | ast.Sub)
            and isinstance(node.right, ast.Constant) and isinstance(node.right.value, int)):
        return node.right.value if isinstance(node.op, ast.Add) else -node.right.value
    return None


def _t_expr(offset: int) -> ast.expr:
    t = ast.Name("t", ast.Load())
    if offset == 0:
        return t
    return ast.BinOp(t, ast.Add() if offset > 0 else ast.Sub(), ast.Constant(abs(offset)))


def _range_call(node: ast.AST) -> ast.Call | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        return node
    return None


def candidates(tree: ast.Module, text: str, source: str,
               same_shape: tuple[tuple[str, ...], ...]) -> list[tuple[Site, Callable[[ast.AST],
                                                                                     ast.AST]]]:
    """Every (site, transform) in the backward region; transform maps the node to its mutant."""
    begin, end = region(text)
    lines = text.splitlines()
    nodes = list(ast.walk(tree))
    parents = {id(c): p for p in nodes for c in ast.iter_child_nodes(p)}
    out: list[tuple[Site, Callable[[ast.AST], ast.AST]]] = []

    def add(op: str, i: int, node: ast.AST, variant: str, fn: Callable[[ast.AST], ast.AST],
            boundary: int | None = None) -> None:
        line = getattr(node, "lineno", 0)
        out.append((Site(source, op, i, variant, line, lines[line - 1].strip(), boundary), fn))

    for i, node in enumerate(nodes):
        line = getattr(node, "lineno", None)
        if line is None or not begin < line < end:
            continue
        in_slice = _in_slice(node, parents)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub) and not in_slice:
            flip = "-" if isinstance(node.op, ast.Add) else "+"
            add("op-swap", i, node, f"{'+' if flip == '-' else '-'} -> {flip}",
                lambda n: ast.BinOp(n.left, ast.Sub() if isinstance(n.op, ast.Add) else ast.Add(),
                                    n.right))
            add("drop-term", i, node, "keep the left term", lambda n: n.left)
            add("drop-term", i, node, "keep the right term", lambda n: n.right)
        if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add | ast.Sub):
            add("op-swap", i, node, "+= <-> -=",
                lambda n: ast.AugAssign(n.target, ast.Sub() if isinstance(n.op, ast.Add)
                                        else ast.Add(), n.value))
            if isinstance(node.op, ast.Add):
                add("aug-assign", i, node, "+= -> =",
                    lambda n: ast.Assign([n.target], n.value, lineno=n.lineno))
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and any(
                isinstance(p, ast.For | ast.While) and p.lineno > begin
                for p in _ancestors(node, parents)):
            add("aug-assign", i, node, "= -> +=",
                lambda n: ast.AugAssign(n.targets[0], ast.Add(), n.value))
        if isinstance(node, ast.Assign | ast.AugAssign):
            for c in (2.0, 0.5):
                add("scale", i, node, f"value x{c:g}",
                    lambda n, c=c: _with_value(n, ast.BinOp(ast.Constant(c), ast.Mult(), n.value)))
        if isinstance(node, ast.Subscript):
            parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            for j, part in enumerate(parts):
                off = _t_offset(part)
                if off is None:
                    continue
                for new in (off - 1, off + 1):
                    add("index-shift", i, node, f"[t{off:+d}] -> [t{new:+d}]".replace("+0", ""),
                        lambda n, j=j, new=new: _shift(n, j, new))
        if isinstance(node, ast.Attribute) and node.attr == "T":
            add("transpose", i, node, "remove .T", lambda n: n.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            for side in ("left", "right"):
                operand = getattr(node, side)
                if isinstance(operand, ast.Name | ast.Attribute) and not (
                        isinstance(operand, ast.Attribute) and operand.attr == "T"):
                    add("transpose", i, node, f"add .T to the {side} operand",
                        lambda n, side=side: _transpose_side(n, side))
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("dot", "outer")):
            for j, arg in enumerate(node.args):
                if isinstance(arg, ast.Name | ast.Attribute | ast.Subscript) and not (
                        isinstance(arg, ast.Attribute) and arg.attr == "T"):
                    add("transpose", i, node, f"add .T to argument {j + 1}",
                        lambda n, j=j: _transpose_arg(n, j))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            for group in same_shape:
                if node.id in group:
                    for other in group:
                        if other != node.id:
                            add("wrong-var", i, node, f"{node.id} -> {other}",
                                lambda n, o=other: ast.Name(o, ast.Load()))
        if isinstance(node, ast.For):
            it = node.iter
            if (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
                    and it.func.id == "reversed" and _range_call(it.args[0])):
                add("loop-direction", i, it, "reversed(range(T)) -> range(T)",
                    lambda n: copy.deepcopy(n.iter.args[0]), None)
                add("range-bound", i, it, "stop before t = 0",
                    lambda n: _reversed_range(n, start=1), 0)
                add("range-bound", i, it, "start below t = T-1",
                    lambda n: _reversed_range(n, stop_minus=1), -1)
            elif _range_call(it) is not None and len(it.args) == 3:
                add("loop-direction", i, it, "range(T-1, -1, -1) -> range(T)",
                    lambda n: ast.Call(ast.Name("range", ast.Load()),
                                       [ast.BinOp(copy.deepcopy(n.iter.args[0]), ast.Add(),
                                                  ast.Constant(1))], []))
                add("range-bound", i, it, "stop before t = 0",
                    lambda n: _with_args(n.iter, [n.iter.args[0], ast.Constant(0),
                                                  n.iter.args[2]]), 0)
                add("range-bound", i, it, "start below t = T-1",
                    lambda n: _with_args(n.iter, [ast.BinOp(n.iter.args[0], ast.Sub(),
                                                            ast.Constant(1)),
                                                  n.iter.args[1], n.iter.args[2]]), -1)
        if isinstance(node, ast.While) and isinstance(node.test, ast.Compare) and isinstance(
                node.test.ops[0], ast.GtE):
            add("range-bound", i, node.test, "stop before t = 0",
                lambda n: ast.Compare(n.test.left, [ast.Gt()], n.test.comparators), 0)
    return [(s, fn) for s, fn in out if s.operator in OPERATORS]


def _ancestors(node: ast.AST, parents: dict[int, ast.AST]) -> Iterator[ast.AST]:
    p = parents.get(id(node))
    while p is not None:
        yield p
        p = parents.get(id(p))


def _with_value(n: ast.AST, value: ast.expr) -> ast.AST:
    new = copy.copy(n)
    new.value = value  # type: ignore[attr-defined]
    return new


def _with_args(call: ast.Call, args: list[ast.expr]) -> ast.Call:
    return ast.Call(call.func, args, call.keywords)


def _shift(n: ast.Subscript, j: int, offset: int) -> ast.Subscript:
    if isinstance(n.slice, ast.Tuple):
        elts = list(n.slice.elts)
        elts[j] = _t_expr(offset)
        return ast.Subscript(n.value, ast.Tuple(elts, ast.Load()), n.ctx)
    return ast.Subscript(n.value, _t_expr(offset), n.ctx)


def _transpose_side(n: ast.BinOp, side: str) -> ast.BinOp:
    operand = ast.Attribute(getattr(n, side), "T", ast.Load())
    return ast.BinOp(operand if side == "left" else n.left, n.op,
                     operand if side == "right" else n.right)


def _transpose_arg(n: ast.Call, j: int) -> ast.Call:
    args = list(n.args)
    args[j] = ast.Attribute(args[j], "T", ast.Load())
    return ast.Call(n.func, args, n.keywords)


def _reversed_range(n: ast.For, start: int = 0, stop_minus: int = 0) -> ast.Call:
    inner = n.iter.args[0]  # type: ignore[attr-defined]
    stop = inner.args[-1]
    if stop_minus:
        stop = ast.BinOp(stop, ast.Sub(), ast.Constant(stop_minus))
    args = [ast.Constant(start), stop] if start else [stop]
    return ast.Call(ast.Name("reversed", ast.Load()),
                    [ast.Call(ast.Name("range", ast.Load()), args, [])], [])


def mutate(tree: ast.Module, site: Site, fn: Callable[[ast.AST], ast.AST]) -> ast.Module:
    """A copy of ``tree`` with node ``site.node`` replaced by ``fn(node)``."""
    new = copy.deepcopy(tree)
    nodes = list(ast.walk(new))
    target = nodes[site.node]
    if isinstance(target, ast.For) and site.operator in ("loop-direction", "range-bound"):
        target.iter = fn(target)  # type: ignore[assignment]
        return ast.fix_missing_locations(new)
    if isinstance(target, ast.While):
        target.test = fn(target)  # type: ignore[assignment]
        return ast.fix_missing_locations(new)
    replacement = fn(target)
    for parent in nodes:
        for field, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, field, replacement)
                return ast.fix_missing_locations(new)
            if isinstance(value, list):
                for k, item in enumerate(value):
                    if item is target:
                        value[k] = replacement
                        return ast.fix_missing_locations(new)
    raise AssertionError(f"node {site.node} not found")


def select(seed: int, per_op: int, sources: tuple[str, ...]) -> list[tuple[Site, ast.Module]]:
    """Up to ``per_op`` random sites per (source, operator), chosen by ``seed``."""
    chosen = []
    for src_i, name in enumerate(sources):
        text = (SOURCES / f"{name}.py").read_text()
        tree = ast.parse(text)
        ns: dict[str, Any] = {}
        exec(compile(ast.parse(text), str(SOURCES / f"{name}.py"), "exec"), ns)  # our own file
        sites = candidates(tree, text, name, ns["SAME_SHAPE"])
        for op_i, op in enumerate(OPERATORS):
            pool = [(s, fn) for s, fn in sites if s.operator == op]
            rng = np.random.default_rng([seed, src_i, op_i])
            for k in sorted(rng.permutation(len(pool))[:per_op]):
                site, fn = pool[int(k)]
                chosen.append((site, mutate(tree, site, fn)))
    return chosen


# -- the independent verdict ----------------------------------------------------
Point = tuple[dict[str, np.ndarray], tuple[int, ...], tuple[int, ...], tuple[np.ndarray, ...]]


def point(second: bool, cell: str = "vanilla") -> Point:
    """Weights, inputs, targets and the initial states (hprev, and cprev for the LSTM)."""
    spec = spec_for(cell)
    problem = build(spec)
    params = {n: v.copy() for n, v in problem.params.items()}
    states = [problem.batch.hprev.copy()]
    if problem.batch.cprev is not None:
        states.append(problem.batch.cprev.copy())
    if second:
        rng = np.random.default_rng(SECOND_SEED)
        params = {n: rng.standard_normal(v.shape) * spec.init_scale for n, v in params.items()}
        states = [np.tanh(rng.standard_normal(s.shape)) for s in states]
    return params, problem.batch.inputs, problem.batch.targets, tuple(states)


def call(fn: Callable[..., Any], params: dict[str, np.ndarray], inputs: tuple[int, ...],
         targets: tuple[int, ...], states: tuple[np.ndarray, ...]
         ) -> tuple[float, dict[str, np.ndarray]]:
    loss, grads = fn({n: v.copy() for n, v in params.items()}, list(inputs), list(targets),
                     *(s.copy() for s in states))
    return float(loss), {n: np.array(grads[n], dtype=np.float64).reshape(params[n].shape)
                         for n in params}


def numeric(fn: Callable[..., Any], params: dict[str, np.ndarray], inputs: tuple[int, ...],
            targets: tuple[int, ...], hprev: tuple[np.ndarray, ...]) -> dict[str, np.ndarray]:
    """Central differences of the mutant's own loss, every element."""
    out = {}
    for n, p in params.items():
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            h = FD_STEP * max(1.0, abs(float(p[idx])))
            plus = {**params, n: p.copy()}
            plus[n][idx] += h
            minus = {**params, n: p.copy()}
            minus[n][idx] -= h
            g[idx] = (call(fn, plus, inputs, targets, hprev)[0]
                      - call(fn, minus, inputs, targets, hprev)[0]) / (2 * h)
        out[n] = g
    return out


def rel(a: np.ndarray, b: np.ndarray) -> float:
    top = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)))
    return float(np.linalg.norm(a - b)) / top if top > 0 else 0.0


@dataclasses.dataclass
class Outcome:
    site: Site
    # "changes", "preserves", "uncertain", "crash", or "elsewhere": changes the
    # gradient only at the second point
    truth: str
    changed: tuple[str, ...] = ()  # parameters whose gradient the harness saw change
    flagged: bool = False
    exit_code: int = 0
    cause_kind: str = ""
    cause_params: tuple[str, ...] = ()
    cause_steps: tuple[int, ...] = ()
    message: str = ""
    targets: tuple[str, ...] = ()
    specific: bool = False


def written(site: Site, tree: ast.Module, grads: dict[str, str]) -> tuple[str, ...]:
    """The parameters the mutated line writes (by the source's GRADS names)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign) and node.lineno == site.line:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found = []
            for t in targets:
                for sub in ast.walk(t):
                    if isinstance(sub, ast.Name) and sub.id in grads:
                        found.append(grads[sub.id])
                    if isinstance(sub, ast.Constant) and sub.value in grads:
                        found.append(grads[sub.value])
            return tuple(dict.fromkeys(found))
    return ()


def evaluate(site: Site, tree: ast.Module, workdir: Path) -> Outcome:
    text = ast.unparse(tree)
    digest = hashlib.sha1(site.id.encode()).hexdigest()[:10]
    path = workdir / f"{site.source}_{digest}.py"
    path.write_text(text)
    ns: dict[str, Any] = {"__name__": f"mutant_{digest}"}
    original = ast.parse((SOURCES / f"{site.source}.py").read_text())
    try:
        exec(compile(tree, str(path), "exec"), ns)  # noqa: S102 - our own sources, mutated
        fn = ns["bench_call"]
        cell = ns.get("CELL", "vanilla")
        params, inputs, targets, hprev = point(False, cell)
        loss, g = call(fn, params, inputs, targets, hprev)
        if not all(np.isfinite(v).all() for v in g.values()) or not np.isfinite(loss):
            raise FloatingPointError("non-finite")
        num = numeric(fn, params, inputs, targets, hprev)
    except Exception as exc:  # noqa: BLE001 - a crashing mutant is an outcome, recorded
        out = Outcome(site, "crash", message=f"{type(exc).__name__}: {exc}")
        out.flagged, out.exit_code = _bpttcheck_flags(site, path, ns)
        return out
    names = CELL_PARAM_NAMES[cell]
    errors = {n: rel(g[n], num[n]) for n in names}
    worst = max(errors.values())
    changed = tuple(n for n in names if errors[n] > CHANGED)
    truth = "changes" if worst > CHANGED else "preserves" if worst < SAME else "uncertain"
    if truth == "preserves" and _changes_at_second_point(fn, cell):
        truth = "elsewhere"
    out = Outcome(site, truth, changed)
    out.targets = written(site, original, ns["GRADS"]) or changed
    try:
        report = checker.run(spec_for(cell), ("reference",),
                             impl=ImplRequest(f"{path}:{ns['TARGET']}", ImplOptions(timeout=20)))
    except BpttcheckError as exc:
        out.flagged, out.exit_code, out.message = True, int(exc.exit_code), str(exc)
        return out
    out.flagged, out.exit_code = not report.passed, int(report.exit_code)
    impl = report.impl
    if impl is not None and impl.causes:
        c = impl.causes[0]
        out.cause_kind, out.cause_params, out.cause_steps = c.kind, c.params, c.steps
        out.message = c.message
    elif impl is not None and impl.findings:
        out.message = impl.findings[0]
        out.cause_kind = out.message.split(":", 1)[0]
    boundary_ok = True
    if site.boundary is not None:
        step = spec_for(cell).seq - 1 if site.boundary == -1 else site.boundary
        boundary_ok = step in out.cause_steps or (cell != "vanilla" and any(
            step in c.steps for c in (impl.causes if impl is not None else ())))
    out.specific = (out.flagged and acceptable(site.operator, out.cause_kind, cell)
                    and set(out.targets) <= set(out.cause_params) and boundary_ok)
    return out


def _bpttcheck_flags(site: Site, path: Path, ns: dict[str, Any]) -> tuple[bool, int]:
    target = ns.get("TARGET")
    if target is None:
        return True, 2
    try:
        report = checker.run(spec_for(ns.get("CELL", "vanilla")), ("reference",),
                             impl=ImplRequest(f"{path}:{target}", ImplOptions(timeout=20)))
    except BpttcheckError as exc:
        return True, int(exc.exit_code)
    return not report.passed, int(report.exit_code)


def _changes_at_second_point(fn: Callable[..., Any], cell: str = "vanilla") -> bool:
    params, inputs, targets, hprev = point(True, cell)
    _, g = call(fn, params, inputs, targets, hprev)
    rng = np.random.default_rng(SECOND_SEED + 1)
    for _ in range(DIRECTIONS):
        v = {n: rng.standard_normal(p.shape) for n, p in params.items()}
        h = FD_STEP
        plus = {n: p + h * v[n] for n, p in params.items()}
        minus = {n: p - h * v[n] for n, p in params.items()}
        dd = (call(fn, plus, inputs, targets, hprev)[0]
              - call(fn, minus, inputs, targets, hprev)[0]) / (2 * h)
        dot = sum(float(np.sum(g[n] * v[n])) for n in params)
        if abs(dd - dot) > CHANGED * max(abs(dd), abs(dot), 1e-12):
            return True
    return False


# -- report ---------------------------------------------------------------------
def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    by = {k: [o for o in outcomes if o.truth == k]
          for k in ("changes", "preserves", "uncertain", "elsewhere", "crash")}
    changing = by["changes"]
    detected = [o for o in changing if o.flagged]
    specific = [o for o in detected if o.specific]
    alarms = [o for o in by["preserves"] if o.flagged]
    per_op = {}
    for op in OPERATORS:
        ch = [o for o in changing if o.site.operator == op]
        det = [o for o in ch if o.flagged]
        per_op[op] = {"changing": len(ch), "detected": len(det),
                      "specific": sum(o.specific for o in det),
                      "preserving": sum(o.site.operator == op for o in by["preserves"])}
    return {
        "mutants": len(outcomes), "crash": len(by["crash"]),
        "crash_flagged": sum(o.flagged for o in by["crash"]),
        "changing": len(changing), "detected": len(detected),
        "preserving": len(by["preserves"]), "false_alarms": len(alarms),
        "uncertain": len(by["uncertain"]), "elsewhere": len(by["elsewhere"]),
        "elsewhere_flagged": sum(o.flagged for o in by["elsewhere"]),
        "specific": len(specific), "per_operator": per_op,
    }


def run(seed: int, per_op: int, sources: tuple[str, ...], exclude: tuple[int, ...] = (),
        verbose: bool = False, exclude_per_op: int | None = None
        ) -> tuple[list[Outcome], dict[str, Any]]:
    chosen = select(seed, per_op, sources)
    seen = {s.id for other in exclude
            for s, _ in select(other, exclude_per_op or per_op, sources)}
    chosen = [(s, t) for s, t in chosen if s.id not in seen]
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="bpttcheck-mutants-") as tmp:
        for site, tree in chosen:
            o = evaluate(site, tree, Path(tmp))
            outcomes.append(o)
            if verbose:
                mark = ("ok" if o.specific else "--") if o.truth == "changes" and o.flagged else (
                    "MISS" if o.truth == "changes" else "ALARM" if o.truth == "preserves"
                    and o.flagged else "")
                print(f"{mark:5} {o.truth:9} {site.id:48} {site.variant:28} "
                      f"targets={','.join(o.targets)} cause={o.cause_kind}"
                      f"{list(o.cause_params)}{list(o.cause_steps) or ''} | {site.code}",
                      file=sys.stderr)
    return outcomes, summarise(outcomes)


def format_summary(s: dict[str, Any]) -> str:
    def pct(a: int, b: int) -> str:
        return f"{a}/{b} ({100 * a / b:.0f}%)" if b else f"{a}/0"

    lines = [
        f"mutants: {s['mutants']} ({s['crash']} crash at the checked point, "
        f"{s['crash_flagged']} of them refused by bpttcheck; {s['uncertain']} uncertain; "
        f"{s['elsewhere']} change the gradient only at a second point, "
        f"{s['elsewhere_flagged']} of them flagged)",
        f"detection on gradient-changing mutants: {pct(s['detected'], s['changing'])}",
        f"false alarms on gradient-preserving mutants: {pct(s['false_alarms'], s['preserving'])}",
        f"specific and true first cause, of detected: {pct(s['specific'], s['detected'])}",
        "per operator (changing: detected, specific; preserving):",
    ]
    for op, d in s["per_operator"].items():
        lines.append(f"  {op:15} {d['changing']:3}: {d['detected']:3} detected, "
                     f"{d['specific']:3} specific; {d['preserving']} preserving")
    return "\n".join(lines)


def table() -> str:
    return "\n".join(f"| {op} | {', '.join(sorted(kinds))} |" for op, kinds in ACCEPTABLE.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--per-op", type=int, default=PER_OP)
    parser.add_argument("--sources", default=",".join(TUNING),
                        help=f"comma-separated stems in bench/mutant_sources (held out: "
                             f"{','.join(HELD_OUT_SOURCES)})")
    parser.add_argument("--exclude-seeds", default="",
                        help="comma-separated (tuning) seeds: drop mutants they also select")
    parser.add_argument("--exclude-per-op", type=int, default=None,
                        help="the --per-op the excluded seeds were run with (default: --per-op)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--table", action="store_true", help="print the operator -> kinds table")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.table:
        print(table())
        return 0
    sources = tuple(s.strip() for s in args.sources.split(",") if s.strip())
    start = time.perf_counter()
    exclude = tuple(int(s) for s in args.exclude_seeds.split(",") if s.strip())
    outcomes, summary = run(args.seed, args.per_op, sources, exclude, args.verbose,
                            args.exclude_per_op)
    seconds = time.perf_counter() - start
    print(f"bench/mutants.py --seed {args.seed} --per-op {args.per_op} --sources "
          f"{','.join(sources)}" + (f" --exclude-seeds {args.exclude_seeds}" if exclude else "")
          + (f" --exclude-per-op {args.exclude_per_op}" if args.exclude_per_op else "")
          + f"  ({datetime.date.today().isoformat()}, {seconds:.0f} s)")
    print(format_summary(summary))
    if args.json is not None:
        args.json.write_text(json.dumps({
            "summary": summary,
            "mutants": [{**dataclasses.asdict(o.site), "truth": o.truth, "changed": o.changed,
                         "flagged": o.flagged, "exit_code": o.exit_code,
                         "cause": o.cause_kind, "cause_params": o.cause_params,
                         "cause_steps": o.cause_steps, "targets": o.targets,
                         "specific": o.specific, "message": o.message} for o in outcomes],
        }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
