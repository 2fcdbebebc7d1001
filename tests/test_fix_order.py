"""The order of a backward loop written with ``[::-1]`` slices: the fix search tries every
reversal removed, added to every sequence a ``zip`` pairs, or to one of them."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from bpttcheck import fix
from bpttcheck.fix.operators import _reversals
from bpttcheck.impl import ImplOptions
from bpttcheck.spec import Spec


def _orders(src: str) -> list[str]:
    it = ast.parse(src, mode="eval").body
    return _reversals(it, lambda n: ast.get_source_segment(src, n) or "")


def test_reversals_of_a_loops_iterable() -> None:
    assert _orders("zip(xs[::-1], hs[::-1])") == ["zip(xs, hs)"]
    assert _orders("zip(xs, hs)") == ["zip(xs[::-1], hs[::-1])"]
    assert set(_orders("zip(xs[::-1], hs)")) == {"zip(xs, hs)", "zip(xs[::-1], hs[::-1])"}
    assert _orders("hs") == ["hs[::-1]"] and _orders("hs[::-1]") == ["hs"]
    assert _orders("enumerate(ps[::-1])") == ["enumerate(ps)"]
    assert _orders("range(n)") == []  # a range's direction is the other operator's
    assert _orders("zip(*pairs)") == []


# A small Elman network written with lists and zip, in the style of code that reverses
# its lists rather than its indices (float64, weights as arguments).
ZIPPED = textwrap.dedent("""\
    import numpy as np

    def elman(inputs, targets, hprev, Wxh, Whh, Why, bh, by):
        xs, hs, ps = [], [hprev], []
        loss = 0.0
        for ix, tg in zip(inputs, targets):
            x = np.zeros((Wxh.shape[1], 1))
            x[ix] = 1.0
            h = np.tanh(Wxh @ x + Whh @ hs[-1] + bh)
            y = Why @ h + by
            p = np.exp(y - y.max())
            p /= p.sum()
            loss -= np.log(p[tg, 0])
            xs.append(x)
            hs.append(h)
            ps.append(p)
        dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
        dbh, dby = np.zeros_like(bh), np.zeros_like(by)
        carry = np.zeros_like(hprev)
        tgs = list(targets)
        for x, h, hp, p, tg in zip(xs[::-1], hs[1:][::-1], hs[:-1][::-1], ps[::-1], tgs[::-1]):
            dy = p.copy()
            dy[tg] -= 1.0
            dWhy += dy @ h.T
            dby += dy
            dpre = (1.0 - h * h) * (Why.T @ dy + carry)
            dbh += dpre
            dWxh += dpre @ x.T
            dWhh += dpre @ hp.T
            carry = Whh.T @ dpre
        return loss, dWxh, dWhh, dWhy, dbh, dby, hs[-1]
    """)


def test_a_loop_that_lost_its_reversal_gets_it_back(tmp_path: Path) -> None:
    path = tmp_path / "elman.py"
    path.write_text(ZIPPED, encoding="utf-8")
    spec = Spec(hidden=5, vocab=4, seq=5, seed=3, init_scale=0.5, hprev="random")
    right = fix.search(f"{path}:elman", ImplOptions(), spec, budget=20.0)
    assert right.fix is None and not right.wrong  # the base is right
    head = "zip(xs[::-1], hs[1:][::-1], hs[:-1][::-1], ps[::-1], tgs[::-1])"
    # one sequence not reversed with the others: each step pairs another step's state
    text = ZIPPED.replace(head, "zip(xs[::-1], hs[1:][::-1], hs[:-1], ps[::-1], tgs[::-1])")
    path.write_text(text, encoding="utf-8")
    out = fix.search(f"{path}:elman", ImplOptions(), spec, budget=20.0)
    assert out.fix is not None and out.fix.verified
    (edit,) = out.fix.edits
    assert edit.after.strip() == f"for x, h, hp, p, tg in {head}:"
    assert path.read_text(encoding="utf-8") == text  # never written


def test_one_variable_at_two_steps_is_a_swap() -> None:
    """h for h_prev (and a / a_next, c / prev_c, h / h0) is a candidate swap; names that
    only share a letter are not."""
    from bpttcheck.fix.operators import _same_role

    assert all(_same_role(a, b) for a, b in (("h", "h_prev"), ("h", "hprev"), ("a", "a_next"),
                                             ("c", "prev_c"), ("h", "h0"), ("s", "s_tm1"),
                                             ("c_t", "c_old"), ("ht", "h_prev")))
    assert not any(_same_role(a, b) for a, b in (("h", "hs"), ("h", "x"), ("x", "xs"),
                                                 ("h", "hidden"), ("c", "cache")))


def test_a_carried_gradient_thrown_away_into_underscore_is_named_again(tmp_path: Path
                                                                       ) -> None:
    """`_, _, gWx, ... = step_bwd(...)`: the loop reads g_next but never writes it, so
    each `_` of a call's unpacked result is tried as g_next."""
    source = (Path(__file__).resolve().parent / "fix_models" / "steps_ok.py").read_text()
    right = "        _, g_next, gWx, gWh, gb = step_bwd(g_h, caches[t])"
    text = source.replace(right, "        _, _, gWx, gWh, gb = step_bwd(g_h, caches[t])")
    assert text != source
    line = text.splitlines().index("        _, _, gWx, gWh, gb = step_bwd(g_h, caches[t])") + 1
    cands = fix.candidates(text, tmp_path / "f.py", "lossFun", ("Wxh", "Whh", "bh"))
    assert any(c.line == line and c.after == right for c in cands)
    # a loop whose carried gradient is updated has nothing stale: no such edit
    plain = fix.candidates(source, tmp_path / "f.py", "lossFun", ("Wxh", "Whh", "bh"))
    assert not any(c.after.lstrip().startswith("g_next, g_next") for c in plain)
