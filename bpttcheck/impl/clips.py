"""Clips in the user's function that the check's points never reach.

A gradient clipped inside the function (``np.clip(dW, -5, 5, out=dW)``) is compared like any
other; but where no element reaches the bound, the clip never acts, and a wrong bound (±2.5
for ±25) passes unseen. This module finds the function's clips with constant bounds and,
given the largest gradient element the check saw, says which were never exercised.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from ..errors import ImplError
from ..files import read_regular
from . import source as source_reader
from .loader import MAX_SOURCE_BYTES


def clip_bounds(path: Path, name: str) -> list[tuple[int, float]]:
    """(line, smallest absolute bound) of each ``clip(x, lo, hi)`` call with constant bounds
    in function ``name`` (``NAME`` or ``Class.method``) of the Python file ``path``."""
    if path.suffix != ".py":
        return []
    try:  # read as the loader read it (it did, moments ago): a note, so none if not now
        text = read_regular(path, "--impl", MAX_SOURCE_BYTES, ImplError).decode("utf-8")
        nodes = source_reader.read(text, path, None).nodes
    except (UnicodeDecodeError, ImplError):
        return []
    short = name.rpartition(".")[2]
    out: list[tuple[int, float]] = []
    for node in nodes:
        for func in ast.walk(node):
            if not (isinstance(func, ast.FunctionDef) and func.name == short):
                continue
            for call in ast.walk(func):
                if isinstance(call, ast.Call):
                    bounds = _bounds(call)
                    if bounds is not None:
                        out.append((call.lineno, bounds))
    return sorted(set(out))


def _bounds(call: ast.Call) -> float | None:
    """The smaller absolute bound of ``clip(x, lo, hi)`` with constant bounds, else None."""
    f = call.func
    named = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
    if named != "clip" or len(call.args) < 3:
        return None
    values = [_number(a) for a in call.args[1:3]]
    if any(v is None for v in values):
        return None
    return min(abs(v) for v in values if v is not None)


def _number(node: ast.expr) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) \
            and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return None if inner is None else -inner
    return None


def unreached(path: Path, name: str, seen: Iterable[Mapping[str, np.ndarray]]
              ) -> list[tuple[int, float, float]]:
    """(line, bound, largest element) of each clip of the function that no returned gradient
    element reached at the points ``seen`` (the gradients the check compared)."""
    clips = clip_bounds(path, name)
    if not clips:
        return []
    largest = max((float(np.max(np.abs(np.asarray(g, dtype=np.float64)), initial=0.0))
                   for grads in seen for g in grads.values()), default=0.0)
    return [(line, bound, largest) for line, bound in clips if largest < bound]
