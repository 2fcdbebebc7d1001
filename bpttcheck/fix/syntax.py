"""Small questions about the AST of the user's function that the operators and the ranking share."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

MODULES = frozenset({"np", "numpy", "math", "scipy", "torch", "jnp", "self", "cls"})


# A name for what is carried from one step to the next: dhnext, dh_prev, carry, dc_future.
CARRIED = re.compile(r"(next|carry|prev|future|later|incoming|from_above|above|ahead)",
                     re.IGNORECASE)


# A logistic helper's names (``sigmoid``, ``sig``, ``_sg``, scipy's ``expit``).
SIGMOID_NAME = re.compile(r"^_?(sig|sigm|sigmoid|sg|logistic|expit)$", re.IGNORECASE)


# What turns a name into the same variable at another step (h -> h_prev, prev_h, h0, h_t).
STEP_SUFFIX = re.compile(r"(?<=[A-Za-z])(_?(prev|next|old|new|last|cur|curr|tm1|t_?1|0|1)|_t)$")
SHORT_T = re.compile(r"^([A-Za-z]{1,2})t$")  # ht, ct, xt: a short name at step t
STEP_PREFIX = re.compile(r"^(prev|next|old|new|last|cur|curr)_?(?=[A-Za-z])")


def stem(name: str) -> str:
    """A name without its step: ``h`` for ``h_prev``, ``prev_h``, ``h0``, ``h_t``."""
    short = SHORT_T.fullmatch(name)
    return short.group(1) if short else STEP_PREFIX.sub("", STEP_SUFFIX.sub("", name))


def activation_kind(f: ast.AST) -> str | None:
    """``tanh`` for ``np.tanh`` / ``tanh``, ``sigmoid`` for a logistic helper, else None
    (``f``: what a call calls)."""
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
    if name == "tanh":
        return "tanh"
    return "sigmoid" if SIGMOID_NAME.match(name) else None


def subscripted(n: ast.AST) -> ast.AST:
    """What a chain of subscripts indexes: ``g`` for ``g["Wn"][:, :H]``, ``n`` itself when
    it is no subscript."""
    while isinstance(n, ast.Subscript):
        n = n.value
    return n


def iterated(loop: ast.For | ast.comprehension) -> ast.expr:
    """What a loop goes over, without the ``reversed(...)``, ``list(...)`` or
    ``sorted(...)`` around it."""
    it = loop.iter
    while isinstance(it, ast.Call) and isinstance(it.func, ast.Name) \
            and it.func.id in ("reversed", "list", "sorted") and it.args:
        it = it.args[0]
    return it


def counted(loop: ast.For | ast.comprehension) -> list[str]:
    """The names a loop counts with: its target over ``range`` (``reversed(range(...))``,
    ``list(...)``, ``sorted(...)`` around it), or the index of ``enumerate``; none for a
    loop over data."""
    it = iterated(loop)
    name = it.func.id if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) else ""
    if name in ("range", "xrange"):
        return [n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)]
    if name == "enumerate" and isinstance(loop.target, ast.Tuple) and loop.target.elts \
            and isinstance(loop.target.elts[0], ast.Name):
        return [loop.target.elts[0].id]
    return []


def target_defs(nodes: list[ast.stmt], name: str) -> list[ast.FunctionDef]:
    """The target function (NAME or Class.method) and the helpers it calls in this file:
    functions by name, methods of its own class through ``self.``, and the methods of the
    file's classes called on an object (``layer.backward(d)`` on a ``Linear`` of the file,
    every class's method of that name)."""
    funcs = {n.name: n for n in nodes if isinstance(n, ast.FunctionDef)}
    classes = {n.name: n for n in nodes if isinstance(n, ast.ClassDef)}
    own: dict[int, dict[str, ast.FunctionDef]] = {}  # id(method) -> its class's methods
    by_name: dict[str, list[ast.FunctionDef]] = {}  # method name -> every class's
    for c in classes.values():
        methods = {n.name: n for n in c.body if isinstance(n, ast.FunctionDef)}
        for m in methods.values():
            own[id(m)] = methods
            by_name.setdefault(m.name, []).append(m)
    cls_name, _, meth = name.rpartition(".")
    if cls_name and cls_name in classes:
        first = next((n for n in classes[cls_name].body if isinstance(n, ast.FunctionDef)
                      and n.name == meth), None)
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
            found: list[ast.FunctionDef] = []
            if isinstance(fn, ast.Name) and fn.id in funcs:
                found = [funcs[fn.id]]
            elif isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) \
                    and fn.value.id in ("self", "cls"):
                mine = own.get(id(f), {})
                found = [mine[fn.attr]] if fn.attr in mine else []
            elif isinstance(fn, ast.Attribute) and not (isinstance(fn.value, ast.Name)
                                                        and fn.value.id in MODULES):
                found = [m for m in by_name.get(fn.attr, []) if m.name != "__init__"]
            for helper in found:
                if helper not in out:
                    out.append(helper)
                    todo.append(helper)
    return out


def c0(node: ast.AST) -> int:
    return int(getattr(node, "col_offset", 0))


def c1(node: ast.AST) -> int:
    return int(getattr(node, "end_col_offset", 0) or 0)


def one_line(node: ast.AST) -> bool:
    first = getattr(node, "lineno", None)
    return first is not None and first == getattr(node, "end_lineno", None)


def ln(node: ast.AST) -> int:
    return int(getattr(node, "lineno", 0))


def atom(node: ast.AST) -> bool:
    return isinstance(node, ast.Name | ast.Attribute | ast.Subscript | ast.Call | ast.Constant)


def is_spaced(line: str) -> bool:
    return bool(re.search(r"\w [-+*/] \w", line))


def walk_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for stmt in body:
        yield stmt
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list):
                yield from walk_statements(inner)
        for handler in getattr(stmt, "handlers", []) or []:
            yield from walk_statements(handler.body)


def header_exprs(stmt: ast.stmt) -> list[ast.AST]:
    """The expressions that belong to a statement's own line(s), not its body."""
    if isinstance(stmt, ast.For):
        return [stmt.iter]
    if isinstance(stmt, ast.While | ast.If):
        return [stmt.test]
    if isinstance(stmt, ast.With | ast.Try | ast.FunctionDef | ast.ClassDef):
        return []
    return [stmt]


def mentions(text: str, names: set[str]) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])", text)
               for n in names)


def only_statement(func: ast.FunctionDef, stmt: ast.stmt) -> bool:
    for node in ast.walk(func):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if isinstance(body, list) and stmt in body:
                return len(body) == 1
    return False


def stale_names(func: ast.FunctionDef, loop: ast.For | ast.While) -> set[str]:
    """Names ``loop`` reads but never writes that ``func`` zeroes before it (``np.zeros``,
    ``np.zeros_like``): the same zeros at every step, as a carried gradient is when its
    update is missing."""
    body = list(walk_statements(loop.body))
    stored = {n.id for st in body if isinstance(st, ast.Assign | ast.AugAssign | ast.For)
              for t in (st.targets if isinstance(st, ast.Assign) else [st.target])
              for n in ast.walk(t) if isinstance(n, ast.Name)}
    read = {n.id for st in body for root in header_exprs(st) for n in ast.walk(root)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return (read & zeroed_names(func)) - stored


def indent_of(line: str) -> str:
    """The whitespace a line starts with (a statement inserted after it gets the same)."""
    return line[:len(line) - len(line.lstrip())]


def zeros(v: ast.expr) -> bool:
    """``np.zeros(...)`` or ``np.zeros_like(...)`` (any module's spelling)."""
    return isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) \
        and v.func.attr in ("zeros", "zeros_like")


def zeroed_names(func: ast.FunctionDef) -> set[str]:
    """Names ``func`` assigns zeros (``np.zeros(...)``, ``np.zeros_like(...)``), one by
    one or unpacked (``dW, db = np.zeros_like(W), np.zeros_like(b)``)."""
    out: set[str] = set()
    for st in walk_statements(func.body):
        if not isinstance(st, ast.Assign):
            continue
        for t in st.targets:
            if isinstance(t, ast.Name) and zeros(st.value):
                out.add(t.id)
            elif isinstance(t, ast.Tuple) and isinstance(st.value, ast.Tuple) \
                    and len(t.elts) == len(st.value.elts):
                out.update(e.id for e, v in zip(t.elts, st.value.elts, strict=True)
                           if isinstance(e, ast.Name) and zeros(v))
    return out


def accumulating(func: ast.FunctionDef) -> set[int]:
    """The ``id()`` of each statement in a loop that writes into something zeroed before
    (``dW += ...``, ``gW[:, k] = ...``, ``dW[k] += ...``): a sum over the steps."""
    zeroed = zeroed_names(func) | {t.id for st in walk_statements(func.body)
                                   if isinstance(st, ast.Assign)
                                   and isinstance(st.value, ast.ListComp | ast.DictComp)
                                   for t in st.targets if isinstance(t, ast.Name)}
    out: set[int] = set()
    for loop in ast.walk(func):
        if not isinstance(loop, ast.For | ast.While):
            continue
        for st in walk_statements(loop.body):
            targets = st.targets if isinstance(st, ast.Assign) else [st.target] if isinstance(
                st, ast.AugAssign) else []
            for t in targets:
                base = subscripted(t)
                if isinstance(base, ast.Name) and base.id in zeroed:
                    out.add(id(st))
    return out
