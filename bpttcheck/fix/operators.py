"""The candidate edits: the mutation harness's operators run backwards over one function's lines,
with the families of :mod:`.families` (bugs the harness never makes), ranked by :mod:`.rank`."""

from __future__ import annotations

import ast
import dataclasses
import functools
import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from ..errors import ImplError
from ..impl.source import code_lines
from ..impl.source import read as read_source_nodes
from ..model import HIDDEN_PARAMS, PARAM_NAMES
from . import families, restored
from .gated_operators import carry_inserts as gated_carry_inserts
from .gated_operators import gated_edits
from .rank import (
    Flows,
    cause_line_score,
    cause_score,
    defs_uses,
    flow_score,
    flows_of,
    measured_score,
    one_step_score,
    passed_as,
    relevance_of,
    result_feeds,
    returned_into,
)
from .syntax import (
    CARRIED,
    MODULES,
    accumulating,
    activation_kind,
    atom,
    c0,
    c1,
    counted,
    header_exprs,
    indent_of,
    is_spaced,
    ln,
    one_line,
    only_statement,
    stale_names,
    stem,
    subscripted,
    target_defs,
    walk_statements,
)

# Prefixes a gradient's name is spelt with besides ``d`` / ``d_``: dLdU (WildML), gWxh, grad_W.
GRADIENT_PREFIXES = ("dLd", "dL_d", "dJd", "g", "grad_", "grad")


KNOWN_ROLES = ({"inputs", "targets"}, {"xs", "ys"}, {"x", "y"}, {"src", "tgt"},
               {"inp", "tgt"}, {"input", "target"})


INSERTED = 3.0  # the least relevance of an inserted statement (a carried-write line's)


PRIORITY = {"transpose": 5.0, "carry": 5.0, "accumulate": 5.0, "clip": 5.0, "index": 4.0,
            "tanh": 4.0, "insert": 4.0, "scale": 4.0, "loop": 4.0, "copy": 4.0, "result": 4.0,
            "bound": 3.5,
            "sign": 3.0, "operands": 3.0, "unwrap": 3.0, "reduce": 3.0, "init": 3.0,
            "literal": 3.0, "wrap": 2.5, "dtanh": 2.5, "weight": 2.0, "term": 2.0, "bias": 4.0,
            "delete": 2.0, "swap": 1.5, "drop": 1.0, "neighbour": -4.0, "order": 6.0}
# "order": names unpacked in another order than elsewhere in the code, rarely on purpose
# "neighbour" edits exist only on lines that feed the wrong gradients (+5 there) and, a state
# for a state, in records kept on lines that feed none; they are many: so low that they come
# after every other edit of a relevant line, as a last resort.


@dataclasses.dataclass(frozen=True)
class Candidate:
    line: int
    after: str
    kind: str
    score: float
    parse: bool = False  # the new line must parse as a statement (see :meth:`runnable`)
    gated: bool = False  # a gate-specific edit (:mod:`.gated_operators`): ranked up

    def runnable(self) -> bool:
        """Whether the edited line is still Python (parsed only for candidates tried)."""
        if not self.parse:
            return True
        try:  # each line a simple statement (an insertion may end a nested block)
            for line in self.after.split("\n"):
                ast.parse(line.strip())
        except SyntaxError:
            return False
        return True


class _Line:
    """One physical line as bytes (AST columns are UTF-8 byte offsets)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.raw = text.encode("utf-8")

    def seg(self, node: ast.AST) -> str:
        return self.raw[c0(node):c1(node)].decode("utf-8")

    def splice(self, spans: list[tuple[int, int, str]]) -> str | None:
        raw = self.raw
        for start, end, new in sorted(spans, reverse=True):
            raw = raw[:start] + new.encode("utf-8") + raw[end:]
        try:
            out = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return out if out != self.text else None


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
        stored = {t.id for s in walk_statements(loop.body) if isinstance(s, ast.Assign)
                  for t in s.targets if isinstance(t, ast.Name)}
        read = {n.id for n in ast.walk(loop) if isinstance(n, ast.Name)
                and isinstance(n.ctx, ast.Load)}
        out |= stored - read
    return out


@functools.lru_cache(maxsize=65536)
def _same_role(a: str, b: str) -> bool:
    if a == b:
        return False
    if any({a.lower(), b.lower()} == r for r in KNOWN_ROLES):
        return True  # X / Y as well as x / y
    if stem(a) == stem(b):
        return True  # one variable at two steps: h / h_prev, a / a_next, c_t / c_old
    if min(len(a), len(b)) >= 2 and (a.startswith(b) or b.startswith(a)):
        return True
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 2 and len(long_) == len(short) + 1 and any(
            long_[:k] + long_[k + 1:] == short for k in range(1, len(long_) - 1)):
        return True  # one letter more inside: xh / xrh, dh / drh
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
        k = ln(n)
        if k not in cache:
            cache[k] = _Line(lines[k - 1])
        return cache[k]

    def seg(n: ast.AST) -> str:
        return at(n).seg(n)

    def splice(n: ast.AST, spans: list[tuple[int, int, str]]) -> tuple[int, str | None]:
        return ln(n), at(n).splice(spans)

    def replace(n: ast.AST, new: str) -> tuple[int, str | None]:
        return splice(n, [(c0(n), c1(n), new)])

    def insert(n: ast.AST, new: str) -> tuple[int, str | None]:
        return splice(n, [(c1(n), c1(n), new)])

    def gap(a: ast.AST, b: ast.AST) -> str:
        return at(a).raw[c1(a):c0(b)].decode("utf-8")

    def same_line(*ns: ast.AST) -> bool:
        return all(one_line(n) for n in ns) and len({ln(n) for n in ns}) == 1

    parents: dict[int, ast.AST] = {}
    roots = header_exprs(stmt)
    for root in roots:
        for p in ast.walk(root):
            for c in ast.iter_child_nodes(p):
                parents[id(c)] = p

    def factor(f: ast.expr) -> str:
        """``f`` as one factor of a product: a sum keeps its parentheses."""
        low = isinstance(f, ast.BinOp) and isinstance(f.op, ast.Add | ast.Sub)
        return f"({seg(f)})" if low else seg(f)

    def in_index(n: ast.AST) -> bool:
        p = parents.get(id(n))
        while p is not None:
            if isinstance(p, ast.Subscript):
                return True
            p = parents.get(id(p))
        return False

    def wrapped(n: ast.AST) -> bool:
        raw = at(n).raw
        before = raw[:c0(n)].rstrip()
        after = raw[c1(n):].lstrip()
        return before.endswith(b"(") and after.startswith(b")")

    def kinds(k: str, where: tuple[int, str | None]) -> tuple[int, str, str | None]:
        return where[0], k, where[1]

    written, _ = defs_uses(stmt)  # `dbh += dbh` is never the fix
    gradients = {f"d{p}" for p in PARAM_NAMES}  # dWxh for dWhh: a wrong accumulator, rare
    # operators spaced as this statement spaces them, or (when it shows neither) as the file
    here = "\n".join(lines[stmt.lineno - 1:stmt.end_lineno])
    sp = " " if is_spaced(here) or (spaced and not re.search(r"\w[-+*/]\w", here)) else ""
    single = one_line(stmt)
    # whole-statement edits
    if isinstance(stmt, ast.Assign | ast.AugAssign | ast.Expr) and single:
        yield stmt.lineno, "delete", ""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and in_loop \
            and same_line(stmt.targets[0], stmt.value):
        t, v = stmt.targets[0], stmt.value
        yield kinds("accumulate", splice(t, [(c1(t), c0(v),
                                              gap(t, v).replace("=", "+=", 1))]))
    # `g = g + d`: a new array bound to the name, where the one held elsewhere (a list, a
    # dict, the caller's) had to be added into
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and single \
            and isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.op, ast.Add) \
            and ast.unparse(stmt.value.left) == ast.unparse(stmt.targets[0]) \
            and same_line(stmt.targets[0], stmt.value.right):
        t, r = stmt.targets[0], stmt.value.right
        between = gap(t, r)  # ` = g + `
        yield kinds("accumulate", splice(t, [(c1(t), c0(r), between[:between.index("=")] + "+="
                                              + " " * between.endswith(" "))]))
    # `x *= y` changing in place an array that something else holds too (a cache's, a
    # carried one): `x = x * y`, a new array
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) \
            and same_line(stmt.target, stmt.value):
        t, v = stmt.target, stmt.value
        op = re.match(r"\s*([-+*/@]|//|\*\*)=", gap(t, v))
        if op is not None:
            yield kinds("copy", splice(t, [(c1(t), c0(v), f"{sp}={sp}{t.id}{sp}{op.group(1)}{sp}"),
                                           (c0(v), c1(v), seg(v) if op.group(1) == "+"
                                            else factor(v) if op.group(1) == "*"
                                            else seg(v) if atom(v) else f"({seg(v)})")]))
    if isinstance(stmt, ast.AugAssign) and same_line(stmt.target, stmt.value):
        t, v = stmt.target, stmt.value
        g = gap(t, v)
        swaps = {ast.Add: (("+=", "="), ("+=", "-=")), ast.Sub: (("-=", "+="),)}
        for old, new in swaps.get(type(stmt.op), ()):
            kind = "accumulate" if new == "=" else "sign"
            yield kinds(kind, splice(t, [(c1(t), c0(v),
                                          g.replace(old, new, 1))]))
    value = stmt.value if isinstance(stmt, ast.Assign | ast.AugAssign | ast.Return) else None
    if value is not None and in_loop:
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) else getattr(stmt, "target", None)
        tname = target.id if isinstance(target, ast.Name) else ""
        # where a missing term may go: after the whole value, or inside parentheses
        spots = [value] + [n for n in ast.walk(value) if n is not value and one_line(n)
                           and isinstance(n, ast.BinOp | ast.Name | ast.Subscript | ast.Call)
                           and wrapped(n)]
        # or in a call's first argument (`step_backward(dh[:, t] + dprev, cache[t])`)
        spots += [n.args[0] for n in ast.walk(value) if isinstance(n, ast.Call) and n.args
                  and one_line(n.args[0]) and not isinstance(n.args[0], ast.Starred)
                  and n.args[0] not in spots]
        for cv in sorted(carried):
            if cv == tname or any(isinstance(n, ast.Name) and n.id == cv
                                  for n in ast.walk(value)):
                continue
            for spot in spots:
                if not one_line(spot):
                    continue
                if spot is value and isinstance(value, ast.IfExp | ast.Lambda | ast.Compare
                                                | ast.BoolOp):
                    yield kinds("carry", replace(value, f"({seg(value)}) + {cv}"))
                else:
                    yield kinds("carry", insert(spot, f"{sp}+{sp}{cv}" if sp else f"+{cv}"))
    # unpacked in another order than packed (`f, i, o, g = np.split(a, 4)` for `f, i, g, o`)
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and one_line(stmt) \
            and isinstance(stmt.targets[0], ast.Tuple) and 2 <= len(stmt.targets[0].elts) <= 5 \
            and all(isinstance(e, ast.Name) for e in stmt.targets[0].elts) \
            and not isinstance(stmt.value, ast.Tuple):
        elts = stmt.targets[0].elts
        for i, j in itertools.combinations(range(len(elts)), 2):
            x, y = elts[i], elts[j]
            if seg(x) != seg(y):
                yield kinds("swap", splice(x, [(c0(y), c1(y), seg(x)), (c0(x), c1(x), seg(y))]))
    if isinstance(stmt, ast.For) and one_line(stmt.iter):
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
        for after in _reversals(it, seg):
            yield kinds("loop", replace(it, after))
    # node edits
    for root in roots:
        # the same scale everywhere on a line (`return dW / n, db / n`)
        scaled: dict[tuple[int, str], list[ast.BinOp]] = {}
        for d in ast.walk(root):
            if isinstance(d, ast.BinOp) and isinstance(d.op, ast.Div) and one_line(d):
                scaled.setdefault((d.lineno, ast.dump(d.right)), []).append(d)
        for group in scaled.values():
            if len(group) > 1:
                yield kinds("scale", splice(group[0], [
                    (c0(d), c1(d), seg(d.left)) for d in group]))
        # a scale on one side only (`return loss / n, dW, db`): applied to the others too
        items: list[ast.expr] = []
        if isinstance(root, ast.Return | ast.Assign) and isinstance(root.value, ast.Tuple):
            items = list(root.value.elts)
        elif isinstance(root, ast.Return | ast.Assign) and isinstance(root.value, ast.Dict):
            items = list(root.value.values)
        ops = {ast.dump(e.op) + ast.dump(e.right) for e in items
               if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Div | ast.Mult)}
        plain = [e for e in items if not isinstance(e, ast.BinOp) and not isinstance(
            e, ast.Starred) and one_line(e)]
        if len(ops) == 1 and plain and len(plain) < len(items) and same_line(*items):
            sc = next(e for e in items if isinstance(e, ast.BinOp))
            assert isinstance(sc, ast.BinOp)
            how = at(sc).raw[c1(sc.left):c1(sc)].decode("utf-8")  # ` / n`
            # to every other element; or not to a returned state (`hs[-1]`, the last one)
            names: list[ast.expr] = [e for e in plain if isinstance(e, ast.Name)]
            for part in (plain, names, [e for e in plain if e is not items[-1]]):
                if part:
                    yield kinds("scale", splice(part[0], [(c1(e), c1(e), how)
                                                          for e in part]))
        for n in ast.walk(root):
            if not one_line(n) or n is stmt:
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
            # a broadcast outer product (`a * b.T`) with its transpose on the partner side
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult) \
                    and same_line(n.left, n.right):
                for tr, partner in ((n.left, n.right), (n.right, n.left)):
                    if isinstance(tr, ast.Attribute) and tr.attr == "T" and not (
                            isinstance(partner, ast.Attribute) and partner.attr == "T") \
                            and atom(partner):
                        yield kinds("transpose", splice(n, sorted(
                            [(c0(tr), c1(tr), seg(tr.value)), (c1(partner), c1(partner), ".T")],
                            reverse=True)))
            # a bracket lost: `a * b + c` for `a * (b + c)` (or `(a + c) * b`)
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add | ast.Sub) \
                    and isinstance(n.left, ast.BinOp) and isinstance(n.left.op, ast.Mult) \
                    and same_line(n.left.left, n.left.right, n.right) \
                    and not isinstance(parents.get(id(n)), ast.BinOp):
                sign = "+" if isinstance(n.op, ast.Add) else "-"
                prod, added = n.left, seg(n.right)
                gap_ = " " if spaced else ""
                yield kinds("carry", replace(n, f"{factor(prod.left)}{gap_}*{gap_}"
                                                f"({seg(prod.right)}{gap_}{sign}{gap_}{added})"))
                yield kinds("carry", replace(n, f"({seg(prod.left)}{gap_}{sign}{gap_}{added})"
                                                f"{gap_}*{gap_}{factor(prod.right)}"))
            # operands of a product, an einsum's output
            pair: tuple[ast.AST, ast.AST] | None = None
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult):
                pair = (n.left, n.right)
            if isinstance(n, ast.Call) and len(n.args) == 2 and not n.keywords and isinstance(
                    n.func, ast.Attribute) and n.func.attr in ("dot", "outer", "matmul"):
                pair = (n.args[0], n.args[1])
            if pair is not None and same_line(*pair):
                a, b = pair
                yield kinds("operands", splice(a, [(c0(a), c1(a), seg(b)),
                                                   (c0(b), c1(b), seg(a))]))
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
                    if not one_line(e):
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
                    elif _int_of(e) in (0, -1) and not _is_shape(n.value):
                        # the first for the last (`tape[0]` for `tape[-1]`), or the reverse
                        yield kinds("index", replace(e, "-1" if _int_of(e) == 0 else "0"))
                    elif isinstance(e, ast.Slice) and e.step is None:
                        for text in _shifted_slices(e):
                            yield kinds("index", replace(e, text))
                        for text in _other_side(e, seg):
                            yield kinds("index", replace(e, text))
            # an index pair in the other order (`W[:, j]` for `W[j, :]`)
            if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Tuple) \
                    and len(n.slice.elts) == 2 and same_line(*n.slice.elts) \
                    and not _is_shape(n.value):
                a, b = n.slice.elts
                if seg(a) != seg(b):
                    yield kinds("transpose", splice(a, [(c0(a), c1(a), seg(b)),
                                                        (c0(b), c1(b), seg(a))]))
            # a fold's order (`reduce(step, reversed(tape), start)` <-> `reduce(step, tape, ...)`)
            if isinstance(n, ast.Call) and len(n.args) >= 2 and one_line(n.args[1]) \
                    and (n.func.id if isinstance(n.func, ast.Name) else n.func.attr
                         if isinstance(n.func, ast.Attribute) else "") == "reduce":
                seq = n.args[1]
                if isinstance(seq, ast.Call) and isinstance(seq.func, ast.Name) \
                        and seq.func.id == "reversed" and len(seq.args) == 1:
                    yield kinds("loop", replace(seq, seg(seq.args[0])))
                else:
                    yield kinds("loop", replace(seq, f"reversed({seg(seq)})"
                                                if isinstance(seq, ast.Name | ast.Attribute)
                                                else f"reversed(list({seg(seq)}))"))
            # loop bounds, and the bound of a conditional expression (`if k >= 0 else h0`)
            if isinstance(n, ast.Compare) and len(n.ops) == 1 and (isinstance(
                    stmt, ast.While | ast.If) or (isinstance(parent, ast.IfExp)
                                                  and parent.test is n)) \
                    and same_line(n.left, n.comparators[0]):
                flips = {ast.Gt: ">=", ast.GtE: ">", ast.Lt: "<=", ast.LtE: "<"}
                new_op = flips.get(type(n.ops[0]))
                a, b = n.left, n.comparators[0]
                op = re.search(r"[<>]=?", gap(a, b))
                if new_op is not None and op:
                    yield kinds("bound", splice(a, [(c1(a) + op.start(),
                                                     c1(a) + op.end(), new_op)]))
                    for side in (a, b):  # `while t >= 1:` where `t >= 0` belongs
                        k = _int_of(side)
                        if k is not None and one_line(side):
                            yield kinds("bound", replace(side, str(k - 1)))
                            yield kinds("bound", replace(side, str(k + 1)))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) \
                    and n.func.id in ("range", "xrange") and isinstance(stmt, ast.For):
                for arg in n.args[:2]:
                    if not one_line(arg):
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
                yield kinds("sign", splice(a, [(c1(a), c0(b), new_gap)]))
            # the tanh derivative: (1 - h) or (1 - h)**2 for 1 - h*h
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub) and isinstance(
                    n.left, ast.Constant) and n.left.value == 1 and atom(n.right) \
                    and not in_index(n):
                h = seg(n.right)
                if not (isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Pow)):
                    yield kinds("tanh", replace(n, f"{seg(n.left)}{sp}-{sp}{h}{sp}*{sp}{h}"))
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) and isinstance(
                    n.left, ast.BinOp) and isinstance(n.left.op, ast.Sub) and isinstance(
                    n.left.left, ast.Constant) and n.left.left.value == 1 and atom(n.left.right):
                h, one = seg(n.left.right), seg(n.left.left)
                text = f"{one}{sp}-{sp}{h}{sp}*{sp}{h}"
                yield kinds("tanh", replace(n, text if isinstance(parent, ast.Return | ast.Assign)
                                            or wrapped(n) else f"({text})"))
            # a derivative where none belongs: `dc * f * (1 - f)` for the carry `dc * f`
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult) \
                    and isinstance(n.right, ast.BinOp) and isinstance(n.right.op, ast.Sub) \
                    and isinstance(n.right.left, ast.Constant) and n.right.left.value == 1 \
                    and isinstance(n.left, ast.BinOp) and isinstance(n.left.op, ast.Mult) \
                    and ast.unparse(n.left.right) == ast.unparse(n.right.right) \
                    and not in_index(n):
                yield kinds("tanh", replace(n, seg(n.left)))
            # ... also at the end of a product: `dy * y * (1 - y)` for `dy * (1 - y ** 2)`
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult) \
                    and isinstance(n.left, ast.BinOp) and isinstance(n.left.op, ast.Mult) \
                    and isinstance(n.right, ast.BinOp) and isinstance(n.right.op, ast.Sub) \
                    and isinstance(n.right.left, ast.Constant) and n.right.left.value == 1 \
                    and atom(n.left.right) and one_line(n) \
                    and ast.dump(n.right.right) == ast.dump(n.left.right):
                act = seg(n.left.right)
                yield kinds("tanh", replace(n, f"{factor(n.left.left)}{sp}*{sp}({seg(n.right.left)}"
                                               f"{sp}-{sp}{act}{sp}*{sp}{act})"))
            # h * (1 - h) (the logistic function's derivative) for tanh's 1 - h*h
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
                for hv, rest in ((n.left, n.right), (n.right, n.left)):
                    if isinstance(rest, ast.BinOp) and isinstance(rest.op, ast.Sub) \
                            and isinstance(rest.left, ast.Constant) and rest.left.value == 1 \
                            and atom(hv) and ast.dump(rest.right) == ast.dump(hv):
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
                    and n.func.attr == "clip" and n.args and one_line(n.args[0]):
                yield kinds("clip", replace(n, seg(n.args[0])))
            # a variable of the same role
            if isinstance(n, ast.Name) and load and n.id in assigned:
                for other in sorted(assigned):
                    if _same_role(n.id, other) and other not in written \
                            and not (n.id in gradients and other in gradients):
                        yield kinds("swap", replace(n, other))
        # ... in every place it is read on a line (`1 - hprev * hprev` for `1 - h * h`)
        reads: dict[tuple[int, str], list[ast.Name]] = {}
        for n in ast.walk(root):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in assigned \
                    and one_line(n):
                reads.setdefault((ln(n), n.id), []).append(n)
        for (_, name), found in reads.items():
            if len(found) < 2:
                continue
            for other in sorted(assigned):
                if _same_role(name, other) and other not in written \
                        and not (name in gradients and other in gradients):
                    yield kinds("swap", splice(found[0], [(c0(r), c1(r), other)
                                                          for r in found]))
        # two names of the same role traded on a line (`("Wf", daf), ("Wi", dai)` for
        # `("Wf", dai), ("Wi", daf)`)
        by_line: dict[int, list[str]] = {}
        for line_no, name in reads:
            by_line.setdefault(line_no, []).append(name)
        for line_no, on_line in by_line.items():
            if len(on_line) > 8:
                continue
            for one, two in itertools.combinations(sorted(on_line), 2):
                if _same_role(one, two) and one not in written and two not in written:
                    reads_a, reads_b = reads[(line_no, one)], reads[(line_no, two)]
                    yield kinds("swap", splice(reads_a[0],
                                               [(c0(r), c1(r), two) for r in reads_a]
                                               + [(c0(r), c1(r), one) for r in reads_b]))
        # one step's index at every read on a line (`1 - hs[t - 1] * hs[t - 1]` for `hs[t]`)
        shifted: dict[tuple[int, str], list[ast.expr]] = {}
        for n in ast.walk(root):
            if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load) and one_line(n) \
                    and not isinstance(n.slice, ast.Slice | ast.Tuple):
                shifted.setdefault((ln(n), ast.unparse(n)), []).append(n.slice)
        for found_ in shifted.values():
            e = found_[0]
            if len(found_) < 2 or not one_line(e):
                continue
            news: list[str] = []
            if isinstance(e, ast.Name) and e.id in assigned:
                news = [f"{e.id}{sp}-{sp}1", f"{e.id}{sp}+{sp}1"]
            elif isinstance(e, ast.BinOp) and isinstance(e.left, ast.Name) \
                    and isinstance(e.op, ast.Add | ast.Sub) \
                    and isinstance(e.right, ast.Constant) and e.right.value == 1:
                news = [e.left.id]
            for new in news:
                yield kinds("index", splice(e, [(c0(x), c1(x), new) for x in found_]))


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


def _is_shape(n: ast.expr) -> bool:
    """``x.shape`` (indexed by a dimension, not a step)."""
    return isinstance(n, ast.Attribute) and n.attr == "shape"


def _int_of(node: ast.expr | None) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(
            node.operand, ast.Constant) and type(node.operand.value) is int:
        return -node.operand.value
    return None


def _discarded(func: ast.FunctionDef, lines: list[str]) -> Iterator[tuple[int, str, str]]:
    """A value a call returns thrown away into ``_`` in a loop whose carried gradient is
    never updated (``_, _, dW = step_back(...)`` for ``_, dh_next, dW = ...``): each ``_``
    named as each such stale variable (:func:`.syntax.stale_names`)."""
    for loop in ast.walk(func):
        if not isinstance(loop, ast.For | ast.While):
            continue
        stale = sorted(stale_names(func, loop))
        if not stale:
            continue
        for st in walk_statements(loop.body):
            if not (isinstance(st, ast.Assign) and one_line(st) and len(st.targets) == 1
                    and isinstance(st.targets[0], ast.Tuple | ast.List)
                    and isinstance(st.value, ast.Call)):
                continue
            raw = lines[st.lineno - 1].encode("utf-8")
            for e in st.targets[0].elts:
                if isinstance(e, ast.Name) and e.id == "_":
                    for v in stale:
                        yield st.lineno, "carry", (raw[:c0(e)] + v.encode("utf-8")
                                                   + raw[c1(e):]).decode("utf-8")


def _key(n: ast.AST) -> str | None:
    """What names a stored value whatever step reads it: ``.a`` for ``s.a`` or
    ``steps[k - 1].a``, ``pre`` for ``pre[t]`` or ``pre``."""
    if isinstance(n, ast.Attribute):
        return f".{n.attr}"
    n = subscripted(n)
    return n.id if isinstance(n, ast.Name) else None


def _unactivated(func: ast.FunctionDef, lines: list[str]) -> Iterator[tuple[int, str, str]]:
    """A state read as its pre-activation, the activation not applied again (``h_prev =
    prev.a`` where the function elsewhere applies ``np.tanh(s.a)``): the value wrapped in
    that activation, as the function spells it."""
    applied: dict[str, str] = {}
    for n in ast.walk(func):
        if isinstance(n, ast.Call) and len(n.args) == 1 and one_line(n) \
                and activation_kind(n.func) is not None:
            key = _key(n.args[0])
            if key is not None:
                applied.setdefault(key, _Line(lines[ln(n) - 1]).seg(n.func))
    if not applied:
        return
    inside = {id(a) for n in ast.walk(func) if isinstance(n, ast.Call) for a in n.args}
    for st in walk_statements(func.body):
        if not (isinstance(st, ast.Assign) and one_line(st) and len(st.targets) == 1
                and isinstance(st.targets[0], ast.Name)):
            continue
        # the value, or a branch of it (``steps[k - 1].pre if k > 0 else h0``)
        values = [st.value.body, st.value.orelse] if isinstance(st.value, ast.IfExp) \
            else [st.value]
        for v in values:
            if not isinstance(v, ast.Name | ast.Attribute | ast.Subscript) or id(v) in inside:
                continue
            act = applied.get(_key(v) or "")
            if act is not None:
                line = _Line(lines[st.lineno - 1])
                after = line.splice([(c0(v), c1(v), f"{act}({line.seg(v)})")])
                if after is not None:
                    yield st.lineno, "wrap", after


def _attribute_swaps(func: ast.FunctionDef, lines: list[str], records: list[set[str]]
                     ) -> Iterator[tuple[int, str, str]]:
    """A record's field read for another of the same role (``tp.c_prev`` for ``tp.c``,
    ``rec["c"]`` for ``rec["c_prev"]``): the fields are those the function reads from
    records of that name (attributes, or string keys), and those of every record the file
    makes (``records``, :func:`_fields`) with two of them or more (``self``'s weights
    excepted: they are swapped as names are not)."""
    def field(n: ast.AST) -> tuple[str, str, int, int] | None:
        """(record, field, start, end of the field's text) of ``n``, if it reads one (of a
        record named, or of one in a list of them: ``cells[t].h``)."""
        if isinstance(n, ast.Attribute) and isinstance(subscripted(n.value), ast.Name) \
                and one_line(n):
            base = subscripted(n.value)
            assert isinstance(base, ast.Name)
            if base.id not in MODULES:
                return base.id + "[]" * (base is not n.value), n.attr, c1(n) - len(n.attr), c1(n)
        if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) \
                and isinstance(n.slice, ast.Constant) and isinstance(n.slice.value, str) \
                and one_line(n.slice):
            return f"{n.value.id}[]", n.slice.value, c0(n.slice) + 1, c1(n.slice) - 1
        return None

    called = {id(n.func) for n in ast.walk(func) if isinstance(n, ast.Call)}
    fields: dict[str, set[str]] = {}
    for n in ast.walk(func):
        found = field(n) if id(n) not in called else None  # a method is not a field
        if found is not None:
            fields.setdefault(found[0], set()).add(found[1])
    for read in fields.values():  # a record made elsewhere with two of these fields or more
        read |= set().union(*(r for r in records if len(read & r) >= min(2, len(read))))
    if not any(len(f) > 1 for f in fields.values()):
        return
    for st in walk_statements(func.body):
        if not one_line(st) or isinstance(st, ast.For | ast.While | ast.If | ast.FunctionDef):
            continue
        line = _Line(lines[st.lineno - 1])
        for root in header_exprs(st):
            for n in ast.walk(root):
                found = field(n) if id(n) not in called else None
                if found is None or not isinstance(getattr(n, "ctx", None), ast.Load):
                    continue
                record, name, start, end = found
                for other in sorted(fields.get(record, ())):
                    if _same_role(name, other):
                        after = line.splice([(start, end, other)])
                        if after is not None:
                            yield st.lineno, "swap", after


def _unpack_orders(func: ast.FunctionDef, defs: list[ast.FunctionDef], lines: list[str]
                   ) -> Iterator[tuple[int, str, str]]:
    """The same names unpacked in two orders (``f, i, g, o = np.split(a, 4)`` in the
    forward, ``f, i, o, g = np.split(acts[t], 4)`` in the backward): each of ``func``'s
    unpackings written in the order another unpacking in ``defs`` uses."""
    orders: dict[frozenset[str], set[tuple[str, ...]]] = {}
    mine: list[tuple[ast.Assign, tuple[str, ...]]] = []
    for d in defs:
        for st in walk_statements(d.body):
            if isinstance(st, ast.Assign) and len(st.targets) == 1 and one_line(st) \
                    and isinstance(st.targets[0], ast.Tuple) \
                    and not isinstance(st.value, ast.Tuple) \
                    and 2 < len(st.targets[0].elts) <= 5 \
                    and all(isinstance(e, ast.Name) for e in st.targets[0].elts):
                names = tuple(e.id for e in st.targets[0].elts if isinstance(e, ast.Name))
                if len(set(names)) == len(names):
                    orders.setdefault(frozenset(names), set()).add(names)
                    if d is func:
                        mine.append((st, names))
    for st, names in mine:
        target = st.targets[0]
        line = _Line(lines[st.lineno - 1])
        for other in sorted(orders[frozenset(names)] - {names}):
            after = line.splice([(c0(target), c1(target), ", ".join(other))])
            if after is not None:
                yield st.lineno, "order", after


def _index_names(func: ast.FunctionDef, lines: list[str]) -> Iterator[tuple[int, str, str]]:
    """One of a loop's unpacked indices for another (``dW[:, tg]`` for ``dW[:, ix]`` in
    ``for ix, tg, h in steps``): each such name read as an index, swapped for each other
    name of the same loop target that the function also reads as an index."""
    def indices(n: ast.Subscript) -> list[ast.expr]:
        return list(n.slice.elts) if isinstance(n.slice, ast.Tuple) else [n.slice]

    used = {e.id for n in ast.walk(func) if isinstance(n, ast.Subscript)
            for e in indices(n) if isinstance(e, ast.Name)}
    for loop in ast.walk(func):
        if not (isinstance(loop, ast.For) and isinstance(loop.target, ast.Tuple)):
            continue
        names = [e.id for e in ast.walk(loop.target) if isinstance(e, ast.Name) and e.id in used]
        if len(names) < 2:
            continue
        for st in walk_statements(loop.body):
            if not one_line(st) or isinstance(st, ast.For | ast.While | ast.If):
                continue
            line = _Line(lines[st.lineno - 1])
            for root in header_exprs(st):
                for n in ast.walk(root):
                    if not isinstance(n, ast.Subscript):
                        continue
                    for e in indices(n):
                        if isinstance(e, ast.Name) and e.id in names:
                            for other in names:
                                after = line.splice([(c0(e), c1(e), other)])
                                if other != e.id and after is not None:
                                    yield st.lineno, "index", after


def _fields(nodes: list[ast.stmt]) -> list[set[str]]:
    """The fields of each record the file makes: a class's (annotated, as a dataclass's,
    or set on ``self``), a dict's keys (``{"c": c, ...}``, ``dict(c_prev=c, ...)``)."""
    out = []
    for c in nodes:
        if isinstance(c, ast.ClassDef):
            found = {t.target.id for t in c.body if isinstance(t, ast.AnnAssign)
                     and isinstance(t.target, ast.Name)}
            found |= {n.attr for n in ast.walk(c) if isinstance(n, ast.Attribute)
                      and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name)
                      and n.value.id == "self"}
            if found:
                out.append(found)
        for n in ast.walk(c):
            keys: set[str] = set()
            if isinstance(n, ast.Dict):
                keys = {k.value for k in n.keys if isinstance(k, ast.Constant)
                        and isinstance(k.value, str)}
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) \
                    and n.func.id == "dict":
                keys = {k.arg for k in n.keywords if k.arg is not None}
            if len(keys) > 1:
                out.append(keys)
    return out


def _activated(func: ast.FunctionDef, lines: list[str]) -> Iterator[tuple[int, str, str]]:
    """A stored value read where its activation, kept under a name, belongs (``o * tp.c``
    where ``tc = np.tanh(tp.c)`` was computed for it): each other read of the activated
    expression, as written, replaced by that name."""
    named: dict[str, str] = {}  # the text of x -> the name of act(x)
    skip: set[int] = set()
    for st in walk_statements(func.body):
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and one_line(st) \
                and isinstance(st.targets[0], ast.Name) and isinstance(st.value, ast.Call) \
                and len(st.value.args) == 1 and activation_kind(st.value.func) is not None \
                and isinstance(st.value.args[0], ast.Name | ast.Attribute | ast.Subscript):
            named.setdefault(ast.unparse(st.value.args[0]), st.targets[0].id)
            skip.add(id(st))
    if not named:
        return
    for st in walk_statements(func.body):
        if id(st) in skip or not one_line(st) or isinstance(st, ast.For | ast.While | ast.If):
            continue
        line = _Line(lines[st.lineno - 1])
        for root in header_exprs(st):
            for n in ast.walk(root):
                if isinstance(n, ast.Name | ast.Attribute | ast.Subscript) \
                        and isinstance(n.ctx, ast.Load) and ast.unparse(n) in named:
                    after = line.splice([(c0(n), c1(n), named[ast.unparse(n)])])
                    if after is not None:
                        yield st.lineno, "wrap", after


def _constant_steps(func: ast.FunctionDef, lines: list[str]
                    ) -> Iterator[tuple[int, str, str]]:
    """A fixed step read where the loop's step belongs (``p[-1]``, ``targets[0]`` for
    ``[t]``): in a loop counting ``t`` (``range``, ``reversed(range(...))``, the index of
    ``enumerate``), each subscript by the constant 0 or -1 read with ``t`` instead."""
    for loop in ast.walk(func):
        names = counted(loop) if isinstance(loop, ast.For) else []
        if len(names) != 1 or not isinstance(loop, ast.For):
            continue
        step = names[0]
        for st in walk_statements(loop.body):
            if not one_line(st) or isinstance(st, ast.For | ast.While | ast.If):
                continue
            for n in (n for root in header_exprs(st) for n in ast.walk(root)):
                if isinstance(n, ast.Subscript) and one_line(n) and _int_of(n.slice) in (0, -1) \
                        and isinstance(n.ctx, ast.Load):
                    raw = lines[ln(n.slice) - 1].encode("utf-8")
                    yield st.lineno, "index", (raw[:c0(n.slice)] + step.encode("utf-8")
                                                   + raw[c1(n.slice):]).decode("utf-8")


def _is_reversal(n: ast.AST) -> bool:
    """``x[::-1]``."""
    return isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Slice) \
        and n.slice.lower is None and n.slice.upper is None and n.slice.step is not None \
        and _int_of(n.slice.step) == -1


def _reversals(it: ast.expr, seg: Callable[[ast.AST], str]) -> list[str]:
    """A loop's order written with ``[::-1]``: the iterable's text with every reversal
    removed, or with one removed (of several: the others' steps misaligned); with
    ``[::-1]`` added to a bare sequence, to every sequence ``zip`` pairs, or to one of
    them when the others have it."""
    def rev(e: ast.expr) -> str:
        return f"{seg(e)}[::-1]" if isinstance(e, ast.Name | ast.Attribute | ast.Subscript) \
            else f"({seg(e)})[::-1]"

    def unrev(e: ast.expr) -> str:
        return seg(e.value) if isinstance(e, ast.Subscript) else seg(e)

    if _is_reversal(it):
        return [unrev(it)]
    if isinstance(it, ast.Name | ast.Attribute | ast.Subscript):
        return [rev(it)]
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
            and it.func.id in ("zip", "enumerate") and it.args and not it.keywords
            and not any(isinstance(a, ast.Starred) for a in it.args)):
        return []
    args = it.args
    name = it.func.id

    def call(parts: list[str]) -> str:
        return f"{name}({', '.join(parts)})"

    out: list[str] = []
    reversed_ = [_is_reversal(a) for a in args]
    if any(reversed_):
        out.append(call([unrev(a) if r else seg(a) for a, r in zip(args, reversed_,
                                                                      strict=True)]))
    if not all(reversed_):
        out.append(call([seg(a) if r else rev(a) for a, r in zip(args, reversed_,
                                                                    strict=True)]))
    if len(args) > 1:
        for k, (a, r) in enumerate(zip(args, reversed_, strict=True)):
            if any(reversed_) and not all(reversed_):
                parts = [seg(b) for b in args]
                parts[k] = unrev(a) if r else rev(a)
                out.append(call(parts))
    return list(dict.fromkeys(o for o in out if o != seg(it)))


def _other_side(e: ast.Slice, seg: Callable[[ast.AST], str]) -> list[str]:
    """A slice at a size that is not a constant, turned to the other side of it, or
    taken from the other end: ``:H`` <-> ``H:``, ``:-n`` <-> ``-n:``, ``-n:`` <-> ``:n``
    (the h part of a stacked gradient for its x part, say); or moved by one
    (``1:H + 1`` -> ``:H``, ``:H`` -> ``1:H + 1``). Constant bounds are
    :func:`_shifted_slices`'."""
    out: list[str] = []
    bound = e.upper if e.lower is None else e.lower if e.upper is None else None
    if bound is not None and _int_of(bound) is None and one_line(bound):
        text = seg(bound)
        out.append(f"{text}:" if e.lower is None else f":{text}")
        neg = isinstance(bound, ast.UnaryOp) and isinstance(bound.op, ast.USub)
        if isinstance(bound, ast.UnaryOp) and neg and e.upper is None:
            out.append(f":{seg(bound.operand)}")
        elif not neg and e.lower is None:
            out.append(f"-{text}:" if atom(bound) else f"-({text}):")
    if e.step is None and e.upper is not None and _int_of(e.upper) is None \
            and one_line(e.upper):
        up = e.upper
        lo = 0 if e.lower is None else _int_of(e.lower)
        if lo == 1 and isinstance(up, ast.BinOp) and isinstance(up.op, ast.Add) \
                and _int_of(up.right) == 1:  # 1:H + 1 -> :H
            out.append(f":{seg(up.left)}")
        elif lo == 0 and atom(up):  # :H -> 1:H + 1
            out.append(f"1:{seg(up)} + 1")
    return out


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


def candidates(text: str, path: Path, name: str, wrong: tuple[str, ...] = (),
               theirs: Mapping[str, str] | None = None, *, loss: bool | None = None,
               second_only: bool = False, params: tuple[str, ...] = PARAM_NAMES,
               cause: str | None = None, local: tuple[str, ...] | None = None
               ) -> list[Candidate]:
    """Every single-line edit of ``name`` (and its helpers) in ``text``, best first.

    ``wrong``: bpttcheck's names of the parameters measured wrong; ``theirs``: the
    user's name for each of bpttcheck's (from ``--impl-names`` or the loader). What else
    was measured, when known: ``loss``, whether the loss is wrong (the lines that write
    it come first when it is, last when it is right); ``second_only``, whether everything
    is right at the spec's point (zero biases, and often zero hprev) and wrong only at the
    second: then the lines that read the biases or the initial state come first;
    ``params``: the model's parameter names (a gated cell's, a bias-free model's);
    ``cause``: the kind of the check's first likely cause (:class:`bpttcheck.diagnose.Cause`),
    whose operators come first (:func:`.rank.cause_score`); ``local``, what the code gets
    wrong at one time step (:meth:`.trials.Trials.one_step`: parameters, and ``loss``),
    which places the bug in one step's lines or in the recurrence
    (:func:`.rank.one_step_score`).
    """
    try:
        nodes = read_source_nodes(text, path, name.rpartition(".")[2]).nodes
    except ImplError:
        return []
    lines = code_lines(text)
    names_of = dict(theirs or {})
    aliases = {p: {p, f"d{p}", names_of.get(p, p), f"d{names_of.get(p, p)}",
                   f"d_{names_of.get(p, p)}"} for p in params}
    defs = target_defs(nodes, name)
    for p, names in passed_as(defs, {p: {a for a in aliases[p] if not a.startswith("d")}
                                     for p in params}).items():
        aliases[p] |= names | {f"d{n}" for n in names} | {f"d_{n}" for n in names}
    bad = set().union(*(aliases[p] for p in wrong if p in aliases)) if wrong else set()
    good = set().union(*(aliases[p] for p in params if p not in wrong)) - bad
    # other spellings of a gradient (dLdU, gWxh, grad_W): gradients to the ranking only
    spelt = {p: {f"{pre}{n}" for n in aliases[p] if not n.startswith("d") for pre in
                 GRADIENT_PREFIXES} | {f"{n}_grad" for n in aliases[p] if not n.startswith("d")}
             for p in params}
    bad_spelt = set().union(*(spelt[p] for p in wrong if p in spelt)) - good
    good_spelt = set().union(*(spelt[p] for p in params if p not in wrong)) - bad_spelt
    # All of Wxh, Whh, bh wrong and the output layer right: the error is in dh (the recursion)
    recursion = set(wrong) == set(HIDDEN_PARAMS if params == PARAM_NAMES else
                                  (p for p in params if p not in ("Why", "by")))
    everything = set(wrong) >= set(params)
    # one step: some of the parameters wrong (their lines first), or none (the recurrence)
    at_one = tuple(p for p in local or () if p in aliases)
    narrowed = local is not None and bool(at_one) and set(at_one) < set(wrong)
    recurrent = local is not None and not local and bool(wrong)
    one_bad = set().union(*(aliases[p] | spelt[p] for p in at_one)) if narrowed else set()
    one_good = set().union(*(aliases[p] | spelt[p] for p in params if p not in at_one)) \
        - one_bad
    out: dict[tuple[int, str], Candidate] = {}
    first = defs[0] if defs else None
    biases = set().union(*(aliases[p] for p in params if p.startswith("b")))
    spaced = _spaced_style(defs, lines)
    picks = _picked(nodes, lines)
    target_names = {n for index in picks.values() for n in re.findall(r"[A-Za-z_]\w*", index)}
    ctx = families.context(nodes, defs, lines, aliases)
    helpers = {n.name for n in nodes if isinstance(n, ast.FunctionDef)}
    records = _fields(nodes)
    # a gated cell's gates: key -> the code's names of its weight and bias (Wf, bf; Wz, bz)
    gates = {p[1:]: (names_of.get(p, p), names_of.get(f"b{p[1:]}", f"b{p[1:]}"))
             for p in params if p.startswith("W") and f"b{p[1:]}" in params
             and p not in ("Wxh", "Whh", "Why")}
    whh_grads = set(aliases.get("Whh", ()))  # a gated cell has no Whh of its own
    seen: list[tuple[ast.FunctionDef, Flows, Flows | None]] = []
    for func in defs:
        assigned, carried = _names(func)
        # a helper's own names for the gradients it returns to a function searched before it
        mine: tuple[set[str], set[str]] = (set(), set())
        one_mine: tuple[set[str], set[str]] = (set(), set())
        # what its returns read, when a caller uses the result in an expression
        result = {n for r in ast.walk(func) if isinstance(r, ast.Return) and r.value is not None
                  and not isinstance(r.value, ast.Tuple) for n in defs_uses(r)[1]}
        for caller, caller_flows, caller_one in seen:
            got = returned_into(caller, caller_flows, func)
            mine = (mine[0] | got[0], mine[1] | got[1])
            feeds_bad, feeds_good = result_feeds(caller, caller_flows, func)
            mine = (mine[0] | (result if feeds_bad and not feeds_good else set()),
                    mine[1] | (result if feeds_good and not feeds_bad else set()))
            if caller_one is not None:
                got = returned_into(caller, caller_one, func)
                one_mine = (one_mine[0] | got[0], one_mine[1] | got[1])
        flows = flows_of(func, lines, bad | mine[0] | bad_spelt, good | mine[1] | good_spelt,
                         frozenset(mine[0] | mine[1] | bad_spelt | good_spelt))
        one_flows = flows_of(func, lines, one_bad | one_mine[0], one_good | one_mine[1],
                             frozenset(one_mine[0] | one_mine[1] | bad_spelt | good_spelt),
                             frozenset(carried)) if narrowed else None
        seen.append((func, flows, one_flows))
        summing = frozenset(accumulating(func) | flows.bad_sinks | flows.good_sinks)
        loops: set[int] = set()
        # a function defined inside (a fold's step, a recursive backward): run once per step
        nested = {id(s) for d in ast.walk(func) if d is not func
                  and isinstance(d, ast.FunctionDef) for s in walk_statements(d.body)}
        outputs_of: dict[int, tuple[str, ...]] = {}
        pre_grads: set[str] = set()
        for stmt in walk_statements(func.body):
            if isinstance(stmt, ast.For | ast.While):
                read = families.outputs_read(stmt, lines, ctx)
                pre_grads.update(families.pre_activation_gradients(stmt, lines, whh_grads))
                for s in walk_statements(stmt.body):
                    loops.add(id(s))
                    outputs_of.setdefault(id(s), read)  # the innermost loop's come first
        swappable = families.name_lines(func, assigned, families.loop_variables(func),
                                        set().union(*aliases.values()))
        inserts: dict[int, list[tuple[int, str, str | None]]] = {}
        for edit in itertools.chain(families.carry_inserts(func, lines, ctx, carried, whh_grads),
                                    families.bias_inserts(func, lines, aliases),
                                    families.bias_sums(func, lines, aliases),
                                    families.alias_copies(func, lines, ctx),
                                    gated_carry_inserts(func, lines, params),
                                    _discarded(func, lines), _constant_steps(func, lines),
                                    _unactivated(func, lines), _activated(func, lines),
                                    _attribute_swaps(func, lines, records),
                                    _index_names(func, lines), _unpack_orders(func, defs, lines),
                                    restored.resets(func, lines), restored.advances(func, lines),
                                    restored.parallels(func, lines, gates),
                                    restored.unsummed(func, lines)):
            inserts.setdefault(edit[0], []).append(edit)
        for stmt in walk_statements(func.body):
            if isinstance(stmt, ast.FunctionDef | ast.ClassDef) or stmt.end_lineno is None \
                    or stmt.end_lineno > len(lines):
                continue
            text = "\n".join(lines[stmt.lineno - 1:stmt.end_lineno])
            relevance = relevance_of(stmt, text, {a for a in bad if a.startswith("d")}
                                     | bad_spelt,
                                   {a for a in good if a.startswith("d")} | good_spelt,
                                   carried, recursion,
                                   everything)
            relevance += flow_score(stmt, flows)
            relevance += measured_score(stmt, text, loss, second_only, biases)
            relevance += cause_line_score(cause, text, target_names, whh_grads)
            relevance += one_step_score(stmt, text, one_flows, recurrent, carried,
                                        summing)
            in_loop = id(stmt) in loops or func is not first or id(stmt) in nested
            gated = [e for e in gated_edits(stmt, func, lines, params, tuple(defs)) if e[2]]
            gated_keys = {(line, after) for line, _, after in gated}
            edits = itertools.chain(
                _edits_of(stmt, lines, assigned, carried, in_loop, spaced), gated)
            flow = flow_score(stmt, flows)
            on_bad = flow > 0 and not isinstance(stmt, ast.For | ast.While | ast.If)
            # the families skip a line that feeds only right gradients (the harness's
            # operators keep it, last): an edit there cannot make a wrong gradient right
            more = iter(()) if flow <= -5.0 else families.node_edits(
                stmt, lines, ctx, assigned, carried, in_loop, on_bad,
                families.nearby(stmt, swappable) if on_bad or flow == -1.0 else set(),
                helpers, outputs_of.get(id(stmt), ()), pre_grads,
                " " if is_spaced(text) or (spaced and not re.search(r"\w[-+*/]\w", text))
                else "")
            # the insertions made at the line this statement ends on (a statement of
            # several lines included: its last line gets the new one after it)
            own = [] if isinstance(stmt, ast.For | ast.While | ast.If | ast.With | ast.Try) \
                else inserts.pop(stmt.end_lineno, [])
            own_keys = {(lineno, after) for lineno, _, after in own}
            for lineno, kind, after in itertools.chain(edits, _minus_one(stmt, lines, picks),
                                                       more, own):
                if after is None:
                    continue
                made = out.get((lineno, after))
                if made is not None:  # by two operators: gated if either is, the best kind
                    gain = PRIORITY[kind] + cause_score(kind, cause) - PRIORITY[made.kind] \
                        - cause_score(made.kind, cause)
                    gated_now = made.gated or (lineno, after) in gated_keys
                    out[(lineno, after)] = dataclasses.replace(
                        made, gated=gated_now, kind=kind if gain > 0 else made.kind,
                        score=made.score + max(gain, 0.0))
                    continue
                if kind == "delete" and only_statement(func, stmt):
                    old = lines[lineno - 1]
                    after = old[:len(old) - len(old.lstrip())] + "pass"
                # an edit must leave the line a statement: checked only when it is tried
                parse = one_line(stmt) and bool(after.strip()) and not isinstance(
                    stmt, ast.For | ast.While | ast.If)
                # an inserted statement is not about the line it is attached to: it
                # ranks at least with the lines that write what is carried
                floor = max(0.0, INSERTED - relevance) if (lineno, after) in own_keys else 0.0
                out[(lineno, after)] = Candidate(lineno, after, kind,
                                                 PRIORITY[kind] + relevance + floor
                                                 + cause_score(kind, cause), parse,
                                                 (lineno, after) in gated_keys)
    return sorted(out.values(), key=lambda c: (-c.score, c.line))


def _picked(nodes: list[ast.stmt], lines: list[str]) -> dict[str, str]:
    """The probabilities the loss takes the log of, and the index it picks them at: from
    ``np.log(ps[t][targets[t], 0])`` or ``-np.log(probs[np.arange(T), ys])``, the text of
    ``ps[t]`` (as its AST) -> ``targets[t], 0``."""
    out: dict[str, str] = {}
    for node in nodes:
        for n in ast.walk(node):
            if not (isinstance(n, ast.Call) and n.args and isinstance(n.args[0], ast.Subscript)
                    and one_line(n.args[0])):
                continue
            f = n.func
            if (isinstance(f, ast.Attribute) and f.attr == "log") or (
                    isinstance(f, ast.Name) and f.id == "log"):
                sub = n.args[0]
                raw = lines[sub.lineno - 1].encode("utf-8")
                index = raw[c0(sub.slice):c1(sub.slice)].decode("utf-8")
                out.setdefault(ast.dump(sub.value), index)
    return out


def _minus_one(stmt: ast.stmt, lines: list[str],
               picks: Mapping[str, str]) -> Iterator[tuple[int, str, str | None]]:
    """Softmax with cross-entropy's derivative is p - onehot(target): after a line that
    copies the probabilities the loss picks from (``dy = np.copy(ps[t])``), the forgotten
    ``dy[targets[t], 0] -= 1``, as a second line; ``dy = ps[t] - 1`` -> that copy and
    that line."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and one_line(stmt)
            and isinstance(stmt.targets[0], ast.Name)):
        return
    v = stmt.value
    line = lines[stmt.lineno - 1]
    indent = indent_of(line)
    name = stmt.targets[0].id
    if isinstance(v, ast.BinOp) and isinstance(v.op, ast.Sub) and isinstance(
            v.right, ast.Constant) and v.right.value == 1 and ast.dump(v.left) in picks:
        # `dy = ps[t] - 1`: the 1 taken everywhere instead of at the target
        left = line.encode("utf-8")[c0(v.left):c1(v.left)].decode("utf-8")
        yield stmt.lineno, "insert", (f"{indent}{name} = {left}.copy()\n"
                                      f"{indent}{name}[{picks[ast.dump(v.left)]}] -= 1")
        return
    if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr == "copy" \
            and not v.args:
        v = v.func.value  # p.copy()
    elif isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) \
            and v.func.attr in ("copy", "array") and len(v.args) == 1:
        v = v.args[0]  # np.copy(p), np.array(p)
    index = picks.get(ast.dump(v))
    if index is None:
        return
    yield stmt.lineno, "insert", f"{line}\n{indent}{name}[{index}] -= 1"


def _spaced_style(defs: list[ast.FunctionDef], lines: list[str]) -> bool:
    """Whether these functions mostly write ``a + b`` rather than ``a+b`` (their arithmetic
    operators, read from the code itself: comments and strings do not count)."""
    votes = 0
    for func in defs:
        for n in ast.walk(func):
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add | ast.Sub | ast.Mult
                                                         | ast.Div) and one_line(n):
                raw = lines[n.lineno - 1].encode("utf-8")[c1(n.left):c0(n.right)]
                votes += 1 if raw.startswith(b" ") else -1
    return votes >= 0
