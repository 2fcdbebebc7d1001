"""A finding about a user's code: a kind and a sentence.

Findings fail the check (exit 1) even when the numbers agree. Each is built with its kind
where it is found (``mutation``, ``nondeterminism``, ``non-finite``, ``loss``,
``gradient``, ``loss and gradient``, ``hlast``, ``dhprev``, ``precision``); it reads as
``"kind: sentence"`` wherever a string is expected (reports, JSON), and code that needs the
kind reads ``.kind`` instead of parsing the string.
"""

from __future__ import annotations


class Finding(str):
    """A hygiene finding: ``kind`` and ``text``; as a string, ``"kind: text"``."""

    kind: str
    text: str

    def __new__(cls, kind: str, text: str) -> Finding:
        obj = super().__new__(cls, f"{kind}: {text}")
        obj.kind = kind
        obj.text = text
        return obj

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]
        return (self.kind, self.text)
