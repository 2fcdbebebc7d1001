"""Jupyter notebooks as sources: the code cells, in order, joined into one script.

``--impl PATH.ipynb:NAME`` reads the notebook's JSON (never a kernel, never
``nbformat``), takes its code cells in order and joins them into one text,
which the loader then reads like any script: nothing in it is run. IPython
syntax that is not Python is blanked out and reported, line numbers kept:

- line magics and shell escapes (``%matplotlib inline``, ``!pip install``);
- help lines (``np.dot?``);
- a whole cell under a cell magic (``%%time``, ``%%bash``).

Each cell's first line in the joined text is registered with
:func:`.source.register_cells`, so that syntax errors, skipped statements and
tracebacks cite ``cell N, line L``: N counts every cell (markdown too) from 1 in
notebook order, as editors show them, and L is the line within that cell. The
joined text is also put in :mod:`linecache`, so that a traceback shows the
line's code, not the JSON.
"""

from __future__ import annotations

import dataclasses
import json
import linecache
from pathlib import Path
from typing import Any

from ..errors import ImplError
from ..files import read_regular
from . import source as source_reader

MAX_NOTEBOOK_BYTES = 64 << 20  # notebooks carry their outputs (images): far more than code
MAGIC_STARTS = ("%", "!")


@dataclasses.dataclass(frozen=True)
class Magic:
    """A line of IPython syntax blanked out of the joined text."""

    line: int  # in the joined text
    text: str


def is_notebook(path: Path) -> bool:
    return path.suffix.lower() == ".ipynb"


def read(path: Path) -> tuple[str, list[Magic]]:
    """The joined code cells of notebook ``path`` and the magic lines blanked out."""
    joined, magics, starts = join(load(path), path)
    source_reader.register_cells(path, starts)
    linecache.cache[str(path)] = (len(joined), None, joined.splitlines(keepends=True), str(path))
    return joined, magics


def load(path: Path) -> dict[str, Any]:
    """Notebook ``path``'s JSON document (bounded in size; an ImplError if it is not one)."""
    raw = read_regular(path, "--impl", MAX_NOTEBOOK_BYTES, ImplError, expected="a notebook")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImplError(f"{path}: not a Jupyter notebook (not JSON: {exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise ImplError(f"{path}: not a Jupyter notebook (no 'cells' list)")
    return doc


def cell_text(cell: object) -> str:
    """A cell's source as one string (nbformat stores a string or a list of lines)."""
    text = cell.get("source", "") if isinstance(cell, dict) else ""
    return "".join(text) if isinstance(text, list) else str(text)


def join(doc: dict[str, Any], path: Path) -> tuple[str, list[Magic], list[tuple[int, int]]]:
    """The joined code cells of ``doc``, the magic lines blanked out, and the (cell number,
    first line in the joined text) of each code cell."""
    cells = doc.get("cells")
    if not isinstance(cells, list):
        raise ImplError(f"{path}: not a Jupyter notebook (no 'cells' list)")
    lines: list[str] = []
    starts: list[tuple[int, int]] = []
    magics: list[Magic] = []
    number = 0
    for cell in cells:
        number += 1  # every cell counts, as an editor shows them
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        body = source_reader.code_lines(cell_text(cell))
        first = len(lines) + 1
        starts.append((number, first))
        whole = bool(body) and body[0].lstrip().startswith("%%")
        for k, line in enumerate(body):
            stripped = line.strip()
            if whole or stripped.startswith(MAGIC_STARTS) or (
                    stripped.endswith("?") and not stripped.startswith("#")):
                if stripped and (not whole or k == 0):
                    magics.append(Magic(first + k, stripped))
                lines.append("")
            else:
                lines.append(line)
    return "\n".join(lines) + "\n", magics, starts
