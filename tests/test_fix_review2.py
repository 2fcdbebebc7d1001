"""Findings of the second adversarial review of the fix search (review/FINDINGS-2.md), each
kept as a test: the reproducer in review/ must now get what the finding asked for."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from bpttcheck import fix
from bpttcheck.fix.trials import Trials
from bpttcheck.impl import ImplOptions
from bpttcheck.impl.options import parse_order
from bpttcheck.spec import Spec

REVIEW = Path(__file__).resolve().parent.parent / "review"
LSTM = Spec(hidden=8, vocab=6, seq=7, cell="lstm")


def _inserted(path: Path, name: str, spec: Spec, cause: str | None) -> list[fix.Candidate]:
    return [c for c in fix.ranking(f"{path}:{name}", ImplOptions(), spec, cause=cause)
            if c.kind == "insert" and "dc_next = dc * f[t]" in c.after]


def test_1_a_while_loops_carry_goes_before_its_counter_moves_on() -> None:
    cands = _inserted(REVIEW / "lstm_while_no_dc.py", "lossFun", LSTM, "dc-not-carried")
    assert any(c.after == "        dc_next = dc * f[t]\n        t -= 1" for c in cands)


def test_2_a_carry_is_put_back_after_a_last_statement_of_two_lines() -> None:
    cands = _inserted(REVIEW / "lstm_multiline_last_no_dc.py", "lossFun", LSTM,
                      "dc-not-carried")
    assert any(c.after.endswith("\n        dc_next = dc * f[t]") for c in cands)


@pytest.mark.parametrize("source", ["lstm_while_no_dc.py", "lstm_multiline_last_no_dc.py"])
def test_1_and_2_the_searches_find_them(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BPTTCHECK_NO_FIX", raising=False)
    out = fix.search(f"{REVIEW / source}:lossFun", ImplOptions(), LSTM, budget=30.0,
                     cause="dc-not-carried")
    assert out.fix is not None and out.fix.verified, out


def test_4_a_sum_assigned_instead_of_accumulated_ranks_better_with_one_step() -> None:
    """`=` for `+=` is right at one step: the one-step measurement must not push its
    repair down (it now counts the lines that sum over the steps as the recurrence's)."""
    path = REVIEW / "order_assign.py"
    names = parse_order("dWhy,dby,dWxh,dWhh,dbh", {})
    options = ImplOptions(order=names)
    spec = Spec(hidden=8, vocab=6, seq=7)
    want = "gWxh[:, inputs[t]] += raw[:, 0]"

    def rank() -> int:
        cands = fix.ranking(f"{path}:lossFun", options, spec)
        return next(k for k, c in enumerate(cands) if c.after.strip() == want)

    with_it = rank()
    with mock.patch.object(Trials, "one_step", lambda self, problem, rtol: None):
        without = rank()
    assert with_it <= without and with_it < 5


def test_5_a_fixed_step_read_in_the_loop_gets_the_loops_step(tmp_path: Path) -> None:
    path = REVIEW / "order_p_last.py"
    text = path.read_text(encoding="utf-8")
    cands = fix.candidates(text, path, "lossFun", ("Why", "by", "Wxh", "Whh", "bh"))
    assert any(c.kind == "index" and c.after.strip() == "g = p[t].copy()" for c in cands)


def test_3_ranking_takes_a_function_without_initial_state_or_loss() -> None:
    """WildML's bptt(self, x, y): no initial state, gradients alone, U/V/W order."""
    target = f"{REVIEW / 'wild_noloss_T.py'}:Net.bptt"
    spec = Spec(hidden=8, vocab=5, seq=6, biases=False)
    options = ImplOptions(order=("Wxh", "Why", "Whh"))
    assert fix.ranking(target, options, spec, stateless=True, returns_loss=False)
