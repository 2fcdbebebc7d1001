"""A user's file whose step cache is a @dataclass (with postponed annotations, too) loads
and is checked: the decorator finds the file's module while it runs, and the module is
not left in sys.modules after (the fix search loads hundreds of copies)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

Run = Callable[..., Result]

SOURCE = '''{future}from dataclasses import dataclass, field
import numpy as np


@dataclass(frozen=True)
class Step:
    x: np.ndarray
    h: np.ndarray
    p: np.ndarray
    notes: list = field(default_factory=list)


def lossFun(inputs, targets, hprev, Wxh, Whh, Why, bh, by):
    steps = []
    h = hprev
    loss = 0.0
    for ix, tg in zip(inputs, targets):
        x = np.zeros((Wxh.shape[1], 1))
        x[ix] = 1
        h = np.tanh(Wxh @ x + Whh @ h + bh)
        y = Why @ h + by
        p = np.exp(y - y.max())
        p /= p.sum()
        loss -= np.log(p[tg, 0])
        steps.append(Step(x, h, p))
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dn = np.zeros_like(hprev)
    for k in reversed(range(len(steps))):
        s = steps[k]
        hp = steps[k - 1].h if k > 0 else hprev
        dy = s.p.copy()
        dy[targets[k]] -= 1
        dWhy += dy @ s.h.T
        dby += dy
        dr = (1 - s.h * s.h) * (Why.T @ dy + dn)
        dbh += dr
        dWxh += dr @ s.x.T
        dWhh += dr @ hp.T
        dn = Whh.T @ dr
    return loss, dWxh, dWhh, dWhy, dbh, dby, h
'''


@pytest.mark.parametrize("future", ["", "from __future__ import annotations\n"])
def test_a_dataclass_step_cache_loads_and_passes(run_cli: Run, tmp_path: Path,
                                                  future: str) -> None:
    path = tmp_path / "rnn.py"
    path.write_text(SOURCE.format(future=future), encoding="utf-8")
    r = run_cli("compare", "--impl", f"{path}:lossFun", "--hidden", "5", "--vocab", "4",
                "--seq", "4", "--no-fix")
    assert r.exit_code == 0, r.output


def test_the_module_is_not_left_in_sys_modules(tmp_path: Path) -> None:
    from bpttcheck.impl.loader import load

    path = tmp_path / "rnn.py"
    path.write_text(SOURCE.format(future=""), encoding="utf-8")
    before = set(sys.modules)
    load(f"{path}:lossFun")
    assert not {m for m in set(sys.modules) - before if m.startswith("bpttcheck_user_")}
