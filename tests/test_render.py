"""Golden renderings of the table and verdict, from engines with known answers.

The engines here return fixed arrays (not computed gradients), so the numbers in
the table do not depend on this machine's BLAS or rounding. Set
BPTTCHECK_UPDATE_GOLDEN=1 to rewrite the files after an intended change, and
review the diff.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest

from bpttcheck import checker
from bpttcheck.engines import Gradients, Options
from bpttcheck.model import Batch, Params
from bpttcheck.render import render
from bpttcheck.spec import resolve
from bpttcheck.terminal import make_console

GOLDEN = Path(__file__).parent / "golden"
SPEC = {"hidden": 3, "seq": 4, "vocab": 2, "seed": 0}


def fixed(engine: str, scale: float = 1.0, bump: tuple[str, int, float] | None = None):
    def run(params: Params, batch: Batch, options: Options) -> Gradients:
        g = {n: (np.arange(p.size, dtype=np.float64).reshape(p.shape) + 1.0) * scale
             for n, p in params.items()}
        if bump is not None:
            name, flat, factor = bump
            g[name].reshape(-1)[flat] *= factor
        return Gradients(engine, 2.0, g)

    return run


def rendered(registry: dict, clip: float | None = None) -> str:
    overrides: dict[str, object] = dict(SPEC)
    if clip is not None:
        overrides["clip"] = clip
    report = checker.run(resolve(overrides=overrides), registry=registry)
    buffer = io.StringIO()
    render(report, make_console(file=buffer, width=100, color_system=None,
                                force_terminal=False))
    return buffer.getvalue()


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("BPTTCHECK_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_golden_agreement() -> None:
    registry = {"tutorial": fixed("tutorial"), "reference": fixed("reference"),
                "numeric": fixed("numeric", 1 + 1e-8)}
    check_golden("compare_agree.txt", rendered(registry))


def test_golden_mismatch_names_parameter_element_and_values() -> None:
    registry = {"tutorial": fixed("tutorial", bump=("Whh", 4, 1.5)),
                "reference": fixed("reference"), "numeric": fixed("numeric")}
    text = rendered(registry)
    check_golden("compare_mismatch.txt", text)
    assert "Whh[1, 1]" in text and "MISMATCH" in text


@pytest.mark.parametrize("width", [60, 100, 160])
def test_table_fits_the_console(width: int) -> None:
    registry = {"tutorial": fixed("tutorial"), "reference": fixed("reference"),
                "numeric": fixed("numeric")}
    report = checker.run(resolve(overrides=SPEC), registry=registry)
    buffer = io.StringIO()
    render(report, make_console(file=buffer, width=width, color_system=None))
    *details, last = buffer.getvalue().splitlines()
    assert all(len(line) <= width for line in details)
    assert last.startswith("✓ ")  # the headline: one line whatever the width (soft-wrapped)
    assert all(line == line.rstrip() for line in details)  # no trailing spaces


def test_golden_cell_marks() -> None:
    """Every cell state in one table: agree, ✗, ≈ (within numeric's error bar), ✂ clipped,
    and — (not compared: numeric covered none of by)."""

    def numeric(params: Params, batch: Batch, options: Options) -> Gradients:
        g = fixed("numeric")(params, batch, options).grads
        g["Whh"] = g["Whh"] * (1 + 1e-5)  # above rtol_numeric, within the error bar below
        noise = {n: np.full(p.shape, 0.0) for n, p in params.items()}
        noise["Whh"] = np.full(params["Whh"].shape, 1e-3)
        covered = {n: np.arange(p.size) for n, p in params.items()}
        covered["by"] = np.zeros(0, dtype=np.intp)
        return Gradients("numeric", 2.0, g, noise=noise, covered=covered)

    def tutorial(params: Params, batch: Batch, options: Options) -> Gradients:
        g = fixed("tutorial")(params, batch, options).grads
        clipped = {n: np.zeros(p.shape, dtype=bool) for n, p in params.items()}
        clipped["Why"].reshape(-1)[-1] = True  # Why's largest element (6) clipped to 5
        g["Why"].reshape(-1)[-1] = 5.0
        g["bh"].reshape(-1)[0] *= 2.0  # a real failure
        return Gradients("tutorial", 2.0, g, clipped=clipped, clip=5.0)

    registry = {"tutorial": tutorial, "reference": fixed("reference"), "numeric": numeric}
    text = rendered(registry, clip=5.0)
    check_golden("compare_marks.txt", text)
    rows = {line.split()[1]: line for line in text.splitlines() if line.startswith("│ ")}
    assert "≈" in rows["Whh"] and "✂" in rows["Why"] and "✗" in rows["bh"]
    assert "—" in rows["by"] and "MISMATCH" in rows["bh"]
