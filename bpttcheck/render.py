"""Draw a :class:`~bpttcheck.report.Report` for people: a Rich table and the verdict.

Renderers only render: every number and every sentence comes from the report.
The CLI builds the :class:`rich.console.Console` (colour, width, NO_COLOR) and
passes it in.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .compare import PairResult
from .report import USER_ENGINES, Report


def _cell(c: PairResult) -> Text:
    value = "inf" if c.nonfinite else f"{c.max_rel_error:.1e}"
    if c.passed:
        text = Text(value, style="green")
        if c.clipped:
            text.append(f" ({c.clipped} clipped)", style="yellow")
        return text
    return Text(f"{value} ✗", style="bold red")



def table(report: Report, pairs: tuple[tuple[str, str], ...] | None = None,
          shapes: bool = True) -> Table:
    """Rows: parameters. Columns: shape, one per engine pair, verdict."""
    pairs = report.pairs if pairs is None else pairs
    t = Table()
    t.add_column("parameter", style="bold")
    if shapes:
        t.add_column("shape")
    for a, b in pairs:
        t.add_column(f"{a}\n↔ {b}", justify="right")
    t.add_column("verdict")
    for name, value in report.problem.params.items():
        cells = [report.comparison(name, a, b) for a, b in pairs]
        ok = all(c.passed for c in cells)
        verdict = Text("agree", style="green") if ok else Text("MISMATCH", style="bold red")
        shape = ["×".join(str(n) for n in value.shape)] if shapes else []
        t.add_row(name, *shape, *(_cell(c) for c in cells), verdict)
    return t


def tables(report: Report) -> list[Table]:
    """The built-in engines' table, then (with --impl) one for the user's code, so
    that each fits an 80-column terminal."""
    ours = tuple(p for p in report.pairs if not set(p) & set(USER_ENGINES))
    theirs = tuple(p for p in report.pairs if set(p) & set(USER_ENGINES))
    out = [table(report, ours)] if ours else []
    if theirs:
        out.append(table(report, theirs, shapes=False))
    return out


def render(report: Report, console: Console) -> None:
    """Print the table, the tolerances, any failures and the verdict."""
    p = report.problem
    console.print(
        f"[bold]bpttcheck[/bold]: {'' if p.cell == 'vanilla' else p.cell.upper() + ', '}"
        f"hidden {p.hidden}, seq {p.batch.seq}, vocab {p.vocab} "
        f"({p.tokens.source}), {p.n_params} parameters, loss {report.loss:.6g}. "
        "Largest elementwise relative error per parameter:",
        highlight=False,
    )
    for t in tables(report):
        console.print(t)
    spec = report.spec
    console.print(
        f"[dim]Relative error |a−b| / max(|a|+|b|, {spec.floor:g}·max|grad|); pass if ≤ "
        f"{spec.rtol_analytic:.0e} between analytic engines, ≤ {spec.rtol_numeric:.0e} against "
        f"numeric. Checked: {report.coverage}.[/dim]",
        highlight=False,
    )
    for name, where in report.sampled().items():
        shown = ", ".join(str(i) for i in where[:8])
        more = f" … (+{len(where) - 8})" if len(where) > 8 else ""
        console.print(f"[dim]sampled {name}: {shown}{more}[/dim]", highlight=False)
    console.print()
    for i, line in enumerate(report.verdict()):
        style = ("bold green" if report.passed else "bold red") if i == 0 else ""
        console.print(Text(line, style=style))
    for note in report.notes():
        console.print(Text("note: " + note, style="yellow"))
