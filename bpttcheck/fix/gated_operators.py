"""Candidate edits only a gated cell has (``--cell lstm|gru``), its gates' roles read from names.

An LSTM's backward pass goes wrong where a vanilla one cannot: the cell state's
carry through the forget gate, the sigmoid gates' derivative, the cell state read
where its tanh is meant, one gate's activation read for another; a GRU's, in the
interpolation ``z * h_prev + (1 - z) * n``. These operators propose the inverse of
each, as one whole-line edit, alongside the generic ones of :mod:`.operators`
(which call :func:`gated_edits` for every statement when the model is gated):

- **the sigmoid derivative** ``s * (1 - s)`` for a sigmoid gate (f, i, o; z, r)
  written as tanh's ``(1 - s**2)``, or as ``(1 - s)``, and tanh's ``(1 - g**2)`` for a
  tanh activation (the candidate g, the GRU's n) written as ``g * (1 - g)``; a gate's
  gradient (``do = ...``) given its derivative when the statement has none;
- **the cell state and its tanh**: ``c`` where ``tanh(c)`` is meant and back, and the
  ``tanh'(c)`` factor of ``dc = dh * o * (1 - tanh(c)**2)`` when it is missing;
- **the forget gate's carry**: the gradient carried to the previous cell state
  (``dc_next = ...``) set to ``dc * f`` (zeroed, or left without its ``* f``);
- **one gate for another**: an occurrence of a gate's activation replaced by another
  gate's of the same form (``fs[t]`` -> ``is_[t]``, ``f`` -> ``i``);
- **the GRU's interpolation flipped**: ``z`` <-> ``(1 - z)``.

A gate's role comes from its name, as code about LSTMs and GRUs spells them (``f``,
``fs[t]``, ``f_t``, ``forget``, ``cache["f"]``; ``z`` or ``u`` for the update gate,
``h_tilde`` for the GRU's candidate): nothing is tried on names that fit no role.
Each edit is only a candidate: the search verifies it like any other.
"""

from __future__ import annotations

import ast
import collections
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import ImplError
from ..impl.source import code_lines
from ..impl.source import read as read_source_nodes
from .syntax import (
    CARRIED,
    MODULES,
    activation_kind,
    c0,
    c1,
    counted,
    header_exprs,
    iterated,
    ln,
    one_line,
    stale_names,
    target_defs,
    walk_statements,
)

# Names of each gate's activation (whole names; a subscript's base or string key counts).
# Coursera's notation names the sigmoid gates Gamma (``gamma_f``, ``Gamma_u``); in its LSTM
# the "update" gate is the input gate, and the candidate is ``cct`` (c-tilde at t).
ROLES: dict[str, dict[str, str]] = {
    "lstm": {
        "f": r"f|fs|f_?t|f_?s|f_?gate|forget(_gate)?|gate_?f|[gG]amma_?f(_?t|s)?",
        "i": r"i|is_|i_?s|i_?t|i_?gate|input_gate|gate_?i|[gG]amma_?[iu](_?t|s)?",
        "o": r"o|os_|o_?s|o_?t|o_?gate|output_gate|gate_?o|[gG]amma_?o(_?t|s)?",
        "g": r"g|gs|g_?t|g_?s|g_?gate|c_?bar|c_?tilde|c_?hat|cand(idate)?|c_?cand|cct",
        "c": r"c|cs|c_?t|c_?s|cell(_state)?|c_?cur|c_?new|c_?next|next_?c|new_?c",
        "tc": r"tc|tcs|tc_?t|tanh_?c(s|_?t|_?next|_?new)?|c_?tanh|tanh_?(next|new)_?c|tanhc",
    },
    "gru": {
        "z": r"z|zs|z_?t|z_?s|u|us|u_?t|update(_gate)?|z_?gate|u_?gate|[gG]amma_?[uz](_?t|s)?",
        "r": r"r|rs|r_?t|r_?s|reset(_gate)?|r_?gate|[gG]amma_?r(_?t|s)?",
        "n": r"n|ns|n_?t|n_?s|h_?tilde|h_?hat|h_?cand|hc|cand(idate)?|c_?tilde|c_?hat|cct",
    },
}
SIGMOID = {"f", "i", "o", "z", "r"}  # roles whose activation is a sigmoid; the rest are tanh
GATES = {"lstm": ("f", "i", "o", "g"), "gru": ("z", "r", "n")}  # roles one may stand for another
# The gradient carried to the previous step's cell state: dc_next, dcprev, dprev_c, ...
CARRY = re.compile(r"^d_?(c_?(next|prev|carry|from_next|in)\w*|(next|prev)_?c)$")
_COMPILED = {cell: {q: re.compile(rf"^(?:{p})$") for q, p in roles.items()}
             for cell, roles in ROLES.items()}


def cell_of(params: tuple[str, ...]) -> str | None:
    """The gated cell whose parameters these are (None: not a gated cell)."""
    if "Wf" in params:
        return "lstm"
    if "Wz" in params:
        return "gru"
    return None


_Splice = Callable[..., tuple[int, "str | None"]]


class _Gates:
    """Where each role's activation occurs in one function, and how the function spells
    things (its tanh, its dc and its forget gate)."""

    def __init__(self, func: ast.FunctionDef, cell: str, lines: list[str],
                 others: tuple[ast.FunctionDef, ...] = ()) -> None:
        self.cell = cell
        self.lines = lines
        self.loop_names = _indices(func)
        self.bases = {id(n.value) for n in ast.walk(func) if isinstance(n, ast.Subscript)}
        texts: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter)
        for node in ast.walk(func):
            q = self.role(node)
            if q is None and isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) \
                    and self.role(ast.Name(node.id, ast.Load())) == "tc":
                q = "tc"  # tanh(c) unpacked from a cache, even when not read
            if q is not None and one_line(node):
                texts[q][self.text(node)] += 1
        self.texts = texts
        self.tanh = "np.tanh"
        tanh_args: collections.Counter[str] = collections.Counter()
        self.dc: str | None = None
        for node in ast.walk(func):
            if isinstance(node, ast.Call) and activation_kind(node.func) == "tanh" \
                    and one_line(node):
                self.tanh = self.text(node.func)
                if node.args and self.role(node.args[0]) == "c":
                    tanh_args[self.text(node.args[0])] += 1
            if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                    and isinstance(node.targets[0], ast.Name) \
                    and re.fullmatch(r"d_?c(_?t|s)?", node.targets[0].id) and self.dc is None:
                self.dc = node.targets[0].id
        self.c_state = tanh_args.most_common(1)[0][0] if tanh_args else None
        self.dc_line = min((n.lineno for n in ast.walk(func) if isinstance(n, ast.Assign)
                            and any(isinstance(t, ast.Name) and t.id == self.dc
                                    for t in n.targets)), default=0)
        # operators spaced as the function spaces them: `a * b` or `a*b`
        body = "\n".join(lines[func.lineno - 1:func.end_lineno or func.lineno])
        spaced = len(re.findall(r"[\w)\]] [*-] [\w(]", body)) >= len(
            re.findall(r"[\w)\]][*-][\w(]", body))
        self.times, self.minus = (" * ", " - ") if spaced else ("*", "-")
        self.partners = self._partners(func)
        # gradients multiplied by 1 - z (the GRU's candidate's share of dh): dh, in order
        self.interpolated: list[str] = []
        for n in ast.walk(func) if cell == "gru" else ():
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
                for a, b in ((n.left, n.right), (n.right, n.left)):
                    if isinstance(a, ast.Name) and a.id.startswith("d") \
                            and isinstance(b, ast.BinOp) and isinstance(b.op, ast.Sub) \
                            and isinstance(b.left, ast.Constant) and self.role(b.right) == "z" \
                            and a.id not in self.interpolated:
                        self.interpolated.append(a.id)
        for other in others:  # a backward helper's gates, multiplied in the forward helper
            if other is not func:
                for q, found in self._partners(other).items():
                    self.partners.setdefault(q, found)

    def _partners(self, func: ast.FunctionDef) -> dict[str, list[str]]:
        """What each gate multiplies in the forward pass (``f * c_prev``, ``r * h_prev``,
        ``i * g``): a gate's gradient is that times the upstream gradient."""
        found: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter)
        for stmt in ast.walk(func):
            if not (isinstance(stmt, ast.Assign) and one_line(stmt)) or any(
                    isinstance(t, ast.Name) and t.id.startswith("d") for t in stmt.targets):
                continue
            for n in ast.walk(stmt.value):
                if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
                    for a, b in ((n.left, n.right), (n.right, n.left)):
                        q = self.role(a)
                        if q is not None and q in GATES[self.cell] and self.role(b) != q \
                                and isinstance(b, ast.Name | ast.Subscript | ast.Call):
                            found[q][self.text(b)] += 1
        return {q: [t for t, _ in c.most_common(2)] for q, c in found.items()}

    def text(self, node: ast.AST) -> str:
        raw = self.lines[ln(node) - 1].encode("utf-8")
        return raw[c0(node):c1(node)].decode("utf-8")

    def role(self, node: ast.AST) -> str | None:
        """The role of a gate's activation ``node`` (a name, ``fs[t]``, ``cache["f"]``)."""
        name = None
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            name = node.id
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) \
                and isinstance(node.value, ast.Name) and node.value.id not in MODULES:
            name = node.attr  # a step object's gate (``self.f``, ``cell.i``)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) \
                and isinstance(node.value, ast.Name):
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                name = key.value
            elif _index(key):
                name = node.value.id
        if name is None or name in self.loop_names or id(node) in self.bases:
            return None
        return next((q for q, rx in _COMPILED[self.cell].items() if rx.match(name)), None)

    def like(self, role: str, shape: str) -> str | None:
        """The spelling of ``role``'s activation with the same subscript as ``shape``
        (``is_[t]`` for ``fs[t]``), else its most common spelling."""
        seen = self.texts.get(role)
        if not seen:
            return None
        tail = shape[shape.index("["):] if "[" in shape else ""
        for text, _ in seen.most_common():
            if ("[" in text and text[text.index("["):] == tail) or (not tail and "[" not in text):
                return text
        return seen.most_common(1)[0][0]


def _indices(func: ast.FunctionDef) -> set[str]:
    """The names loops count with (``t``, ``i`` in ``for i in range(4)`` or ``for i, x in
    enumerate(xs)``): never a gate's activation, whatever they are called. A loop that
    unpacks stored values (``for f, i, g, o in reversed(steps)``) binds data, not indices."""
    out: set[str] = set()
    for f in ast.walk(func):
        if not isinstance(f, ast.For | ast.comprehension):
            continue
        out.update(counted(f))
        if isinstance(f.target, ast.Name) and not isinstance(iterated(f), ast.Call):
            out.add(f.target.id)  # `for k in keys:`, `for t in steps:`: one name, an index
    return out


def _index(key: ast.AST) -> bool:
    """A step index: ``t``, ``t - 1``, a constant, or a slice with one (``[:, t]``)."""
    if isinstance(key, ast.Tuple):
        return all(isinstance(e, ast.Slice) or _index(e) for e in key.elts)
    return isinstance(key, ast.Name | ast.Constant | ast.BinOp | ast.UnaryOp)


_CACHE: dict[tuple[int | str, ...], tuple[ast.FunctionDef, list[str], _Gates]] = {}


def _gates(func: ast.FunctionDef, cell: str, lines: list[str],
           others: tuple[ast.FunctionDef, ...] = ()) -> _Gates:
    key: tuple[int | str, ...] = (id(func), cell, *(id(o) for o in others))
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is func and hit[1] is lines:
        return hit[2]
    if len(_CACHE) > 64:
        _CACHE.clear()
    g = _Gates(func, cell, lines, others)
    _CACHE[key] = (func, lines, g)  # holds func and lines: their ids stay theirs
    return g


def gated_edits(stmt: ast.stmt, func: ast.FunctionDef, lines: list[str],
                params: tuple[str, ...], others: tuple[ast.FunctionDef, ...] = ()
                ) -> Iterator[tuple[int, str, str | None]]:
    """(line, kind, new line text) for each gate-specific edit of ``stmt`` (see the module
    docstring); nothing unless ``params`` are a gated cell's. Kinds are those of the
    generic operators (:data:`.operators.PRIORITY`): ``tanh`` for a derivative form,
    ``carry``, ``swap``, ``sign``. ``others``: the functions searched with ``func`` (what
    a gate multiplies is read there too when ``func`` shows it nowhere)."""
    cell = cell_of(params)
    if cell is None:
        return
    g = _gates(func, cell, lines, others)
    spaced, minus = g.times, g.minus

    def splice(node: ast.AST, new: str, start: int | None = None) -> tuple[int, str | None]:
        line = lines[ln(node) - 1]
        raw = line.encode("utf-8")
        begin = c0(node) if start is None else start
        out = (raw[:begin] + new.encode("utf-8") + raw[c1(node):]).decode("utf-8")
        return ln(node), (out if out != line else None)

    gated_by = _gated_by(g)
    for root in header_exprs(stmt):
        paired = _paired(root)
        flipped = {id(n.right) for n in ast.walk(root) if isinstance(n, ast.BinOp)
                   and isinstance(n.op, ast.Sub) and isinstance(n.left, ast.Constant)}
        parents = {id(c): p for p in ast.walk(root) for c in ast.iter_child_nodes(p)}
        for node in ast.walk(root):
            if not one_line(node) or id(node) in paired:
                continue
            yield from _derivatives(g, node, splice, spaced, minus)
            yield from _ungated(g, node, parents.get(id(node)), gated_by, splice, spaced)
            q = g.role(node)
            if q is None:
                continue
            x = g.text(node)
            for other in GATES[cell]:  # one gate's activation for another's
                if other != q and q in GATES[cell]:
                    y = g.like(other, x)
                    if y is not None:
                        yield _kind("swap", splice(node, y))
            if q == "c":  # c where tanh(c) is meant
                yield _kind("tanh", splice(node, f"{g.tanh}({x})"))
                tc = g.like("tc", x)
                if tc is not None:  # as the function names it
                    yield _kind("tanh", splice(node, tc))
            if q == "tc":  # tanh(c) where c is meant
                c = g.like("c", x)
                if c is not None:
                    yield _kind("tanh", splice(node, c))
            if q == "z" and id(node) not in flipped:  # the interpolation flipped: z for 1 - z
                yield _kind("sign", splice(node, f"(1{minus}{x})"))
    yield from _statement(g, stmt, splice, spaced, minus)
    yield from _stacked(g, stmt, splice)
    yield from _carry_terms(g, stmt, splice, spaced, minus)
    yield from _direct_path(g, stmt, splice, spaced)
    yield from _other_gates_derivative(g, stmt)
    yield from _activation_swaps(g, func, stmt, splice)


def _gated_by(g: _Gates) -> dict[str, list[str]]:
    """Each value a gate multiplies in the forward pass (``h_prev`` in ``r * h_prev``) ->
    the spellings of those gates' activations, as :meth:`_Gates.like` finds them."""
    out: dict[str, list[str]] = collections.defaultdict(list)
    for q, partners in g.partners.items():
        for y in partners:
            x = g.like(q, y)
            if x is not None and x not in out[y]:
                out[y].append(x)
    return out


def _ungated(g: _Gates, node: ast.AST, parent: ast.AST | None,
             gated_by: dict[str, list[str]], splice: _Splice, spaced: str
             ) -> Iterator[tuple[int, str, str | None]]:
    """A value the forward pass multiplies by a gate (``r * h_prev``) read bare where the
    product belongs (``[h_prev; x]`` for ``[r * h_prev; x]``): the gate put back."""
    if not isinstance(node, ast.Name | ast.Subscript) or not isinstance(
            getattr(node, "ctx", None), ast.Load):
        return
    x = g.text(node)
    gates = gated_by.get(x)
    if not gates:
        return
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Mult) and any(
            g.text(side) in gates for side in (parent.left, parent.right) if one_line(side)):
        return  # already gated
    bare = parent is None or isinstance(parent, ast.List | ast.Tuple | ast.Call) or (
        isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Mult | ast.Add | ast.Sub))
    for q in gates:
        new = f"{q}{spaced}{x}"
        yield _kind("insert", splice(node, new if bare else f"({new})"))


STACKS = ("hstack", "vstack", "concatenate", "stack", "column_stack")


def _stacked(g: _Gates, stmt: ast.stmt, splice: _Splice) -> Iterator[tuple[int, str, str | None]]:
    """The gates' blocks stacked in another order than the forward slices them: two
    elements of a stacked list swapped (``np.hstack([di, df, do, dg])``)."""
    for root in header_exprs(stmt):
        for node in ast.walk(root):
            if not (isinstance(node, ast.Call) and one_line(node) and node.args
                    and isinstance(node.args[0], ast.List | ast.Tuple)):
                continue
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(
                f, ast.Name) else ""
            items = node.args[0].elts
            if name not in STACKS or not 2 < len(items) <= 4:
                continue
            texts = [g.text(e) for e in items]
            raw = g.lines[ln(node) - 1].encode("utf-8")
            for a in range(len(items)):
                for b in range(a + 1, len(items)):
                    spans = sorted(((c0(items[a]), c1(items[a]), texts[b]),
                                    (c0(items[b]), c1(items[b]), texts[a])), reverse=True)
                    out = raw
                    for start, end, new in spans:
                        out = out[:start] + new.encode("utf-8") + out[end:]
                    yield ln(node), "swap", out.decode("utf-8")


def _paired(root: ast.AST) -> set[int]:
    """The nodes of whole derivative forms ``s * (1 - s)``, ``(1 - g * g)``, ``g * g``:
    neither one half of them swapped for another gate nor ``(1 - s)`` completed again."""
    out: set[int] = set()
    for n in ast.walk(root):
        if not isinstance(n, ast.BinOp):
            continue
        if isinstance(n.op, ast.Mult) and ast.dump(n.left) == ast.dump(n.right):
            out.update((id(n.left), id(n.right)))  # g * g
        if isinstance(n.op, ast.Mult) and isinstance(n.right, ast.BinOp) \
                and isinstance(n.right.op, ast.Sub) and isinstance(n.right.left, ast.Constant):
            s = n.left.right if isinstance(n.left, ast.BinOp) and isinstance(
                n.left.op, ast.Mult) else n.left
            if ast.dump(s) == ast.dump(n.right.right):  # s * (1 - s)
                out.update((id(s), id(n.right), id(n.right.right)))
    return out


def _derivatives(g: _Gates, node: ast.AST, splice: _Splice, spaced: str, minus: str
                 ) -> Iterator[tuple[int, str, str | None]]:
    """Derivative forms at ``node``: (1 - s**2) / (1 - s) -> s*(1 - s) for a sigmoid gate,
    g*(1 - g) -> (1 - g**2) for a tanh one, tanh(c) -> c."""
    if isinstance(node, ast.Call) and activation_kind(node.func) == "tanh" and len(node.args) == 1 \
            and g.role(node.args[0]) == "c":
        yield _kind("tanh", splice(node, g.text(node.args[0])))
    if not isinstance(node, ast.BinOp):
        return
    if isinstance(node.op, ast.Sub) and isinstance(node.left, ast.Constant) \
            and node.left.value == 1 and g.role(node.right) == "z":
        # the GRU's interpolation flipped: (1 - z) for z (its parentheses go too)
        raw = g.lines[ln(node) - 1].encode("utf-8")
        x = g.text(node.right)
        if raw[:c0(node)].rstrip().endswith(b"(") and raw[c1(node):].lstrip().startswith(
                b")"):
            start, end = raw.rindex(b"(", 0, c0(node)), raw.index(b")", c1(node)) + 1
            out = (raw[:start] + x.encode("utf-8") + raw[end:]).decode("utf-8")
            yield ln(node), "sign", out
        else:
            yield _kind("sign", splice(node, x))
    if isinstance(node.op, ast.Sub) and isinstance(node.left, ast.Constant) \
            and node.left.value == 1:
        right = node.right
        s = right.left if isinstance(right, ast.BinOp) and (
            (isinstance(right.op, ast.Pow) and isinstance(right.right, ast.Constant)
             and right.right.value == 2) or (isinstance(right.op, ast.Mult)
                                            and ast.dump(right.left) == ast.dump(right.right))
        ) else right
        q = g.role(s)
        if q in SIGMOID:
            x = g.text(s)
            raw = g.lines[ln(node) - 1].encode("utf-8")
            if raw[:c0(node)].rstrip().endswith(b"(") and raw[c1(node):].lstrip().startswith(
                    b")"):  # (1 - s**2) -> s * (1 - s), not (s * (1 - s))
                start = raw.rindex(b"(", 0, c0(node))
                yield _kind("tanh", splice(node, f"{x}{spaced}(1{minus}{x}",
                                           start))  # its ")" closes the new one
            else:
                yield _kind("tanh", splice(node, f"{x}{spaced}(1{minus}{x})"))
    if isinstance(node.op, ast.Mult) and isinstance(node.right, ast.BinOp) \
            and isinstance(node.right.op, ast.Sub) and isinstance(node.right.left, ast.Constant) \
            and node.right.left.value == 1:
        # g * (1 - g), alone or ending a product (dc * i * g * (1 - g)): tanh's is 1 - g**2
        left = node.left
        s = left.right if isinstance(left, ast.BinOp) and isinstance(left.op, ast.Mult) \
            else left
        q = g.role(s)
        if q is not None and q not in SIGMOID and ast.dump(node.right.right) == ast.dump(s) \
                and ln(s) == ln(node):
            x = g.text(s)
            yield _kind("tanh", splice(node, f"(1{minus}{x}{_pow(spaced)}2)", c0(s)))


def _statement(g: _Gates, stmt: ast.stmt, splice: _Splice, spaced: str, minus: str
               ) -> Iterator[tuple[int, str, str | None]]:
    """Edits of a whole assignment: the forget gate's carry, a gate's missing derivative,
    the cell state's missing tanh'(c)."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and one_line(stmt)
            and isinstance(stmt.targets[0], ast.Name)):
        return
    target, value = stmt.targets[0].id, stmt.value
    text = g.text(value)
    if g.cell == "lstm" and CARRY.match(target) and g.dc is not None and g.dc != target \
            and stmt.lineno > g.dc_line:  # once dc is known
        f = g.like("f", "")
        if f is not None and not (f in text and g.dc in text):  # not already dc * f
            yield _kind("carry", splice(value, f"{g.dc}{spaced}{f}"))
    q = gradient_role(g.cell, target)
    if q is None or not isinstance(value, ast.BinOp | ast.Name | ast.Subscript):
        return
    has_derivative = "(1" in text.replace(" ", "")
    for y in g.partners.get(q, []) if q in GATES[g.cell] else []:
        if y not in text:  # the gate's gradient without what the gate multiplies
            yield _kind("insert", splice(value, f"{text}{spaced}{y}"))
    if q in GATES[g.cell] and not has_derivative:
        x = g.like(q, "[t]")
        if x is not None:
            factor = f"{x}{spaced}(1{minus}{x})" if q in SIGMOID else \
                f"(1{minus}{x}{_pow(spaced)}2)"
            yield _kind("tanh", splice(value, f"{text}{spaced}{factor}"))
    tc = g.like("tc", "") or (f"{g.tanh}({g.c_state})" if g.c_state is not None else None)
    if q == "c" and g.cell == "lstm" and tc is not None and "tanh" not in text \
            and tc not in text and isinstance(value, ast.BinOp):
        d = f"(1{minus}{tc}{_pow(spaced)}2)"  # the missing tanh'(c), next to the o gate
        for node in ast.walk(value):
            if g.role(node) == "o" and one_line(node):
                yield _kind("tanh", splice(node, f"{g.text(node)}{spaced}{d}"))


# Words a gate's pre-activation gradient is named with besides the gate's own name:
# da_f, d_pre_f, dr_pre, dz_raw, d_net_o.
PRE_WORDS = frozenset({"a", "pre", "raw", "net", "in", "act", "preact", "lin", "s"})


def gradient_role(cell: str, target: str) -> str | None:
    """The role whose gradient ``target`` names: ``df`` / ``d_f`` (the activation's), or
    its pre-activation's (``da_f``, ``d_pre_f``, ``dr_pre``); None for any other name."""
    if not target.startswith("d"):
        return None
    rest = target.removeprefix("d").lstrip("_")
    words = [w for w in rest.split("_") if w]
    for name in (rest, *(["_".join(w for w in words if w not in PRE_WORDS)]
                         if len(words) > 1 else [])):
        q = next((r for r, rx in _COMPILED[cell].items() if rx.match(name)), None)
        if q is not None:
            return q
    return None


def carry_inserts(func: ast.FunctionDef, lines: list[str], params: tuple[str, ...]
                  ) -> Iterator[tuple[int, str, str | None]]:
    """A gated cell's carry update deleted: the statement put back at the end of the loop.

    The carry is a gradient the loop reads but never writes, zeroed before it (so the same
    zeros at every step); its update is one of the loop's own gradients, as a GRU's
    ``dh_next = dh_prev`` is, the hidden part of the gradient of the stacked input
    ``[h; x]`` (``dz[:H]``, with the function's own size for H), or, for the LSTM's cell
    state, ``dc * f``."""
    cell = cell_of(params)
    if cell is None:
        return
    g = _gates(func, cell, lines)
    sizes = [g.text(n.upper) for n in ast.walk(func) if isinstance(n, ast.Slice)
             and n.lower is None and n.step is None and n.upper is not None
             and isinstance(n.upper, ast.Name | ast.Attribute) and one_line(n.upper)]
    size = collections.Counter(sizes).most_common(1)[0][0] if sizes else None
    for loop in ast.walk(func):
        if not isinstance(loop, ast.For | ast.While):
            continue
        body = list(walk_statements(loop.body))
        stored: dict[str, list[ast.stmt]] = collections.defaultdict(list)
        for st in body:
            targets = st.targets if isinstance(st, ast.Assign) else [st.target] if isinstance(
                st, ast.AugAssign) else []
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        stored[n.id].append(st)
        stale = sorted(v for v in stale_names(func, loop) if v.startswith("d"))
        last = loop.body[-1]
        if not stale or last.end_lineno is None:
            continue
        line = lines[last.end_lineno - 1]
        first = lines[last.lineno - 1]  # a compound last statement: after its end
        indent = first[:len(first) - len(first.lstrip())]
        grads = [v for v in stored if v.startswith("d") and v not in stale]
        # a while loop ending in its counter's update: the carry goes before it too
        tested = {n.id for n in ast.walk(loop.test) if isinstance(n, ast.Name)} \
            if isinstance(loop, ast.While) else set()
        counter = last if isinstance(last, ast.AugAssign) and isinstance(
            last.target, ast.Name) and last.target.id in tested and one_line(last) else None
        stacked = [v for v in grads if any(isinstance(n, ast.Attribute) and n.attr == "T"
                                           for st in stored[v] for n in ast.walk(st))]
        for carry in stale:
            values = list(grads)
            for v in stacked:
                values += [f"{v}[:{h}]" for h in dict.fromkeys(
                    ([size] if size is not None else []) + _first_size(g, stored[v]))]
            if cell == "lstm" and CARRY.match(carry) and g.dc is not None:
                f = g.like("f", "[t]")
                values += [f"{g.dc}{g.times}{f}"] if f is not None else []
            for value in values:
                yield last.end_lineno, "insert", f"{line}\n{indent}{carry} = {value}"
                if counter is not None:  # before the step count moves on (`t -= 1`)
                    yield counter.lineno, "insert", \
                        f"{indent}{carry} = {value}\n{lines[counter.lineno - 1]}"


def _first_size(g: _Gates, stmts: list[ast.stmt]) -> list[str]:
    """The first size of a gradient made as zeros of two sizes summed, ``np.zeros((H + X,
    1))`` (the stacked ``[h; x]``'s, h first), in the statements that write it."""
    for n in (n for st in stmts for n in ast.walk(st)):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) \
                and n.func.attr == "zeros" and n.args:
            shape = n.args[0]
            first = shape.elts[0] if isinstance(shape, ast.Tuple) and shape.elts else shape
            if isinstance(first, ast.BinOp) and isinstance(first.op, ast.Add) \
                    and one_line(first.left):
                return [g.text(first.left)]
    return []


def _activation_swaps(g: _Gates, func: ast.FunctionDef, stmt: ast.stmt, splice: _Splice
                      ) -> Iterator[tuple[int, str, str | None]]:
    """A gate's activation applied as the other kind (a candidate recomputed with the
    sigmoid, a gate with tanh): each one-argument call of one kind read as the function's
    spelling of the other."""
    spelled: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for n in ast.walk(func):
        if isinstance(n, ast.Call) and len(n.args) == 1 and one_line(n.func):
            kind = activation_kind(n.func)
            if kind is not None:
                spelled[kind][g.text(n.func)] += 1
    if len(spelled) < 2:
        return
    for root in header_exprs(stmt):
        for n in ast.walk(root):
            if not (isinstance(n, ast.Call) and len(n.args) == 1 and one_line(n.func)):
                continue
            kind = activation_kind(n.func)
            if kind is None:
                continue
            other = "sigmoid" if kind == "tanh" else "tanh"
            yield _kind("tanh", splice(n.func, spelled[other].most_common(1)[0][0]))


def _other_gates_derivative(g: _Gates, stmt: ast.stmt) -> Iterator[tuple[int, str, str | None]]:
    """A sigmoid derivative ``s * (1 - s)`` taken of another gate than the line's: both
    occurrences of ``s`` read as each other sigmoid gate (``u * (1 - u)`` -> ``r * (1 - r)``
    in the reset gate's gradient)."""
    for root in header_exprs(stmt):
        for n in ast.walk(root):
            if not (isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult) and one_line(n)
                    and isinstance(n.right, ast.BinOp) and isinstance(n.right.op, ast.Sub)
                    and isinstance(n.right.left, ast.Constant)):
                continue
            s = n.left.right if isinstance(n.left, ast.BinOp) and isinstance(
                n.left.op, ast.Mult) else n.left
            inner = n.right.right
            q = g.role(s)
            if q not in SIGMOID or ast.dump(s) != ast.dump(inner) or not one_line(s):
                continue
            x = g.text(s)
            raw = g.lines[ln(n) - 1].encode("utf-8")
            for other in GATES[g.cell]:
                y = g.like(other, x) if other in SIGMOID and other != q else None
                if y is None or y == x:
                    continue
                out = raw
                for node in sorted((s, inner), key=c0, reverse=True):
                    out = out[:c0(node)] + y.encode("utf-8") + out[c1(node):]
                yield ln(n), "swap", out.decode("utf-8")


def _carry_terms(g: _Gates, stmt: ast.stmt, splice: _Splice, spaced: str, minus: str
                 ) -> Iterator[tuple[int, str, str | None]]:
    """A term of the gradient carried to the previous step left without the gate it
    passes through (``dh_prev = dh * z + drh`` for ``drh * r``): each bare term of the
    carried sum times each sigmoid gate's activation (and the GRU's ``1 - z``)."""
    if not (isinstance(stmt, ast.Assign | ast.AugAssign) and one_line(stmt)):
        return
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    if not any(isinstance(t, ast.Name) and CARRIED.search(t.id) for t in targets):
        return
    gates = [x for q in GATES[g.cell] if q in SIGMOID
             for x in [g.like(q, "[t]")] if x is not None]
    if g.cell == "gru":
        z = g.like("z", "[t]")
        gates += [f"(1{minus}{z})"] if z is not None else []
    terms: list[ast.expr] = []

    def collect(n: ast.expr) -> None:
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add | ast.Sub):
            collect(n.left)
            collect(n.right)
        else:
            terms.append(n)

    collect(stmt.value)
    for term in terms:
        if not (isinstance(term, ast.Name | ast.Subscript) and one_line(term)):
            continue  # a product already has its factors; a bare gradient may lack one
        x = g.text(term)
        for gate in gates:
            yield _kind("insert", splice(term, f"{x}{spaced}{gate}"))


def _direct_path(g: _Gates, stmt: ast.stmt, splice: _Splice, spaced: str
                 ) -> Iterator[tuple[int, str, str | None]]:
    """The GRU's direct path left out of the carried gradient: ``h_t = z * h_prev + (1 - z)
    * n`` passes ``dh * z`` straight to the previous step. ``dh`` is the gradient the
    function multiplies by ``1 - z`` (for the candidate's: ``g.interpolated``); the term is
    added to a statement that writes a carried gradient, or writes ``dh`` itself, without
    it."""
    if g.cell != "gru" or not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                               and one_line(stmt) and isinstance(stmt.targets[0], ast.Name)):
        return
    incoming = g.interpolated
    target = stmt.targets[0].id
    if not target.startswith("d") or not (target in incoming or CARRIED.search(target)):
        return
    z = g.like("z", "")
    value = stmt.value
    read = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
    if z is None or target in read or not any(r.startswith("d") for r in read):
        return  # adds into itself (``dh = dh + ...``), or no gradient at all (its zeros)
    for d in incoming:
        direct = any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult) and {
            g.role(n.left), g.role(n.right)} == {"z", None} and d in (
                getattr(n.left, "id", None), getattr(n.right, "id", None))
            for n in ast.walk(value))
        if not direct:
            yield _kind("carry", splice(value, f"{d}{spaced}{z} + {g.text(value)}"))


def _kind(kind: str, edit: tuple[int, str | None]) -> tuple[int, str, str | None]:
    return edit[0], kind, edit[1]


def _pow(spaced: str) -> str:
    """``**`` as the statement spaces its operators."""
    return "**" if spaced == "*" else " ** "


GATED_BONUS = 4.0  # a gate-specific edit ranks with the generic kinds of the highest priority


GATE_PARAMS: dict[str, dict[str, str]] = {  # our parameter -> the role of its gate
    "lstm": {"Wf": "f", "bf": "f", "Wi": "i", "bi": "i", "Wc": "g", "bc": "g", "Wo": "o",
             "bo": "o"},
    "gru": {"Wz": "z", "bz": "z", "Wr": "r", "br": "r", "Wn": "n", "bn": "n"},
}
DOMINANT = 100.0  # one gate's error this many times every other's: the error enters there


def dominant_gate(cell: str, errors: dict[str, float]) -> str | None:
    """The gate whose parameters are wrong by far the most (``DOMINANT`` times any other
    gate's largest relative error), or None. A slip in one gate's line makes that gate's
    gradient wrong at once and the others only through what it carries back."""
    worst: dict[str, float] = {}
    for p, q in GATE_PARAMS[cell].items():
        if p in errors:
            worst[q] = max(worst.get(q, 0.0), errors[p])
    ranked = sorted(worst.values(), reverse=True)
    if len(ranked) < 2 or not ranked[0] > DOMINANT * max(ranked[1], 1e-300):
        return None
    return max(worst, key=lambda q: worst[q])


def one_step_gate(cell: str, local: tuple[str, ...]) -> str | None:
    """The gate whose parameters alone are wrong at one time step (``local``, from
    :meth:`.trials.Trials.one_step`), or None. At one step nothing is carried back from a
    later step, so one gate's parameters wrong alone place the bug in that gate's lines."""
    gates = {GATE_PARAMS[cell][p] for p in local if p in GATE_PARAMS[cell]}
    return gates.pop() if len(gates) == 1 else None


def gate_lines(text: str, path: Path, name: str, params: tuple[str, ...], gate: str
               ) -> frozenset[int]:
    """The lines of ``name`` (and its helpers) that read ``gate``'s activation or write a
    gradient named for it (``di = ...``, ``d_i = ...``)."""
    cell = cell_of(params)
    if cell is None:
        return frozenset()
    try:
        nodes = read_source_nodes(text, path, name.rpartition(".")[2]).nodes
    except ImplError:
        return frozenset()
    lines = code_lines(text)
    out: set[int] = set()
    rx = _COMPILED[cell][gate]
    for func in target_defs(nodes, name):
        g = _gates(func, cell, lines)
        for node in ast.walk(func):
            reads = g.role(node) == gate and one_line(node)
            writes = isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) \
                and node.id.startswith("d") and bool(rx.match(node.id[1:].lstrip("_")))
            if reads or writes:
                out.add(ln(node))
    return frozenset(out)
