"""Point at the line: search single edits of the user's function that make its gradient exact.

When ``--impl`` finds the user's backward pass wrong, bpttcheck knows the right
answer exactly (the reference engine), so it can *try* small edits of their own
source and keep only those that turn the gradient into the right one.

**Candidates** (:func:`candidates`) are the mutation harness's operators
(``bench/mutants.py``) run backwards, generated over the AST of the target
function and the helpers it calls in the same file, and written back as the
replacement of ONE whole physical line, as text: only the characters of the
changed node move, so indentation, comments and Python 2 spellings stay as
written. They are: add or remove ``.T``; swap the operands of a matrix product
or an einsum's output; an index ``[t]`` -> ``[t-1]``/``[t+1]`` and back; a loop
bound moved by one (``range``, ``>``/``>=``); a missing ``+ dhnext`` term
(any carried variable of the function); ``=`` <-> ``+=``, ``+=`` <-> ``-=``; a
sign (``-x`` -> ``x``, ``a - b`` <-> ``a + b``); a constant scale removed
(``/ len(x)``, ``* 0.5``); a stray ``np.clip`` removed; a variable swapped with
another of the same role (``dh``/``dhraw``, ``seq_in``/``seq_out``); the loop
direction (``reversed(range(..))`` <-> ``range(..)``); the tanh derivative
``(1 - h)`` or ``(1 - h)**2`` -> ``(1 - h*h)``; one statement deleted.

They are **ranked** by how well they could explain what was measured (the
unedited copy is run first, to see which parameters are wrong): a backward slice
over names, from the lines that write each parameter's gradient (``dNAME``, a
``"NAME"`` key), puts lines that feed only the wrong gradients first and lines
that feed only right ones last; when exactly Wxh, Whh and bh are wrong, the line
that writes the carried gradient gets a bonus; common bug kinds come before rare
ones.

**Verification** (:func:`search`), in two stages, both in a child process through
the same loader as any user code (:meth:`RemoteCode.reload`), on a copy written to a
temporary directory (never over the user's file; a notebook's copy is a notebook,
without its outputs):

1. *screen*: the copy is called at :func:`bpttcheck.model.second_point` first (other
   seed, non-zero biases, random hprev: the stricter point), then at the spec's own;
   it passes when, at both, its loss is the declared loss and every element of its
   gradient agrees with the reference engine within the analytic tolerance.
2. *the whole check*: a copy that passes the screen is checked exactly as ``--impl``
   checks the user's file (:func:`bpttcheck.impl.check.check_impl`, with the run's own
   engines at the spec's point, the user's ``--impl-*`` options and declared loss):
   loss and gradient on every element at both points, numerical differentiation of
   its own loss, determinism, returned states. Only a copy that gets the passing
   verdict there is a *verified* fix.

When no single edit does that, the best *partial* fix makes some wrong parameters
exact and no parameter worse at both points (screen), and the whole check of its copy
names what remains wrong (``remaining``: the parameters with a failing comparison at
either point, and the loss); pairs of edits are tried only with the budget that is
left. A whole check starts only within ``--fix-budget`` (the first partial fix's
excepted) but is never cut short: it takes as long as the user's own check took.
Nothing unverified is ever returned.

**Layer functions** (``--impl FILE.py:rnn_backward``, :func:`search_layer`) are searched
the same way: the backward and the helpers it calls are edited, each copy is screened at
two points (the layer check's seeded point for the spec's seed and for another seed: their
forward against ours, every element of their backward's gradient of L = <G, h> against
the layer reference) and then judged by the whole layer check
(:func:`bpttcheck.layers.check_layer`) at both.

**Notebooks** are searched as the loader reads them, their code cells joined (magics
blanked out); each edit is named by the code cell's number, as the loader's messages
count cells, and the line within that cell; ``--fix-out`` writes the whole notebook
with only those lines changed (:func:`patched`).
"""

from __future__ import annotations

import ast
import collections
import concurrent.futures
import contextlib
import copy
import dataclasses
import functools
import itertools
import json
import os
import queue
import re
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import prose
from .compare import rel_error, tolerance
from .engines import Gradients, Options
from .engines import reference as reference_engine
from .errors import ImplError
from .impl import notebook
from .impl.check import DeclaredLoss, ImplReport, check_impl
from .impl.loader import read_source, resolve_path, split_target
from .impl.options import ImplOptions
from .impl.runner import MEMORY_LIMIT, RemoteCode
from .impl.source import read as read_source_nodes
from .model import HIDDEN_PARAMS, PARAM_NAMES, SECOND_SEED, Problem, build, second_point
from .spec import Spec

BUDGET = 3.0  # default seconds of search (--fix-budget): the harness median is well below
CALL_TIMEOUT = 2.0  # seconds a candidate may take per call (an edit can make a loop endless)
LOAD_TIMEOUT = 10.0  # seconds to start a child and load the first copy
LOSS_RTOL = 1e-9  # the same loss summed in another order agrees to far better than this
# Screening float32 code (the whole --impl check, with float32 error bars, then verifies):
FLOAT32_SCREEN = 1e-2  # elementwise relative error a float32 gradient stays well within
FLOAT32_LOSS_RTOL = 1e-5  # a float32 loss summed over the steps, against ours
MAX_PAIRS = 400  # pairs of edits tried at most (only with the budget left after singles)
MAX_PARTIAL_CHECKS = 3  # partial fixes given the full check, best first
# Child processes screening at once: the parent only waits on their pipes, so two use two
# cores; more would compete with whatever else the machine runs (one where only one core is).
WORKERS = max(1, min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                     else os.cpu_count() or 1))
_STARTING = threading.Lock()  # one child started at a time (runner hides __main__ meanwhile)
MODULES = frozenset({"np", "numpy", "math", "scipy", "torch", "jnp", "self", "cls"})
CARRIED = re.compile(r"(next|carry|prev|future|later|incoming|from_above|above|ahead)",
                     re.IGNORECASE)
KNOWN_ROLES = ({"inputs", "targets"}, {"xs", "ys"}, {"x", "y"}, {"src", "tgt"},
               {"inp", "tgt"}, {"input", "target"})
PRIORITY = {"transpose": 5.0, "carry": 5.0, "accumulate": 5.0, "clip": 5.0, "index": 4.0,
            "tanh": 4.0, "insert": 4.0, "scale": 4.0, "loop": 4.0, "bound": 3.5, "sign": 3.0,
            "operands": 3.0, "delete": 2.0, "swap": 1.5}


@dataclasses.dataclass(frozen=True)
class Edit:
    """Replace line ``line`` (1-based) of ``path``, whose text is ``before``, by ``after``
    (which may be empty: the line is deleted). In a notebook, ``cell`` is the code cell's
    number as the loader's messages count cells (every cell, markdown too, from 1) and
    ``line`` counts lines within that cell."""

    path: str
    line: int
    before: str
    after: str
    cell: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path}
        if self.cell is not None:
            out["cell"] = self.cell
        out.update(line=self.line, before=self.before, after=self.after)
        return out

    @property
    def place(self) -> str:
        """``line 41``, or ``cell 5, line 23`` in a notebook."""
        return f"line {self.line}" if self.cell is None else f"cell {self.cell}, line {self.line}"


@dataclasses.dataclass(frozen=True)
class Candidate:
    line: int
    after: str
    kind: str
    score: float
    parse: bool = False  # the new line must parse as a statement (see :meth:`runnable`)

    def runnable(self) -> bool:
        """Whether the edited line is still Python (parsed only for candidates tried)."""
        if not self.parse:
            return True
        try:
            ast.parse(textwrap.dedent(self.after))
        except SyntaxError:
            return False
        return True


@dataclasses.dataclass(frozen=True)
class Fix:
    """A verified edit (or pair of edits): see the module docstring."""

    verified: bool  # the edited function is exact at every point checked
    partial: bool  # exact only for some of the parameters that were wrong
    remaining: tuple[str, ...]  # what is still wrong with the edit(s) applied
    max_rel_error: float  # largest elementwise relative error left, over both points
    specs: int  # points (specs) verified on
    edits: tuple[Edit, ...]
    elements: int  # gradient elements compared at each point
    wrong: tuple[str, ...] = ()  # what was wrong before the edit(s)

    def to_dict(self) -> dict[str, Any]:
        return {"verified": self.verified, "partial": self.partial,
                "remaining": list(self.remaining), "max_rel_error": self.max_rel_error,
                "specs": self.specs, "edits": [e.to_dict() for e in self.edits]}


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What the search found (``fix``, or None) and what it tried."""

    fix: Fix | None
    tried: int  # candidate sources run
    generated: int  # candidates generated
    lines: tuple[int, ...]  # the lines searched (of the joined code cells, in a notebook)
    seconds: float
    wrong: tuple[str, ...]  # what was wrong before any edit
    why: str = ""  # why nothing was searched (when nothing was)
    where: str = ""  # the lines searched, as the user counts them ("lines 3-9", "cell 5, ...")
    rejected: int = 0  # edits exact at both points that the full check then refused
    checking: float = 0.0  # of ``seconds``, those spent in full --impl checks of edits


# -- candidates --------------------------------------------------------------------------

def apply(text: str, edits: tuple[Edit, ...] | list[Edit]) -> str:
    """``text`` with each edit's line replaced (lines numbered as in ``text``)."""
    lines = text.splitlines(keepends=True)
    for e in edits:
        old = lines[e.line - 1]
        if old.rstrip("\r\n") != e.before:
            raise ValueError(f"line {e.line} is not {e.before!r}")
        ending = old[len(old.rstrip("\r\n")):] or "\n"
        lines[e.line - 1] = e.after + ending if e.after else ""
    return "".join(lines)


def apply_cells(doc: dict[str, Any], edits: tuple[Edit, ...] | list[Edit]) -> dict[str, Any]:
    """Notebook ``doc`` with each edit's line of its cell replaced (a new document; the
    cells not edited, their outputs and the metadata are shared, unchanged)."""
    cells = list(doc["cells"])
    for number in sorted({e.cell for e in edits if e.cell is not None}):
        cell = dict(cells[number - 1])
        if cell.get("cell_type") != "code":
            raise ValueError(f"cell {number} is not a code cell")
        lines = notebook.cell_text(cell).splitlines(keepends=True)
        for e in edits:
            if e.cell != number:
                continue
            old = lines[e.line - 1]
            if old.rstrip("\r\n") != e.before:
                raise ValueError(f"cell {number}, line {e.line} is not {e.before!r}")
            ending = old[len(old.rstrip("\r\n")):]
            lines[e.line - 1] = e.after + (ending or ("\n" if "\n" in e.after else "")) \
                if e.after else ""
        text = "".join(lines)
        # nbformat stores the source as a list of lines (each with its newline) or a string
        cell["source"] = text.splitlines(keepends=True) if isinstance(cell.get("source"), list) \
            else text
        cells[number - 1] = cell
    if any(e.cell is None for e in edits):
        raise ValueError("an edit of a notebook names no cell")
    return {**doc, "cells": cells}


def notebook_json(doc: dict[str, Any], like: str = "") -> str:
    """``doc`` as notebook JSON, indented as ``like`` (the original text) is, or as Jupyter
    writes notebooks (one space) when that cannot be told."""
    second = like.split("\n", 2)[1] if like.count("\n") >= 2 else " "
    indent = len(second) - len(second.lstrip(" ")) or 1
    end = "" if like and not like.endswith("\n") else "\n"
    return json.dumps(doc, indent=indent, ensure_ascii=False) + end


class _Document:
    """The user's file as the search edits it: a .py file's text, or a notebook's code
    cells joined as the loader joins them (edits are made on that text's lines, and named
    by cell and line within the cell)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.notebook = notebook.is_notebook(path)
        self.doc: dict[str, Any] = {}
        self.starts: list[tuple[int, int]] = []
        if self.notebook:
            self.raw = path.read_bytes().decode("utf-8")
            self.doc = notebook.load(path)
            self.text, _, self.starts = notebook.join(self.doc, path)
            # the copies run in the search need no outputs (the loader reads only sources)
            self.bare = {**self.doc, "cells": [
                {**c, "outputs": []} if isinstance(c, dict) and "outputs" in c else c
                for c in self.doc["cells"]]}
        else:
            self.text = read_source(path)  # bounded, UTF-8 or an ImplError, as the loader
        self.lines = self.text.splitlines()

    def locate(self, line: int) -> tuple[int | None, int]:
        """(cell, line within it) of line ``line`` of the text searched; (None, line) in a
        .py file."""
        if not self.notebook:
            return None, line
        cell, first = [c for c in self.starts if c[1] <= line][-1]
        return cell, line - first + 1

    def edit(self, line: int, after: str) -> Edit:
        cell, within = self.locate(line)
        return Edit(str(self.path), within, self.lines[line - 1], after, cell)

    def content(self, edits: tuple[Edit, ...] | list[Edit], bare: bool = True) -> str:
        """The file with ``edits`` applied: Python text, or notebook JSON."""
        if not self.notebook:
            return apply(self.text, edits)
        return notebook_json(apply_cells(self.bare if bare else self.doc, edits), self.raw)

    def where(self, lines: tuple[int, ...]) -> str:
        """The lines searched, as the user counts them."""
        if not lines:
            return ""
        def span(ls: list[int] | tuple[int, ...]) -> str:
            return f"line{'s' * (len(ls) > 1)} {prose.line_ranges(ls)}"

        if not self.notebook:
            return span(lines)
        cells: dict[int, list[int]] = {}
        for k in lines:
            cell, within = self.locate(k)
            cells.setdefault(int(cell or 0), []).append(within)
        return "; ".join(f"cell {c}, {span(ls)}" for c, ls in cells.items())


def _target_defs(nodes: list[ast.stmt], name: str) -> list[ast.FunctionDef]:
    """The target function (NAME or Class.method) and the helpers it calls in this file."""
    funcs = {n.name: n for n in nodes if isinstance(n, ast.FunctionDef)}
    classes = {n.name: n for n in nodes if isinstance(n, ast.ClassDef)}
    cls_name, _, meth = name.rpartition(".")
    methods: dict[str, ast.FunctionDef] = {}
    if cls_name and cls_name in classes:
        methods = {n.name: n for n in classes[cls_name].body if isinstance(n, ast.FunctionDef)}
        first = methods.get(meth)
    else:
        first = funcs.get(name)
    if first is None:
        return []
    out = [first]
    todo = [first]
    while todo:
        f = todo.pop()
        for node in ast.walk(f):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            found = None
            if isinstance(fn, ast.Name):
                found = funcs.get(fn.id)
            elif isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) \
                    and fn.value.id in ("self", "cls"):
                found = methods.get(fn.attr)
            if found is not None and found not in out:
                out.append(found)
                todo.append(found)
    return out


class _Line:
    """One physical line as bytes (AST columns are UTF-8 byte offsets)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.raw = text.encode("utf-8")

    def seg(self, node: ast.AST) -> str:
        return self.raw[_c0(node):_c1(node)].decode("utf-8")

    def splice(self, spans: list[tuple[int, int, str]]) -> str | None:
        raw = self.raw
        for start, end, new in sorted(spans, reverse=True):
            raw = raw[:start] + new.encode("utf-8") + raw[end:]
        try:
            out = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return out if out != self.text else None


def _c0(node: ast.AST) -> int:
    return int(getattr(node, "col_offset", 0))


def _c1(node: ast.AST) -> int:
    return int(getattr(node, "end_col_offset", 0) or 0)


def _one_line(node: ast.AST) -> bool:
    first = getattr(node, "lineno", None)
    return first is not None and first == getattr(node, "end_lineno", None)


def _ln(node: ast.AST) -> int:
    return int(getattr(node, "lineno", 0))


def _atom(node: ast.AST) -> bool:
    return isinstance(node, ast.Name | ast.Attribute | ast.Subscript | ast.Call | ast.Constant)


def _spaced(line: str) -> bool:
    return bool(re.search(r"\w [-+*/] \w", line))


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for stmt in body:
        yield stmt
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list):
                yield from _statements(inner)
        for handler in getattr(stmt, "handlers", []) or []:
            yield from _statements(handler.body)


def _header_exprs(stmt: ast.stmt) -> list[ast.AST]:
    """The expressions that belong to a statement's own line(s), not its body."""
    if isinstance(stmt, ast.For):
        return [stmt.iter]
    if isinstance(stmt, ast.While | ast.If):
        return [stmt.test]
    if isinstance(stmt, ast.With | ast.Try | ast.FunctionDef | ast.ClassDef):
        return []
    return [stmt]


def _names(func: ast.FunctionDef) -> tuple[set[str], set[str]]:
    """Names assigned in (or arguments of) ``func``, and carried-looking ones among them."""
    assigned = {a.arg for a in func.args.args + func.args.kwonlyargs}
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            assigned.add(node.id)
    carried = {n for n in assigned if CARRIED.search(n) and n not in ("hprev", "h_prev")}
    return assigned - MODULES, carried | _unread_in_loop(func)


def _unread_in_loop(func: ast.FunctionDef) -> set[str]:
    """Names a loop assigns (``name = ...``) that nothing in the loop reads: a value made for
    the next step that no step uses, as a carried gradient whose ``+ dhnext`` was forgotten
    is, whatever it is called."""
    out: set[str] = set()
    for loop in ast.walk(func):
        if not isinstance(loop, ast.For | ast.While):
            continue
        stored = {t.id for s in _statements(loop.body) if isinstance(s, ast.Assign)
                  for t in s.targets if isinstance(t, ast.Name)}
        read = {n.id for n in ast.walk(loop) if isinstance(n, ast.Name)
                and isinstance(n.ctx, ast.Load)}
        out |= stored - read
    return out


@functools.lru_cache(maxsize=65536)
def _same_role(a: str, b: str) -> bool:
    if a == b:
        return False
    if any({a, b} == r for r in KNOWN_ROLES):
        return True
    if min(len(a), len(b)) >= 2 and (a.startswith(b) or b.startswith(a)):
        return True
    if a[0] == b[0] == "d" and max(len(a), len(b)) <= 6:  # two gradients: dh, dz, dWhh
        return True
    if len(a) == len(b) and "_" in a and a.rsplit("_", 1)[0] == b.rsplit("_", 1)[0]:
        return True  # e_h / e_a
    ta = {t for t in re.split(r"_|\d", a.lower()) if len(t) >= 2}
    tb = {t for t in re.split(r"_|\d", b.lower()) if len(t) >= 2}
    return bool(ta & tb) and a.rstrip("s") != b.rstrip("s")


def _edits_of(stmt: ast.stmt, lines: list[str], assigned: set[str], carried: set[str],
              in_loop: bool, spaced: bool = True) -> Iterator[tuple[int, str, str | None]]:
    """(line, kind, new line text) for every single-node edit of ``stmt``; a node spanning
    one physical line is edited on that line, even inside a statement that spans several."""
    cache: dict[int, _Line] = {}

    def at(n: ast.AST) -> _Line:
        k = _ln(n)
        if k not in cache:
            cache[k] = _Line(lines[k - 1])
        return cache[k]

    def seg(n: ast.AST) -> str:
        return at(n).seg(n)

    def splice(n: ast.AST, spans: list[tuple[int, int, str]]) -> tuple[int, str | None]:
        return _ln(n), at(n).splice(spans)

    def replace(n: ast.AST, new: str) -> tuple[int, str | None]:
        return splice(n, [(_c0(n), _c1(n), new)])

    def insert(n: ast.AST, new: str) -> tuple[int, str | None]:
        return splice(n, [(_c1(n), _c1(n), new)])

    def gap(a: ast.AST, b: ast.AST) -> str:
        return at(a).raw[_c1(a):_c0(b)].decode("utf-8")

    def same_line(*ns: ast.AST) -> bool:
        return all(_one_line(n) for n in ns) and len({_ln(n) for n in ns}) == 1

    parents: dict[int, ast.AST] = {}
    roots = _header_exprs(stmt)
    for root in roots:
        for p in ast.walk(root):
            for c in ast.iter_child_nodes(p):
                parents[id(c)] = p

    def in_index(n: ast.AST) -> bool:
        p = parents.get(id(n))
        while p is not None:
            if isinstance(p, ast.Subscript):
                return True
            p = parents.get(id(p))
        return False

    def wrapped(n: ast.AST) -> bool:
        raw = at(n).raw
        before = raw[:_c0(n)].rstrip()
        after = raw[_c1(n):].lstrip()
        return before.endswith(b"(") and after.startswith(b")")

    def kinds(k: str, where: tuple[int, str | None]) -> tuple[int, str, str | None]:
        return where[0], k, where[1]

    written, _ = _defs_uses(stmt)  # `dbh += dbh` is never the fix
    gradients = {f"d{p}" for p in PARAM_NAMES}  # dWxh for dWhh: a wrong accumulator, rare
    # operators spaced as this statement spaces them, or (when it shows neither) as the file
    here = "\n".join(lines[stmt.lineno - 1:stmt.end_lineno])
    sp = " " if _spaced(here) or (spaced and not re.search(r"\w[-+*/]\w", here)) else ""
    single = _one_line(stmt)
    # whole-statement edits
    if isinstance(stmt, ast.Assign | ast.AugAssign | ast.Expr) and single:
        yield stmt.lineno, "delete", ""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and in_loop \
            and same_line(stmt.targets[0], stmt.value):
        t, v = stmt.targets[0], stmt.value
        yield kinds("accumulate", splice(t, [(_c1(t), _c0(v),
                                              gap(t, v).replace("=", "+=", 1))]))
    if isinstance(stmt, ast.AugAssign) and same_line(stmt.target, stmt.value):
        t, v = stmt.target, stmt.value
        g = gap(t, v)
        swaps = {ast.Add: (("+=", "="), ("+=", "-=")), ast.Sub: (("-=", "+="),)}
        for old, new in swaps.get(type(stmt.op), ()):
            kind = "accumulate" if new == "=" else "sign"
            yield kinds(kind, splice(t, [(_c1(t), _c0(v),
                                          g.replace(old, new, 1))]))
    value = stmt.value if isinstance(stmt, ast.Assign | ast.AugAssign | ast.Return) else None
    if value is not None and in_loop:
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) else getattr(stmt, "target", None)
        tname = target.id if isinstance(target, ast.Name) else ""
        # where a missing term may go: after the whole value, or inside parentheses
        spots = [value] + [n for n in ast.walk(value) if n is not value and _one_line(n)
                           and isinstance(n, ast.BinOp | ast.Name | ast.Subscript | ast.Call)
                           and wrapped(n)]
        # or in a call's first argument (`step_backward(dh[:, t] + dprev, cache[t])`)
        spots += [n.args[0] for n in ast.walk(value) if isinstance(n, ast.Call) and n.args
                  and _one_line(n.args[0]) and not isinstance(n.args[0], ast.Starred)
                  and n.args[0] not in spots]
        for cv in sorted(carried):
            if cv == tname or any(isinstance(n, ast.Name) and n.id == cv
                                  for n in ast.walk(value)):
                continue
            for spot in spots:
                if not _one_line(spot):
                    continue
                if spot is value and isinstance(value, ast.IfExp | ast.Lambda | ast.Compare
                                                | ast.BoolOp):
                    yield kinds("carry", replace(value, f"({seg(value)}) + {cv}"))
                else:
                    yield kinds("carry", insert(spot, f"{sp}+{sp}{cv}" if sp else f"+{cv}"))
    if isinstance(stmt, ast.For) and _one_line(stmt.iter):
        it = stmt.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "reversed" \
                and len(it.args) == 1:
            yield kinds("loop", replace(it, seg(it.args[0])))
        elif isinstance(it, ast.Call) and isinstance(it.func, ast.Name) \
                and it.func.id in ("range", "xrange"):
            yield kinds("loop", replace(it, f"reversed({seg(it)})"))
        elif isinstance(it, ast.Call) and isinstance(it.func, ast.Name) \
                and it.func.id in ("enumerate", "zip"):
            yield kinds("loop", replace(it, f"reversed(list({seg(it)}))"))
        elif isinstance(it, ast.Call) and isinstance(it.func, ast.Name) \
                and it.func.id == "reversed" and len(it.args) == 1 \
                and isinstance(it.args[0], ast.Call) and isinstance(it.args[0].func, ast.Name) \
                and it.args[0].func.id == "list" and len(it.args[0].args) == 1:
            yield kinds("loop", replace(it, seg(it.args[0].args[0])))
    # node edits
    for root in roots:
        # the same scale everywhere on a line (`return dW / n, db / n`)
        scaled: dict[tuple[int, str], list[ast.BinOp]] = {}
        for d in ast.walk(root):
            if isinstance(d, ast.BinOp) and isinstance(d.op, ast.Div) and _one_line(d):
                scaled.setdefault((d.lineno, ast.dump(d.right)), []).append(d)
        for group in scaled.values():
            if len(group) > 1:
                yield kinds("scale", splice(group[0], [
                    (_c0(d), _c1(d), seg(d.left)) for d in group]))
        # a scale on one side only (`return loss / n, dW, db`): applied to the others too
        items: list[ast.expr] = []
        if isinstance(root, ast.Return | ast.Assign) and isinstance(root.value, ast.Tuple):
            items = list(root.value.elts)
        elif isinstance(root, ast.Return | ast.Assign) and isinstance(root.value, ast.Dict):
            items = list(root.value.values)
        ops = {ast.dump(e.op) + ast.dump(e.right) for e in items
               if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Div | ast.Mult)}
        plain = [e for e in items if not isinstance(e, ast.BinOp) and not isinstance(
            e, ast.Starred) and _one_line(e)]
        if len(ops) == 1 and plain and len(plain) < len(items) and same_line(*items):
            sc = next(e for e in items if isinstance(e, ast.BinOp))
            assert isinstance(sc, ast.BinOp)
            how = at(sc).raw[_c1(sc.left):_c1(sc)].decode("utf-8")  # ` / n`
            # to every other element; or not to a returned state (`hs[-1]`, the last one)
            names: list[ast.expr] = [e for e in plain if isinstance(e, ast.Name)]
            for part in (plain, names, [e for e in plain if e is not items[-1]]):
                if part:
                    yield kinds("scale", splice(part[0], [(_c1(e), _c1(e), how)
                                                          for e in part]))
        for n in ast.walk(root):
            if not _one_line(n) or n is stmt:
                continue
            parent = parents.get(id(n))
            load = isinstance(getattr(n, "ctx", ast.Load()), ast.Load)
            # transposes
            if isinstance(n, ast.Attribute) and n.attr == "T":
                yield kinds("transpose", replace(n, seg(n.value)))
            elif isinstance(n, ast.Name | ast.Attribute | ast.Subscript | ast.Call) and load \
                    and not in_index(n) \
                    and not (isinstance(n, ast.Name) and n.id in MODULES) \
                    and not (isinstance(parent, ast.Call) and parent.func is n) \
                    and (_product(parent) or (isinstance(parent, ast.Attribute)
                                              and parent.attr == "dot")):
                yield kinds("transpose", insert(n, ".T"))
            if _product(n) and not in_index(n) and isinstance(
                    parent, ast.Assign | ast.AugAssign | ast.BinOp | ast.Return | ast.Dict):
                yield kinds("transpose", insert(n, ".T") if isinstance(n, ast.Call)
                            else replace(n, f"({seg(n)}).T"))
            # operands of a product, an einsum's output
            pair: tuple[ast.AST, ast.AST] | None = None
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult):
                pair = (n.left, n.right)
            if isinstance(n, ast.Call) and len(n.args) == 2 and not n.keywords and isinstance(
                    n.func, ast.Attribute) and n.func.attr in ("dot", "outer", "matmul"):
                pair = (n.args[0], n.args[1])
            if pair is not None and same_line(*pair):
                a, b = pair
                yield kinds("operands", splice(a, [(_c0(a), _c1(a), seg(b)),
                                                   (_c0(b), _c1(b), seg(a))]))
            if isinstance(n, ast.Constant) and isinstance(n.value, str):
                m = re.fullmatch(r"(\s*\w+\s*,\s*\w+\s*->\s*)(\w+)(\s*)", n.value)
                if m and len(m.group(2)) == 2:
                    quote = seg(n)[0]
                    yield kinds("operands", replace(n, f"{quote}{m.group(1)}{m.group(2)[::-1]}"
                                                       f"{m.group(3)}{quote}"))
            # indices
            if isinstance(n, ast.Subscript):
                sl = n.slice
                elts = sl.elts if isinstance(sl, ast.Tuple) else [sl]
                for e in elts:
                    if not _one_line(e):
                        continue
                    if isinstance(e, ast.Name) and e.id in assigned:
                        yield kinds("index", replace(e, f"{e.id}{sp}-{sp}1"))
                        yield kinds("index", replace(e, f"{e.id}{sp}+{sp}1"))
                    elif isinstance(e, ast.BinOp) and isinstance(e.left, ast.Name) \
                            and isinstance(e.op, ast.Add | ast.Sub) \
                            and isinstance(e.right, ast.Constant) and e.right.value == 1:
                        yield kinds("index", replace(e, e.left.id))
                        other = "+" if isinstance(e.op, ast.Sub) else "-"
                        yield kinds("index", replace(e, f"{e.left.id}{sp}{other}{sp}1"))
                    elif isinstance(e, ast.Slice) and e.step is None:
                        for text in _shifted_slices(e):
                            yield kinds("index", replace(e, text))
            # loop bounds
            if isinstance(n, ast.Compare) and len(n.ops) == 1 and isinstance(
                    stmt, ast.While | ast.If) and same_line(n.left, n.comparators[0]):
                flips = {ast.Gt: ">=", ast.GtE: ">", ast.Lt: "<=", ast.Lt: "<"}
                new_op = flips.get(type(n.ops[0]))
                a, b = n.left, n.comparators[0]
                op = re.search(r"[<>]=?", gap(a, b))
                if new_op is not None and op:
                    yield kinds("bound", splice(a, [(_c1(a) + op.start(),
                                                     _c1(a) + op.end(), new_op)]))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) \
                    and n.func.id in ("range", "xrange") and isinstance(stmt, ast.For):
                for arg in n.args[:2]:
                    if not _one_line(arg):
                        continue
                    k = _int_of(arg)
                    if k is not None:
                        yield kinds("bound", replace(arg, str(k - 1)))
                        yield kinds("bound", replace(arg, str(k + 1)))
                    elif isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Sub | ast.Add) \
                            and isinstance(arg.right, ast.Constant) and arg.right.value == 1:
                        yield kinds("bound", replace(arg, seg(arg.left)))
                    else:
                        yield kinds("bound", replace(arg, f"{seg(arg)}{sp}-{sp}1"))
            # signs
            if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
                yield kinds("sign", replace(n, seg(n.operand)))
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add | ast.Sub) \
                    and not in_index(n):
                a, b = n.left, n.right
                g = gap(a, b)
                new_gap = g.replace("-", "+", 1) if isinstance(n.op, ast.Sub) else \
                    g.replace("+", "-", 1)
                yield kinds("sign", splice(a, [(_c1(a), _c0(b), new_gap)]))
            # the tanh derivative: (1 - h) or (1 - h)**2 for 1 - h*h
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub) and isinstance(
                    n.left, ast.Constant) and n.left.value == 1 and _atom(n.right) \
                    and not in_index(n):
                h = seg(n.right)
                if not (isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Pow)):
                    yield kinds("tanh", replace(n, f"{seg(n.left)}{sp}-{sp}{h}{sp}*{sp}{h}"))
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) and isinstance(
                    n.left, ast.BinOp) and isinstance(n.left.op, ast.Sub) and isinstance(
                    n.left.left, ast.Constant) and n.left.left.value == 1 and _atom(n.left.right):
                h, one = seg(n.left.right), seg(n.left.left)
                text = f"{one}{sp}-{sp}{h}{sp}*{sp}{h}"
                yield kinds("tanh", replace(n, text if isinstance(parent, ast.Return | ast.Assign)
                                            or wrapped(n) else f"({text})"))
            # h * (1 - h) (the logistic function's derivative) for tanh's 1 - h*h
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
                for hv, rest in ((n.left, n.right), (n.right, n.left)):
                    if isinstance(rest, ast.BinOp) and isinstance(rest.op, ast.Sub) \
                            and isinstance(rest.left, ast.Constant) and rest.left.value == 1 \
                            and _atom(hv) and ast.dump(rest.right) == ast.dump(hv):
                        form = f"{seg(rest.left)}{sp}-{sp}{seg(hv)}{sp}*{sp}{seg(hv)}"
                        yield kinds("tanh", replace(n, form if wrapped(n) or isinstance(
                            parent, ast.Return | ast.Assign) else f"({form})"))
            # constant scales
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div | ast.Mult) \
                    and not in_index(n):
                right_scale = isinstance(n.right, ast.Constant) or (
                    isinstance(n.right, ast.Call) and isinstance(n.right.func, ast.Name)
                    and n.right.func.id in ("len", "float")) or (
                    isinstance(n.right, ast.Name) and n.right.id not in carried)
                if right_scale:
                    yield kinds("scale", replace(n, seg(n.left)))
                if isinstance(n.op, ast.Mult) and isinstance(n.left, ast.Constant):
                    yield kinds("scale", replace(n, seg(n.right)))
            # clips
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) \
                    and n.func.attr == "clip" and n.args and _one_line(n.args[0]):
                yield kinds("clip", replace(n, seg(n.args[0])))
            # a variable of the same role
            if isinstance(n, ast.Name) and load and n.id in assigned:
                for other in sorted(assigned):
                    if _same_role(n.id, other) and other not in written \
                            and not (n.id in gradients and other in gradients):
                        yield kinds("swap", replace(n, other))


PRODUCTS = frozenset({"dot", "outer", "matmul", "einsum", "inner", "kron"})


def _product(node: ast.AST | None) -> bool:
    """A matrix product: ``a @ b``, ``np.dot(a, b)``, ``a.dot(b)``, ``np.outer(a, b)``."""
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, ast.MatMult)
    if isinstance(node, ast.Call):
        f = node.func
        return (isinstance(f, ast.Attribute) and f.attr in PRODUCTS) or (
            isinstance(f, ast.Name) and f.id in PRODUCTS)
    return False


def _int_of(node: ast.expr | None) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(
            node.operand, ast.Constant) and type(node.operand.value) is int:
        return -node.operand.value
    return None


def _shifted_slices(e: ast.Slice) -> list[str]:
    """``a:b`` moved one step down and one up (``1:`` <-> ``:-1``), constant bounds only."""
    lo = 0 if e.lower is None else _int_of(e.lower)
    up = _int_of(e.upper) if e.upper is not None else None
    if lo is None or (e.upper is not None and up is None) or lo < 0:
        return []
    out = []
    for d in (-1, 1):
        new_lo = lo + d
        if new_lo < 0:
            continue
        if up is None:
            if d > 0:
                continue
            new_up: int | None = -1
        else:
            new_up = up + d
            if up < 0 and new_up == 0:
                new_up = None
            elif up >= 0 > new_up:
                continue
        out.append(f"{new_lo or ''}:{'' if new_up is None else new_up}")
    return out


def _mentions(text: str, names: set[str]) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])", text)
               for n in names)


def candidates(text: str, path: Path, name: str, wrong: tuple[str, ...] = (),
               theirs: Mapping[str, str] | None = None, *, loss: bool | None = None,
               second_only: bool = False) -> list[Candidate]:
    """Every single-line edit of ``name`` (and its helpers) in ``text``, best first.

    ``wrong``: bpttcheck's names of the parameters measured wrong; ``theirs``: the
    user's name for each of bpttcheck's (from ``--impl-names`` or the loader). What else
    was measured, when known: ``loss``, whether the loss is wrong (the lines that write
    it come first when it is, last when it is right); ``second_only``, whether everything
    is right at the spec's point (zero biases, and often zero hprev) and wrong only at the
    second: then the lines that read the biases or the initial state come first.
    """
    try:
        nodes = read_source_nodes(text, path, name.rpartition(".")[2]).nodes
    except ImplError:
        return []
    lines = text.splitlines()
    names_of = dict(theirs or {})
    aliases = {p: {p, f"d{p}", names_of.get(p, p), f"d{names_of.get(p, p)}",
                   f"d_{names_of.get(p, p)}"} for p in PARAM_NAMES}
    bad = set().union(*(aliases[p] for p in wrong if p in aliases)) if wrong else set()
    good = set().union(*(aliases[p] for p in PARAM_NAMES if p not in wrong)) - bad
    # All of Wxh, Whh, bh wrong and the output layer right: the error is in dh (the recursion)
    recursion = set(wrong) == set(HIDDEN_PARAMS)
    everything = set(wrong) >= set(PARAM_NAMES)
    out: dict[tuple[int, str], Candidate] = {}
    defs = _target_defs(nodes, name)
    first = defs[0] if defs else None
    biases = set().union(*(aliases[p] for p in ("bh", "by")))
    spaced = _spaced_style(defs, lines)
    picks = _picked(nodes, lines)
    for func in defs:
        assigned, carried = _names(func)
        flows = _flows(func, lines, bad, good)
        loops: set[int] = set()
        for stmt in _statements(func.body):
            if isinstance(stmt, ast.For | ast.While):
                loops.update(id(s) for s in _statements(stmt.body))
        for stmt in _statements(func.body):
            if isinstance(stmt, ast.FunctionDef | ast.ClassDef) or stmt.end_lineno is None \
                    or stmt.end_lineno > len(lines):
                continue
            text = "\n".join(lines[stmt.lineno - 1:stmt.end_lineno])
            relevance = _relevance(stmt, text, {a for a in bad if a.startswith("d")},
                                   {a for a in good if a.startswith("d")}, carried, recursion,
                                   everything)
            relevance += _flow_score(stmt, flows)
            relevance += _measured(stmt, text, loss, second_only, biases)
            edits = _edits_of(stmt, lines, assigned, carried,
                              id(stmt) in loops or func is not first, spaced)
            for lineno, kind, after in itertools.chain(edits, _minus_one(stmt, lines, picks)):
                if after is None or (lineno, after) in out:
                    continue
                if kind == "delete" and _only_statement(func, stmt):
                    old = lines[lineno - 1]
                    after = old[:len(old) - len(old.lstrip())] + "pass"
                # an edit must leave the line a statement: checked only when it is tried
                parse = _one_line(stmt) and bool(after.strip()) and not isinstance(
                    stmt, ast.For | ast.While | ast.If)
                out[(lineno, after)] = Candidate(lineno, after, kind,
                                                 PRIORITY[kind] + relevance, parse)
    return sorted(out.values(), key=lambda c: (-c.score, c.line))


def _picked(nodes: list[ast.stmt], lines: list[str]) -> dict[str, str]:
    """The probabilities the loss takes the log of, and the index it picks them at: from
    ``np.log(ps[t][targets[t], 0])`` or ``-np.log(probs[np.arange(T), ys])``, the text of
    ``ps[t]`` (as its AST) -> ``targets[t], 0``."""
    out: dict[str, str] = {}
    for node in nodes:
        for n in ast.walk(node):
            if not (isinstance(n, ast.Call) and n.args and isinstance(n.args[0], ast.Subscript)
                    and _one_line(n.args[0])):
                continue
            f = n.func
            if (isinstance(f, ast.Attribute) and f.attr == "log") or (
                    isinstance(f, ast.Name) and f.id == "log"):
                sub = n.args[0]
                raw = lines[sub.lineno - 1].encode("utf-8")
                index = raw[_c0(sub.slice):_c1(sub.slice)].decode("utf-8")
                out.setdefault(ast.dump(sub.value), index)
    return out


def _minus_one(stmt: ast.stmt, lines: list[str],
               picks: Mapping[str, str]) -> Iterator[tuple[int, str, str | None]]:
    """Softmax with cross-entropy's derivative is p - onehot(target): after a line that
    copies the probabilities the loss picks from (``dy = np.copy(ps[t])``), the forgotten
    ``dy[targets[t], 0] -= 1``, as a second line (the only edit that inserts one)."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and _one_line(stmt)
            and isinstance(stmt.targets[0], ast.Name)):
        return
    v = stmt.value
    if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr == "copy" \
            and not v.args:
        v = v.func.value  # p.copy()
    elif isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) \
            and v.func.attr in ("copy", "array") and len(v.args) == 1:
        v = v.args[0]  # np.copy(p), np.array(p)
    index = picks.get(ast.dump(v))
    if index is None:
        return
    line = lines[stmt.lineno - 1]
    indent = line[:len(line) - len(line.lstrip())]
    yield stmt.lineno, "insert", f"{line}\n{indent}{stmt.targets[0].id}[{index}] -= 1"


def _spaced_style(defs: list[ast.FunctionDef], lines: list[str]) -> bool:
    """Whether these functions mostly write ``a + b`` rather than ``a+b`` (their arithmetic
    operators, read from the code itself: comments and strings do not count)."""
    votes = 0
    for func in defs:
        for n in ast.walk(func):
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add | ast.Sub | ast.Mult
                                                         | ast.Div) and _one_line(n):
                raw = lines[n.lineno - 1].encode("utf-8")[_c1(n.left):_c0(n.right)]
                votes += 1 if raw.startswith(b" ") else -1
    return votes >= 0


def _defs_uses(stmt: ast.stmt) -> tuple[set[str], set[str]]:
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
    uses = {n.id for root in _header_exprs(stmt) for n in ast.walk(root)
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


def _flows(func: ast.FunctionDef, lines: list[str], bad: set[str], good: set[str]) -> _Flows:
    """A backward slice over names: from the statements that mention a gradient (the
    parameter's name, ``dNAME``, a ``"NAME"`` key), through every statement that writes a
    name they read. Coarse (names, not values), but enough to rank lines."""
    stmts = [s for s in _statements(func.body)
             if not isinstance(s, ast.FunctionDef | ast.ClassDef)]
    info = {id(s): _defs_uses(s) for s in stmts}

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
                if not (_mentions(lines[k - 1], grads) or quoted.search(lines[k - 1])):
                    continue
                sinks.add(id(s))
                on_line = [n for n in ast.walk(s) if isinstance(n, ast.Name)
                           and isinstance(n.ctx, ast.Load) and _ln(n) == k]
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


def _flow_score(stmt: ast.stmt, flows: _Flows) -> float:
    """Lines feeding only the wrong gradients first; lines feeding only right ones last."""
    defs, _ = _defs_uses(stmt)
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


def _relevance(stmt: ast.stmt, text: str, bad: set[str], good: set[str], carried: set[str],
               recursion: bool, everything: bool) -> float:
    """How well an edit of this line could explain which parameters were measured wrong."""
    mentions_bad = bool(bad) and _mentions(text, bad)
    mentions_good = bool(good) and _mentions(text, good)
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


def _measured(stmt: ast.stmt, text: str, loss: bool | None, second_only: bool,
              biases: set[str]) -> float:
    """What the measurement says of this line beyond which gradients are wrong: whether the
    loss is (lines writing it), and whether only the second point fails (lines reading the
    biases or the initial hidden state, which are zero at the spec's point)."""
    score = 0.0
    if loss is not None and not isinstance(stmt, ast.For | ast.While | ast.If):
        defs, _ = _defs_uses(stmt)
        if defs and all(LOSS_NAME.search(d) for d in defs):
            score += 3.0 if loss else -2.0
    if second_only and (INITIAL.search(text) or _mentions(text, biases)):
        score += 2.0
    return score


def _only_statement(func: ast.FunctionDef, stmt: ast.stmt) -> bool:
    for node in ast.walk(func):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if isinstance(body, list) and stmt in body:
                return len(body) == 1
    return False


# -- verification ------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _Score:
    """A candidate at the points run so far: per-parameter max relative error, loss ok."""

    errors: tuple[dict[str, float], ...]
    loss_ok: tuple[bool, ...]

    def wrong(self, rtol: float) -> tuple[str, ...]:
        out = [n for n in self.errors[0] if any(e[n] > rtol for e in self.errors)]
        if not all(self.loss_ok):
            out.append("loss")
        return tuple(out)

    @property
    def worst(self) -> float:
        return max(max(e.values()) for e in self.errors)


class _Trials:
    """Edited copies of the user's file, run in one child process: screened at both points
    (:meth:`score`), then judged by the whole ``--impl`` check (:meth:`full`)."""

    def __init__(self, doc: _Document, name: str, options: ImplOptions,
                 problems: list[Problem], declared: DeclaredLoss, deadline: float,
                 results: Mapping[str, Gradients] | None, engine_options: Options,
                 loss_rtol: float = LOSS_RTOL) -> None:
        self.original = doc.path
        self.loss_rtol = loss_rtol
        self.name = name
        self.dir = tempfile.TemporaryDirectory(prefix="bpttcheck-fix-")
        self.copy = Path(self.dir.name) / self.original.name
        self.options = options
        self.problems = problems
        self.deadline = deadline
        self.sizes = {"hidden": problems[0].hidden, "vocab": problems[0].vocab,
                      "seq": problems[0].batch.seq}
        self.refs = [reference_engine.gradients(p.params, p.batch, Options()) for p in problems]
        self.declared = declared
        self.factor = declared.factor(problems[0].batch.seq) or 1.0
        # the spec's point is problems[-1]: its engines' answers, as the --impl check has them
        self.results = dict(results) if results is not None else {"reference": self.refs[-1]}
        self.engine_options = engine_options
        self.code: RemoteCode | None = None
        self.checking = 0.0  # seconds spent in full checks
        self.points = len(problems)

    def close(self) -> None:
        if self.code is not None:
            self.code.close()
        self.dir.cleanup()

    def sibling(self) -> _Trials:
        """Another worker: the same points and truths, its own copy and child process."""
        other = copy.copy(self)
        other.dir = tempfile.TemporaryDirectory(prefix="bpttcheck-fix-")
        other.copy = Path(other.dir.name) / self.original.name
        other.code, other.checking = None, 0.0
        return other

    def _left(self) -> float:
        return self.deadline - time.monotonic()

    def _load(self, content: str, timeout: float) -> RemoteCode | None:
        """Write ``content`` as the copy and load it in the child (started if need be)."""
        self.copy.write_text(content, encoding="utf-8")
        target = f"{self.copy}:{self.name}"
        extra = (str(self.original.parent.resolve()),)
        try:
            if self.code is None or not self.code.alive:
                with _STARTING:
                    self.code = RemoteCode(target, dataclasses.replace(
                        self.options, timeout=min(CALL_TIMEOUT, timeout)), self.sizes,
                        extra_path=extra)
            else:
                self.code.reload(target, min(LOAD_TIMEOUT, timeout), extra)
        except ImplError:
            return None
        return self.code

    def score(self, content: str, points: int | None = None,
              keep: Callable[[_Score], bool] | None = None) -> _Score | None:
        """Load ``content`` as the user's file and call it at each point in turn; None when
        it fails to load or raises. ``keep`` decides, after each point, whether to go on."""
        left = self._left()
        if left <= 0:
            return None
        code = self._load(content, left)
        if code is None:
            return None
        errors: list[dict[str, float]] = []
        losses: list[bool] = []
        for k, (pr, ref) in enumerate(zip(self.problems, self.refs, strict=True)):
            if points is not None and k >= points:
                break
            left = self._left()
            if left <= 0:
                return None
            code.options = dataclasses.replace(code.options, timeout=min(CALL_TIMEOUT, left))
            try:
                r = code.call(pr.params, pr.batch)
            except ImplError:
                return None
            errs = {}
            for n in PARAM_NAMES:
                g = np.asarray(r.grads.get(n, np.full(pr.params[n].shape, np.nan)),
                               dtype=np.float64)
                truth = self.factor * ref.grads[n]
                if g.size != truth.size:
                    errs[n] = float("inf")
                    continue
                errs[n] = float(rel_error(g.reshape(truth.shape), truth,
                                          pr.spec.floor).max(initial=0.0))
            errors.append(errs)
            want = self.factor * ref.loss
            losses.append(bool(np.isfinite(r.loss)) and
                          abs(r.loss - want) <= self.loss_rtol * max(1.0, abs(want)))
            s = _Score(tuple(errors), tuple(losses))
            if keep is not None and not keep(s):
                return s
        return _Score(tuple(errors), tuple(losses))

    def full(self, content: str) -> tuple[bool, tuple[str, ...]] | None:
        """The whole ``--impl`` check of ``content`` (:func:`~.impl.check.check_impl`, with
        the user's options and the spec's engines): whether it passes, as the user's own file
        was judged, on both points, and what it finds wrong (:func:`_failing`); None when
        the copy does not load or the check stops on it."""
        start = time.monotonic()
        try:
            code = self._load(content, LOAD_TIMEOUT)
            if code is None:
                return None
            code.options = self.options
            try:
                report = check_impl(code, self.problems[-1], self.engine_options,
                                    self.results, self.declared)[2]
            except ImplError:
                return None
            return report.passed, _failing(report)
        finally:
            self.checking += time.monotonic() - start


class _LayerTrials:
    """Edited copies of a layer's file (``--impl FILE.py:rnn_backward``), run in one child:
    screened at both points (their forward against ours, their backward's gradients of
    L = <G, h> against the layer reference, every element), then judged by the whole layer
    check (:func:`bpttcheck.layers.check_layer`) at both."""

    def __init__(self, doc: _Document, name: str, forward: str | None, options: ImplOptions,
                 spec: Spec, deadline: float) -> None:
        from .layers.check import point, sizes_of
        from .layers.reference import forward as ref_forward
        from .layers.reference import gradients as ref_gradients

        self.original = doc.path
        self.name, self.forward = name, forward
        self.dir = tempfile.TemporaryDirectory(prefix="bpttcheck-fix-")
        self.copy = Path(self.dir.name) / self.original.name
        self.options = options
        self.deadline = deadline
        self.specs = [dataclasses.replace(spec, seed=spec.seed + SECOND_SEED), spec]
        sizes = sizes_of(spec)
        self.points_at = [point(sizes, sp.seed) for sp in self.specs]
        self.truths = [(ref_forward(ours), ref_gradients(ours, G)[0])
                       for ours, G, _ in self.points_at]
        self.floor = spec.floor
        self.rtol = spec.rtol_analytic
        self.layer: Any = None
        self.style: Any = None
        self.checking = 0.0
        self.points = len(self.specs)

    def close(self) -> None:
        if self.layer is not None:
            self.layer.close()
        self.dir.cleanup()

    def sibling(self) -> _LayerTrials:
        """Another worker: the same points and truths, its own copy and child process."""
        other = copy.copy(self)
        other.dir = tempfile.TemporaryDirectory(prefix="bpttcheck-fix-")
        other.copy = Path(other.dir.name) / self.original.name
        other.layer, other.style, other.checking = None, None, 0.0
        return other

    def _load(self, content: str, timeout: float) -> Any:
        from .layers.remote import RemoteLayer
        from .layers.styles import STYLES

        self.copy.write_text(content, encoding="utf-8")
        target = f"{self.copy}:{self.name}"
        extra = [str(self.original.parent.resolve())]
        try:
            if self.layer is None or not self.layer.alive:  # started on their own file
                with _STARTING:
                    self.layer = RemoteLayer(f"{self.original}:{self.name}", self.forward,
                                             dataclasses.replace(self.options, timeout=timeout))
            meta = self.layer._request(("layer-init", [*sys.path, *extra], os.getcwd(), target,
                                        self.forward, MEMORY_LIMIT), min(LOAD_TIMEOUT, timeout),
                                       f"loading {target}")
        except ImplError:
            return None
        if meta is None:
            return None
        self.layer.label, self.layer.style = meta["label"], meta["style"]
        self.style = next(st for st in STYLES if st.name == meta["style"])
        return self.layer

    def score(self, content: str,
              keep: Callable[[_Score], bool] | None = None) -> _Score | None:
        from .layers.check import FORWARD_RTOL
        from .layers.styles import call_backward, call_forward

        left = self.deadline - time.monotonic()
        if left <= 0:
            return None
        layer = self._load(content, min(CALL_TIMEOUT, left))
        if layer is None:
            return None
        style = self.style
        errors: list[dict[str, float]] = []
        forwards: list[bool] = []
        for (ours, G, out_layer), (h_ref, g_ref) in zip(self.points_at, self.truths,
                                                        strict=True):
            left = self.deadline - time.monotonic()
            if left <= 0:
                return None
            layer.options = dataclasses.replace(layer.options, timeout=min(CALL_TIMEOUT, left))
            theirs = style.to_theirs(ours)
            try:
                h, cache = call_forward(style, layer.forward, theirs, out_layer, layer.label)
                grads = call_backward(style, layer.backward,
                                      style.states_to_theirs(G).copy(), cache, layer.label)
            except ImplError:
                return None
            try:
                h_ours = style.states_to_ours(np.asarray(h, dtype=np.float64))
                ok = h_ours.shape == h_ref.shape and bool(np.all(
                    rel_error(h_ours, h_ref, self.floor) <= FORWARD_RTOL))
            except (TypeError, ValueError):
                ok = False
            forwards.append(ok)
            errs: dict[str, float] = {}
            for a in style.args:
                truth = a.to_theirs(g_ref[a.ours])
                try:
                    g = np.asarray(grads[a.name], dtype=np.float64)
                    errs[a.ours] = float(rel_error(g.reshape(truth.shape), truth,
                                                   self.floor).max(initial=0.0))
                except (KeyError, TypeError, ValueError):
                    errs[a.ours] = float("inf")
            errors.append(errs)
            s = _Score(tuple(errors), tuple(forwards))
            if keep is not None and not keep(s):
                return s
        return _Score(tuple(errors), tuple(forwards))

    def full(self, content: str) -> tuple[bool, tuple[str, ...]] | None:
        """The whole layer check (``--impl`` on a layer) of ``content`` at both points."""
        from .layers.check import check_layer

        start = time.monotonic()
        try:
            layer = self._load(content, LOAD_TIMEOUT)
            if layer is None:
                return None
            layer.options = self.options
            passed, wrong = True, []
            for sp in self.specs:
                try:
                    report = check_layer(layer.forward, layer.backward, sp, label=layer.label,
                                         style=layer.style, batched=layer.batched_loss,
                                         sample=self.options.sample)
                except ImplError:
                    return None
                passed = passed and report.passed
                wrong += [self.style.arg(n).ours for n in report.wrong]
                if report.findings:
                    wrong.append("loss")  # their forward is not ours: L = <G, h> differs
            return passed, tuple(dict.fromkeys(wrong))
        finally:
            self.checking += time.monotonic() - start


def search_layer(target: str, forward: str | None, options: ImplOptions, spec: Spec,
                 budget: float = BUDGET) -> Outcome:
    """The search for a layer's backward (``--impl FILE.py:rnn_backward``): its edits and
    the helpers it calls, judged by the layer check at two points (other seeds)."""
    start = time.monotonic()
    where, name = split_target(target)
    doc = _Document(resolve_path(where))
    trials = _LayerTrials(doc, name, forward, options, spec, start + budget)
    elements = sum(int(g.size) for g in trials.truths[0][1].values())
    return _drive(doc, name, trials, spec.rtol_analytic, {}, start, budget, elements)


def _failing(report: ImplReport) -> tuple[str, ...]:
    """What the ``--impl`` check found wrong: parameters with a failing comparison at either
    point (against any truth), and the loss when it is not the declared one."""
    bad = {c.parameter for p in report.points for c in p.comparisons if not c.passed}
    out = [n for n in PARAM_NAMES if n in bad]
    return (*out, "loss") if not report.loss_match else tuple(out)


def _engine_options(spec: Spec) -> Options:
    """The engines' options for a spec, as the checker builds them (no sample, no progress)."""
    return Options(clip=spec.clip, method=spec.method, step=spec.step,
                   max_memory=int(spec.max_memory * 2**20), time_budget=spec.time_budget)


def search(target: str, options: ImplOptions, spec: Spec, budget: float = BUDGET,
           declared: DeclaredLoss | None = None, theirs: Mapping[str, str] | None = None,
           results: Mapping[str, Gradients] | None = None,
           engine_options: Options | None = None, float32: bool = False) -> Outcome:
    """Search single (then paired) edits of ``target``'s source that make it exact.

    ``declared``: the loss the code should compute (``--impl-loss``; the summed loss by
    default). ``results`` and ``engine_options``: the engines' answers at the spec's point and
    their options, as the ``--impl`` check had them (the reference engine's, and options
    from ``spec``, when not given), so that an edit is judged by the same check."""
    start = time.monotonic()
    declared = declared or DeclaredLoss()
    if declared.factor(spec.seq) is None:
        raise ValueError("the fix search needs a declared loss (not --impl-loss own)")
    where, name = split_target(target)
    doc = _Document(resolve_path(where))
    problems = [build(second_point(spec)), build(spec)]  # the stricter point first
    if theirs is None:  # our name -> theirs, from --impl-names
        theirs = {ours: mine for mine, ours in options.names.items()}
    trials = _Trials(doc, name, options, problems, declared, start + budget, results,
                     engine_options or _engine_options(spec),
                     FLOAT32_LOSS_RTOL if float32 else LOSS_RTOL)
    elements = sum(p.size for p in problems[0].params.values())
    # float32 code: a looser screen (the whole check, with float32 error bars, verifies).
    rtol = FLOAT32_SCREEN if float32 else tolerance(spec, "impl", "reference")
    return _drive(doc, name, trials, rtol, theirs, start, budget, elements)


class _Workers:
    """Trials run by up to WORKERS child processes at once, in threads (the parent mostly
    waits on pipes), so that screening does not wait for one child at a time."""

    def __init__(self, first: _Trials | _LayerTrials, count: int) -> None:
        self.all: list[_Trials | _LayerTrials] = [first]
        self.count = max(1, count)
        self.free: queue.SimpleQueue[_Trials | _LayerTrials] = queue.SimpleQueue()
        self.free.put(first)
        self.started = 1
        self.lock = threading.Lock()

    @contextlib.contextmanager
    def hold(self) -> Iterator[_Trials | _LayerTrials]:
        """A worker of one's own for a while (one more is started if the pool allows)."""
        with self.lock:
            grow = self.free.empty() and self.started < self.count
            if grow:
                self.started += 1
        if grow:
            w = self.all[0].sibling()
            with self.lock:
                self.all.append(w)
        else:
            w = self.free.get()
        try:
            yield w
        finally:
            self.free.put(w)

    @property
    def checking(self) -> float:
        return sum(w.checking for w in self.all)

    def close(self) -> None:
        for w in self.all:
            with contextlib.suppress(OSError):
                w.close()

    def screen(self, jobs: Iterator[tuple[Candidate, tuple[Edit, ...], str]],
               keep: Callable[[_Score], bool], deadline: float
               ) -> Iterator[tuple[Candidate, tuple[Edit, ...], _Score | None]]:
        """Score each job's content, yielding results in the order of ``jobs`` (best
        first), a few jobs ahead on the free workers."""
        def run(content: str) -> _Score | None:
            with self.hold() as w:
                return w.score(content, keep=keep)

        if self.count == 1:
            for c, edits, content in jobs:
                if time.monotonic() >= deadline:
                    return
                yield c, edits, run(content)
            return
        with concurrent.futures.ThreadPoolExecutor(self.count,
                                                   thread_name_prefix="bpttcheck-fix") as ex:
            window: collections.deque[tuple[Candidate, tuple[Edit, ...],
                                            concurrent.futures.Future[_Score | None]]]
            window = collections.deque()
            try:
                while True:
                    while len(window) < 2 * self.count and time.monotonic() < deadline:
                        job = next(jobs, None)
                        if job is None:
                            break
                        window.append((job[0], job[1], ex.submit(run, job[2])))
                    if not window:
                        return
                    c, edits, fut = window.popleft()
                    yield c, edits, fut.result()
            finally:
                for _, _, f in window:
                    f.cancel()


def _ranked(doc: _Document, name: str, base: _Score, rtol: float,
            theirs: Mapping[str, str], points_differ: bool) -> list[Candidate]:
    """The candidates, ranked by what the unedited copy measured (``base``)."""
    wrong = base.wrong(rtol)
    at_spec = len(base.errors) > 1 and all(
        v <= rtol for v in base.errors[-1].values()) and base.loss_ok[-1]
    return candidates(doc.text, doc.path, name, tuple(w for w in wrong if w != "loss"),
                      theirs, loss="loss" in wrong, second_only=at_spec and points_differ)


def ranking(target: str, options: ImplOptions, spec: Spec) -> list[Candidate]:
    """The candidates the search would try for ``target``, in its order (the unedited copy
    run once, nothing else): the ranking measured apart from speed (bench/fixes.py)."""
    where, name = split_target(target)
    doc = _Document(resolve_path(where))
    problems = [build(second_point(spec)), build(spec)]
    trials = _Trials(doc, name, options, problems, DeclaredLoss(), time.monotonic() + 60.0,
                     None, _engine_options(spec))
    try:
        base = trials.score(doc.content([]))
        theirs = {ours: mine for mine, ours in options.names.items()}
        rtol = tolerance(spec, "impl", "reference")
        return [] if base is None else [c for c in _ranked(doc, name, base, rtol, theirs, True)
                                        if c.runnable()]
    finally:
        trials.close()


def _drive(doc: _Document, name: str, trials: _Trials | _LayerTrials, rtol: float,
           theirs: Mapping[str, str], start: float, budget: float, elements: int) -> Outcome:
    """The search itself: screen candidates best first, pairs with the budget left, then
    the best partial fix; every proposal passes the whole check (``trials.full``)."""
    deadline = start + budget
    points = trials.points
    tried = rejected = 0
    workers = _Workers(trials, WORKERS)

    def outcome(fix: Fix | None, cands: list[Candidate], wrong: tuple[str, ...]) -> Outcome:
        lines = tuple(sorted({c.line for c in cands}))
        return Outcome(fix, tried, len(cands), lines, time.monotonic() - start, wrong,
                       where=doc.where(lines), rejected=rejected, checking=workers.checking)

    try:
        base = trials.score(doc.content([]))
        if base is None:
            return Outcome(None, 0, 0, (), time.monotonic() - start, (),
                           prose.fix_unrunnable(budget))
        wrong = base.wrong(rtol)
        if not wrong:  # what failed is not the loss or gradient (state kept, hlast, ...)
            return Outcome(None, 0, 0, (), time.monotonic() - start, (),
                           prose.fix_nothing_wrong())
        cands = _ranked(doc, name, base, rtol, theirs, isinstance(trials, _Trials))

        def no_worse(s: _Score) -> bool:
            """Fixes some wrong parameter and makes none worse, at the points run so far."""
            if not all(s.loss_ok) and all(base.loss_ok[:len(s.loss_ok)]):
                return False
            better = False
            for e, b in zip(s.errors, base.errors, strict=False):
                for n in b:
                    if b[n] <= rtol and e[n] > rtol:
                        return False
                    if b[n] > rtol and e[n] > b[n] * (1 + 1e-6):
                        return False
                    if b[n] > rtol >= e[n]:
                        better = True
            return better or (all(s.loss_ok) and not all(base.loss_ok))

        def verified(edits: tuple[Edit, ...], s: _Score) -> Fix | None:
            """The fix, if the whole check passes the edited copy (None otherwise)."""
            nonlocal rejected
            with workers.hold() as w:
                judged = w.full(doc.content(edits))
            if judged is None or not judged[0]:
                rejected += 1
                return None
            return Fix(True, False, (), s.worst, points, edits, elements, wrong)

        partials: list[tuple[Candidate, _Score]] = []
        singles = ((c, (e,), doc.content([e])) for c in cands if c.runnable()
                   for e in (doc.edit(c.line, c.after),))
        for c, edits, s in workers.screen(singles, no_worse, deadline):
            tried += 1
            if s is None or len(s.errors) < points:
                continue
            if not s.wrong(rtol):
                fix = verified(edits, s)
                if fix is not None:
                    return outcome(fix, cands, wrong)
                continue
            if no_worse(s):
                partials.append((c, s))
        # pairs: a partial fix and one more edit on another line, with the budget left
        partials.sort(key=lambda cs: (len(cs[1].wrong(rtol)), cs[1].worst))

        def pairs() -> Iterator[tuple[Candidate, tuple[Edit, ...], str]]:
            n = 0
            for first, _ in partials[:3]:
                e1 = doc.edit(first.line, first.after)
                for c in cands:
                    if n >= MAX_PAIRS:
                        return
                    if c.line == first.line or not c.runnable():
                        continue
                    edits = tuple(sorted((e1, doc.edit(c.line, c.after)),
                                         key=lambda e: (e.cell or 0, e.line)))
                    n += 1
                    yield c, edits, doc.content(edits)

        for _, edits, s in workers.screen(pairs(), lambda s: not s.wrong(rtol), deadline):
            tried += 1
            if s is not None and len(s.errors) == points and not s.wrong(rtol):
                fix = verified(edits, s)
                if fix is not None:
                    return outcome(fix, cands, wrong)
        # a partial fix: the whole check, on both points, names what remains wrong
        for c, s in partials[:MAX_PARTIAL_CHECKS]:
            if time.monotonic() >= deadline and c is not partials[0][0]:
                break
            edit = doc.edit(c.line, c.after)
            with workers.hold() as w:
                judged = w.full(doc.content([edit]))
            if judged is None:
                continue
            remaining = judged[1]
            if set(remaining) < set(wrong):  # some of it made right, nothing made wrong
                fix = Fix(False, True, remaining, s.worst, points, (edit,), elements, wrong)
                return outcome(fix, cands, wrong)
            rejected += 1
        return outcome(None, cands, wrong)
    finally:
        workers.close()


def unified(fix: Fix, label: str) -> list[str]:
    """The edits as a unified diff: ``--- file``, ``+++ file (fixed)``, then ``@@ line N @@``
    (``@@ cell C, line N @@`` in a notebook) before each edit."""
    out = [f"--- {label}", f"+++ {label} (fixed)"]
    for e in fix.edits:
        out.append(f"@@ {e.place} @@")
        out.append(f"-{e.before}")
        out.extend(f"+{a}" for a in e.after.split("\n") if e.after)
    return out


def attach(report: Any, request: Any, spec: Spec,
           results: Mapping[str, Gradients] | None = None,
           engine_options: Options | None = None) -> Any:
    """``report`` (an ImplReport) with ``fix`` or ``fix_reason`` set by a search for
    ``request`` (an ImplRequest with ``fix=True``); ``results`` and ``engine_options``: the
    check's engines at the spec's point, against which each edit is judged again."""

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
    found, reason = _found(lambda: search(request.target, request.options, spec,
                                          request.fix_budget, request.loss, results=results,
                                          engine_options=engine_options, float32=float32))
    return dataclasses.replace(report, fix=found, fix_reason=reason)


def _unsearchable(report: Any, spec: Spec) -> str | None:
    """Why no edit is searched for this check (None: one is): the gradients are right but
    read in another order, or a model the search does not know yet."""
    if report.causes and report.causes[0].kind == "order":
        return ("the gradients are right but read in another order: the --impl-order named "
                "above is the fix, not an edit of your code")
    if spec.batch is not None:
        return "the search runs on one sequence; it does not handle --batch yet"
    if not spec.biases:
        return "the search does not handle a bias-free model (--no-biases) yet"
    if spec.cell != "vanilla":
        return f"the search handles the vanilla cell only, not --cell {spec.cell} yet"
    return None


def for_layer(target: str, forward: str | None, request: Any, spec: Spec,
              cell: str = "rnn") -> tuple[Fix | None, str | None]:
    """The fix for a layer target (``--impl FILE.py:rnn_backward``), or why there is none.
    The search knows the vanilla layer (``cell`` "rnn") only."""
    if cell != "rnn":
        return None, prose.fix_skipped(f"the search handles vanilla RNN layers only, not "
                                       f"{cell.upper()} layers yet")
    return _found(lambda: search_layer(target, forward, request.options, spec,
                                       request.fix_budget))


def _found(run: Callable[[], Outcome]) -> tuple[Fix | None, str | None]:
    try:
        out = run()
    except (ImplError, OSError, UnicodeDecodeError) as exc:
        return None, prose.fix_skipped(str(exc))
    if out.fix is not None:
        return out.fix, None
    if out.why:
        return None, prose.fix_skipped(out.why)
    return None, prose.fix_none(out.tried, out.generated, out.where, out.seconds,
                                out.rejected)


def section(fix: Fix | None, reason: str | None, written: str | None = None) -> list[str]:
    """The fix as plain lines (the layer report's text): sentence, diff, where written."""
    if fix is None:
        return [reason] if reason else []
    out = [heading(fix), *unified(fix, fix.edits[0].path)]
    return [*out, prose.fix_written(written)] if written else out


def heading(fix: Fix) -> str:
    """The sentence above the diff."""

    if fix.verified:
        return prose.fix_found(fix.elements, fix.max_rel_error, fix.specs, len(fix.edits))
    fixed = [n for n in fix.wrong if n not in fix.remaining and n != "loss"]
    return prose.fix_partial(fixed, fix.remaining, fix.specs)


def patched(fix: Fix) -> str:
    """The user's file with the fix applied (read again: it is never written); for a
    notebook, the whole notebook (outputs and metadata kept) as JSON."""
    path = Path(fix.edits[0].path)
    if notebook.is_notebook(path):
        return _Document(path).content(fix.edits, bare=False)
    return apply(path.read_bytes().decode("utf-8"), list(fix.edits))
