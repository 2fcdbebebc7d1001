"""Draw a selftest result for people: one row per corpus case, then the summary.

Renderers only render: every status and sentence comes from
:class:`bpttcheck.selftest.Result`.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .prose import NOT_COMPARED, selftest_headline
from .selftest import Result

_STYLE = {"caught": "green", "passed": "green", "MISSED": "bold red", "FALSE ALARM": "bold red"}


def render(result: Result, console: Console) -> None:
    t = Table(title="bpttcheck selftest: deliberately wrong and correct backward passes, "
                    "checked as --impl code", title_justify="left")
    t.add_column("case", style="bold")
    t.add_column("expected")
    t.add_column("result")
    t.add_column("named cause")
    t.add_column("match")
    for o in result.outcomes:
        match = "" if o.case.correct else ("✓" if o.cause_matches else "✗")
        t.add_row(o.case.name, o.case.expect, Text(o.status, style=_STYLE[o.status]),
                  o.cause or NOT_COMPARED,
                  Text(match, style="green" if o.cause_matches else "bold red"))
    console.print(t)
    for o in result.outcomes:
        if not o.ok:
            console.print(Text(f"✗ {o.case.name}: {o.message or o.status}", style="red"))
    console.print()
    style = "bold green" if result.passed else "bold red"
    console.print(Text(selftest_headline(result), style=style), soft_wrap=True)
