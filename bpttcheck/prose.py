"""The sentences people read: verdicts, headlines, counts, with their plurals, in one place.

report.py holds the result as data (JSON, npz); renderers lay it out. Every
sentence a person reads about a result is written here, so that its grammar is
tested in one place and no two places word the same finding differently.
"""

from __future__ import annotations

from typing import Any


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 element``, ``2 elements``; ``many`` for irregular plurals (``2 entries``)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def join_names(names: list[str] | tuple[str, ...]) -> str:
    """``Wxh``, ``Wxh and Whh``, ``Wxh, Whh and bh``."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


PLEASE_REPORT = ("This is a bug in bpttcheck, not in your code: please report it with the "
                 "command line and the spec.")


def warning_notes(caught: list[Any]) -> list[str]:
    """Captured warnings as report notes: the message and how often it came, never the
    line of source that raised it (NumPy's RuntimeWarnings quote bpttcheck's own code)."""
    counts: dict[str, int] = {}
    for w in caught:
        text = " ".join(str(w.message).split())
        counts[text] = counts.get(text, 0) + 1
    return [f"warning during the check: {text}" + (f" ({plural(n, 'time')})" if n > 1 else "")
            for text, n in counts.items()]
