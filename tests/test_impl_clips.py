"""A clip inside the user's function that the check's points never reach is said to be
untested (a wrong bound there would pass unseen: heldout4 had two such bugs)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from click.testing import Result

from bpttcheck.impl.clips import clip_bounds, unreached

Run = Callable[..., Result]
SOURCE = Path(__file__).resolve().parent / "fixtures" / "clip_unreached.py"
SIZES = ["--hidden", "6", "--vocab", "4", "--seq", "5", "--no-fix"]


def test_clip_bounds_are_read_from_constant_calls(tmp_path: Path) -> None:
    path = tmp_path / "f.py"
    path.write_text("import numpy as np\n"
                    "def f(d, b):\n"
                    "    d = np.clip(d, -5, 5)\n"
                    "    np.clip(d, -2.5, 3, out=d)\n"
                    "    d = np.clip(d, -b, b)\n"
                    "    return d.clip(-1, 1)\n"
                    "def g(d):\n"
                    "    return np.clip(d, -9, 9)\n", encoding="utf-8")
    assert clip_bounds(path, "f") == [(3, 5.0), (4, 2.5)]  # bounds read as constants only
    assert unreached(path, "f", [{"W": np.array([[0.5, -4.0]])}]) == [(3, 5.0, 4.0)]


def test_an_unreached_clip_is_noted_and_a_biting_one_is_not(run_cli: Run,
                                                            tmp_path: Path) -> None:
    r = run_cli("compare", "--impl", f"{SOURCE}:lossFun", *SIZES, "--format", "json")
    assert r.exit_code == 0, r.output
    notes = json.loads(r.stdout)["impl"]["notes"]
    assert any("clip at line 28 (±2.5) never acted" in n for n in notes), notes
    biting = tmp_path / "bites.py"
    biting.write_text(SOURCE.read_text(encoding="utf-8").replace("-2.5, 2.5", "-1e-4, 1e-4"),
                      encoding="utf-8")
    r = run_cli("compare", "--impl", f"{biting}:lossFun", *SIZES, "--format", "json")
    assert r.exit_code == 1, r.output  # the clip acts: the gradient is wrong, and seen so
    assert not any("never acted" in n for n in json.loads(r.stdout)["impl"]["notes"])
