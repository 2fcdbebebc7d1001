"""The sentences people read: verdicts, headlines, counts, with their plurals, in one place.

report.py holds the result as data (JSON, npz); renderers lay it out. Every
sentence a person reads about a result is written here, so that its grammar is
tested in one place and no two places word the same finding differently.
"""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 element``, ``2 elements``; ``many`` for irregular plurals (``2 entries``)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def join_names(names: list[str] | tuple[str, ...]) -> str:
    """``Wxh``, ``Wxh and Whh``, ``Wxh, Whh and bh``."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
