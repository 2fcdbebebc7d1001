"""More candidate edits, from the taxonomy of real BPTT bugs rather than the mutation harness.

The harness's operators (:mod:`.operators`) undo the harness's own mutations. Hand-written
bugs are wider: an activation applied once too often or not at all, a reduction over the
wrong axis or only one step's slice of it, a forgotten bias, a variable read from the
neighbouring line, the initial state replaced by zeros, an alias written in place, a stray
factor, the carry update deleted, the tanh derivative at the wrong variable or missing.
Each family below is written from that description over the AST, whatever the names
(what a name *does* is read from the code: which variable ``np.tanh`` writes, which one the
``Whh`` gradient reads), and edits one physical line as text, like the others.

Their kinds (the search's ranking weighs each, :data:`.operators.PRIORITY`):

- ``unwrap``: ``f(x)`` -> ``x`` for an elementwise or normalising function (``np.tanh``,
  ``np.exp``, ``np.abs``, a ``softmax``/``sigmoid`` helper of the file); a product with a
  carried gradient -> the carried gradient (the recurrent matrix applied twice).
- ``wrap``: a pre-activation sum stored without its activation -> the file's activation of it.
- ``reduce``: one step's slice (``d[-1]``, ``d[0]``) where the sum over steps belongs, a
  sum over the other axis, ``keepdims`` added or removed, ``mean`` for ``sum``.
- ``term``: the bias missing from a pre-activation sum or a lone product (``W @ h`` ->
  ``W @ h + b``; the bias as the file spells it, and as it reshapes its biases in sums:
  ``+ bh.ravel()`` in a file that adds ``by.ravel()``).
- ``drop``: one term of a sum dropped (a term counted twice, a carried gradient added in
  the wrong place).
- ``neighbour``: a variable swapped for another used within a few lines (``dh``/``dhraw``,
  ``h``/``hprev``, ``hs``/``xs``), on statements that feed a wrong gradient; on statements
  that feed none the ranking can see (a forward helper, a cache's ``append``), a state for
  a state only (``Whh @ h0`` -> ``Whh @ h_prev``, ``(x, h, h)`` -> ``(x, h_prev, h)``).
- ``swap`` (with :mod:`.operators`' same-role swaps): an array read where the copy made of
  it belongs, or back (``P.sum()`` for ``D.sum()`` after ``D = P.copy()``).
- ``init``: a zero initial state (``np.zeros_like(h)``, ``np.zeros((H, 1))``, assigned to
  a state-like name or to the activation's outputs) -> a copy of the given one; ``h[t - 1]``
  at ``t = 0`` -> the given one, and the given one read at every step -> the previous
  state (``hprev`` -> ``(hs[t - 1] if t > 0 else hprev)``); a carried gradient started from
  the initial state, or a gradient accumulator from its weight (``np.copy(W)``,
  ``np.ones_like(W)``) -> zeros.
- ``copy``: a kept reference (``dy = ps[t]``, ``hs.append(h)``, ``cache.append((x, h))``)
  to an array written in place later (``dy[k] -= 1``, ``np.tanh(.., out=h)``, ``h += ..``)
  -> a copy (:func:`alias_copies`: on every line, whichever gradients it feeds).
- ``loop`` (with :mod:`.operators`' reversals of ``range``, ``enumerate``, ``zip``): the
  order steps are consumed in: ``stack.pop(0)`` <-> ``stack.pop()``, ``sorted(xs)`` <->
  ``sorted(xs, reverse=True)``, ``for x in xs`` -> ``reversed(xs)``, ``xs[::-1]`` -> ``xs``,
  ``zip(reversed(xs), hs)`` -> ``zip(reversed(xs), reversed(hs))``, ``hs.insert(0, h)`` ->
  ``hs.append(h)``.
- ``sign`` (with :mod:`.operators`' ``+``/``-`` flips): a subtraction's operands swapped
  (``y - p`` -> ``p - y``, a GRU's ``(n - h)`` -> ``(h - n)``) on a gradient's line; never
  index arithmetic or a constant's (``T - 1 - t``, ``1 - h**2``).
- ``result``: a helper's returned value thrown away (``step_back(dy, dnext, cache)``) ->
  kept in an argument the caller assigns (``dnext = step_back(dy, dnext, cache)``).
- ``weight``: one weight read for another of its kind (``Why.T`` for ``Whh.T``, ``by`` for
  ``bh``), on statements that feed a wrong gradient.
- ``literal``: a numeric literal other than 0 and 1 in arithmetic -> 1 (``2 *``, ``0.5 *``,
  ``(2 - h**2)``).
- ``insert``: the carry update deleted: a carried gradient the loop reads but never writes
  gets ``carry = Whh.T @ d`` after the line that writes ``d``, in the code's own spelling of
  the recurrent product (see :func:`carry_inserts` for why this statement is derivable); a
  bias's accumulation deleted: ``dbh += d`` (:func:`bias_inserts`).
- ``tanh``: the derivative of tanh (``1 - h**2``, ``1 - np.square(h)``, ``(1 - h) * (1 + h)``,
  ``1 - np.tanh(a)**2``, ``h * (1 - h)``, a ``dtanh(h)`` helper) taken at the pre-activation
  instead of the activation or back, or the activation applied to the pre-activation it was
  taken at (``1 - a**2`` -> ``1 - np.tanh(a)**2``; ``a * (1 - a)`` -> the file's sigmoid);
  ``dtanh``: the same derivative at a stale ``h`` left by the forward loop (-> ``hs[t]``),
  missing from a backward line, or applied twice.
"""

from __future__ import annotations

import ast
import bisect
import collections
import dataclasses
import functools
import re
from collections.abc import Iterator, Mapping

from .syntax import (
    CARRIED,
    MODULES,
    c0,
    c1,
    header_exprs,
    indent_of,
    ln,
    one_line,
    subscripted,
    walk_statements,
)

Edit3 = tuple[int, str, str | None]

ELEMENTWISE = frozenset({"tanh", "exp", "abs", "absolute", "sqrt", "square", "log", "sigmoid",
                         "softmax", "relu", "logistic", "expit", "cosh", "sinh", "fabs"})
HELPER = re.compile(r"sigm|soft|tanh|relu|logist|activ|normali", re.IGNORECASE)
ACTIVATION = re.compile(r"^(tanh|np_tanh|activation|act|phi|f)$", re.IGNORECASE)
DERIVATIVE_HELPER = re.compile(r"(^d_?tanh|tanh_?(prime|deriv|grad|back)|^dact|^dphi)",
                               re.IGNORECASE)
INITIAL = re.compile(r"^(h_?prev|prev_?h|h_?0|h_?init|init_?h|h_?start|h_?in|h_?initial|"
                     r"initial_?h|init_?state|initial_?state|state_?0|s_?0|s_?prev|hidden_?0)$",
                     re.IGNORECASE)
GRADIENT = re.compile(r"^(d|g_|grad|delta|err|e_)", re.IGNORECASE)  # a gradient's name, roughly
STATE = re.compile(r"^(h|s|state|hidden|prev|carry)(_|s?$|\d)", re.IGNORECASE)  # a state
NEIGHBOURHOOD = 3  # lines either side a swapped-in variable may come from
CARRY_LINES = 2  # ``carry = ...`` insertions tried per loop (after the last writes first)


@dataclasses.dataclass(frozen=True)
class Context:
    """What the edits need to know of the file, read once per search."""

    np: str  # the file's name for numpy
    matmul: str  # "@", "dot" (np.dot(a, b)) or "method" (a.dot(b))
    activations: tuple[str, ...]  # spellings of the hidden activation (``np.tanh``)
    pairs: Mapping[str, str]  # base of an activation's output <-> base of its input
    outputs: frozenset[str]  # bases of the activation's outputs (``hs``, ``self.hid``)
    biases: tuple[str, ...]  # spellings of reads of the biases (``bh``, ``self.bh``)
    initial: tuple[str, ...]  # spellings of the given initial state (``hprev``)
    recurrent: tuple[str, ...]  # spellings of reads of Whh
    reads: Mapping[str, str] = dataclasses.field(default_factory=dict)  # spelling -> param
    initial_forms: tuple[str, ...] = ()  # the initial state as first shaped (``hprev[:, 0]``)
    inputs: frozenset[str] = frozenset()  # bases of pre-activations (``a``, ``acts``)
    sigmoids: tuple[str, ...] = ()  # the file's logistic helpers (``sigmoid``)
    returning: frozenset[str] = frozenset()  # the file's functions that return a value
    copies: frozenset[frozenset[str]] = frozenset()  # {D, P} for ``D = P.copy()``
    bias_terms: Mapping[str, str] = dataclasses.field(default_factory=dict)  # form -> param:
    # a bias as the code's sums read it (``bh.ravel()`` after ``by.ravel()``, ``b[:, 0]``)
    unsummed: frozenset[str] = frozenset()  # biases no sum of the code reads (bh, by)
    indices: frozenset[str] = frozenset()  # names a ``for`` binds, in any target function


def context(nodes: list[ast.stmt], defs: list[ast.FunctionDef], lines: list[str],
            aliases: Mapping[str, set[str]]) -> Context:
    """The :class:`Context` of the target functions ``defs`` in the module ``nodes``;
    ``aliases``: each parameter's names (``Whh``, ``W_rec``, ``dWhh``...)."""
    np_name = "np"
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "numpy":
                    np_name = alias.asname or "numpy"
    text = _Text(lines)
    acts: collections.Counter[str] = collections.Counter()
    pairs: dict[str, str] = {}
    outputs: set[str] = set()
    inputs: set[str] = set()
    matmul = "dot"
    biases: list[str] = []
    initial: list[str] = []
    recurrent: list[str] = []
    bias_names = {a for p in ("bh", "by") for a in aliases.get(p, set()) if not a.startswith("d")}
    whh_names = {a for a in aliases.get("Whh", set()) if not a.startswith("d")}
    param_of = {a: p for p, names in aliases.items() for a in names if not a.startswith("d")}
    reads: dict[str, str] = {}
    helpers = {n.name for n in nodes if isinstance(n, ast.FunctionDef)}
    methods = False
    containers = set().union(*(aliases_written(f) for f in defs))  # grads["Whh"] += ...
    for func in defs:
        for a in func.args.args + func.args.kwonlyargs:
            if INITIAL.match(a.arg) and a.arg not in initial:
                initial.append(a.arg)
            if a.arg in bias_names:  # a bias taken as an argument, perhaps read nowhere
                reads.setdefault(a.arg, param_of[a.arg])
                if a.arg not in biases:
                    biases.append(a.arg)
        for n in _all(func):
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult):
                matmul = "@"
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) \
                    and n.func.attr == "dot" and len(n.args) == 1:
                methods = True
            if isinstance(n, ast.Call) and len(n.args) == 1 and one_line(n) \
                    and _is_activation(n.func, helpers):
                acts[text.seg(n.func)] += 1
            if not one_line(n):
                continue
            key = _identifier(n)
            if key is None or not isinstance(getattr(n, "ctx", None), ast.Load) or (
                    isinstance(n, ast.Subscript) and _bases(n) in containers):
                continue
            s = text.seg(n)
            if key in param_of:
                reads.setdefault(s, param_of[key])
            if key in bias_names and s not in biases:
                biases.append(s)
            if key in whh_names and s not in recurrent:
                recurrent.append(s)
            if isinstance(n, ast.Attribute) and INITIAL.match(n.attr) and s not in initial:
                initial.append(s)
        for stmt in walk_statements(func.body):  # h = tanh(a): the pair (h, a)
            targets: list[ast.expr] = []
            value: ast.expr | None = None
            if isinstance(stmt, ast.Assign):  # h = hs[t] = np.tanh(a) too
                targets, value = list(stmt.targets), stmt.value
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(
                    stmt.value.func, ast.Attribute) and stmt.value.func.attr == "append" \
                    and len(stmt.value.args) == 1:  # hs.append(np.tanh(a))
                targets, value = [stmt.value.func.value], stmt.value.args[0]
            if not (isinstance(value, ast.Call) and len(value.args) == 1
                    and _is_activation(value.func, helpers)):
                continue
            into = _bases(value.args[0])
            if into:
                inputs.add(into)
            for target in targets:
                out = _bases(target)
                if out:
                    outputs.add(out)
                if out and into and out != into:
                    pairs[out] = into
                    pairs.setdefault(into, out)
    # a state stored where it is not computed: hs.append(h), hs[t] = h for an output h
    forms: list[str] = []
    for func in defs:
        for stmt in walk_statements(func.body):
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(
                    stmt.value.func, ast.Attribute) and stmt.value.func.attr == "append" \
                    and len(stmt.value.args) == 1 and _bases(stmt.value.args[0]) in outputs:
                out = _bases(stmt.value.func.value)
                if out:
                    outputs.add(out)
            if isinstance(stmt, ast.Assign) and _bases(stmt.value) in outputs:
                outputs.update(b for t in stmt.targets if (b := _bases(t)))
            # the initial state as the code first shapes it (``hprev[:, 0]``, ``h0.ravel()``)
            if isinstance(stmt, ast.Assign) and one_line(stmt.value) and not isinstance(
                    stmt.value, ast.Name) and len(forms) < 2:
                v = text.seg(stmt.value)
                if _reshaped(stmt.value, text, initial) and v not in initial and v not in forms:
                    forms.append(v)
    if matmul == "dot" and methods and not any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "dot"
            and isinstance(n.func.value, ast.Name) and n.func.value.id == np_name
            for f in defs for n in _all(f)):
        matmul = "method"
    for func in defs:  # a sum of products stored, never activated here: a pre-activation too
        for stmt in walk_statements(func.body):  # (not a backward sum: no gradient read)
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.BinOp) \
                    and isinstance(stmt.value.op, ast.Add) \
                    and any(_is_product(t) for t in _terms(stmt.value)) \
                    and not any(isinstance(r, ast.Name) and (GRADIENT.match(r.id)
                                                             or CARRIED.search(r.id))
                                for r in _all(stmt.value)):
                inputs.update(b for t in stmt.targets if (b := _bases(t))
                              and not GRADIENT.match(b))
    return Context(np_name, matmul, tuple(a for a, _ in acts.most_common(2)),
                   pairs, frozenset(outputs), tuple(biases), tuple(initial),
                   tuple(recurrent), reads, tuple(forms),
                   inputs=frozenset(inputs - outputs),
                   sigmoids=tuple(sorted(h for h in helpers if SIGMOID.search(h))),
                   returning=frozenset(_returning(nodes)),
                   copies=frozenset(_copies(defs, np_name)),
                   bias_terms=_bias_terms(defs, text, reads, bias_names),
                   unsummed=frozenset(_unsummed(defs, reads, bias_names, text)),
                   indices=frozenset().union(*(loop_variables(f) for f in defs)))


SIGMOID = re.compile(r"sigm|logist|expit", re.IGNORECASE)


def _returning(nodes: list[ast.stmt]) -> set[str]:
    """The functions and methods of the file that return a value (``return x``, not a bare
    ``return`` or ``return None``)."""
    funcs = [n for n in nodes if isinstance(n, ast.FunctionDef)] + [
        m for c in nodes if isinstance(c, ast.ClassDef) for m in c.body
        if isinstance(m, ast.FunctionDef)]
    return {f.name for f in funcs for s in walk_statements(f.body)
            if isinstance(s, ast.Return) and s.value is not None
            and not (isinstance(s.value, ast.Constant) and s.value.value is None)}


def _copies(defs: list[ast.FunctionDef], np_name: str) -> set[frozenset[str]]:
    """Pairs of names one of which starts as a copy of the other (``D = P.copy()``,
    ``dy = np.copy(p)``), or as the other less something (``dy = p - onehot``): the array
    before and after a change (``D[..] -= 1``), two names for one quantity at two moments,
    whatever their names suggest."""
    out: set[frozenset[str]] = set()
    for func in defs:
        for s in walk_statements(func.body):
            if not (isinstance(s, ast.Assign) and len(s.targets) == 1
                    and isinstance(s.targets[0], ast.Name)):
                continue
            source = _copied(s.value, np_name)
            if isinstance(s.value, ast.BinOp) and isinstance(s.value.op, ast.Sub):
                source = s.value.left  # ``dy = p - onehot``: p before its change
            if isinstance(source, ast.Name) and source.id != s.targets[0].id:
                out.add(frozenset((source.id, s.targets[0].id)))
    return out


def _sums(defs: list[ast.FunctionDef]) -> Iterator[ast.expr]:
    """The terms of every sum in ``defs``: ``a + b``, ``z += b``, ``np.add(a, b)``."""
    for func in defs:
        for n in _all(func):
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
                yield from (n.left, n.right)
            elif isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add):
                yield n.value
            elif isinstance(n, ast.Call) and (
                    (isinstance(n.func, ast.Attribute) and n.func.attr == "add")
                    or (isinstance(n.func, ast.Name) and n.func.id == "add")):
                yield from n.args


def _bias_read(term: ast.AST, bias_names: set[str]) -> ast.AST | None:
    """The read of a bias that ``term`` is, as is (``bh``, ``self.bh``, ``p["bh"]``) or
    reshaped (``bh.ravel()``, ``bh[:, 0]``, ``np.squeeze(bh)``); None for any other term."""
    if _identifier(term) in bias_names:
        return term
    if not isinstance(term, ast.Call | ast.Subscript | ast.Attribute):
        return None
    inner = [b for b in _all(term) if b is not term
             and isinstance(b, ast.Name | ast.Attribute | ast.Subscript)
             and _identifier(b) in bias_names and one_line(b)]
    return inner[0] if len(inner) == 1 else None


def _unsummed(defs: list[ast.FunctionDef], reads: Mapping[str, str], bias_names: set[str],
              text: _Text) -> set[str]:
    """The biases (bh, by) that no sum in the code reads: each is left out of its
    pre-activation (or never used), whatever else reads it (``np.zeros_like(bh)``)."""
    summed = {reads.get(text.seg(b)) for t in _sums(defs)
              if (b := _bias_read(t, bias_names)) is not None and one_line(b)}
    return {p for p in reads.values() if p in BIASES} - summed


def _bias_terms(defs: list[ast.FunctionDef], text: _Text, reads: Mapping[str, str],
                bias_names: set[str]) -> dict[str, str]:
    """Each bias as the code reads the biases in its sums when it reshapes them there
    (``by.ravel()``, ``by[:, 0]``, ``np.squeeze(by)``): the same form for every bias of
    the model (``bh.ravel()`` from ``by.ravel()``), so an added bias broadcasts as the
    file's others do."""
    forms: dict[str, str] = {}
    spellings = {s: p for s, p in reads.items() if p in BIASES}
    for term in _sums(defs):
        read = _bias_read(term, bias_names)
        if read is None or read is term or not one_line(term):
            continue
        whole, part = text.seg(term), text.seg(read)
        for spelling, param in spellings.items():
            form = whole.replace(part, spelling, 1)
            if form != spelling:
                forms.setdefault(form, param)
    return forms


def _reshaped(v: ast.expr, text: _Text, initial: list[str]) -> bool:
    """Whether ``v`` is the initial state indexed or reshaped: ``h0[:, 0]``, ``h0.ravel()``,
    ``np.squeeze(h0)``, ``h0.T`` (not any expression that reads it)."""
    if isinstance(v, ast.Subscript | ast.Attribute):
        return text.seg(v.value) in initial
    if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute):
        if text.seg(v.func.value) in initial and v.func.attr in RESHAPES:
            return True
        return v.func.attr in RESHAPES and len(v.args) >= 1 and (
            text.seg(v.args[0]) in initial or (isinstance(v.args[0], ast.Subscript | ast.Attribute)
                                               and text.seg(v.args[0].value) in initial))
    return False


RESHAPES = frozenset({"ravel", "reshape", "flatten", "squeeze", "copy", "array", "asarray"})


def _is_activation(func: ast.expr, helpers: set[str]) -> bool:
    name = func.attr if isinstance(func, ast.Attribute) else (
        func.id if isinstance(func, ast.Name) else "")
    return name == "tanh" or (name in helpers and bool(ACTIVATION.match(name)))


def _identifier(n: ast.AST) -> str | None:
    """The name a read refers to: ``x``, ``self.x``'s ``x``, ``p["x"]``'s ``x``."""
    if isinstance(n, ast.Name):
        return n.id
    if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.attr != "T":
        return n.attr
    if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant) \
            and isinstance(n.slice.value, str):
        return n.slice.value
    return None


def _bases(n: ast.AST) -> str | None:
    """``hs`` for ``hs[t]``, ``hs`` for ``hs``, ``self.hid`` for ``self.hid[t]``."""
    n = subscripted(n)
    if isinstance(n, ast.Name):
        return n.id
    if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name):
        return f"{n.value.id}.{n.attr}"
    return None


def _base_node(n: ast.AST) -> ast.AST | None:
    n = subscripted(n)
    return n if isinstance(n, ast.Name | ast.Attribute) and _bases(n) else None


@functools.lru_cache(maxsize=16384)
def _all(node: ast.AST) -> tuple[ast.AST, ...]:
    """``ast.walk(node)``, kept: the families walk the same statements many times, and a
    search's trees are never changed (nodes hash by identity)."""
    return tuple(ast.walk(node))


class _Text:
    """The file's lines, as the AST's byte columns address them."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.raw: dict[int, bytes] = {}

    def _raw(self, k: int) -> bytes:
        if k not in self.raw:
            self.raw[k] = self.lines[k - 1].encode("utf-8")
        return self.raw[k]

    def seg(self, n: ast.AST) -> str:
        return self._raw(ln(n))[c0(n):c1(n)].decode("utf-8", "replace")

    def splice(self, n: ast.AST, spans: list[tuple[int, int, str]]) -> tuple[int, str | None]:
        raw = self._raw(ln(n))
        for start, end, new in sorted(spans, reverse=True):
            raw = raw[:start] + new.encode("utf-8") + raw[end:]
        try:
            out = raw.decode("utf-8")
        except UnicodeDecodeError:
            return ln(n), None
        return ln(n), (out if out != self.lines[ln(n) - 1] else None)

    def replace(self, n: ast.AST, new: str) -> tuple[int, str | None]:
        return self.splice(n, [(c0(n), c1(n), new)])

    def replace_grouped(self, n: ast.AST, new: ast.AST) -> tuple[int, str | None]:
        """``n`` replaced by its part ``new``, dropping the grouping parentheses around
        ``n`` when ``new`` needs none (``* (e_h + carry)`` -> ``* e_h``)."""
        raw = self._raw(ln(n))
        start, end = c0(n), c1(n)
        before, after = raw[:start].rstrip(), raw[end:].lstrip()
        grouped = before.endswith(b"(") and after.startswith(b")") and not re.search(
            rb"[\w\])]\s*\($", before)
        if grouped and not isinstance(new, ast.BinOp | ast.UnaryOp | ast.IfExp | ast.Compare
                                      | ast.BoolOp | ast.Lambda):
            start = len(before) - 1
            end = len(raw) - len(after) + 1
            return self.splice(n, [(start, end, self.seg(new))])
        return self.replace(n, self.seg(new))

    def insert(self, n: ast.AST, new: str) -> tuple[int, str | None]:
        return self.splice(n, [(c1(n), c1(n), new)])


def _product(ctx: Context, a: str, b: str) -> str:
    if ctx.matmul == "@":
        return f"{a} @ {b}"
    if ctx.matmul == "method":
        return f"{a}.dot({b})"
    return f"{ctx.np}.dot({a}, {b})"


def _paren(n: ast.AST, text: str) -> str:
    return f"({text})" if isinstance(n, ast.BinOp | ast.UnaryOp | ast.IfExp | ast.Compare
                                      | ast.BoolOp | ast.Lambda) else text


def _num(n: ast.AST) -> float | None:
    if isinstance(n, ast.Constant) and isinstance(n.value, int | float) \
            and not isinstance(n.value, bool):
        return float(n.value)
    return None


def _derivative_args(n: ast.AST, helpers: set[str]) -> list[ast.AST]:
    """The variable(s) a tanh (or logistic) derivative is taken at, in any spelling:
    ``1 - h**2``, ``1 - h*h``, ``1 - np.square(h)``, ``(1 - h) * (1 + h)``, ``h * (1 - h)``,
    ``1 - np.tanh(a)**2``, ``dtanh(h)``: every occurrence of it (``h`` twice in ``1 - h*h``),
    to be edited together; empty when ``n`` is none of them."""
    if isinstance(n, ast.Call) and len(n.args) == 1:
        name = n.func.attr if isinstance(n.func, ast.Attribute) else (
            n.func.id if isinstance(n.func, ast.Name) else "")
        if DERIVATIVE_HELPER.search(name):
            return [n.args[0]]
    if not isinstance(n, ast.BinOp):
        return []
    if isinstance(n.op, ast.Sub) and _num(n.left) == 1.0:
        r = n.right
        if isinstance(r, ast.BinOp) and isinstance(r.op, ast.Pow) and _num(r.right) == 2.0:
            inner = r.left
            if isinstance(inner, ast.Call) and len(inner.args) == 1 and isinstance(
                    inner.func, ast.Attribute | ast.Name) and (
                    getattr(inner.func, "attr", None) == "tanh"
                    or getattr(inner.func, "id", None) == "tanh"):
                return [inner.args[0]]
            return [inner]
        if isinstance(r, ast.BinOp) and isinstance(r.op, ast.Mult) \
                and ast.dump(r.left) == ast.dump(r.right):
            return [r.left, r.right]
        if isinstance(r, ast.Call) and isinstance(r.func, ast.Attribute) \
                and r.func.attr == "square" and len(r.args) == 1:
            return [r.args[0]]
    if isinstance(n.op, ast.Mult):
        a, b = n.left, n.right
        for x, y in ((a, b), (b, a)):
            if isinstance(y, ast.BinOp) and isinstance(y.op, ast.Sub) and _num(y.left) == 1.0:
                if ast.dump(y.right) == ast.dump(x):  # h * (1 - h)
                    return [x, y.right]
                if isinstance(x, ast.BinOp) and isinstance(x.op, ast.Add) \
                        and _num(x.left) == 1.0 and ast.dump(x.right) == ast.dump(y.right):
                    return [y.right, x.right]  # (1 - h) * (1 + h)
    return []


def node_edits(stmt: ast.stmt, lines: list[str], ctx: Context, assigned: set[str],
               carried: set[str], in_loop: bool, on_bad_path: bool,
               close: set[str], helpers: set[str],
               loop_outputs: tuple[str, ...], pre_grads: set[str], sp: str) -> Iterator[Edit3]:
    """(line, kind, new line) for every edit of these families on ``stmt``'s own lines.
    ``close``: names used within :data:`NEIGHBOURHOOD` lines (given for a line on the wrong
    gradients' path, ``on_bad_path``, and for one that feeds no gradient the ranking knows,
    such as the forward pass: there only a state is swapped for another state); ``helpers``:
    functions of the file; ``loop_outputs``: the activation's outputs as the enclosing loop
    reads them (``hs[t]``, :func:`outputs_read`); ``pre_grads``: the names the Whh
    gradient's lines read (:func:`pre_activation_gradients`); ``sp``: " " when the code
    spaces its operators."""
    text = _Text(lines)
    roots = header_exprs(stmt)
    parents: dict[int, ast.AST] = {}
    for root in roots:
        for p in _all(root):
            for c in ast.iter_child_nodes(p):
                parents[id(c)] = p

    def in_slice(n: ast.AST) -> bool:
        child, p = n, parents.get(id(n))
        while p is not None:
            if isinstance(p, ast.Subscript) and p.slice is child:
                return True
            child, p = p, parents.get(id(p))
        return False

    def k(kind: str, where: tuple[int, str | None]) -> Edit3:
        return where[0], kind, where[1]

    loop_vars = {n.id for n in _all(stmt.target) if isinstance(n, ast.Name)} \
        if isinstance(stmt, ast.For) else set()
    written: set[str] = set()
    if isinstance(stmt, ast.Assign | ast.AugAssign):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        written = {n.id for t in targets for n in _all(t) if isinstance(n, ast.Name)}
    gradient_target = any(w.startswith("d") or "grad" in w.lower() for w in written)
    # the containers a target writes into (``g`` of ``g["by"][:, 0] = ...``): never swapped
    stored = {id(_base_node(t)) for t in (
        stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        if isinstance(stmt, ast.AugAssign) else [])}
    carried_target = bool(written & carried)
    state_target = any(STATE.match(w) or INITIAL.match(w) or w in ctx.outputs for w in written)
    single = isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and one_line(stmt)

    # wrap: a pre-activation sum stored without its activation
    if single and isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.BinOp) \
            and isinstance(stmt.value.op, ast.Add) and not gradient_target \
            and any(_is_product(n) for n in _all(stmt.value)):
        for act in ctx.activations or (f"{ctx.np}.tanh",):
            yield k("wrap", text.replace(stmt.value, f"{act}({text.seg(stmt.value)})"))
    # the carried gradient's tanh derivative missing from a backward line
    if single and isinstance(stmt, ast.Assign) and in_loop and written & pre_grads \
            and not any(_derivative_args(n, helpers) for n in _all(stmt.value)):
        for h in loop_outputs[:2]:
            deriv = f"(1{sp}-{sp}{h}{sp}*{sp}{h})"
            value = _paren(stmt.value, text.seg(stmt.value))
            yield k("dtanh", text.replace(stmt.value, f"{deriv}{sp}*{sp}{value}"))
    # carry: the gradient carried to the previous step without the recurrent matrix
    # (`dhnext = dhraw` for `dhnext = Whh.T @ dhraw`)
    if single and isinstance(stmt, ast.Assign) and in_loop and carried_target \
            and gradient_target and ctx.recurrent \
            and isinstance(stmt.value, ast.Name | ast.Subscript) \
            and not any(_is_product(n) for n in _all(stmt.value)):
        yield k("carry", text.replace(stmt.value, _product(ctx, f"{ctx.recurrent[0]}.T",
                                                           text.seg(stmt.value))))
    # loop: the order a loop's iterable or a stack of steps is consumed in
    if isinstance(stmt, ast.For) and one_line(stmt.iter):
        yield from (k("loop", w) for w in _reordered(stmt.iter, text))
    # result: a helper's returned value thrown away (its carried gradient never updated)
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and one_line(stmt):
        call = stmt.value
        callee = call.func.id if isinstance(call.func, ast.Name) else (
            call.func.attr if isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name) and call.func.value.id in ("self", "cls")
            else "")
        if callee in ctx.returning:
            for arg in call.args + [kw.value for kw in call.keywords]:
                if isinstance(arg, ast.Name) and arg.id in assigned \
                        and arg.id not in ctx.indices:
                    yield k("result", text.replace(call, f"{arg.id} = {text.seg(call)}"))

    for root in roots:
        for n in _all(root):
            if not one_line(n) or n is stmt:
                continue
            parent = parents.get(id(n))
            load = isinstance(getattr(n, "ctx", ast.Load()), ast.Load)
            # unwrap an elementwise or normalising function
            if isinstance(n, ast.Call) and len(n.args) == 1 and not n.keywords \
                    and not isinstance(n.args[0], ast.Starred):
                name = n.func.attr if isinstance(n.func, ast.Attribute) else (
                    n.func.id if isinstance(n.func, ast.Name) else "")
                if name in ELEMENTWISE or (name in helpers and HELPER.search(name)):
                    inner = text.seg(n.args[0])
                    needs = isinstance(parent, ast.BinOp | ast.UnaryOp | ast.Attribute
                                       | ast.Subscript)
                    yield k("unwrap", text.replace(n, _paren(n.args[0], inner) if needs
                                                   else inner))
            # a product with the carried gradient: the recurrent matrix applied twice
            if _is_product(n):
                for operand in _operands(n):
                    if isinstance(operand, ast.Name) and operand.id in carried:
                        yield k("unwrap", text.replace(n, operand.id))
            # reductions
            if isinstance(n, ast.Subscript) and load and not in_slice(n) \
                    and not isinstance(parent, ast.Subscript) \
                    and isinstance(n.value, ast.Name | ast.Attribute):
                index = n.slice
                whole = _num(index) in (0.0, -1.0) or (
                    isinstance(index, ast.UnaryOp) and _num(index.operand) == 1.0) or (
                    isinstance(index, ast.Name) and not in_loop)
                if whole and not (isinstance(n.value, ast.Name) and n.value.id in MODULES):
                    v = text.seg(n.value)
                    yield k("reduce", text.replace(n, f"{ctx.np}.sum({v}, axis=0)"))
                    yield k("reduce", text.replace(n, f"{ctx.np}.sum({v}, axis=1, "
                                                      f"keepdims=True)"))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) \
                    and n.func.attr in ("sum", "mean"):
                yield from (k("reduce", w) for w in _reduction_edits(n, text, ctx))
            # the bias missing from a pre-activation sum (or from a lone product: `W @ h`)
            if (isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add)
                    and not isinstance(parent, ast.BinOp) and not in_slice(n)
                    and not gradient_target and sum(_is_product(t) for t in _terms(n)) >= 1
                    and len(_terms(n)) >= 2) or (
                    _is_product(n) and n is getattr(stmt, "value", None)
                    and isinstance(stmt, ast.Assign) and not gradient_target):
                present = {text.seg(t) for t in _all(n) if one_line(t)}
                # a pre-activation (activated here, or stored and activated later)
                pre = (isinstance(parent, ast.Call) and _is_activation(parent.func, helpers)) \
                    or any(_bases(t) in ctx.inputs for t in getattr(stmt, "targets", []))
                for b in ctx.biases + tuple(ctx.bias_terms):
                    if b not in present:
                        # a bias no sum reads, on a pre-activation: the likelier one
                        param = ctx.bias_terms.get(b, ctx.reads.get(b))
                        yield k("bias" if pre and param in ctx.unsummed else "term",
                                text.insert(n, f"{sp}+{sp}{b}"))
            # a subtraction's operands swapped (``y - p`` for ``p - y``), on a gradient's path
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub) and not in_slice(n) \
                    and (on_bad_path or gradient_target
                         or any(GRADIENT.match(w) for w in written)) \
                    and ln(n.left) == ln(n.right) \
                    and _num(n.left) is None and _num(n.right) is None \
                    and not any(_counts(x, ctx) for x in (n.left, n.right)):
                left, right = text.seg(n.left), text.seg(n.right)
                yield k("sign", text.splice(n, [(c0(n.left), c1(n.left), right),
                                                (c0(n.right), c1(n.right), _paren(n.left, left))]))
            # a stack of steps popped from the wrong end (the pass runs forwards in time)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) \
                    and n.func.attr in ("pop", "popleft") and not n.keywords:
                yield from (k("loop", w) for w in _other_end(n, text))
            # ... or stored at the wrong end: hs.insert(0, h) for hs.append(h)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) \
                    and n.func.attr == "insert" and len(n.args) == 2 and _num(n.args[0]) == 0.0 \
                    and not n.keywords and one_line(n.args[1]):
                start = c1(n.func) - len("insert")
                yield k("loop", text.splice(n, [(start, c1(n), f"append({text.seg(n.args[1])})")]))
            # one term of a sum dropped
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add | ast.Sub) \
                    and not in_slice(n) and _num(n.left) is None and _num(n.right) is None:
                for part in (n.left, n.right) if isinstance(n.op, ast.Add) else (n.left,):
                    if isinstance(parent, ast.BinOp | ast.UnaryOp | ast.Attribute) \
                            and isinstance(part, ast.BinOp | ast.UnaryOp):
                        yield k("drop", text.replace(n, _paren(part, text.seg(part))))
                    else:
                        yield k("drop", text.replace_grouped(n, part))
            # the initial state
            if isinstance(n, ast.Call) and state_target and ctx.initial:
                name = n.func.attr if isinstance(n.func, ast.Attribute) else ""
                if name in ("zeros", "zeros_like"):
                    for s in ctx.initial:
                        yield k("init", text.replace(n, f"{ctx.np}.copy({s})"))
            if isinstance(n, ast.Subscript) and load and in_loop and ctx.initial \
                    and not in_slice(n) and isinstance(n.slice, ast.BinOp) \
                    and isinstance(n.slice.op, ast.Sub) and isinstance(n.slice.left, ast.Name) \
                    and _num(n.slice.right) == 1.0 and _bases(n) in ctx.outputs:
                t = n.slice.left.id
                for s in ctx.initial + ctx.initial_forms:
                    yield k("init", text.replace(
                        n, f"({text.seg(n)} if {t} > 0 else {s})"))
            # the converse: a carried gradient started from the initial state, not zeros
            if carried_target and ctx.initial and one_line(n) and (
                    text.seg(n) in ctx.initial or (isinstance(n, ast.Call) and len(n.args) == 1
                                                  and text.seg(n.args[0]) in ctx.initial)) \
                    and n is getattr(stmt, "value", None):
                yield k("init", text.replace(n, f"{ctx.np}.zeros_like({ctx.initial[0]})"))
            # a gradient accumulator started from its weight (a copy, ones) instead of zeros
            if gradient_target and n is getattr(stmt, "value", None) and isinstance(
                    stmt, ast.Assign) and not in_loop:
                source = _copied(n, ctx.np)
                if source is not None and text.seg(source) in ctx.reads:
                    yield k("init", text.replace(n, f"{ctx.np}.zeros_like({text.seg(source)})"))
            # one weight for another (Why.T for Whh.T), on the wrong gradients' path
            if on_bad_path and one_line(n) and load and not in_slice(n) \
                    and isinstance(n, ast.Name | ast.Attribute | ast.Subscript):
                mine = ctx.reads.get(text.seg(n))
                if mine is not None:
                    group = MATRICES if mine in MATRICES else BIASES
                    for spelling, param in ctx.reads.items():
                        if param in group and param != mine and _first(ctx.reads, spelling):
                            yield k("weight", text.replace(n, spelling))
            # a stray literal factor
            if isinstance(n, ast.Constant) and _num(n) not in (None, 0.0, 1.0, -1.0) \
                    and isinstance(parent, ast.BinOp) and not isinstance(parent.op, ast.Pow) \
                    and not in_slice(n):
                yield k("literal", text.replace(n, "1.0" if isinstance(n.value, float)
                                                else "1"))
            # the tanh derivative at the activation's input instead of its output, or back
            at = _derivative_args(n, helpers)
            if at and all(one_line(x) and ln(x) == ln(n) for x in at):
                bases = [_base_node(x) for x in at]
                if all(b is not None for b in bases):
                    partner = ctx.pairs.get(_bases(at[0]) or "")
                    if partner:
                        yield k("tanh", text.splice(n, [(c0(b), c1(b), partner)
                                                        for b in bases if b is not None]))
                if isinstance(at[0], ast.Name) and in_loop:  # a stale h left by the forward loop
                    for h in loop_outputs[:2]:
                        yield k("dtanh", text.splice(n, [(c0(x), c1(x), h) for x in at]))
                # taken at a pre-activation: the activation of it (``1 - np.tanh(a) ** 2``)
                inside = parents.get(id(at[0]))
                if _bases(at[0]) in ctx.inputs and len({text.seg(x) for x in at}) == 1 \
                        and not (isinstance(inside, ast.Call) and inside is not n):
                    acts = ctx.sigmoids if _logistic(n) else (
                        ctx.activations or (f"{ctx.np}.tanh",))
                    for act in acts:
                        yield k("tanh", text.splice(n, [(c0(x), c1(x), f"{act}({text.seg(x)})")
                                                        for x in at]))
            # the derivative applied twice: the factor dropped
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
                for factor, rest in ((n.left, n.right), (n.right, n.left)):
                    if _derivative_args(factor, helpers):
                        yield k("dtanh", text.replace_grouped(n, rest))
            # the given initial state read at every step where the previous state belongs:
            # the state the loop carries (a state nearby) or the outputs' previous step; in
            # a loop that reads states (not in a per-step helper, whose h_prev is the state)
            if in_loop and loop_outputs and (on_bad_path or close) and load \
                    and not in_slice(n) \
                    and isinstance(n, ast.Name | ast.Attribute) and text.seg(n) in ctx.initial \
                    and not (isinstance(parent, ast.Call) and parent.func is n):
                for earlier in _previous_states(loop_outputs[:2], text.seg(n)):
                    yield k("init", text.replace(n, earlier))
                for other in sorted(close - written - helpers - set(ctx.initial)):
                    if _state_like(other, ctx):
                        yield k("init", text.replace(n, other))
            # a variable swapped for one used nearby: on the wrong gradients' path, one of
            # the same kind (a gradient for a gradient) or the copy it was made from; on a
            # line that feeds no gradient the ranking sees, a state for a state in a record
            # kept for later (``cache.append((x, h, h))``, ``return h, (x, h_prev)``)
            if (on_bad_path or close) and isinstance(n, ast.Name) and load \
                    and not in_slice(n) and n.id in assigned and n.id not in loop_vars \
                    and n.id not in MODULES and id(n) not in stored \
                    and not (isinstance(parent, ast.Call) and parent.func is n):
                kind_of = bool(GRADIENT.match(n.id))
                record = isinstance(parent, ast.Tuple | ast.List) or (
                    isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute)
                    and parent.func.attr in ("append", "insert"))
                for other in sorted(close):
                    if other == n.id or other in written or other in helpers:
                        continue
                    if on_bad_path and frozenset((n.id, other)) in ctx.copies:
                        yield k("swap", text.replace(n, other))  # P for D = P.copy()
                    elif bool(GRADIENT.match(other)) == kind_of if on_bad_path \
                            else record and _state_like(n.id, ctx) and _state_like(other, ctx):
                        yield k("neighbour", text.replace(n, other))


def _state_like(name: str, ctx: Context) -> bool:
    return bool(STATE.match(name) or INITIAL.match(name)) or name in ctx.outputs


def _counts(n: ast.AST, ctx: Context) -> bool:
    """Whether ``n`` is index arithmetic: a loop's variable, ``len(...)``, or a sum of them."""
    if isinstance(n, ast.Name):
        return n.id in ctx.indices
    if isinstance(n, ast.Call):
        return isinstance(n.func, ast.Name) and n.func.id in ("len", "range")
    if isinstance(n, ast.BinOp):
        return _counts(n.left, ctx) or _counts(n.right, ctx)
    return False


def _logistic(n: ast.AST) -> bool:
    """``s * (1 - s)``: the logistic function's derivative (tanh's is ``1 - h**2``)."""
    if not (isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult)):
        return False
    return any(isinstance(y, ast.BinOp) and isinstance(y.op, ast.Sub) and _num(y.left) == 1.0
               and ast.dump(y.right) == ast.dump(x) for x, y in ((n.left, n.right),
                                                                   (n.right, n.left)))


def _previous_states(outputs: tuple[str, ...], initial: str) -> Iterator[str]:
    """The previous step's state, from the activation's outputs as the loop reads them:
    ``hs[t]`` -> ``(hs[t - 1] if t > 0 else hprev)``; ``hs[t + 1]`` (a list that starts
    with the initial state) -> ``hs[t]``."""
    for out in outputs:
        node = ast.parse(out, mode="eval").body  # a segment of the parsed file: it parses
        base = ast.get_source_segment(out, node.value) if isinstance(
            node, ast.Subscript) else None
        if base is None or not isinstance(node, ast.Subscript):
            continue
        index = node.slice
        if isinstance(index, ast.Name):
            t = index.id
            yield f"({base}[{t} - 1] if {t} > 0 else {initial})"
        elif isinstance(index, ast.BinOp) and isinstance(index.op, ast.Add) \
                and isinstance(index.left, ast.Name) and _num(index.right) == 1.0:
            yield f"{base}[{index.left.id}]"


def _reordered(it: ast.expr, text: _Text) -> Iterator[tuple[int, str | None]]:
    """A loop's iterable consumed from the other end, where :mod:`.operators` has no
    reversal of it (it reverses ``range``, ``enumerate``, ``zip`` and ``reversed``):
    ``sorted(xs)`` <-> ``sorted(xs, reverse=True)``, ``xs[::-1]`` -> ``xs``,
    ``xs`` -> ``reversed(xs)``, ``d.items()`` -> ``reversed(list(d.items()))``, and the one
    sequence a ``zip`` leaves in order when it reverses another."""
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "sorted":
        rev = next((kw for kw in it.keywords if kw.arg == "reverse"), None)
        if rev is None:
            close = c1(it) - 1
            yield text.splice(it, [(close, close, ", reverse=True")])
        elif isinstance(rev.value, ast.Constant) and rev.value.value is False:
            yield text.replace(rev.value, "True")
        else:
            before = [x for x in list(it.args) + [kw.value for kw in it.keywords]
                      if c1(x) < c0(rev.value)]
            if before:
                yield text.splice(it, [(c1(max(before, key=c1)), c1(rev.value), "")])
        return
    if isinstance(it, ast.Subscript) and isinstance(it.slice, ast.Slice) \
            and it.slice.lower is None and it.slice.upper is None \
            and it.slice.step is not None and _signed(it.slice.step) == -1.0:
        yield text.replace(it, text.seg(it.value))
        return
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "zip":
        # zip(reversed(xs), hs): one sequence reversed, another not
        flipped = [_is_reversed(a) for a in it.args]
        if any(flipped) and not all(flipped):
            for a, f in zip(it.args, flipped, strict=True):
                if not f and one_line(a):
                    yield text.replace(a, f"reversed({text.seg(a)})")
        return
    if isinstance(it, ast.Name | ast.Attribute | ast.Subscript):
        yield text.replace(it, f"reversed({text.seg(it)})")
    elif isinstance(it, ast.Call) and not (isinstance(it.func, ast.Name) and it.func.id in (
            "range", "xrange", "reversed", "enumerate", "zip")):
        yield text.replace(it, f"reversed(list({text.seg(it)}))")


def _is_reversed(n: ast.AST) -> bool:
    """``reversed(x)`` or ``x[::-1]``."""
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "reversed":
        return True
    return isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Slice) \
        and n.slice.step is not None and _signed(n.slice.step) == -1.0


def _other_end(n: ast.Call, text: _Text) -> Iterator[tuple[int, str | None]]:
    """``stack.pop()`` <-> ``stack.pop(0)`` (``pop(-1)`` -> ``pop(0)``), ``q.popleft()`` ->
    ``q.pop()``: the steps taken from the other end."""
    assert isinstance(n.func, ast.Attribute)
    args = c1(n.func)
    if n.func.attr == "popleft" and not n.args:
        yield text.splice(n, [(args - len("popleft"), args, "pop")])
    elif not n.args:
        yield text.splice(n, [(args, c1(n), "(0)")])
    elif len(n.args) == 1 and _signed(n.args[0]) in (0.0, -1.0) and one_line(n.args[0]):
        yield text.splice(n, [(args, c1(n), "()" if _signed(n.args[0]) == 0.0 else "(0)")])


def _signed(n: ast.AST) -> float | None:
    """A numeric literal's value, negative ones (``-1``) included."""
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
        inner = _num(n.operand)
        return None if inner is None else -inner
    return _num(n)


MATRICES = ("Wxh", "Whh", "Why")
BIASES = ("bh", "by")


def _first(reads: Mapping[str, str], spelling: str) -> bool:
    """Whether ``spelling`` is the first way the code reads its parameter (one per param)."""
    param = reads[spelling]
    return next(s for s, p in reads.items() if p == param) == spelling


def _copied(n: ast.AST, np_name: str) -> ast.AST | None:
    """What ``np.copy(X)``, ``X.copy()``, ``np.ones_like(X)``, ``np.empty_like(X)``, ``X``
    start from (None for anything else)."""
    if isinstance(n, ast.Name | ast.Attribute | ast.Subscript):
        return n
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
        if n.func.attr == "copy" and not n.args:
            return n.func.value
        if n.func.attr in ("copy", "ones_like", "empty_like", "array") and len(n.args) == 1:
            return n.args[0]
    return None


def _is_product(n: ast.AST) -> bool:
    if isinstance(n, ast.BinOp):
        return isinstance(n.op, ast.MatMult)
    if isinstance(n, ast.Call):
        f = n.func
        name = f.attr if isinstance(f, ast.Attribute) else (f.id if isinstance(f, ast.Name)
                                                             else "")
        return name in ("dot", "matmul", "outer", "einsum")
    return False


def _operands(n: ast.AST) -> list[ast.AST]:
    if isinstance(n, ast.BinOp):
        return [n.left, n.right]
    if isinstance(n, ast.Call):
        if isinstance(n.func, ast.Attribute) and len(n.args) == 1:
            return [n.func.value, n.args[0]]
        return list(n.args)
    return []


def _terms(n: ast.AST) -> list[ast.AST]:
    """The terms of a chain of ``+`` (``a + b + c``)."""
    if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
        return _terms(n.left) + [n.right]
    return [n]


def aliases_written(func: ast.FunctionDef) -> set[str]:
    """Names some statement writes into in place (``dy[k] -= 1``, ``dy *= m``,
    ``np.tanh(a, out=h)``)."""
    return set().union(*(_written_in_place(s) for s in walk_statements(func.body)))


def _written_in_place(stmt: ast.stmt) -> set[str]:
    """Names ``stmt`` itself (not its body) writes into in place: ``x[k] = ...``,
    ``x += ...``, ``f(..., out=x)``, ``np.copyto(x, ...)``, ``x.fill(...)``."""
    out: set[str] = set()
    targets: list[ast.expr] = []
    if isinstance(stmt, ast.AugAssign):
        targets = [stmt.target]
    elif isinstance(stmt, ast.Assign):
        targets = [t for t in stmt.targets if isinstance(t, ast.Subscript)]
    for t in targets:
        base = _base_node(t)
        if isinstance(base, ast.Name):
            out.add(base.id)
    for root in header_exprs(stmt):
        for n in _all(root):
            if not isinstance(n, ast.Call):
                continue
            written = [kw.value for kw in n.keywords if kw.arg == "out"]
            if isinstance(n.func, ast.Attribute) and n.func.attr == "copyto" and n.args:
                written.append(n.args[0])
            if isinstance(n.func, ast.Attribute) and n.func.attr in ("fill", "sort"):
                written.append(n.func.value)
            for w in written:
                base = _base_node(w)
                if isinstance(base, ast.Name):
                    out.add(base.id)
    return out


def _rebinds(stmt: ast.stmt, name: str) -> bool:
    """Whether ``stmt`` binds ``name`` to a new object (``name = ...``, ``for name in``)."""
    if isinstance(stmt, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == name for tt in stmt.targets
                   for t in _all(tt))
    if isinstance(stmt, ast.For):
        return any(isinstance(t, ast.Name) and t.id == name for t in _all(stmt.target))
    return False


def _changed_later(order: list[ast.stmt], stmt: ast.stmt, name: str) -> bool:
    """Whether ``name``'s object may be written in place after ``stmt`` runs: a write found
    before ``name`` is bound anew, in the statements that follow ``stmt`` or, inside a loop,
    in the next pass over the loop's statements before it. ``order``: the function's
    statements in source order (:func:`.syntax.walk_statements`)."""
    at = next(k for k, s in enumerate(order) if s is stmt)
    loops = [s for s in order[:at] if isinstance(s, ast.For | ast.While)
             and any(x is stmt for x in walk_statements(s.body))]
    passes = [order[at + 1:]]
    if loops:
        body = list(walk_statements(loops[-1].body))
        passes.append(body[:next(k for k, s in enumerate(body) if s is stmt)])
    for run in passes:
        for s in run:
            if name in _written_in_place(s):
                return True
            if _rebinds(s, name):
                break
    return False


def alias_copies(func: ast.FunctionDef, lines: list[str], ctx: Context) -> Iterator[Edit3]:
    """A copy forgotten: a reference to an array is kept (``dy = p``, ``hs.append(h)``,
    ``cache.append((x, h))``, ``hs[t] = h``) and the array is then written in place
    (``dy[k] -= 1``, ``np.tanh(..., out=h)``, ``h += ...``), so what was kept changes too
    -> ``np.copy(h)``. Made for every line, whichever gradients it feeds: an alias can
    corrupt anything that reads the kept value (the loss, another step's state)."""
    text = _Text(lines)
    order = list(walk_statements(func.body))
    for stmt in order:
        if not one_line(stmt) or stmt.end_lineno is None:
            continue
        kept: list[ast.expr] = []  # the names whose object this statement keeps
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Name | ast.Subscript
                                                        | ast.Attribute | ast.Tuple):
            items = stmt.value.elts if isinstance(stmt.value, ast.Tuple) else [stmt.value]
            alias = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
            for item in items:
                if isinstance(item, ast.Name) or (item is stmt.value and alias):
                    kept.append(item)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(
                stmt.value.func, ast.Attribute) and stmt.value.func.attr in ("append",
                                                                            "insert"):
            for arg in stmt.value.args[-1:]:
                items = arg.elts if isinstance(arg, ast.Tuple | ast.List) else [arg]
                kept += [x for x in items if isinstance(x, ast.Name)]
        for item in kept:
            names = {item.id} if isinstance(item, ast.Name) else set()
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Name | ast.Subscript
                                                            | ast.Attribute) \
                    and item is stmt.value:
                names |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
            # a slice is a view: what is kept changes when the array it views does
            # (``dh_carry = dz[:H]``, then ``dz.fill(0)`` at the next step)
            if isinstance(item, ast.Subscript) and isinstance(item.value, ast.Name) and any(
                    isinstance(e, ast.Slice) for e in ast.walk(item.slice)):
                names.add(item.value.id)
            if any(_changed_later(order, stmt, nm) for nm in sorted(names)):
                line, after = text.replace(item, f"{ctx.np}.copy({text.seg(item)})")
                if after is not None:
                    yield line, "copy", after


def _reduction_edits(n: ast.Call, text: _Text, ctx: Context) -> Iterator[tuple[int, str | None]]:
    """``x.sum(axis=0)`` / ``np.sum(x, axis=0)`` over the other axis, keepdims toggled,
    ``mean`` -> ``sum``, a missing axis added."""
    assert isinstance(n.func, ast.Attribute)
    if n.func.attr == "mean":
        attr_end = c1(n.func)
        yield text.splice(n, [(attr_end - 4, attr_end, "sum")])
        return
    is_np = isinstance(n.func.value, ast.Name) and n.func.value.id == ctx.np
    positional = n.args[1:] if is_np else n.args
    axis = next((kw.value for kw in n.keywords if kw.arg == "axis"), None)
    if axis is None and positional:
        axis = positional[0]
    keep = next((kw for kw in n.keywords if kw.arg == "keepdims"), None)
    if axis is not None and one_line(axis):
        value = _num(axis)
        if value is not None:
            for new in ("0", "1") if value == -1.0 else (("1",) if value == 0.0 else ("0",)):
                yield text.replace(axis, new)
    elif axis is None and (n.args if is_np else True):
        close = c1(n) - 1  # the closing parenthesis
        sep = ", " if (n.args if is_np else n.args or n.keywords) else ""
        for how in ("axis=0", "axis=1, keepdims=True"):
            yield text.splice(n, [(close, close, f"{sep}{how}")])
    if keep is not None and one_line(keep.value):
        start = _keyword_start(text, n, keep)
        if start is not None:
            yield text.splice(n, [(start, c1(keep.value), "")])
    elif axis is not None:
        close = c1(n) - 1
        yield text.splice(n, [(close, close, ", keepdims=True")])


def _keyword_start(text: _Text, call: ast.Call, kw: ast.keyword) -> int | None:
    """The byte column of the ``, keepdims=...`` to remove (its comma included)."""
    raw = text._raw(ln(call))
    end = c0(kw.value)
    found = [m for m in re.finditer(rb",\s*keepdims\s*=\s*", raw[:end]) if m.end() == end]
    return found[-1].start() if found else None


def outputs_read(loop: ast.stmt, lines: list[str], ctx: Context) -> tuple[str, ...]:
    """The activation's outputs as ``loop`` reads them (``hs[t]``, ``self.hid[t]``), most
    read first."""
    text = _Text(lines)
    subs: collections.Counter[str] = collections.Counter()
    names: collections.Counter[str] = collections.Counter()
    for n in _all(loop):
        if isinstance(n, ast.Subscript) and one_line(n) and isinstance(n.ctx, ast.Load) \
                and not isinstance(n.value, ast.Subscript) and _bases(n) in ctx.outputs:
            subs[text.seg(n)] += 1
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in ctx.outputs:
            names[n.id] += 1
    return tuple(s for s, _ in (subs or names).most_common(3))


def name_lines(func: ast.FunctionDef, assigned: set[str], loop_vars: set[str],
               gradients: set[str]) -> list[tuple[int, str]]:
    """(line, name) of every read or write of a variable of ``func`` that may be swapped
    in (not a loop index, not a parameter's gradient accumulator), for :func:`nearby`."""
    return sorted({(n.lineno, n.id) for n in _all(func) if isinstance(n, ast.Name)
                   and n.id in assigned and n.id not in loop_vars and n.id not in gradients})


def nearby(stmt: ast.stmt, names: list[tuple[int, str]]) -> set[str]:
    """Variables used within :data:`NEIGHBOURHOOD` lines of ``stmt`` (``names``: from
    :func:`name_lines`)."""
    lo, hi = stmt.lineno - NEIGHBOURHOOD, (stmt.end_lineno or stmt.lineno) + NEIGHBOURHOOD
    start = bisect.bisect_left(names, (lo, ""))
    out = set()
    for k in range(start, len(names)):
        if names[k][0] > hi:
            break
        out.add(names[k][1])
    return out


def loop_variables(func: ast.FunctionDef) -> set[str]:
    """Names a ``for`` binds (indices, steps): never swapped for data."""
    return {n.id for loop in _all(func) if isinstance(loop, ast.For | ast.comprehension)
            for n in _all(loop.target) if isinstance(n, ast.Name)}


def pre_activation_gradients(loop: ast.stmt, lines: list[str], whh_grads: set[str]) -> list[str]:
    """Names ``loop`` writes that its lines writing the Whh gradient read (``dhraw`` in
    ``dWhh += np.dot(dhraw, hs[t-1].T)``, ``da`` in ``g["Whh"] += da @ hs[t].T``): the
    gradient at the pre-activation. ``whh_grads``: Whh's names (``dWhh``; ``Whh`` as a key)."""
    body = [s for s in walk_statements([loop]) if s is not loop]
    stored = {t.id for s in body if isinstance(s, ast.Assign | ast.AugAssign)
              for tt in (s.targets if isinstance(s, ast.Assign) else [s.target])
              for t in _all(tt) if isinstance(t, ast.Name)}
    pattern = re.compile("|".join(
        [rf"(?<![A-Za-z0-9_]){re.escape(g)}(?![A-Za-z0-9_])" for g in sorted(whh_grads)
         if g.startswith("d")]
        + [rf"""["']{re.escape(g)}["']""" for g in sorted(whh_grads) if not g.startswith("d")])
        or r"(?!x)x")
    out: list[str] = []
    for s in body:
        if isinstance(s, ast.For | ast.While | ast.If) or not pattern.search(
                "\n".join(lines[s.lineno - 1:s.end_lineno or s.lineno])):
            continue
        for n in _all(s):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in stored \
                    and n.id not in out and not pattern.fullmatch(n.id):
                out.append(n.id)
    return out


def bias_inserts(func: ast.FunctionDef, lines: list[str],
                 aliases: Mapping[str, set[str]]) -> Iterator[Edit3]:
    """A bias's gradient never accumulated (its ``dbh += dhraw`` deleted): the line put back.

    Derivable because a bias's gradient is exactly the sum over steps of the gradient at
    the pre-activation it is added to, and that gradient is named by the code itself: the
    loop variable its weight's gradient line reads (``dhraw`` in ``dWhh += dhraw @ ...``
    for bh, ``dy`` in ``dWhy += dy @ ...`` for by). Only when the accumulator (``dbh``) is
    a plain name written nowhere inside a loop; the line goes after the one that writes that
    gradient, or at the end of the loop body."""
    loops = [n for n in _all(func) if isinstance(n, ast.For | ast.While)]
    in_loops = {id(s) for loop in loops for s in walk_statements(loop.body)}
    for bias, weight in (("bh", "Whh"), ("by", "Why")):
        grads = {a for a in aliases.get(bias, set()) if a.startswith("d")}
        names = sorted({n.id for n in _all(func) if isinstance(n, ast.Name) and n.id in grads})
        if len(names) != 1:
            continue
        g = names[0]
        if any(id(s) in in_loops and isinstance(s, ast.Assign | ast.AugAssign) and any(
                isinstance(t, ast.Name) and t.id == g for tt in (
                    s.targets if isinstance(s, ast.Assign) else [s.target])
                for t in _all(tt)) for s in walk_statements(func.body)):
            continue
        for loop in loops:
            ds = pre_activation_gradients(loop, lines, set(aliases.get(weight, set())))
            body = list(walk_statements(loop.body))
            for d in ds[:2]:
                writers: list[ast.stmt] = [
                    s for s in body if isinstance(s, ast.Assign) and one_line(s) and any(
                        isinstance(t, ast.Name) and t.id == d for t in s.targets)]
                spots = writers[-1:] + [loop.body[-1]]
                for spot in spots:
                    if spot.end_lineno is None or not one_line(spot):
                        continue
                    line = lines[spot.end_lineno - 1]
                    indent = indent_of(line)
                    yield spot.end_lineno, "insert", f"{line}\n{indent}{g} += {d}"


# Each weight and the bias added with it to the same pre-activation.
BIAS_OF = (("Whh", "bh"), ("Wxh", "bh"), ("Why", "by"), ("Wf", "bf"), ("Wi", "bi"),
           ("Wc", "bc"), ("Wo", "bo"), ("Wz", "bz"), ("Wr", "br"), ("Wn", "bn"))


def bias_sums(func: ast.FunctionDef, lines: list[str],
              aliases: Mapping[str, set[str]]) -> Iterator[Edit3]:
    """A bias's gradient never summed, whatever holds it (``grads["bf"]``, ``self.dbh``,
    ``dbz``): after a loop line summing its weight's gradient as a product with ``d``
    (``grads["Wf"] += da_f @ z.T``), the same target spelt with the bias's name gets
    ``+= d`` (``grads["bf"] += da_f``), when nothing in the loop writes it."""
    text = _Text(lines)
    for loop in (n for n in _all(func) if isinstance(n, ast.For | ast.While)):
        body = list(walk_statements(loop.body))
        written = {text.seg(t) for st in body if isinstance(st, ast.Assign | ast.AugAssign)
                   and one_line(st) for t in (st.targets if isinstance(st, ast.Assign)
                                               else [st.target])}
        for st in body:
            if not (isinstance(st, ast.AugAssign) and isinstance(st.op, ast.Add)
                    and one_line(st) and _is_product(st.value)):
                continue
            ops = _operands(st.value)
            if not ops or not isinstance(ops[0], ast.Name | ast.Subscript):
                continue
            d, target = text.seg(ops[0]), text.seg(st.target)
            line = lines[st.lineno - 1]
            indent = indent_of(line)
            for weight, bias in BIAS_OF:
                for w in sorted({a for a in aliases.get(weight, set())
                                 if not a.startswith("d")}, key=len, reverse=True):
                    rx = re.compile(rf"(?<![A-Za-z0-9])(d_?)?{re.escape(w)}(?![A-Za-z0-9])")
                    if not rx.search(target):
                        continue
                    for b in sorted(a for a in aliases.get(bias, set()) if not a.startswith("d")):
                        named = rx.sub(rf"\g<1>{b}", target, count=1)
                        if named != target and named not in written:
                            yield st.lineno, "insert", f"{line}\n{indent}{named} += {d}"
                    break


def carry_inserts(func: ast.FunctionDef, lines: list[str], ctx: Context, carried: set[str],
                  whh_grads: set[str]) -> Iterator[Edit3]:
    """The carry update deleted: ``carry = Whh.T @ d`` inserted after a line of the loop.

    A whole missing statement is derivable here, and only here, because everything in it
    is fixed by the code itself: ``carry`` is a carried-looking name (or one the loop reads)
    that the loop reads but never writes, so its value is the same at every step (the
    update is what is missing); the recurrent matrix is the one whose gradient the loop
    accumulates; and ``d`` is the loop's variable that the ``Whh`` gradient line reads
    (the gradient at the pre-activation), since dL/dh(t-1) = Whh.T @ d(t). The update goes
    right after the line that writes ``d`` (the usual place) or at the end of the loop body."""
    if not ctx.recurrent:
        return
    w = ctx.recurrent[0]
    wt = f"{w}.T"
    for loop in _all(func):
        if not isinstance(loop, ast.For | ast.While):
            continue
        body = list(walk_statements(loop.body))
        stored = {t.id for s in body if isinstance(s, ast.Assign | ast.AugAssign)
                  for tt in (s.targets if isinstance(s, ast.Assign) else [s.target])
                  for t in _all(tt) if isinstance(t, ast.Name)}
        read = {n.id for s in body for root in header_exprs(s) for n in _all(root)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        zeroed = {t.id for s in walk_statements(func.body) if isinstance(s, ast.Assign)
                  and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Attribute)
                  and s.value.func.attr in ("zeros", "zeros_like")
                  for t in s.targets if isinstance(t, ast.Name)}
        missing = sorted(v for v in carried & read if v not in stored
                         and (v in zeroed or CARRIED.search(v)))
        if not missing:
            continue
        ds = [d for d in pre_activation_gradients(loop, lines, whh_grads) if d not in missing]
        writes = {}
        for s in body:
            if isinstance(s, ast.Assign) and one_line(s):
                for t in s.targets:
                    if isinstance(t, ast.Name) and t.id in ds:
                        writes[t.id] = s
        for d in ds:
            for v in missing:
                after = writes.get(d)
                last = loop.body[-1]
                for spot in ([after] if after is not None else []) + [last]:
                    if spot.end_lineno is None or not one_line(spot):
                        continue
                    line = lines[spot.end_lineno - 1]
                    indent = indent_of(line)
                    yield spot.end_lineno, "insert", \
                        f"{line}\n{indent}{v} = {_product(ctx, wt, d)}"
