"""Where `=` for `+=` (an accumulation over the steps) lands in the fix search's order, with
and without the one-step measurement (36bc1ea). A sum assigned instead of accumulated is
right at one time step, so `Trials.one_step` reports nothing wrong there and
`rank.one_step_score` moves the recurrence's lines (loops, carried names, shifted indices,
`/ T`) up; the accumulating line is none of those, so it moves down.

Run from the worktree root: PYTHONPATH=. python review/rank_accumulate.py
(fix.ranking orders without the diagnosis's cause, as bench/fixes.py measures it.)
"""
from pathlib import Path
from unittest import mock

from bpttcheck import fix
from bpttcheck.fix.trials import Trials
from bpttcheck.impl import ImplOptions
from bpttcheck.spec import Spec

ROOT = Path(__file__).resolve().parent.parent
CASES = [
    (ROOT / "review/order_assign.py", "lossFun", "vanilla", ("Why", "by", "Wxh", "Whh", "bh"),
     "gWxh[:, inputs[t]] += raw[:, 0]"),
    (ROOT / "tests/heldout3/corpus/lstm_steps_bug_dW_assign.py", "lstm_loss", "lstm", None,
     "dW[k] += d_pres[k] @ cache[0].T"),
    # the recurrence itself, its carry named `back`: not in operators.CARRIED's words, and
    # read in the loop, so not in `carried`; the forward's `prev = h[t]` is
    (ROOT / "review/order_back_T.py", "lossFun", "vanilla", ("Why", "by", "Wxh", "Whh", "bh"),
     "back = Whh.T.dot(raw)"),
]
for path, name, cell, order, want in CASES:
    spec = Spec(hidden=8, vocab=6, seq=7, cell=cell)
    row = []
    for label, patch in (("with one step", None), ("one step off", lambda *a, **k: None)):
        with mock.patch.object(Trials, "one_step", patch) if patch else mock.patch.object(
                Trials, "close", Trials.close):
            cands = fix.ranking(f"{path}:{name}", ImplOptions(order=order), spec)
        pos = next(k for k, c in enumerate(cands) if c.after.strip() == want)
        row.append(f"{label}: {pos + 1} of {len(cands)}")
    print(f"{path.name}: the repair `{want}` is tried at " + "; ".join(row))
