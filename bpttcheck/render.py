"""Draw a :class:`~bpttcheck.report.Report` for people: a Rich table and the verdict.

Renderers only render: every number and every sentence comes from the report.
The CLI builds the :class:`rich.console.Console` (colour, width, NO_COLOR) and
passes it in.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from .compare import PairResult
from .prose import (
    CLIPPED_MARK,
    FAIL_MARK,
    NOT_COMPARED,
    PRECISION_MARK,
    USER_ENGINES,
    plural,
    quiet_lines,
    sci,
)
from .report import Report


def _cell(c: PairResult) -> Text:
    """One comparison's cell, with its state visible: agree, fail (✗), limited by
    precision (≈), clipped, or not compared (—, no number)."""
    if not c.compared:
        return Text(NOT_COMPARED, style="dim")
    value = "inf" if c.nonfinite else sci(c.max_rel_error)
    if not c.passed:
        return Text(f"{value} {FAIL_MARK}", style="bold red")
    if c.precision_limited:
        text = Text(f"{value} {PRECISION_MARK}", style="yellow")
    else:
        text = Text(value, style="green")
    if c.clipped:
        text.append(f" ({c.clipped} {CLIPPED_MARK})", style="yellow")
    return text


def _row_verdict(cells: list[PairResult], screened: bool) -> Text:
    made = [c for c in cells if c.compared]
    if not made:  # its projections agreed (--directions), or nothing was compared
        return Text("screened" if screened else NOT_COMPARED, style="dim")
    if not all(c.passed for c in made):
        return Text("MISMATCH", style="bold red")
    if any(c.precision_limited for c in made):
        return Text(f"{PRECISION_MARK} agree", style="yellow")
    return Text("agree", style="green")


def legend(report: Report) -> list[str]:
    """What the marks in the table mean, for the marks it shows."""
    spec = report.spec
    cs = report.comparisons
    out = [f"Relative error |a−b| / max(|a|+|b|, {spec.floor:g}·max|grad|); pass if ≤ "
           f"{spec.rtol_analytic:.0e} between analytic engines, ≤ {spec.rtol_numeric:.0e} "
           f"against numeric. Checked: {report.coverage}."]
    if any(not c.passed for c in cs):
        out.append(f"{FAIL_MARK} above the tolerance: a failure.")
    limited = sum(c.precision_limited for c in cs)
    if limited:
        out.append(f"{PRECISION_MARK} above the tolerance (≤ {spec.rtol_numeric:.0e}), but within "
                   "numerical "
                   f"differentiation's own error bar ({plural(limited, 'element')}): limited "
                   "by numerical precision, not a failure.")
    clipped = sum(c.clipped for c in cs)
    if clipped:
        out.append(f"{CLIPPED_MARK} elements clipped to ±{spec.clip:g} by one engine, beyond "
                   "it in the other: not compared, not failures.")
    if any(not c.compared for c in cs):
        out.append(f"{NOT_COMPARED} not compared element by element: no number to show.")
    return out


NARROW = 80  # columns below which the tables drop the shape column and pack tighter


def table(report: Report, pairs: tuple[tuple[str, str], ...] | None = None,
          shapes: bool = True, narrow: bool = False) -> Table:
    """Rows: parameters. Columns: shape, one per engine pair, verdict.

    Headers fold rather than being cut with an ellipsis, so that every engine's
    name stays readable; ``narrow`` (below 80 columns) packs the columns with single
    spaces between them and puts each engine's name on a line of its own."""
    pairs = report.pairs if pairs is None else pairs
    t = Table(box=box.SIMPLE_HEAD, padding=(0, 0)) if narrow else Table()
    t.add_column("parameter", style="bold", no_wrap=True)
    if shapes:
        t.add_column("shape", no_wrap=True)
    for a, b in pairs:
        t.add_column(f"{a}\n↔\n{b}" if narrow else f"{a}\n↔ {b}", justify="right",
                     overflow="fold")
    t.add_column("verdict", overflow="fold")
    for name, value in report.problem.params.items():
        cells = [report.comparison(name, a, b) for a, b in pairs]
        shape = ["×".join(str(n) for n in value.shape)] if shapes else []
        screened = report.directions is not None and name in report.directions.screened
        t.add_row(name, *shape, *(_cell(c) for c in cells), _row_verdict(cells, screened))
    return t


def tables(report: Report, width: int | None = None) -> list[Table]:
    """The built-in engines' table, then (with --impl) one for the user's code, so
    that each fits an 80-column terminal; below that, without the shape column."""
    narrow = width is not None and width < NARROW
    ours = tuple(p for p in report.pairs if not set(p) & set(USER_ENGINES))
    theirs = tuple(p for p in report.pairs if set(p) & set(USER_ENGINES))
    out = [table(report, ours, shapes=not narrow, narrow=narrow)] if ours else []
    if theirs:
        out.append(table(report, theirs, shapes=False, narrow=narrow))
    return out


def fix_section(report: Report, written: str | None = None) -> list[RenderableType]:
    """The fix search's result (``--impl``): a sentence, then the edits as a unified diff;
    or, when nothing verified was found, what was tried."""
    impl = report.impl
    if impl is None or report.passed:
        return []
    if impl.fix is None:
        return [Text(impl.fix_reason, style="dim")] if impl.fix_reason else []
    from .fix import heading, unified
    from .prose import fix_written

    out: list[RenderableType] = [Text(heading(impl.fix), style="bold")]
    for line in unified(impl.fix, impl.fix.edits[0].path):
        style = ("red" if line.startswith("-") and not line.startswith("---") else
                 "green" if line.startswith("+") and not line.startswith("+++") else
                 "cyan" if line.startswith("@@") else "bold")
        out.append(Text("  " + line, style=style))
    if written:
        out.append(Text(fix_written(written, impl.fix.remaining if impl.fix.partial else ()),
                        style="dim"))
    return out


def render(report: Report, console: Console, fix: Sequence[RenderableType] = ()) -> None:
    """Details first, in a calm style (the table, its legend, the findings, notes), then
    ``fix`` (a suggested fix, when one was found), then the headline as the last line."""
    p = report.problem
    console.print(
        f"bpttcheck: {'' if p.cell == 'vanilla' else p.cell.upper() + ', '}"
        f"hidden {p.hidden}, seq {p.batch.seq}, "
        f"{'' if p.batch.width is None else f'batch {p.batch.width} (loss summed), '}"
        f"vocab {p.vocab} "
        f"({p.tokens.source}), {p.n_params} parameters, loss {report.loss:.6g}. "
        "Largest elementwise relative error per parameter:",
        highlight=False,
    )
    for t in tables(report, console.width):
        console.print(t)
    for line in legend(report):
        console.print(Text(line, style="dim"))
    for name, where in report.sampled().items():
        shown = ", ".join(str(i) for i in where[:8])
        more = f" … (+{len(where) - 8})" if len(where) > 8 else ""
        console.print(Text(f"sampled {name}: {shown}{more}", style="dim"))
    console.print()
    for line in report.verdict():
        console.print(highlight_parting(line))
    for note in report.notes():
        console.print(Text("note: " + note, style="dim yellow"))
    for part in fix:  # the slot for a suggested fix (a diff), between details and headline
        diff = isinstance(part, Text) and part.plain.startswith("  ")  # never wrap code
        console.print(part, highlight=False, soft_wrap=diff)
    console.print()
    headline(report, console)


_VALUES = re.compile(r"worst \S+(?:, \d+\])*: \S+ (?P<a>-?[\d.]+(?:e[+-]?\d+)?), "
                     r"\S+ (?P<b>-?[\d.]+(?:e[+-]?\d+)?) \(rel\. error")


def highlight_parting(line: str) -> Text:
    """A failure line with the digits where the two values part in bold and underlined,
    so that ``0.0012345678`` against ``0.0012345699`` shows where they differ."""
    text = Text(line)
    for m in _VALUES.finditer(line):
        a, b = m.group("a"), m.group("b")
        common = len(os.path.commonprefix([a, b]))
        for name in ("a", "b"):
            if m.start(name) + common < m.end(name):
                text.stylize("bold underline", m.start(name) + common, m.end(name))
    return text


def headline(report: Report, console: Console) -> None:
    """The last line: ✓ or ✗ and the answer in words, styled."""
    style = "bold green" if report.passed else "bold red"
    console.print(Text(report.headline(), style=style), soft_wrap=True)  # one line, always


def render_quiet(report: Report, console: Console) -> None:
    """--quiet: nothing on success; on failure what failed, then the headline."""
    if report.passed:
        return
    lines = quiet_lines(report)
    for line in lines[:-1]:
        console.print(Text(line), soft_wrap=True)  # one finding a line, for grep
    headline(report, console)
