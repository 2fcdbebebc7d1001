"""Whole statements put back: what a loop needs once per step and no longer does.

A deleted line can be restored only when the code itself says what it was. Four such
cases, each a statement made from lines of the same function:

- :func:`resets`: a sum the loop reads and adds into, started once before the loop
  (``future = np.zeros(n_h)``) but never started again inside it, so each step's carry
  holds every later step's as well: the starting line, copied in after the loop's last
  read of the sum;
- :func:`advances`: a state a loop reads (``h``) and a next value of it the loop makes
  and never reads (``h_new``): ``h = h_new`` at the end of the body, as a forward pass
  that forgets to move on needs;
- :func:`parallels`: a gated cell's line written once per gate (``dz += Wi.T @ di``), one
  gate's missing: the line of another gate with that gate's weight and gradient put in;
- :func:`unsummed`: a gradient started at zeros and never written again (``dby``,
  ``grads["dby"]``), as a deleted bias sum leaves it: added into after each line of a
  loop that sums a product, with the product's first factor (``dby += dy`` after
  ``dWhy += dy @ h.T``).

Each yields ``(line, kind, new text of that line)``, the new statement after the line,
as the operators' insertions are written.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping

from .families import _is_product, _operands, _Text
from .syntax import (
    header_exprs,
    indent_of,
    one_line,
    stem,
    subscripted,
    walk_statements,
    zeroed_names,
    zeros,
)


def _reads(st: ast.stmt) -> set[str]:
    """Names ``st``'s own lines read, not counting what an augmented assignment adds into
    (``dW`` in ``dW[i, :] += x``)."""
    target = st.target if isinstance(st, ast.AugAssign) else None
    skip = {id(n) for n in ast.walk(target)} if target is not None else set()
    return {n.id for root in header_exprs(st) for n in ast.walk(root)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in skip}


def _added_into(st: ast.stmt) -> str | None:
    """The name ``x += ...`` (or ``x[i] += ...``) adds into."""
    if not isinstance(st, ast.AugAssign) or not isinstance(st.op, ast.Add):
        return None
    t = subscripted(st.target)
    return t.id if isinstance(t, ast.Name) else None


def resets(func: ast.FunctionDef, lines: list[str]) -> Iterator[tuple[int, str, str]]:
    """A per-step sum not started again: see the module's docstring."""
    for loop in ast.walk(func):
        if not isinstance(loop, ast.For | ast.While):
            continue
        inside = {id(s) for s in walk_statements(loop.body)}
        # the one plain assignment of each name before this loop, at any depth outside it
        starts: dict[str, ast.Assign] = {}
        for s in walk_statements(func.body):
            if id(s) in inside or s is loop:
                continue
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and one_line(s) \
                    and isinstance(s.targets[0], ast.Name) and s.lineno < loop.lineno:
                starts[s.targets[0].id] = s
        body = list(walk_statements(loop.body))
        rebound = {t.id for s in body if isinstance(s, ast.Assign)
                   for tt in s.targets for t in ast.walk(tt) if isinstance(t, ast.Name)}
        summed = {v for s in body if (v := _added_into(s)) is not None}
        for v in sorted(summed - rebound):
            if v not in starts:
                continue
            readers = [s for s in body if v in _reads(s) and _added_into(s) != v
                       and not isinstance(s, ast.For | ast.While | ast.If | ast.With)
                       and one_line(s)]
            first_sum = min(s.lineno for s in body if _added_into(s) == v)
            readers = [s for s in readers if s.lineno < first_sum]
            if not readers:
                continue
            after = readers[-1]
            line = lines[after.lineno - 1]
            start = lines[starts[v].lineno - 1].strip()
            yield after.lineno, "carry", f"{line}\n{indent_of(line)}{start}"


def advances(func: ast.FunctionDef, lines: list[str]) -> Iterator[tuple[int, str, str]]:
    """A state never moved on: see the module's docstring."""
    for loop in ast.walk(func):
        if not isinstance(loop, ast.For | ast.While) or not loop.body:
            continue
        body = list(walk_statements(loop.body))
        read = set().union(*(_reads(s) for s in body))
        if isinstance(loop, ast.While):
            read |= {n.id for n in ast.walk(loop.test) if isinstance(n, ast.Name)}
        made = [t.id for s in body if isinstance(s, ast.Assign) and len(s.targets) == 1
                for t in [s.targets[0]] if isinstance(t, ast.Name)]
        stored = {t.id for s in body if isinstance(s, ast.Assign | ast.AugAssign | ast.For)
                  for tt in (s.targets if isinstance(s, ast.Assign) else [s.target])
                  for t in ast.walk(tt) if isinstance(t, ast.Name)}
        if isinstance(loop, ast.For):
            stored |= {t.id for t in ast.walk(loop.target) if isinstance(t, ast.Name)}
        last = loop.body[-1]  # the update goes after it
        if not one_line(last) or isinstance(last, ast.For | ast.While | ast.If):
            continue
        line = lines[last.lineno - 1]
        for new in dict.fromkeys(made):
            # read at every step, never written in the loop: the same value each time
            for old in sorted(v for v in read if v != new and stem(v) == stem(new)
                              and v not in stored):
                yield last.lineno, "carry", f"{line}\n{indent_of(line)}{old} = {new}"


def _gate_gradients(func: ast.FunctionDef, biases: Mapping[str, str]) -> dict[str, str]:
    """Each bias's gate gradient, as the code names it: what is added into the bias's
    gradient (``dbf += df``, ``g["br"] = dr_raw``, ``{"bu": du_raw}``). ``biases``: the
    code's bias name -> the gate's key."""
    def grad_of(target: ast.expr) -> str | None:
        while isinstance(target, ast.Subscript):
            key = target.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                return key.value.removeprefix("d")
            target = target.value
        if isinstance(target, ast.Name):
            return re.sub(r"^(d_?|grad_?)", "", target.id)
        return None

    out: dict[str, str] = {}
    for n in ast.walk(func):
        pairs: list[tuple[str | None, ast.expr]] = []
        if isinstance(n, ast.Assign | ast.AugAssign):
            for t in n.targets if isinstance(n, ast.Assign) else [n.target]:
                pairs.append((grad_of(t), n.value))
        elif isinstance(n, ast.Dict):
            pairs += [(k.value.removeprefix("d"), v) for k, v in zip(n.keys, n.values,
                                                                     strict=True)
                      if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        for name, value in pairs:
            if name is not None and name in biases and isinstance(value, ast.Name):
                out.setdefault(biases[name], value.id)
    return out


def parallels(func: ast.FunctionDef, lines: list[str], gates: Mapping[str, tuple[str, str]]
              ) -> Iterator[tuple[int, str, str]]:
    """A gate's line left out of a set written once per gate: see the module's docstring.
    ``gates``: each gate's key -> the code's names of its weight and bias."""
    biases = {b: q for q, (_, b) in gates.items()}
    grads = _gate_gradients(func, biases)
    known = {q: (gates[q][0], g) for q, g in grads.items()}
    if len(known) < 2:
        return

    def mentions(st: ast.stmt) -> set[str]:
        ids = {n.id for n in ast.walk(st) if isinstance(n, ast.Name)}
        ids |= {n.attr for n in ast.walk(st) if isinstance(n, ast.Attribute)}
        return {q for q, (w, g) in known.items() if w in ids and g in ids}

    for block in ast.walk(func):
        body = getattr(block, "body", None)
        if not isinstance(body, list):
            continue
        rows = [(st, mentions(st)) for st in body if isinstance(st, ast.Assign | ast.AugAssign)
                and one_line(st)]
        by_target: dict[str, list[tuple[ast.Assign | ast.AugAssign, str]]] = {}
        for st, m in rows:
            if len(m) != 1:
                continue
            target = st.targets[0] if isinstance(st, ast.Assign) else st.target
            by_target.setdefault(ast.unparse(target), []).append((st, next(iter(m))))
        for group in by_target.values():
            have = {q for _, q in group}
            last = max((st for st, _ in group), key=lambda st: st.lineno)
            line = lines[last.lineno - 1]
            for st, q in group:
                w, g = known[q]
                text = lines[st.lineno - 1].strip()
                if isinstance(st, ast.Assign):  # the first of a sum: added to, not bound
                    text = re.sub(r"^([^=]*?)\s*=(?!=)\s*", r"\1 += ", text, count=1)
                for other, (w2, g2) in known.items():
                    if other in have:
                        continue
                    new = re.sub(rf"(?<![\w.]){re.escape(g)}(?!\w)", g2,
                                 re.sub(rf"(?<!\w){re.escape(w)}(?!\w)", w2, text))
                    yield last.lineno, "insert", f"{line}\n{indent_of(line)}{new}"


def _written(st: ast.stmt) -> list[ast.expr]:
    if isinstance(st, ast.Assign):
        return [e for t in st.targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
    if isinstance(st, ast.AugAssign | ast.AnnAssign):
        return [st.target]
    return []


def unsummed(func: ast.FunctionDef, lines: list[str]) -> Iterator[tuple[int, str, str]]:
    """A gradient left at zeros: see the module's docstring."""
    # started at zeros: names, and the entries of a dict of zeros (``g = {"dby": zeros}``)
    text = _Text(lines)
    started: dict[str, int] = {n: 0 for n in sorted(zeroed_names(func))}
    for st in walk_statements(func.body):
        if isinstance(st, ast.Assign) and len(st.targets) == 1 \
                and isinstance(st.targets[0], ast.Name) and isinstance(st.value, ast.Dict):
            for k, v in zip(st.value.keys, st.value.values, strict=True):
                if isinstance(k, ast.Constant) and isinstance(k.value, str) and zeros(v) \
                        and one_line(k):  # spelt with the file's own quotes
                    started[f"{st.targets[0].id}[{text.seg(k)}]"] = 0
    for st in walk_statements(func.body):
        for t in _written(st):
            if isinstance(st, ast.Assign) and (zeros(st.value) or (
                    isinstance(st.value, ast.Tuple) and all(map(zeros, st.value.elts)))):
                continue  # the start itself
            base = subscripted(t)
            if isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Constant) \
                    and isinstance(t.value, ast.Name) and one_line(t.slice):
                key = f"{t.value.id}[{text.seg(t.slice)}]"
                if key in started:
                    started[key] += 1
                    continue
            if isinstance(base, ast.Name) and base.id in started:
                started[base.id] += 1
    never = [n for n, count in started.items() if count == 0]
    if not never:
        return
    read = {n.id for n in ast.walk(func) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)}
    for loop in ast.walk(func):
        if not isinstance(loop, ast.For | ast.While):
            continue
        for st in walk_statements(loop.body):
            if not one_line(st):
                continue
            line = lines[st.lineno - 1]
            if isinstance(st, ast.AugAssign) and isinstance(st.op, ast.Add) \
                    and _is_product(st.value):
                ops = [o for o in _operands(st.value) if not isinstance(o, ast.Constant)]
                if ops and isinstance(ops[0], ast.Name | ast.Subscript):
                    d = ast.unparse(ops[0])
                    for name in never:
                        yield st.lineno, "insert", f"{line}\n{indent_of(line)}{name} += {d}"
            # or a step's own term, made and never read (``_, dh, dW_t, db_t = back(...)``)
            elif isinstance(st, ast.Assign):
                made = {n.id for t in st.targets for n in ast.walk(t)
                        if isinstance(n, ast.Name)}
                for term in sorted(made - read):
                    for name in never:
                        if "[" not in name and stem(term) == stem(name):
                            yield st.lineno, "insert", \
                                f"{line}\n{indent_of(line)}{name} += {term}"
