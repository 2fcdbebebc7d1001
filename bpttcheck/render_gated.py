"""Draw a gated cell's explanation (:mod:`bpttcheck.cells.explain`) for people.

Renderers only render: every number comes from the explanation. The map is
drawn by :func:`bpttcheck.render_explain.contribution_map`, as for the vanilla cell.
"""

from __future__ import annotations

from typing import cast

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .cells.explain import GatedExplanation
from .explain import Explanation
from .prose import explain_headline, plural
from .render_explain import _reach_lags, contribution_map
from .report import sci

CELL_NAMES = {"lstm": "LSTM", "gru": "GRU"}


def sums_table(ex: GatedExplanation) -> Table:
    p = ex.parameter
    t = Table(title=f"Both groupings add up to d{p} (‖d{p}‖ = "
                    f"{sci(float(np.linalg.norm(ex.gradient)))}), the sum of every term to about "
                    "one rounding (compensated)", title_justify="left")
    t.add_column("regrouped sum = the gradient")
    t.add_column("rel. error (norm)", justify="right")
    t.add_column("largest elementwise", justify="right")
    for label, a in ((f"Σ_t row sums (lecture) = d{p}", ex.rows_vs_gradient),
                     (f"Σ_k column sums (tutorial) = d{p}", ex.columns_vs_gradient),
                     (f"the tutorial's float64 d{p} = d{p}", ex.tutorial_vs_exact),
                     ("column sum k = the tutorial's term at step k", ex.columns_vs_steps)):
        t.add_row(label, sci(a.norm_rel_error), sci(a.rel_error))
    return t


def paths_section(ex: GatedExplanation) -> list[Table | Text]:
    paths = ex.paths
    if paths is None:
        return []
    by_c, by_h = paths.by_lag(paths.via_c), paths.by_lag(paths.via_h)
    t = Table(title=f"d{ex.parameter} by path, by lag t − k", title_justify="left")
    t.add_column("t − k", justify="right")
    t.add_column("through c", justify="right")
    t.add_column("through h", justify="right")
    t.add_column("c share", justify="right")
    for lag in _reach_lags(len(by_c)):
        both = by_c[lag] + by_h[lag]
        share = f"{by_c[lag] / both:.0%}" if both > 0 else "–"
        t.add_row(str(lag), sci(float(by_c[lag])), sci(float(by_h[lag])), share)
    text = Text(f"In all: ‖through c‖ = {sci(float(np.linalg.norm(paths.total_c)))}, "
                f"‖through h‖ = {sci(float(np.linalg.norm(paths.total_h)))}. Along c each step "
                "back multiplies by diag(f) only: no weight matrix, no tanh′.")
    what = Text("Each term's share that reached step k through the cell state c_k, and through "
                "h_k (sums of ‖share‖ over t).", style="dim")
    return [t, what, text]


def reach_section(ex: GatedExplanation) -> list[Table | Text]:
    r = ex.reach
    name = CELL_NAMES.get(r.cell, r.cell)
    state = "(h_k, c_k)" if r.cell == "lstm" else "h_k"
    t = Table(title=f"Reach: {name} against vanilla", title_justify="left")
    t.add_column("d = t − k", justify="right")
    t.add_column(name, justify="right")
    t.add_column("vanilla", justify="right")
    for lag in _reach_lags(len(r.cell_profile)):
        t.add_row(str(lag), sci(float(r.cell_profile[lag])), sci(float(r.vanilla_profile[lag])))
    pct = f"{r.fraction:.0%}"
    what = Text(f"Mean over t of ‖∂L_t/∂s_(t−d)‖ relative to d = 0; s = {state} for the {name}, "
                "h_k for the vanilla cell run on the same data, sizes and seed.", style="dim")
    reach = plural(r.cell_reach, "step")
    text = Text(f"{pct} of a loss step's gradient still reaches {reach} back in "
                f"the {name} and {r.vanilla_reach} in the vanilla cell.", style="bold")
    return [t, what, text]


def render(ex: GatedExplanation, console: Console) -> None:
    p = ex.problem
    name = CELL_NAMES.get(ex.spec.cell, ex.spec.cell)
    console.print(Text(f"bpttcheck explain ({name}): d{ex.parameter} = Σ_t Σ_(k≤t) term(t, k)   "
                       f"(hidden {p.hidden}, seq {p.batch.seq}, vocab {p.vocab})", style="bold"))
    console.print(Text("term(t, k) = outer(∂L_t/∂a_k, z_k): loss step t (row) reaching back "
                       "through step k (column), a_k the gate's pre-activation. Cells: ‖term‖, "
                       "log colour scale.", style="dim"))
    if ex.diagonal:
        console.print(Text(f"{ex.parameter} is in the output layer, which has no recurrence: "
                           "only k = t terms.", style="yellow"))
    console.print(contribution_map(cast(Explanation, ex), console), end="", soft_wrap=True,
                  crop=False)
    console.print(sums_table(ex))
    console.print()
    for part in paths_section(ex):
        console.print(part)
    if ex.paths is not None:
        console.print()
    for part in reach_section(ex):
        console.print(part)
    console.print()
    style = "bold green" if ex.passed else "bold red"
    console.print(Text(explain_headline(ex), style=style), soft_wrap=not console.record)
