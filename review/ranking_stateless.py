"""fix.ranking (what bench/fixes.py measures as the search's order) on a function with no
initial state (WildML's bptt(self, x, y)): it returns no candidates at all, while the search
itself finds a verified fix. ranking() builds its points with second_point(spec) (a random
initial state) and its one-step point with one_step_problem(spec), both without the
`stateless` flag the search passes (search.py: second_spec_for(spec, stateless) and
one_step_problem(spec, stateless)); nor does it pass returns_loss=False.

Run from the worktree root: PYTHONPATH=. python review/ranking_stateless.py
"""
from pathlib import Path

from bpttcheck import fix
from bpttcheck.impl import ImplOptions
from bpttcheck.spec import Spec

target = f"{Path(__file__).resolve().parent / 'wild_noloss_T.py'}:Net.bptt"
spec = Spec(hidden=8, vocab=5, seq=6, biases=False)
options = ImplOptions(order=("Wxh", "Why", "Whh"))
cands = fix.ranking(target, options, spec)
print(f"fix.ranking: {len(cands)} candidates")
out = fix.search(target, options, spec, budget=10.0, stateless=True, returns_loss=False)
print("fix.search:", "verified fix" if out.fix is not None and out.fix.verified else out)
