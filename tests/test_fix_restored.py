"""Edits that put back what a loop needs once per step, and other single edits written from
the misses of a corpus that is no longer held out (tests/heldout5): each is asked of
``fix.candidates`` on a small function written here, in a spelling of its own, and
asked NOT to appear where it does not apply."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from bpttcheck import fix, selftest
from bpttcheck.fix.operators import _same_role
from bpttcheck.impl import ImplOptions
from bpttcheck.spec import Spec

CORPUS = selftest.corpus_dir()
LSTM = ("Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo", "Why", "by")
GRU = ("Wz", "Wr", "Wn", "bz", "br", "bn", "Why", "by")


def _cands(tmp_path: Path, text: str, wrong: tuple[str, ...] = ("Wxh", "Whh", "bh"),
           params: tuple[str, ...] | None = None, name: str = "f") -> set[tuple[int, str]]:
    kw = {"params": params} if params else {}
    return {(c.line, _flat(c.after)) for c in fix.candidates(
        textwrap.dedent(text), tmp_path / "f.py", name, wrong, **kw)}


def _flat(after: str) -> str:
    """An edit's lines without their indentation."""
    return "\n".join(line.strip() for line in after.split("\n"))


ROWS = """\
    def f(T, W, da_of, n):
        future = zeros(n)
        for t in reversed(range(T)):
            dh = future.copy()
            da = da_of(dh)
            for j in range(n):
                future += da[j] * W[j, :]
        return future
    """


def test_a_sum_carried_per_step_is_started_again_inside_the_loop(tmp_path: Path) -> None:
    got = _cands(tmp_path, ROWS)
    # after the loop's last read of the sum, before its first addition
    assert (4, "dh = future.copy()\nfuture = zeros(n)") in got
    # a sum that is started inside the loop already gets no such line
    started = ROWS.replace("            da = da_of(dh)\n",
                           "            da = da_of(dh)\n            future = zeros(n)\n")
    assert not any("\n" in after and after.endswith("future = zeros(n)")
                   for _, after in _cands(tmp_path, started))


def test_a_state_that_never_moves_on_is_advanced(tmp_path: Path) -> None:
    got = _cands(tmp_path, """\
        def f(xs, h, W):
            for x in xs:
                h_new = W @ h + x
                yield x, h, h_new
        """, name="f")
    assert (4, "yield x, h, h_new\nh = h_new") in got
    # a state the loop writes already moves on
    moved = _cands(tmp_path, """\
        def f(xs, h, W):
            for x in xs:
                h_new = W @ h + x
                h = h_new
            return h
        """)
    assert not any(after.endswith("h = h_new") and "\n" in after for _, after in moved)


def test_a_gates_line_left_out_of_a_per_gate_sum(tmp_path: Path) -> None:
    got = _cands(tmp_path, """\
        def f(steps, Wf, Wi, Wc, Wo, dbf, dbi, dbc, dbo):
            for df, di, dg, do in steps:
                dbf += df
                dbi += di
                dbc += dg
                dbo += do
                dz = Wf.T @ df
                dz += Wi.T @ di
                dz += Wo.T @ do
            return dz
        """, wrong=LSTM[:8], params=LSTM)
    assert (9, "dz += Wo.T @ do\ndz += Wc.T @ dg") in got
    # a dict of gate gradients names them too; the first of the sum becomes an addition
    got = _cands(tmp_path, """\
        def f(steps, Wu, Wr, Wh):
            for du, dr, dn in steps:
                g = {"bu": du, "br": dr, "bh": dn}
                dh = Wu.T @ du
            return dh, g
        """, wrong=GRU[:6], params=GRU)
    assert (4, "dh = Wu.T @ du\ndh += Wr.T @ dr") not in got  # bu/br are not bz/br here
    named = {_flat(c.after) for c in fix.candidates(textwrap.dedent("""\
        def f(steps, Wu, Wr, Wh):
            for du, dr, dn in steps:
                g = {"bu": du, "br": dr, "bh": dn}
                dh = Wu.T @ du
            return dh, g
        """), tmp_path / "f.py", "f", GRU[:6], {"Wz": "Wu", "bz": "bu", "Wn": "Wh",
                                                 "bn": "bh"}, params=GRU)}
    assert "dh = Wu.T @ du\ndh += Wr.T @ dr" in named


def test_the_grus_direct_path_added_to_the_carried_gradient(tmp_path: Path) -> None:
    got = _cands(tmp_path, """\
        def f(steps, Wn):
            dh = 0.0
            for u, r, n, dy in steps:
                dh = dh + dy
                dn = dh * (1 - u) * (1 - n ** 2)
                drh = Wn.T @ dn
                dh = drh * r
            return dh
        """, wrong=GRU[:6], params=GRU)
    assert (7, "dh = dh * u + drh * r") in got
    assert not any(line == 4 and after.startswith("dh = dh * u") for line, after in got)


def test_a_gates_factor_from_another_helpers_forward(tmp_path: Path) -> None:
    """What the reset gate multiplies is seen in the forward helper, not the backward's."""
    got = _cands(tmp_path, """\
        def fwd(x, h_prev, Wr, Wn):
            r = sig(Wr @ x)
            n = tanh(Wn @ (r * h_prev))
            return n, (r, h_prev)

        def f(xs, h, Wr, Wn, dn):
            n, cache = fwd(xs, h, Wr, Wn)
            r, h_prev = cache
            dr_raw = dn * r * (1 - r)
            return dr_raw
        """, wrong=GRU[:6], params=GRU)
    assert (9, "dr_raw = dn * r * (1 - r) * h_prev") in got


def test_single_token_slips_of_other_spellings(tmp_path: Path) -> None:
    got = _cands(tmp_path, """\
        from functools import reduce
        def f(tape, step, h0, W, grads, k, steps, tp, Tape, tanh):
            out = reduce(step, tape, h0)
            h_prev = tape[0][2] if tape else h0
            h_before = tanh(steps[k - 1].pre) if k >= 0 else h0
            carry = W[:, k] * out
            gb = grads[0]
            gb = gb + carry
            c = tp.c_prev
            return c, tp.c, h_prev, h_before
        """)
    assert (3, "out = reduce(step, reversed(tape), h0)") in got
    assert (4, "h_prev = tape[-1][2] if tape else h0") in got
    assert (5, "h_before = tanh(steps[k - 1].pre) if k > 0 else h0") in got
    assert (6, "carry = W[k, :] * out") in got
    assert (8, "gb += carry") in got
    assert (9, "c = tp.c") in got


def test_activations_where_the_stored_value_is_read(tmp_path: Path) -> None:
    got = _cands(tmp_path, """\
        def f(steps, k, h0, o, tp):
            h = np.tanh(steps[k].pre)
            h_before = steps[k - 1].pre if k > 0 else h0
            tc = np.tanh(tp.c)
            h_t = o * tp.c
            return h, h_before, h_t, tc
        """)
    assert (3, "h_before = np.tanh(steps[k - 1].pre) if k > 0 else h0") in got
    assert (5, "h_t = o * tc") in got


def test_a_derivative_where_none_belongs_and_a_name_read_twice(tmp_path: Path) -> None:
    got = _cands(tmp_path, """\
        def f(steps, dc, h, hprev):
            for f_, dpre in steps:
                dc_next = dc * f_ * (1 - f_)
                dpre = dc * (1 - hprev * hprev)
            return dc_next, dpre
        """)
    assert (3, "dc_next = dc * f_") in got
    assert (4, "dpre = dc * (1 - h * h)") in got  # both reads at once


def test_a_letter_more_inside_a_name_is_the_same_role() -> None:
    assert _same_role("xh", "xrh") and _same_role("drh", "dh")
    assert not _same_role("h", "hs") and not _same_role("xh", "xrrh")
    assert not _same_role("ux", "vx")  # a letter changed is not a letter more


def test_a_sum_not_restarted_each_step_is_fixed_end_to_end(tmp_path: Path) -> None:
    """The whole search, on a row-loop Elman network whose carry is summed into a buffer
    started once: the verified fix restarts it, and the user's file is never written."""
    source = textwrap.dedent("""\
        import numpy as np

        def bptt(inputs, targets, hprev, Wxh, Whh, Why, bh, by):
            n_h = Whh.shape[0]
            hs, ps, loss = [hprev[:, 0]], [], 0.0
            for ix, tg in zip(inputs, targets):
                h = np.tanh(Wxh[:, ix] + Whh @ hs[-1] + bh[:, 0])
                y = Why @ h + by[:, 0]
                p = np.exp(y - y.max())
                p /= p.sum()
                loss -= np.log(p[tg])
                hs.append(h)
                ps.append(p)
            dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
            dbh, dby = np.zeros_like(bh), np.zeros_like(by)
            future = np.zeros(n_h)
            for t in reversed(range(len(inputs))):
                dy = ps[t].copy()
                dy[targets[t]] -= 1.0
                dWhy += np.outer(dy, hs[t + 1])
                dby[:, 0] += dy
                dh = Why.T @ dy + future
                future = np.zeros(n_h)
                da = dh * (1.0 - hs[t + 1] ** 2)
                dWxh[:, inputs[t]] += da
                dWhh += np.outer(da, hs[t])
                dbh[:, 0] += da
                for j in range(n_h):
                    future += da[j] * Whh[j, :]
            return loss, dWxh, dWhh, dWhy, dbh, dby, hs[-1][:, None]
        """)
    text = source.replace("        future = np.zeros(n_h)\n", "", 1)
    # the line before the loop stays; the one inside it is gone
    assert text.count("future = np.zeros(n_h)") == 1
    path = tmp_path / "rows.py"
    path.write_text(text, encoding="utf-8")
    spec = Spec(hidden=5, vocab=4, seq=5, seed=3, init_scale=0.5, hprev="random")
    out = fix.search(f"{path}:bptt", ImplOptions(), spec, budget=30.0)
    assert out.fix is not None and out.fix.verified
    (edit,) = out.fix.edits
    assert edit.after.strip().endswith("future = np.zeros(n_h)")
    assert path.read_text(encoding="utf-8") == text


def test_a_gradient_left_at_zeros_is_summed_again(tmp_path: Path) -> None:
    got = _cands(tmp_path, """\
        def f(steps, g, dby, step_back):
            g = {"dWya": np.zeros(3), "dby": np.zeros(3), "dWaa": np.zeros(3)}
            db, dW = np.zeros(2), np.zeros(2)
            for dy, a, cache in steps:
                g["dWya"] += dot(dy, a.T)
                g["dWaa"] += dot(dy, a.T)
                dx, dW_t, db_t = step_back(dy, cache)
                dW += dW_t
            return g, db, dW
        """, wrong=("Why", "by"))
    assert (5, 'g["dWya"] += dot(dy, a.T)\ng["dby"] += dy') in got
    assert (7, "dx, dW_t, db_t = step_back(dy, cache)\ndb += db_t") in got
    # what is written already is not summed again
    assert not any('g["dWaa"] += dy' in after for _, after in got)
    assert not any("dW += dW_t\n" in after for _, after in got)


def test_a_slip_made_at_every_read_of_a_line(tmp_path: Path) -> None:
    got = _cands(tmp_path, """\
        def f(hs, gh, T, daf, dai):
            for t in range(T):
                graw = gh * (1 - hs[t - 1] * hs[t - 1])
                for W, da in (("Wf", dai), ("Wi", daf)):
                    use(W, da)
            return graw
        """)
    assert (3, "graw = gh * (1 - hs[t] * hs[t])") in got
    assert (4, 'for W, da in (("Wf", daf), ("Wi", dai)):') in got


def test_a_records_key_and_a_loops_other_index(tmp_path: Path) -> None:
    got = _cands(tmp_path, """\
        def fwd(c, c_new, f):
            return dict(f=f, c_prev=c, c=c_new)

        def f(recs, dc, dW, dV, du, inputs):
            for rec, (ix, tg) in zip(recs, inputs):
                df = dc * rec["c"]
                dW[:, tg] += du
                dV[:, ix] += df
                use(rec["f"])
            return dW
        """)
    assert (6, 'df = dc * rec["c_prev"]') in got
    assert (7, "dW[:, ix] += du") in got


def test_names_unpacked_in_another_order_than_the_forward_does(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        def fwd(a):
            f, i, g, o = split(a, 4)
            return f * i + g * o

        def f(acts, dh):
            for a in acts:
                fwd(a)
                f, i, o, g = split(a, 4)
                dh = dh * f + i * g + o
            return dh
        """)
    cands = fix.candidates(text, tmp_path / "f.py", "f", LSTM[:8], params=LSTM)
    made = [c for c in cands if c.line == 8 and c.after.strip() == "f, i, g, o = split(a, 4)"]
    # made by two operators (a swap of two names, and this order): ranked as the order
    assert len(made) == 1 and made[0].kind == "order"


def test_an_update_in_place_made_a_new_array(tmp_path: Path) -> None:
    got = _cands(tmp_path, """\
        def f(steps, dhnext, h):
            for t in steps:
                dh = dhnext
                dh *= 1 - h * h
                dh -= a + b
            return dh
        """)
    assert (4, "dh = dh * (1 - h * h)") in got
    assert (5, "dh = dh - (a + b)") in got


def test_gradients_spelt_otherwise_and_a_helpers_result_are_on_the_wrong_path(
        tmp_path: Path) -> None:
    """``gbh`` (and dLdU, grad_W) name gradients too; a helper whose result the wrong
    gradients' lines use has its return ranked with those lines."""
    text = textwrap.dedent("""\
        def dtanh(h):
            return 1 - h

        def f(hs, es, gWhy, gbh, gby, Why):
            for h, e in zip(hs, es):
                gWhy += e * h
                gby += e
                ea = dtanh(h) * (Why * e)
                gbh += ea
            return gWhy, gbh, gby
        """)
    cands = fix.candidates(text, tmp_path / "f.py", "f", ("bh",), params=("Why", "bh", "by"))
    ranked = [(c.line, c.after.strip()) for c in cands]
    fixed = ranked.index((2, "return 1 - h * h"))
    # ahead of every edit of the lines that feed only right gradients (gWhy's, gby's)
    assert all(fixed < k for k, (line, _) in enumerate(ranked) if line in (6, 7))


def test_a_defect_of_the_search_leaves_the_verdict_standing(
        run_cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in the fix search is said on the fix's line; the check's verdict and exit code
    are what they are without the search (not an internal error of the whole run)."""
    import importlib

    search_module = importlib.import_module("bpttcheck.fix.search")

    monkeypatch.delenv("BPTTCHECK_NO_FIX", raising=False)
    monkeypatch.delenv("BPTTCHECK_DEBUG", raising=False)

    def broken(*args: object, **kwargs: object) -> list[fix.Candidate]:
        raise KeyError("cell")

    monkeypatch.setattr(search_module, "candidates", broken)
    path = tmp_path / "rnn.py"
    shutil.copy(CORPUS / "bug_recursion_Whh.py", path)
    r = run_cli("compare", "--impl", f"{path}:lossFun", "--hidden", "5", "--vocab", "4",
                "--seq", "4", "--format", "json")
    assert r.exit_code == 1, r.output
    impl = json.loads(r.stdout)["impl"]
    assert impl["fix"] is None and "internal error (KeyError: 'cell')" in impl["fix_reason"]


def test_methods_called_on_objects_of_the_file_are_searched(tmp_path: Path) -> None:
    """Layers as objects (``Tanh().backward(d)``), cells kept in a list: their methods are
    edited with the loss function, and a step object's fields are swapped as a record's."""
    got = _cands(tmp_path, """\
        class Tanh:
            def forward(self, a):
                self.y = np.tanh(a)
                self.y_prev = a
                return self.y

            def backward(self, dy):
                return dy * self.y * (1.0 - self.y)

        def f(xs, dWhy, dys):
            cells = [Tanh() for _ in xs]
            for t, x in enumerate(xs):
                cells[t].forward(x)
            for t in range(len(xs)):
                dWhy += dys[t] * cells[t].y_prev
                cells[t].backward(dys[t])
            return dWhy
        """, wrong=("Wxh", "Whh", "bh", "Why"))
    assert (8, "return dy * (1.0 - self.y * self.y)") in got
    assert (15, "dWhy += dys[t] * cells[t].y") in got


def test_the_order_of_candidates_does_not_depend_on_string_hashing(tmp_path: Path) -> None:
    """Several gradients left at zeros: their insertions tie in score, and come in the same
    order whatever PYTHONHASHSEED is (the fix proposed must not depend on it)."""
    import os
    import subprocess
    import sys

    path = tmp_path / "f.py"
    path.write_text(textwrap.dedent("""\
        import numpy as np

        def f(steps, W):
            da, db, dc, dd, de = (np.zeros(3) for _ in range(5))
            dx, dy, dz = np.zeros(3), np.zeros(3), np.zeros(3)
            for g, h in steps:
                dW = np.zeros_like(W)
                dW += np.outer(g, h)
            return da, db, dc, dd, de, dx, dy, dz
        """), encoding="utf-8")
    code = ("import sys; from pathlib import Path; from bpttcheck import fix; "
            f"print([c.after for c in fix.candidates(Path({str(path)!r}).read_text(), "
            f"Path({str(path)!r}), 'f', ('Wxh',))])")
    root = str(Path(__file__).resolve().parent.parent)
    outs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, cwd=root,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2", "3")]
    assert "+= g" in outs[0] and outs[0] == outs[1] == outs[2]


def test_with_bpttcheck_debug_a_defect_of_the_search_raises(
        run_cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    search_module = importlib.import_module("bpttcheck.fix.search")
    monkeypatch.delenv("BPTTCHECK_NO_FIX", raising=False)
    monkeypatch.setenv("BPTTCHECK_DEBUG", "1")

    def broken(*args: object, **kwargs: object) -> list[fix.Candidate]:
        raise KeyError("cell")

    monkeypatch.setattr(search_module, "candidates", broken)
    path = tmp_path / "rnn.py"
    shutil.copy(CORPUS / "bug_recursion_Whh.py", path)
    with pytest.raises(KeyError, match="cell"):
        run_cli("compare", "--impl", f"{path}:lossFun", "--hidden", "5", "--vocab", "4",
                "--seq", "4", "--format", "json")
