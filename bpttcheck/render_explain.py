"""Draw an :class:`~bpttcheck.explain.Explanation` for people: the (t, k) map and its sums.

Renderers only render: every number comes from the explanation. The CLI builds
the :class:`rich.console.Console` (colour, width, NO_COLOR, recording for
``--save-svg``/``--save-html``) and passes it in. Without colour the map's
cells are drawn with glyphs, darkest to densest, so it stays readable.
"""

from __future__ import annotations

import math

import numpy as np
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from .explain import SATURATED, Explanation
from .prose import explain_headline
from .report import format_index, sci

# Nine steps of a perceptually uniform dark-to-bright scale (viridis), small to large.
PALETTE = ("#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c",
           "#28ae80", "#5ec962", "#addc30", "#fde725")
GLYPHS = ".:-=+*#%@"  # the same nine levels without colour
SPARK = "▁▂▃▄▅▆▇█"  # column sums under the map
BELOW_GLYPH = "░"  # a term below the colour scale (more decades down than it spans)
BELOW_STYLE = "#5a5a5a on #2a2a2a"
BAR = 24  # characters of the longest bar in the reach profile
REACH_ROWS = 14  # lags listed in the reach table; longer sequences show a spread of lags
LABEL = 7  # width of the row labels left of the map


def _levels(values: np.ndarray, lo: float, hi: float, n: int) -> np.ndarray:
    """Level 0..n-1 of each positive value on a log scale from 10^lo to 10^hi; -1 for 0,
    -2 for a value below 10^lo (off the scale)."""
    out = np.full(values.shape, -1)
    pos = values > 0
    if not pos.any():
        return out
    span = max(hi - lo, 1e-12)
    with np.errstate(divide="ignore"):
        logs = np.log10(np.where(pos, values, 1.0))
    idx = np.floor((logs - lo) / span * n).astype(int)
    out[pos] = np.clip(idx, 0, n - 1)[pos]
    out[pos & (logs < lo - 1e-12)] = -2
    return out


def _log_range(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values) & (values > 0)]
    if not finite.size:
        return 0.0, 1.0
    return float(np.log10(finite.min())), float(np.log10(finite.max()))


MAX_DECADES = len(PALETTE)  # decades the colour scale spans at most: one per colour


def colour_scale(values: np.ndarray) -> tuple[float, float]:
    """The log10 range the colours span: the data's own range when it is at most
    :data:`MAX_DECADES` decades, else the top ``MAX_DECADES`` whole decades below the
    largest value, one per colour (so that each step back in time, typically ten or
    more times smaller, gets a colour of its own; smaller terms are "below the scale")."""
    lo, hi = _log_range(values)
    if hi - lo <= MAX_DECADES:
        return lo, hi
    top = math.ceil(hi)
    return float(top - MAX_DECADES), float(top)


def _scale_label(x: float, whole: bool) -> str:
    return f"1e{round(math.log10(x)):+03d}" if whole else sci(x)


def _color(console: Console) -> bool:
    return console.color_system is not None and not console.no_color


def contribution_map(ex: Explanation, console: Console) -> Text:
    """The lower-triangular heat map, row-sum norms on the right, column sums below."""
    m = ex.map
    B = len(m.starts)
    cell_w = 2 if console.width >= LABEL + 2 * B + 12 else 1  # 12: the row-sum column
    lo, hi = colour_scale(m.cells)
    levels = _levels(m.cells, lo, hi, len(PALETTE))
    color = _color(console)
    out = Text()
    out.append(f"{'k →':>{LABEL - 1}} ", style="dim")
    ticks = max(1, math.ceil(5 / cell_w))
    header = ""
    for j in range(0, B, ticks):
        label = str(int(m.starts[j]))
        if cell_w * j + len(label) <= cell_w * B:  # only labels that fit above the map
            header = header.ljust(cell_w * j) + label
    out.append(header.ljust(cell_w * B), style="dim")
    out.append("  ‖row sum‖\n", style="dim")
    for i in range(B):
        start = int(m.starts[i])
        label = f"t {start:>{LABEL - 3}}" if i == 0 else f"{start:>{LABEL - 1}}"
        out.append(label + " ", style="dim")
        for j in range(B):
            lvl = int(levels[i, j])
            if j > i:
                out.append(" " * cell_w)
            elif lvl == -1:
                out.append("·" * cell_w, style="dim")
            elif lvl == -2:  # below the colour scale
                out.append(BELOW_GLYPH * cell_w, style=BELOW_STYLE if color else "dim")
            elif color:
                out.append(" " * cell_w, style=f"on {PALETTE[lvl]}")
            else:
                out.append(GLYPHS[lvl] * cell_w)
        out.append(f"  {sci(float(m.row_norms[i]))}\n", style="cyan")
    clo, chi = _log_range(m.column_norms)
    spark = _levels(m.column_norms, clo, chi, len(SPARK))
    out.append(f"{'col':>{LABEL - 1}} ", style="dim")
    for lvl in spark:
        out.append((SPARK[int(lvl)] if lvl >= 0 else " ") * cell_w, style="cyan")
    out.append("  ‖col sum‖\n", style="dim")
    return out


def scale_notes(ex: Explanation, console: Console) -> Padding:
    """Under the map, indented like it and wrapped to the console: the column sums' range
    and the colour legend."""
    m = ex.map
    cell_w = 2 if console.width >= LABEL + 2 * len(m.starts) + 12 else 1
    lo, hi = colour_scale(m.cells)
    out = Text()
    positive = m.column_norms[m.column_norms > 0]
    zero = "; blank: exactly 0" if positive.size < m.column_norms.size else ""
    span = (f"{sci(float(positive.min()))} … {sci(float(positive.max()))}" if positive.size
            else "all 0")
    out.append(f"column sums per {'k' if m.size == 1 else 'bin'}, log scale: {span}{zero}\n",
               style="dim")
    if m.size > 1:
        out.append(f"one cell per bin of {m.size} steps: the largest ‖term‖ in its block\n",
                   style="dim")
    out.append_text(legend(m.cells, lo, hi, _color(console), cell_w))
    out.rstrip()
    return Padding(out, (0, 0, 0, LABEL))


def legend(cells: np.ndarray, lo: float, hi: float, color: bool, cell_w: int = 2) -> Text:
    """What each colour means in numbers: the lower bound of every level, the largest and
    smallest ‖term‖, and the marks for terms below the scale and exactly 0."""
    out = Text()
    levels = _levels(cells, lo, hi, len(PALETTE))
    if not (levels >= 0).any():  # no scale when every term is 0
        out.append("every term is exactly 0\n", style="dim")
        return out
    whole = hi - lo == MAX_DECADES and float(hi).is_integer()
    n = len(PALETTE)
    step = (hi - lo) / n
    what = "one decade per colour" if whole else f"{step:.2g} decades per colour"
    out.append(f"‖term‖ colours, log scale, {what} (label: lower bound):\n",
               style="dim")
    for lvl in range(n):
        swatch = (" " * cell_w, f"on {PALETTE[lvl]}") if color else (GLYPHS[lvl] * cell_w, "")
        out.append(*swatch)
        out.append(f" {_scale_label(10 ** (lo + step * lvl), whole)}  ", style="dim")
        if lvl == n // 2 - 1:
            out.append("\n")
    out.append("\n")
    positive = cells[cells > 0]
    out.append(f"largest ‖term‖ {sci(float(positive.max()))}, smallest "
               f"{sci(float(positive.min()))}", style="dim")
    if (levels == -2).any():
        out.append("; ", style="dim")
        out.append(BELOW_GLYPH * cell_w, style=BELOW_STYLE if color else "dim")
        out.append(f" below {_scale_label(10 ** lo, whole)}", style="dim")
    if np.tril(levels == -1).any():
        out.append("; · exactly 0", style="dim")
    out.append("\n")
    return out


def sums_table(ex: Explanation) -> Table:
    """Both regroupings against the tutorial's gradient."""
    t = Table(title=f"Both groupings add up to d{ex.parameter} "
                    f"(‖d{ex.parameter}‖ = {sci(float(np.linalg.norm(ex.gradient)))}), "
                    "the sum of every term to about one rounding (compensated)",
              title_justify="left")
    t.add_column("regrouped sum = the gradient")
    t.add_column("rel. error (norm)", justify="right")
    t.add_column("largest elementwise", justify="right")
    rows = (
        (f"Σ_t row sums (lecture) = d{ex.parameter}", ex.rows_vs_gradient),
        (f"Σ_k column sums (tutorial) = d{ex.parameter}", ex.columns_vs_gradient),
        (f"the tutorial's float64 d{ex.parameter} = d{ex.parameter}", ex.tutorial_vs_exact),
        ("column sum k = the tutorial's term at step k", ex.columns_vs_steps),
    )
    for label, a in rows:
        t.add_row(label, sci(a.norm_rel_error), sci(a.rel_error))
    return t


def _reach_lags(n: int) -> list[int]:
    if n <= REACH_ROWS:
        return list(range(n))
    head = list(range(4))
    spread = np.unique(np.round(np.geomspace(4, n - 1, REACH_ROWS - 4)).astype(int))
    return head + [int(x) for x in spread]


def reach_table(ex: Explanation) -> Table:
    """‖∂L_t/∂h_k‖ by lag t − k, with a log bar."""
    r = ex.reach
    t = Table(title="The gradient's reach: ‖∂L_t/∂h_k‖ against t − k", title_justify="left")
    t.add_column("t − k", justify="right")
    t.add_column("mean over t", justify="right")
    t.add_column("max over t", justify="right")
    t.add_column("(log scale)")
    lo, hi = _log_range(r.mean)
    for lag in _reach_lags(len(r.mean)):
        v = float(r.mean[lag])
        width = 0 if v <= 0 or not math.isfinite(v) else 1 + int(
            (math.log10(v) - lo) / max(hi - lo, 1e-12) * (BAR - 1))
        t.add_row(str(lag), sci(v), sci(float(r.max[lag])), Text("█" * width, style="magenta"))
    return t


def reach_text(ex: Explanation) -> Text:
    r = ex.reach
    out = Text()
    out.append("Each step back multiplies ∂L_t/∂h by diag(1 − h²)·Whhᵀ. ")
    out.append(f"Whh: spectral radius {r.spectral_radius:.3g}, ‖Whh‖₂ {r.whh_norm:.3g}. ")
    out.append(f"tanh′ = 1 − h²: min {r.tanh_min:.4g}, mean {r.tanh_mean:.4g}, "
               f"max {r.tanh_max:.4g}; {100 * r.saturated:.0f}% of units saturated "
               f"(1 − h² < {SATURATED:g}). ")
    out.append(f"So each step scales it by at most {r.step_bound:.3g}")
    if r.factor is not None:
        trend = "vanishing" if r.factor < 1 else "exploding" if r.factor > 1 else "flat"
        out.append(f"; observed: ×{r.factor:.3g} per step ({trend}).", style="bold")
    else:
        out.append(".")
    return out


def truncation_section(ex: Explanation) -> list[Table | Text]:
    out: list[Table | Text] = []
    tr = ex.truncation
    if tr is not None:
        t = Table(title=f"Truncated BPTT, window {tr.window}: terms with t − k ≥ {tr.window} "
                        "dropped", title_justify="left")
        t.add_column("parameter", style="bold")
        t.add_column("‖full gradient‖", justify="right")
        t.add_column("‖discarded‖", justify="right")
        t.add_column("fraction discarded", justify="right")
        for name, frac in tr.fractions.items():
            t.add_row(name, sci(tr.full_norm[name]), sci(tr.discarded_norm[name]),
                      f"{frac:.3g}")
        out.append(t)
        out.append(Text(f"Each loss step t reaches back through k = t−{tr.window - 1}..t only "
                        f"(WildML's bptt_truncate = {tr.window - 1} keeps the same terms). "
                        "Why and by lose nothing: they only have k = t terms.", style="dim"))
    out.append(Text(
        f"Between chunks, min-char-rnn feeds the last hidden state in as hprev, a constant: "
        f"‖∂L/∂hprev‖ = {sci(ex.dhprev_norm)} is what that discards."))
    return out


def clipping_section(ex: Explanation) -> list[Table | Text]:
    bound = ex.clip_bound
    how = ("the spec clips to" if ex.clip_applied
           else "not applied in this spec; the tutorial's clip would be")
    changed = [c for c in ex.clipping if c.clipped]
    if not changed:
        biggest = max(ex.clipping, key=lambda c: c.max_abs)
        return [Text(f"Clipping ({how} ±{bound:g}) changes no element: the largest |gradient| is "
                     f"{biggest.max_abs:.3g} in {biggest.parameter}.")]
    t = Table(title=f"Clipping ({how} ±{bound:g})", title_justify="left")
    t.add_column("parameter", style="bold")
    t.add_column("elements changed", justify="right")
    t.add_column("largest |g|", justify="right")
    t.add_column("‖g − clip(g)‖ / ‖g‖", justify="right")
    for c in ex.clipping:
        t.add_row(c.parameter, f"{c.clipped} of {c.size}", f"{c.max_abs:.3g}",
                  f"{c.change_fraction:.3g}")
    out: list[Table | Text] = [t]
    for c in changed:
        shown = ", ".join(f"{format_index(c.parameter, e.index)} {e.value:.4g} → {e.clipped:g}"
                          for e in c.elements[:3])
        more = f" … (+{c.clipped - 3})" if c.clipped > 3 else ""
        out.append(Text(f"  {c.parameter}: {shown}{more}"))
    return out


def render(ex: Explanation, console: Console) -> None:
    """Print the map, the sums, the reach, truncation and clipping."""
    p = ex.problem
    console.print(Text(f"bpttcheck explain: d{ex.parameter} = Σ_t Σ_(k≤t) term(t, k)   "
                       f"(hidden {p.hidden}, seq {p.batch.seq}, vocab {p.vocab})", style="bold"))
    what = {"Whh": "outer(∂L_t/∂a_k, h_(k−1))", "Wxh": "∂L_t/∂a_k in column inputs[k]",
            "bh": "∂L_t/∂a_k", "Why": "outer(dy_t, h_t)", "by": "dy_t"}[ex.parameter]
    console.print(Text(f"term(t, k) = {what}: loss step t (row) reaching back through step k "
                       "(column). Cells: ‖term‖, log colour scale.", style="dim"))
    if ex.diagonal:
        console.print(Text(f"{ex.parameter} is in the output layer, which has no recurrence: "
                           "only k = t terms, so the map is diagonal and each row sum equals "
                           "its column sum.", style="yellow"))
    console.print(contribution_map(ex, console), end="", soft_wrap=True, crop=False)
    console.print(scale_notes(ex, console))
    console.print(Text("Row t sums what loss step t contributes (the lecture's grouping). "
                       "Column k sums every t ≥ k: exactly the term the tutorial adds at step k, "
                       "with dhnext carrying the later steps' share into dhraw.", style="dim"))
    console.print(sums_table(ex))
    console.print()
    console.print(reach_table(ex))
    console.print(reach_text(ex))
    console.print()
    for part in truncation_section(ex):
        console.print(part)
    console.print()
    for part in clipping_section(ex):
        console.print(part)
    console.print()
    style = "bold green" if ex.passed else "bold red"
    # one line on a terminal or a pipe; wrapped on a recorded page (--save-svg), which
    # would otherwise cut it at the page's edge
    console.print(Text(explain_headline(ex), style=style), soft_wrap=not console.record)
