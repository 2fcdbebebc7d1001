"""Reading a user's source file into top-level statements (Python 3, or Python 2 block by block).

When the whole file does not parse, it is cut into top-level blocks (a line
starting in column 0 starts a block) and each block, or a few consecutive ones,
is parsed on its own; blocks that still do not parse (``print "x"``) are
reported as skipped. A class that still does not parse is read the same way,
member by member, so its Python 3 methods are kept when others use ``print
"x"``. Line numbers stay those of the file (for a notebook,
:func:`place` shows them as a cell and a line), so tracebacks point
at the user's lines. A file too deeply nested for Python's parser (a generated
100,000-term expression) is read the same way: only the offending block is
skipped.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import functools
import re
from pathlib import Path

from ..errors import ImplError
from .memo import Memo

# Top-level blocks of files that do not parse whole (Python 2), parsed once per process
# (see .memo: the fix search loads many copies of one file). Kept trees are never changed.
_BLOCKS: Memo[ast.Module | SyntaxError] = Memo(4096)
MAX_MERGE = 8  # consecutive top-level blocks tried together (decorators, split strings)
PREVIEW = 50  # characters of a skipped statement shown in the summary
CONTINUATION = ("else", "elif", "except", "finally", ")", "]", "}")
TOO_DEEP = "nested too deeply for Python's parser"


# A line as Python counts lines: ended by \n, \r\n or \r only (str.splitlines also splits at
# form feeds, \v, \x1c-\x1e, \x85, \u2028 and \u2029, which would shift every later line).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def code_lines(text: str, keepends: bool = False) -> list[str]:
    """``text``'s lines as Python's parser numbers them (see :data:`_LINE`)."""
    found = _LINE.findall(text)
    return found if keepends else [line.rstrip("\r\n") for line in found]


@dataclasses.dataclass(frozen=True)
class Unreadable:
    """A top-level block that does not parse: where, its text, and why."""

    line: int
    text: str
    reason: str  # "not Python 3", or TOO_DEEP
    error: SyntaxError | None


@dataclasses.dataclass(frozen=True)
class Source:
    """A file's statements, and the blocks that could not be parsed."""

    nodes: list[ast.stmt]
    unreadable: list[Unreadable]
    python2: bool  # the whole file does not parse as Python 3 (but blocks of it do)


def read(text: str, path: Path, target: str | None) -> Source:
    """Parse ``text``; a block defining ``target`` that does not parse is an ImplError."""
    try:
        tree = ast.parse(text, filename=str(path))
        return Source(list(tree.body), [], False)
    except SyntaxError as whole:
        error: SyntaxError | None = whole
    except (RecursionError, MemoryError):
        error = None
    blocks, failed = _parse_blocks(text, path)
    for bad in failed:  # the target itself does not parse: say where
        if target is not None and bad.error is not None and _defines(bad.text, target):
            raise ImplError(syntax_message(path, bad.error, target))
    if not blocks:
        if error is None:
            raise ImplError(f"{path}: {TOO_DEEP}")
        raise ImplError(syntax_message(path, error, None))
    python2 = error is not None and any(b.reason != TOO_DEEP for b in failed)
    return Source([n for tree, _ in blocks for n in tree.body], failed, python2)


def _defines(text: str, name: str) -> bool:
    first = text.lstrip().split("\n", 1)[0]
    return any(first.startswith(f"{kw} {name}") and first[len(kw) + 1 + len(name):][:1] in "(:"
               for kw in ("def", "class", "async def"))


def syntax_message(path: Path, err: SyntaxError, name: str | None) -> str:
    what = f" in {name}" if name else ""
    return f"{where(path, err.lineno)}: syntax error{what}: {err.msg}"


# Notebooks read so far: file -> the (cell number, first line in the joined text) of
# each code cell. Like linecache, a process-wide table: a line of the joined text is
# shown as the cell and line the user sees in Jupyter.
_CELLS: dict[str, list[tuple[int, int]]] = {}


def register_cells(path: Path, cells: list[tuple[int, int]]) -> None:
    """Record where each code cell of notebook ``path`` starts in its joined text."""
    _CELLS[str(path)] = sorted(cells, key=lambda c: c[1])


def place(path: Path, line: object) -> str:
    """``name.py:12``, or ``name.ipynb cell 3, line 4`` for a notebook."""
    cells = _CELLS.get(str(path))
    if cells and isinstance(line, int):
        start = [c for c in cells if c[1] <= line]
        if start:
            cell, first = start[-1]
            return f"{path.name} cell {cell}, line {line - first + 1}"
    return f"{path.name}:{line}"


def where(path: Path, line: object) -> str:
    """Like :func:`place`, with the path as given (for error messages)."""
    cells = _CELLS.get(str(path))
    if cells and isinstance(line, int):
        return str(path.parent / place(path, line)) if str(path.parent) != "." else place(
            path, line)
    return f"{path}:{line}"


def line_label(path: Path, line: int) -> str:
    """``line 12``, or ``cell 3, line 4`` for a notebook (for summaries)."""
    text = place(path, line)
    return text.split(" ", 1)[1] if str(path) in _CELLS and " cell " in text else f"line {line}"


def _parse_blocks(source: str, path: Path, memo: bool = True
                  ) -> tuple[list[tuple[ast.Module, int]], list[Unreadable]]:
    """Parse top-level blocks one by one (for files that do not parse whole); ``memo``:
    whether the trees may be kept and shared (not when the caller changes them)."""
    lines = code_lines(source, keepends=True)
    starts = [i for i, text in enumerate(lines)
              if text[:1] not in ("", " ", "\t", "\n", "\r", "#")
              and not text.startswith(CONTINUATION)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    bounds = [*starts, len(lines)]
    parsed: list[tuple[ast.Module, int]] = []
    failed: list[Unreadable] = []
    i = 0
    while i < len(starts):
        first_error: SyntaxError | None = None
        deep = False
        for j in range(i + 1, min(i + MAX_MERGE, len(starts)) + 1):
            text = "".join(lines[bounds[i]:bounds[j]])
            try:
                make = functools.partial(_parse_at, text, path, bounds[i])
                tree = _BLOCKS.get((str(path), bounds[i], text), make) if memo else make()
            except (RecursionError, MemoryError):
                deep = True
                continue
            if isinstance(tree, SyntaxError):
                first_error = first_error or copy.copy(tree)  # its lineno is moved below
                continue
            parsed.append((tree, bounds[i] + 1))
            i = j
            break
        else:
            text = "".join(lines[bounds[i]:bounds[i + 1]])
            if first_error is not None and first_error.lineno is not None:
                first_error.lineno += bounds[i]
            cls = _class_by_members(text, bounds[i], path) if text.startswith("class ") else None
            if cls is not None:  # a class whose other methods are Python 2
                parsed.append((cls[0], bounds[i] + 1))
                failed.extend(cls[1])
                i += 1
                continue
            if text.strip():
                nested = first_error is not None and "too many nested" in str(first_error.msg)
                reason = TOO_DEEP if (deep and first_error is None) or nested else "not Python 3"
                failed.append(Unreadable(bounds[i] + 1, text, reason, first_error))
            i += 1
    return parsed, failed


def _parse_at(text: str, path: Path, offset: int) -> ast.Module | SyntaxError:
    """``text`` parsed as if it started after line ``offset`` of ``path`` (or the error)."""
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as err:
        return err
    return ast.increment_lineno(tree, offset)


def _class_by_members(text: str, offset: int, path: Path) -> tuple[ast.Module,
                                                                  list[Unreadable]] | None:
    """A class that does not parse whole, read member by member (its Python 2 methods skipped).

    The header (up to the line ending in ``:``) is parsed with a ``pass`` body;
    the body is cut where a line starts at the members' indentation, and each
    member (or a few consecutive ones) is dedented and parsed on its own.
    """
    lines = code_lines(text, keepends=True)
    head = next((k for k, line in enumerate(lines) if line.split("#")[0].rstrip().endswith(":")),
                None)
    if head is None:
        return None
    body = [k for k in range(head + 1, len(lines)) if lines[k].strip()
            and not lines[k].lstrip().startswith("#")]
    if not body:
        return None
    indent = lines[body[0]][: len(lines[body[0]]) - len(lines[body[0]].lstrip())]
    if not indent:
        return None
    try:
        shell = ast.parse("".join(lines[: head + 1]) + indent + "pass\n", filename=str(path))
    except SyntaxError:
        return None
    ast.increment_lineno(shell, offset)
    cls = shell.body[0]
    if not isinstance(cls, ast.ClassDef):
        return None
    member = "".join(line[len(indent):] if line.startswith(indent) else line.lstrip(" \t")
                     for line in lines[head + 1:])
    parsed, failed = _parse_blocks(member, path, memo=False)  # moved below
    cls.body = []
    for tree, _ in parsed:
        ast.increment_lineno(tree, offset + head + 1)
        for node in ast.walk(tree):  # back to the members' indentation
            if isinstance(node, ast.expr | ast.stmt):
                node.col_offset += len(indent)
                if node.end_col_offset is not None:
                    node.end_col_offset += len(indent)
        cls.body.extend(tree.body)
    if not cls.body:
        return None
    moved = []
    for bad in failed:
        if bad.error is not None and bad.error.lineno is not None:
            bad.error.lineno += offset + head + 1
        moved.append(dataclasses.replace(bad, line=bad.line + offset + head + 1,
                                         text=bad.text, reason=f"{bad.reason}, in class "
                                         f"{cls.name}"))
    return shell, moved


def preview(text: str) -> str:
    first = text.strip().split("\n", 1)[0].strip()
    return first if len(first) <= PREVIEW else first[: PREVIEW - 1] + "…"


def describe(node: ast.stmt) -> str:
    """``def f``, ``class C`` or the statement's first line, shortened."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return f"def {node.name}"
    if isinstance(node, ast.ClassDef):
        return f"class {node.name}"
    try:
        return preview(ast.unparse(node))
    except RecursionError:
        return f"a statement {TOO_DEEP}"
