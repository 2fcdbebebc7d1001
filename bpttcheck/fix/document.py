"""The user's file as the search edits it, an edit of one line, and a fix shown as a
diff or written as a patched copy."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from .. import prose
from ..impl import notebook
from ..impl.loader import read_source
from ..impl.source import code_lines


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
    # what was verified besides the gradient: "loss" (a loss function's), "forward" (a
    # layer's forward pass), "" (a function that returns its gradients alone)
    beside: str = "loss"

    def to_dict(self) -> dict[str, Any]:
        return {"verified": self.verified, "partial": self.partial,
                "remaining": list(self.remaining), "max_rel_error": self.max_rel_error,
                "specs": self.specs, "edits": [e.to_dict() for e in self.edits]}


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What the search found (``fix``, or None) and what it tried."""

    fix: Fix | None
    tried: int  # single edits run (of ``generated``)
    generated: int  # single edits generated (each still Python)
    lines: tuple[int, ...]  # the lines searched (of the joined code cells, in a notebook)
    seconds: float
    wrong: tuple[str, ...]  # what was wrong before any edit
    why: str = ""  # why nothing was searched (when nothing was)
    where: str = ""  # the lines searched, as the user counts them ("lines 3-9", "cell 5, ...")
    rejected: int = 0  # edits exact at both points that the full check then refused
    checking: float = 0.0  # of ``seconds``, those spent in full --impl checks of edits
    pairs: int = 0  # pairs of edits run, after the single ones


def apply(text: str, edits: tuple[Edit, ...] | list[Edit]) -> str:
    """``text`` with each edit's line replaced (lines numbered as in ``text``)."""
    lines = code_lines(text, keepends=True)
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
        lines = code_lines(notebook.cell_text(cell), keepends=True)
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
        cell["source"] = code_lines(text, keepends=True) if isinstance(cell.get("source"), list) \
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


class Document:
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
        self.lines = code_lines(self.text)

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


def unified(fix: Fix, label: str) -> list[str]:
    """The edits as a unified diff: ``--- file``, ``+++ file (fixed)``, then ``@@ line N @@``
    (``@@ cell C, line N @@`` in a notebook) before each edit."""
    out = [f"--- {label}", f"+++ {label} (fixed)"]
    for e in fix.edits:
        out.append(f"@@ {e.place} @@")
        out.append(f"-{e.before}")
        out.extend(f"+{a}" for a in e.after.split("\n") if e.after)
    return out


def patched(fix: Fix) -> str:
    """The user's file with the fix applied (read again: it is never written); for a
    notebook, the whole notebook (outputs and metadata kept) as JSON."""
    path = Path(fix.edits[0].path)
    if notebook.is_notebook(path):
        return Document(path).content(fix.edits, bare=False)
    return apply(path.read_bytes().decode("utf-8"), list(fix.edits))
