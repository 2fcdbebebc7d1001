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


def _cands(tmp_path: Path, text: str, wrong: tuple[str, ...] = ("Wxh", "Whh", "bh"),
           params: tuple[str, ...] | None = None) -> set[tuple[int, str]]:
    kw = {"params": params} if params else {}
    return {(c.line, c.after.strip()) for c in fix.candidates(
        textwrap.dedent(text), tmp_path / "f.py", "f", wrong, **kw)}


def test_a_broadcast_outer_product_with_its_transpose_on_the_wrong_side(tmp_path: Path
                                                                      ) -> None:
    got = _cands(tmp_path, """\
        def f(xs, hs, d, dWhh):
            for t in range(len(xs)):
                dWhh += d.T * hs[t - 1]
            return dWhh
        """)
    assert (3, "dWhh += d * hs[t - 1].T") in got


def test_a_lost_bracket_around_a_carried_term(tmp_path: Path) -> None:
    got = _cands(tmp_path, """\
        def f(xs, h, dh, dhnext, dWhh):
            for t in range(len(xs)):
                dhraw = (1 - h * h) * dh + dhnext
                dWhh += dhraw
            return dWhh
        """)
    assert (3, "dhraw = (1 - h * h) * (dh + dhnext)") in got


def test_slices_taken_from_the_other_end_or_one_row_late(tmp_path: Path) -> None:
    got = _cands(tmp_path, """\
        def f(xs, dz, n_h, dWhh):
            for t in range(len(xs)):
                a = dz[-n_h:]
                b = dz[1:n_h + 1]
                dWhh += a + b
            return dWhh
        """)
    assert {(3, "a = dz[:n_h]"), (4, "b = dz[:n_h]")} <= got


def test_values_unpacked_in_another_order(tmp_path: Path) -> None:
    got = _cands(tmp_path, """\
        def f(xs, a, dWhh):
            for t in range(len(xs)):
                f, i, o, g = np.split(a, 4)
                dWhh += f * i * g * o
            return dWhh
        """)
    assert (3, "f, i, g, o = np.split(a, 4)") in got


def test_a_sigmoid_derivative_of_another_gate(tmp_path: Path) -> None:
    gru = ("Wz", "Wr", "Wn", "bz", "br", "bn", "Why", "by")
    got = _cands(tmp_path, """\
        def f(xs, u, r, drh, h, dWr):
            for t in range(len(xs)):
                dr = drh * h * u * (1 - u)
                dWr += dr @ h.T + r
            return dWr
        """, wrong=("Wr", "br"), params=gru)
    assert (3, "dr = drh * h * r * (1 - r)") in got


def test_upper_case_one_hot_matrices_are_inputs_and_targets() -> None:
    from bpttcheck.fix.operators import _same_role

    assert _same_role("X", "Y") and _same_role("x", "Y")


def test_a_view_of_a_buffer_written_in_place_later_is_copied(tmp_path: Path) -> None:
    got = _cands(tmp_path, """\
        import numpy as np
        def f(xs, W, H, dWhh):
            dz = np.zeros((2 * H, 1))
            carry = np.zeros((H, 1))
            for t in range(len(xs)):
                dz.fill(0.0)
                dz += W.T @ (xs[t] + carry)
                carry = dz[:H]
                dWhh += carry
            return dWhh
        """)
    assert (8, "carry = np.copy(dz[:H])") in got


def test_a_bias_sum_deleted_is_put_back_in_the_weights_spelling(tmp_path: Path) -> None:
    lstm = ("Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo", "Why", "by")
    got = _cands(tmp_path, """\
        def f(xs, zs, das, grads):
            for t in range(len(xs)):
                da_f = das[t]
                grads["Wf"] += da_f @ zs[t].T
            return grads
        """, wrong=("bf",), params=lstm)
    assert any(a.endswith('grads["bf"] += da_f') for _, a in got)
    plain = _cands(tmp_path, """\
        def f(xs, hs, ds, dWhh, dbh):
            for t in range(len(xs)):
                dWhh += ds[t] @ hs[t].T
            return dWhh, dbh
        """, wrong=("bh",))
    assert any(a.endswith("dbh += ds[t]") for _, a in plain)


def test_a_state_read_as_its_pre_activation_gets_the_activation_again(tmp_path: Path
                                                                      ) -> None:
    got = _cands(tmp_path, """\
        import numpy as np
        def f(steps, hprev, Why, dWhh):
            for k in reversed(range(len(steps))):
                s = steps[k]
                h = np.tanh(s.a)
                h_prev = steps[k - 1].a if k > 0 else hprev
                h_before = steps[k - 1].a
                dWhh += (1 - h * h) @ h_before.T
            return dWhh
        """)
    assert (7, "h_before = np.tanh(steps[k - 1].a)") in got
    # a value already inside a call is left alone
    assert not any(a.startswith("h = np.tanh(np.tanh") for _, a in got)


def test_a_gate_activation_of_the_other_kind(tmp_path: Path) -> None:
    lstm = ("Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo", "Why", "by")
    got = _cands(tmp_path, """\
        import numpy as np
        def sigmoid(v):
            return 1 / (1 + np.exp(-v))
        def f(xs, pre, c, dWc):
            for t in range(len(xs)):
                f_t = sigmoid(pre[0])
                g = sigmoid(pre[2])
                dWc += f_t * np.tanh(c) * g
            return dWc
        """, wrong=("Wc", "bc"), params=lstm)
    assert (7, "g = np.tanh(pre[2])") in got
