"""The fix search's operator families (bpttcheck/fix/families.py) and its ranking by cause.

Each family is tested on two sources written in different styles (min-char-rnn's globals,
``np.dot`` and ``hs[t]`` dicts; a second with other names, ``@`` or ``.dot`` and arrays):
the edit that undoes the bug must be among the candidates; the later families (a third
style: a stack of steps, helpers that return what flows on) also where the edit makes no
sense. Four families are also searched for end to end (``fix.search``), which runs the
edited copies.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from bpttcheck import fix, selftest
from bpttcheck.fix import rank
from bpttcheck.impl import ImplOptions
from bpttcheck.spec import Spec

CORPUS = selftest.corpus_dir()
TINY_SPEC = Spec(hidden=6, seq=5, vocab=4, seed=2, init_scale=0.5, hprev="random")

# Style A: min-char-rnn (globals, np.dot, dicts indexed by t, hs[-1] the initial state).
MINCHAR = '''import numpy as np

Wxh = Whh = Why = bh = by = None


def lossFun(inputs, targets, hprev):
    xs, hs, ys, ps = {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0
    for t in range(len(inputs)):
        xs[t] = np.zeros((4, 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
        ys[t] = np.dot(Why, hs[t]) + by
        ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += np.dot(dy, hs[t].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw
        dWxh += np.dot(dhraw, xs[t].T)
        dWhh += np.dot(dhraw, hs[t - 1].T)
        dhnext = np.dot(Whh.T, dhraw)
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]
'''

# Style B: weights as arguments with other names, ``@``, lists, a named pre-activation,
# the initial state h0 and a helper for the activation.
ARGS = '''import numpy

def act(v):
    return numpy.tanh(v)


def grads(W_xh, W_hh, W_hy, b_h, b_y, seq_in, seq_out, h0):
    states, pres, probs = [h0], [], []
    for s, tok in enumerate(seq_in):
        x = numpy.zeros((W_xh.shape[1], 1))
        x[tok] = 1
        z = W_xh @ x + W_hh @ states[-1] + b_h
        pres.append(z)
        states.append(act(z))
        o = W_hy @ states[-1] + b_y
        e = numpy.exp(o - o.max())
        probs.append(e / e.sum())
    dW_xh, dW_hh, dW_hy = numpy.zeros_like(W_xh), numpy.zeros_like(W_hh), numpy.zeros_like(W_hy)
    db_h, db_y = numpy.zeros_like(b_h), numpy.zeros_like(b_y)
    carry = numpy.zeros_like(h0)
    for s in range(len(seq_in) - 1, -1, -1):
        delta = probs[s].copy()
        delta[seq_out[s], 0] -= 1
        dW_hy += delta @ states[s + 1].T
        db_y += delta
        e_h = W_hy.T @ delta + carry
        e_z = (1 - states[s + 1] ** 2) * e_h
        db_h += e_z
        dW_xh += e_z @ numpy.eye(W_xh.shape[1])[:, [seq_in[s]]].T
        dW_hh += e_z @ states[s].T
        carry = W_hh.T @ e_z
    return 0.0, dW_xh, dW_hh, dW_hy, db_h, db_y
'''
ARGS_NAMES = {"Wxh": "W_xh", "Whh": "W_hh", "Why": "W_hy", "bh": "b_h", "by": "b_y"}
ARGS_THEIRS = {"Wxh": "W_xh", "Whh": "W_hh", "Why": "W_hy", "bh": "b_h", "by": "b_y"}

ALL = ("Wxh", "Whh", "Why", "bh", "by")
HIDDEN = ("Wxh", "Whh", "bh")


def _generated(tmp_path: Path, source: str, bug: str, right: str, *, name: str = "lossFun",
               wrong: tuple[str, ...] = ALL, theirs: dict[str, str] | None = None,
               kind: str | None = None, expect: str | None = None) -> list[fix.Candidate]:
    """The candidates for ``source`` with line ``right`` replaced by ``bug``; asserts that
    the edit back to ``right`` (or to ``expect``, the same code spelt otherwise) is one of
    them."""
    assert source.count(right) == 1, right
    text = source.replace(right, bug)
    path = tmp_path / "bug.py"
    path.write_text(text)
    cands = fix.candidates(text, path, name, wrong, theirs)
    line = text.splitlines().index(next(ln for ln in text.splitlines() if ln.strip()
                                        == bug.strip().splitlines()[0].strip())) + 1
    restoring = [c for c in cands if c.line == line
                 and c.after.strip() == (expect or right).strip()]
    assert restoring, f"no candidate restores {right.strip()!r}"
    if kind is not None:
        assert kind in {c.kind for c in restoring}
    return cands


def _line(source: str, text: str) -> str:
    (found,) = [ln for ln in source.splitlines() if ln.strip() == text]
    return found


# --- one test per family, two spellings each -------------------------------------------

def test_unwrap_an_elementwise_function_applied_once_too_often(tmp_path: Path) -> None:
    right = _line(MINCHAR, "dhraw = (1 - hs[t] * hs[t]) * dh")
    _generated(tmp_path, MINCHAR, right.replace("* dh", "* np.tanh(dh)"), right,
               wrong=HIDDEN, kind="unwrap")
    right = _line(ARGS, "e_h = W_hy.T @ delta + carry")
    _generated(tmp_path, ARGS, right.replace("carry", "numpy.abs(carry)"), right,
               name="grads", wrong=HIDDEN, theirs=ARGS_THEIRS, kind="unwrap")


def test_unwrap_the_recurrent_matrix_applied_twice(tmp_path: Path) -> None:
    right = _line(MINCHAR, "dh = np.dot(Why.T, dy) + dhnext")
    _generated(tmp_path, MINCHAR, right.replace("+ dhnext", "+ np.dot(Whh.T, dhnext)"), right,
               wrong=HIDDEN, kind="unwrap")
    right = _line(ARGS, "e_h = W_hy.T @ delta + carry")
    _generated(tmp_path, ARGS, right.replace("+ carry", "+ W_hh.T @ carry"), right,
               name="grads", wrong=HIDDEN, theirs=ARGS_THEIRS, kind="unwrap")


def test_wrap_a_state_in_the_activation_it_lacks(tmp_path: Path) -> None:
    right = _line(MINCHAR, "hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)")
    bug = right.replace("np.tanh(", "", 1)[:-1]
    _generated(tmp_path, MINCHAR, bug, right, kind="wrap")
    # the second style's own activation helper is the one applied
    bug_source = ARGS.replace("        states.append(act(z))\n",
                              "        states.append(z)\n        act(z)\n")
    path = tmp_path / "wrap.py"
    path.write_text(bug_source)
    line = _line(bug_source, "z = W_xh @ x + W_hh @ states[-1] + b_h")
    afters = {c.after for c in fix.candidates(bug_source, path, "grads", ALL, ARGS_THEIRS)
              if c.kind == "wrap"}
    assert line.replace("= ", "= act(", 1) + ")" in afters


def test_reduce_one_slice_to_the_sum_over_steps(tmp_path: Path) -> None:
    right = "    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]"
    source = MINCHAR.replace("        dbh += dhraw\n", "        dbhs[t] = dhraw\n").replace(
        "    dbh, dby = ", "    dbhs = {}\n    dbh, dby = ")
    source = source.replace(right, "    dbh = np.sum(dbhs, axis=0)\n" + right)
    # np.sum over a dict does not run, but the edit is what is checked here
    _generated(tmp_path, source, "    dbh = dbhs[0]", "    dbh = np.sum(dbhs, axis=0)",
               kind="reduce")
    right = "        db_h += e_z.sum(axis=1, keepdims=True)"
    source = ARGS.replace("        db_h += e_z\n", right + "\n")
    _generated(tmp_path, source, right.replace("axis=1", "axis=0"), right, name="grads",
               theirs=ARGS_THEIRS, kind="reduce")
    _generated(tmp_path, source, right.replace(", keepdims=True", ""), right, name="grads",
               theirs=ARGS_THEIRS, kind="reduce")
    _generated(tmp_path, source, right.replace(".sum(", ".mean("), right, name="grads",
               theirs=ARGS_THEIRS, kind="reduce")


def test_term_the_bias_missing_from_a_pre_activation(tmp_path: Path) -> None:
    """``bias`` when no sum of the code reads that bias (it is missing everywhere), on a
    pre-activation; ``term`` where a sum reads the bias elsewhere."""
    right = _line(MINCHAR, "hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)")
    _generated(tmp_path, MINCHAR, right.replace(" + bh)", ")"), right, wrong=HIDDEN,
               kind="bias")
    right = _line(ARGS, "z = W_xh @ x + W_hh @ states[-1] + b_h")
    _generated(tmp_path, ARGS, right.replace(" + b_h", ""), right, name="grads",
               wrong=("bh",), theirs=ARGS_THEIRS, kind="bias")
    twice = ARGS.replace("db_h, db_y = numpy.zeros_like(b_h),", "db_h, db_y = -b_h + b_h,")
    _generated(tmp_path, twice, right.replace(" + b_h", ""), right, name="grads",
               wrong=("bh",), theirs=ARGS_THEIRS, kind="term")


def test_drop_a_term_counted_twice(tmp_path: Path) -> None:
    right = _line(MINCHAR, "dh = np.dot(Why.T, dy) + dhnext")
    _generated(tmp_path, MINCHAR, right + " + dhnext", right, wrong=HIDDEN, kind="drop")
    right = _line(ARGS, "e_z = (1 - states[s + 1] ** 2) * e_h")
    _generated(tmp_path, ARGS, right.replace("* e_h", "* (e_h + carry)"), right,
               name="grads", wrong=HIDDEN, theirs=ARGS_THEIRS)


def test_neighbour_a_variable_from_the_next_lines(tmp_path: Path) -> None:
    right = _line(MINCHAR, "dWhh += np.dot(dhraw, hs[t - 1].T)")
    _generated(tmp_path, MINCHAR, right.replace("dhraw", "dh"), right, wrong=("Whh",))
    right = _line(ARGS, "db_y += delta")
    _generated(tmp_path, ARGS, right.replace("delta", "e_h"), right, name="grads",
               wrong=("by",), theirs=ARGS_THEIRS, kind="neighbour")


def test_init_the_given_initial_state_for_zeros(tmp_path: Path) -> None:
    right = _line(MINCHAR, "hs[-1] = np.copy(hprev)")
    _generated(tmp_path, MINCHAR, right.replace("np.copy(hprev)", "np.zeros_like(hprev)"),
               right, kind="init")
    source = ARGS.replace("    states, pres, probs = [h0], [], []\n",
                          "    h = numpy.copy(h0)\n    states, pres, probs = [h], [], []\n")
    right = _line(source, "h = numpy.copy(h0)")
    _generated(tmp_path, source, "    h = numpy.zeros((W_hh.shape[0], 1))", right,
               name="grads", theirs=ARGS_THEIRS, kind="init")


ROWS = '''import numpy as np


def loss_fn(inputs, targets, hprev, W_xh, W_hh, W_hy, b_h, b_y):
    h = hprev[:, 0]
    H = []
    for t, i in enumerate(inputs):
        h = np.tanh(W_xh[:, i] + W_hh @ h + b_h[:, 0])
        H.append(h)
    gxh, ghh, gbh, carry = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros(len(h)), 0
    for t in reversed(range(len(inputs))):
        e_a = (1 - H[t] ** 2) * carry
        gbh += e_a
        h_before = (H[t - 1] if t > 0 else hprev[:, 0])
        ghh += np.outer(e_a, h_before)
        carry = W_hh.T @ e_a
    return gxh, ghh, gbh
'''


def test_init_the_initial_state_at_the_first_step(tmp_path: Path) -> None:
    right = _line(MINCHAR, "dWhh += np.dot(dhraw, hs[t - 1].T)")
    source = MINCHAR.replace("    hs[-1] = np.copy(hprev)\n", "    hs[-1] = None\n").replace(
        right, right.replace("hs[t - 1]", "(hs[t - 1] if t > 0 else hprev)"))
    fixed = _line(source, "dWhh += np.dot(dhraw, (hs[t - 1] if t > 0 else hprev).T)")
    _generated(tmp_path, source, right, fixed, wrong=("Whh",), kind="init")
    # rows, the initial state reshaped as the code first reshapes it
    right = _line(ROWS, "h_before = (H[t - 1] if t > 0 else hprev[:, 0])")
    _generated(tmp_path, ROWS, "        h_before = H[t - 1]", right, name="loss_fn",
               wrong=("Whh",), kind="init")


def test_copy_an_alias_written_in_place(tmp_path: Path) -> None:
    right = _line(MINCHAR, "dy = np.copy(ps[t])")
    _generated(tmp_path, MINCHAR, "        dy = ps[t]", right, kind="copy")
    right = "        delta = numpy.copy(probs[s])"
    source = ARGS.replace("        delta = probs[s].copy()", right)
    _generated(tmp_path, source, "        delta = probs[s]", right, name="grads",
               theirs=ARGS_THEIRS, kind="copy")


def test_literal_a_stray_constant(tmp_path: Path) -> None:
    right = _line(MINCHAR, "dhraw = (1 - hs[t] * hs[t]) * dh")
    _generated(tmp_path, MINCHAR, right.replace("(1 -", "(2 -"), right, wrong=HIDDEN,
               kind="literal")
    right = _line(ARGS, "e_z = (1 - states[s + 1] ** 2) * e_h")
    _generated(tmp_path, ARGS, right.replace("(1 -", "(0.5 -"), right, name="grads",
               wrong=HIDDEN, theirs=ARGS_THEIRS, kind="literal",
               expect=right.replace("(1 -", "(1.0 -"))


def test_insert_the_deleted_carry_update(tmp_path: Path) -> None:
    for source, name, theirs, upd, after in (
            (MINCHAR, "lossFun", None, "        dhnext = np.dot(Whh.T, dhraw)\n",
             "        dhraw = (1 - hs[t] * hs[t]) * dh"),
            (ARGS, "grads", ARGS_THEIRS, "        carry = W_hh.T @ e_z\n",
             "        e_z = (1 - states[s + 1] ** 2) * e_h")):
        text = source.replace(upd, "")
        path = tmp_path / "nocarry.py"
        path.write_text(text)
        cands = fix.candidates(text, path, name, HIDDEN, theirs)
        line = text.splitlines().index(after) + 1
        assert any(c.kind == "insert" and c.line == line and c.after == after + "\n" + upd[:-1]
                   for c in cands)


def test_insert_a_deleted_bias_accumulation(tmp_path: Path) -> None:
    for source, name, theirs, upd, after in (
            (MINCHAR, "lossFun", None, "        dbh += dhraw\n",
             "        dhraw = (1 - hs[t] * hs[t]) * dh"),
            (ARGS, "grads", ARGS_THEIRS, "        db_y += delta\n",
             "        carry = W_hh.T @ e_z")):
        text = source.replace(upd, "")
        path = tmp_path / "nobias.py"
        path.write_text(text)
        line = text.splitlines().index(after) + 1
        assert any(c.kind == "insert" and c.line == line and c.after == after + "\n" + upd[:-1]
                   for c in fix.candidates(text, path, name, ("bh", "by"), theirs))


def test_insert_the_one_at_the_target_only(tmp_path: Path) -> None:
    text = MINCHAR.replace("        dy = np.copy(ps[t])\n        dy[targets[t]] -= 1\n",
                           "        dy = ps[t] - 1\n")
    path = tmp_path / "minus.py"
    path.write_text(text)
    line = text.splitlines().index("        dy = ps[t] - 1") + 1
    assert any(c.line == line and c.after == "        dy = ps[t].copy()\n"
               "        dy[targets[t], 0] -= 1" for c in fix.candidates(text, path, "lossFun"))


def test_term_the_output_bias_missing_from_a_lone_product(tmp_path: Path) -> None:
    right = _line(MINCHAR, "ys[t] = np.dot(Why, hs[t]) + by")
    _generated(tmp_path, MINCHAR, right.replace(" + by", ""), right, kind="term")
    right = _line(ARGS, "o = W_hy @ states[-1] + b_y")
    _generated(tmp_path, ARGS, right.replace(" + b_y", ""), right, name="grads",
               theirs=ARGS_THEIRS, kind="term")


def test_tanh_derivative_at_the_pre_activation_and_missing(tmp_path: Path) -> None:
    # min-char with a named pre-activation: 1 - zs[t]**2 for 1 - hs[t]**2
    source = MINCHAR.replace(
        "        hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)\n",
        "        zs[t] = np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh\n"
        "        hs[t] = np.tanh(zs[t])\n").replace("xs, hs, ys, ps = {}, {}, {}, {}",
                                                   "xs, zs, hs, ys, ps = {}, {}, {}, {}, {}")
    source = source.replace("(1 - hs[t] * hs[t]) * dh", "(1 - np.square(hs[t])) * dh")
    right = _line(source, "dhraw = (1 - np.square(hs[t])) * dh")
    _generated(tmp_path, source, right.replace("hs[t]", "zs[t]"), right, wrong=HIDDEN,
               kind="tanh")
    # a derivative helper at the pre-activation: dtanh(pres[s]) for dtanh(states[s + 1])
    helper = ARGS.replace("def act(v):", "def dtanh(h):\n    return (1 - h) * (1 + h)\n\n\n"
                          "def act(v):")
    right = "        e_z = dtanh(states[s + 1]) * e_h"
    helper = helper.replace("        e_z = (1 - states[s + 1] ** 2) * e_h", right)
    helper = helper.replace("        states.append(act(z))\n",
                            "        states.append(numpy.tanh(z))\n")
    # pairs come from `name = tanh(name)`: the output named h
    helper = helper.replace("        states.append(numpy.tanh(z))\n",
                            "        h = numpy.tanh(z)\n        states.append(h)\n")
    bug = "        e_z = dtanh(z) * e_h"
    text = helper.replace(right, bug)
    path = tmp_path / "dtanh.py"
    path.write_text(text)
    line = text.splitlines().index(bug) + 1
    afters = {c.after for c in fix.candidates(text, path, "grads", HIDDEN, ARGS_THEIRS)
              if c.line == line and c.kind == "tanh"}
    assert "        e_z = dtanh(h) * e_h" in afters
    # the derivative missing altogether
    right = _line(MINCHAR, "dhraw = (1 - hs[t] * hs[t]) * dh")
    _generated(tmp_path, MINCHAR, "        dhraw = dh", right, wrong=HIDDEN, kind="dtanh")
    right = _line(ARGS, "e_z = (1 - states[s + 1] ** 2) * e_h")
    text = ARGS.replace(right, "        e_z = e_h")
    path.write_text(text)
    line = text.splitlines().index("        e_z = e_h") + 1
    afters = {c.after for c in fix.candidates(text, path, "grads", HIDDEN, ARGS_THEIRS)
              if c.line == line and c.kind == "dtanh"}
    assert "        e_z = (1 - states[s + 1] * states[s + 1]) * e_h" in afters


def test_weight_one_matrix_for_another(tmp_path: Path) -> None:
    right = _line(MINCHAR, "dhnext = np.dot(Whh.T, dhraw)")
    _generated(tmp_path, MINCHAR, right.replace("Whh.T", "Why.T"), right, wrong=HIDDEN,
               kind="weight")
    right = _line(ARGS, "carry = W_hh.T @ e_z")  # (same-role names: "swap" has it too)
    _generated(tmp_path, ARGS, right.replace("W_hh", "W_xh"), right, name="grads",
               wrong=HIDDEN, theirs=ARGS_THEIRS)


def test_init_zeros_where_the_carry_or_an_accumulator_starts(tmp_path: Path) -> None:
    right = _line(MINCHAR, "dhnext = np.zeros_like(hs[0])")
    _generated(tmp_path, MINCHAR, "    dhnext = np.copy(hprev)", right, wrong=HIDDEN,
               kind="init", expect="    dhnext = np.zeros_like(hprev)")
    right = "    db_y = numpy.zeros_like(b_y)"
    source = ARGS.replace("    db_h, db_y = numpy.zeros_like(b_h), numpy.zeros_like(b_y)\n",
                          "    db_h = numpy.zeros_like(b_h)\n" + right + "\n")
    _generated(tmp_path, source, "    db_y = b_y.copy()", right, name="grads", wrong=("by",),
               theirs=ARGS_THEIRS, kind="init")


def test_dtanh_stale_state_and_derivative_applied_twice(tmp_path: Path) -> None:
    right = _line(MINCHAR, "dhraw = (1 - hs[t] * hs[t]) * dh")
    source = MINCHAR.replace(right, "        dhraw = (1 - h * h) * dh").replace(
        "        hs[t] = np.tanh(", "        h = hs[t] = np.tanh(")
    path = tmp_path / "stale.py"
    path.write_text(source)
    line = source.splitlines().index("        dhraw = (1 - h * h) * dh") + 1
    assert any(c.line == line and c.after == right and c.kind == "dtanh"
               for c in fix.candidates(source, path, "lossFun", HIDDEN))
    right = _line(MINCHAR, "dWhh += np.dot(dhraw, hs[t - 1].T)")
    _generated(tmp_path, MINCHAR, right.replace("dhraw,", "dhraw * (1 - hs[t] ** 2),"),
               right, wrong=("Whh",), kind="dtanh")
    right = _line(ARGS, "dW_hh += e_z @ states[s].T")
    _generated(tmp_path, ARGS, right.replace("e_z @", "(1 - states[s + 1] ** 2) * e_z @"),
               right, name="grads", wrong=("Whh",), theirs=ARGS_THEIRS, kind="dtanh")


# --- ranking ---------------------------------------------------------------------------

def test_the_first_cause_brings_its_kinds_of_edit_forward(tmp_path: Path) -> None:
    path = tmp_path / "rnn.py"
    right = _line(MINCHAR, "dhnext = np.dot(Whh.T, dhraw)")
    text = MINCHAR.replace(right, right.replace("Whh.T", "Whh"))
    path.write_text(text)
    plain = fix.candidates(text, path, "lossFun", HIDDEN)
    told = fix.candidates(text, path, "lossFun", HIDDEN, cause="transpose")
    others = fix.candidates(text, path, "lossFun", HIDDEN, cause="sign")

    def rank_of(cands: list[fix.Candidate]) -> int:
        return next(k for k, c in enumerate(cands) if c.after == right)

    assert rank_of(told) < rank_of(plain)
    assert rank_of(others) >= rank_of(plain)
    assert {(c.line, c.after) for c in told} == {(c.line, c.after) for c in plain}
    assert rank.cause_score("transpose", "transpose") > 0 == rank.cause_score("sign", None)


def test_generation_stays_fast_on_a_long_function(tmp_path: Path) -> None:
    """A 100-line function: the candidates are generated in well under the time of one
    trial (a child-process run); measured ~50 ms here, a loose bound for loaded machines."""
    body = MINCHAR.splitlines()
    extra = [f"    unused{k} = np.dot(Whh.T, hprev) + {k}" for k in range(60)]
    at = body.index("    dhnext = np.zeros_like(hs[0])")
    text = "\n".join(body[:at] + extra + body[at:]) + "\n"
    path = tmp_path / "long.py"
    path.write_text(text)
    fix.candidates(text, path, "lossFun", HIDDEN)
    start = time.perf_counter()
    cands = fix.candidates(text, path, "lossFun", HIDDEN)
    assert cands and time.perf_counter() - start < 1.0


# --- whole searches: the edited copy runs and passes the whole check --------------------

@pytest.mark.parametrize(("source", "target", "bug", "right"), [
    ("bug_recursion_Whh.py", "lossFun", "        dhraw = (1 - hs[t] * hs[t]) * np.tanh(dh)",
     "        dhraw = (1 - hs[t] * hs[t]) * dh"),
    ("ok_class.py", "CharRNN.loss_and_grads", "            da = dh * (1 - hs[t + 1] ** 2)",
     None),
])
def test_search_finds_a_family_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   source: str, target: str, bug: str, right: str | None
                                   ) -> None:
    """unwrap (a tanh applied to dh) on min-char-rnn; insert (the carry update deleted) on
    the class form, whose fix is the statement put back after the line that writes da."""
    monkeypatch.delenv("BPTTCHECK_NO_FIX", raising=False)
    path = tmp_path / "rnn.py"
    shutil.copy(CORPUS / source, path)
    text = path.read_text()
    if source == "bug_recursion_Whh.py":
        text = text.replace("np.dot(Whh, dhraw)", "np.dot(Whh.T, dhraw)")
        assert right is not None and right in text
        text = text.replace(right, bug)
        expected = right
    else:
        text = text.replace("            carry = self.Whh.T @ da\n", "")
        expected = bug + "\n            carry = self.Whh.T @ da"
    path.write_text(text)
    out = fix.search(f"{path}:{target}", ImplOptions(), TINY_SPEC, budget=30.0)
    assert out.fix is not None and out.fix.verified and not out.fix.partial
    (edit,) = out.fix.edits
    if source == "bug_recursion_Whh.py":
        assert edit.after == expected
    else:  # put back after the line writing da, or after a later one of the step
        assert edit.after == edit.before + "\n            carry = self.Whh.T @ da"
        assert edit.line >= text.splitlines().index(bug) + 1
    assert path.read_text() == text  # the user's file is never written


@pytest.mark.parametrize(("bug", "right"), [
    ("    while t >= 1:\n", "    while t >= 0:\n"),  # the constant of the bound
    ("    while t > 0:\n", "    while t >= 0:\n"),  # the comparison itself
    ("    while 1 <= t:\n", "    while 0 <= t:\n"),  # the constant on the left
])
def test_a_while_loop_bound_is_moved_by_one(tmp_path: Path, bug: str, right: str) -> None:
    """A backward loop written with while: its bound moved by one, by its constant or its
    comparison, in either order of the operands."""
    source = MINCHAR.replace("    for t in reversed(range(len(inputs))):\n",
                             f"    t = len(inputs) - 1\n{right}")
    source = source.replace("        dhnext = np.dot(Whh.T, dhraw)\n",
                            "        dhnext = np.dot(Whh.T, dhraw)\n        t -= 1\n")
    _generated(tmp_path, source, bug, right, kind="bound")


# --- families for bugs the first ones missed (written from descriptions of real bugs) ---
# Style C: globals, a forward helper that keeps a trail of tuples, a backward helper that
# returns what flows on, a list popped as a stack, ``@`` and columns.
STACK = '''import numpy as np

Wxh = Whh = Why = bh = by = None


def cell(x_col, h_before):
    return np.tanh(Wxh @ x_col + Whh @ h_before + bh)


def unroll_step(frame, g_out, g_carry, acc):
    """Adds this step's share to acc; returns what flows on to the step before."""
    x_col, h_before, h_now = frame
    acc["Why"] += g_out @ h_now.T
    acc["by"] += g_out
    g_h = Why.T @ g_out + g_carry
    g_z = g_h * (1 - h_now ** 2)
    acc["bh"] += g_z
    acc["Wxh"] += g_z @ x_col.T
    acc["Whh"] += g_z @ h_before.T
    return Whh.T @ g_z


def note(acc, key):
    acc[key] += 0.0


def lossFun(inputs, targets, hprev):
    stack, outs, ys = [], [], []
    h_now = hprev
    loss = 0.0
    for i, j in zip(inputs, targets):
        x_col = np.zeros((Wxh.shape[1], 1))
        x_col[i] = 1.0
        y_col = np.zeros((Why.shape[0], 1))
        y_col[j] = 1.0
        h_before = h_now
        h_now = cell(x_col, h_before)
        scores = Why @ h_now + by
        q = np.exp(scores - scores.max())
        q = q / q.sum()
        loss -= np.log(q[j, 0])
        stack.append((x_col, h_before, h_now))
        outs.append(q)
        ys.append(y_col)
    acc = {k: np.zeros_like(v) for k, v in zip(("Wxh", "Whh", "Why", "bh", "by"),
                                                (Wxh, Whh, Why, bh, by))}
    g_carry = np.zeros_like(hprev)
    while stack:
        g_out = outs.pop() - ys.pop()
        g_carry = unroll_step(stack.pop(), g_out, g_carry, acc)
        note(acc, "by")
    return loss, acc["Wxh"], acc["Whh"], acc["Why"], acc["bh"], acc["by"], h_now
'''


def _on_line(cands: list[fix.Candidate], source: str, text: str) -> list[fix.Candidate]:
    line = source.splitlines().index(text) + 1
    return [c for c in cands if c.line == line]


def test_loop_a_stack_popped_from_the_other_end(tmp_path: Path) -> None:
    right = "        g_carry = unroll_step(stack.pop(), g_out, g_carry, acc)"
    _generated(tmp_path, STACK, right.replace("pop()", "pop(0)"), right, wrong=HIDDEN,
               kind="loop")
    _generated(tmp_path, STACK, right.replace("pop()", "pop(-1)"), right, wrong=HIDDEN,
               kind="loop", expect=right.replace("pop()", "pop(0)"))
    # a dict's pop by key is no consumption order: nothing to reverse
    bug = "        g_carry = unroll_step(stack.pop(), g_out, g_carry, acc.pop('x', acc))"
    text = STACK.replace(right, bug)
    path = tmp_path / "keyed.py"
    path.write_text(text)
    cands = _on_line(fix.candidates(text, path, "lossFun", HIDDEN), text, bug)
    assert not [c for c in cands if c.kind == "loop" and "acc.pop('x', acc)" not in c.after]


def test_loop_sorted_and_a_plain_iterable_reversed(tmp_path: Path) -> None:
    head = "    for t in reversed(range(len(inputs))):"
    _generated(tmp_path, MINCHAR, "    for t in sorted(ps):", head, wrong=HIDDEN, kind="loop",
               expect="    for t in sorted(ps, reverse=True):")
    _generated(tmp_path, MINCHAR, "    for t in sorted(ps, reverse=False):", head, wrong=HIDDEN,
               kind="loop", expect="    for t in sorted(ps, reverse=True):")
    _generated(tmp_path, MINCHAR, "    for t in sorted(ps, key=int, reverse=True):", head,
               wrong=HIDDEN, kind="loop", expect="    for t in sorted(ps, key=int):")
    _generated(tmp_path, MINCHAR, "    for t in list(ps)[::-1]:", head, wrong=HIDDEN,
               kind="loop", expect="    for t in list(ps):")
    _generated(tmp_path, MINCHAR, "    for t in ps:", head, wrong=HIDDEN, kind="loop",
               expect="    for t in reversed(ps):")
    # one of the sequences zipped together left in forward order
    _generated(tmp_path, MINCHAR, "    for t, y in zip(reversed(ps), targets):", head,
               wrong=HIDDEN, kind="loop",
               expect="    for t, y in zip(reversed(ps), reversed(targets)):")


def test_loop_steps_stored_at_the_front(tmp_path: Path) -> None:
    right = "        stack.append((x_col, h_before, h_now))"
    _generated(tmp_path, STACK, "        stack.insert(0, (x_col, h_before, h_now))", right,
               wrong=HIDDEN, kind="loop")


def test_sign_the_operands_of_a_subtraction_swapped(tmp_path: Path) -> None:
    right = "        g_out = outs.pop() - ys.pop()"
    _generated(tmp_path, STACK, "        g_out = ys.pop() - outs.pop()", right, kind="sign")
    # never on index arithmetic, nor a constant's (1 - h**2 is not negated this way)
    extra = "        k = len(inputs) - 1 - t\n        dhraw = (1 - hs[t] * hs[t]) * dh"
    text = MINCHAR.replace("        dhraw = (1 - hs[t] * hs[t]) * dh", extra)
    path = tmp_path / "index.py"
    path.write_text(text)
    cands = fix.candidates(text, path, "lossFun", HIDDEN)
    index = _on_line(cands, text, "        k = len(inputs) - 1 - t")
    assert not [c for c in index if c.after.strip().startswith("k = t -")]
    deriv = _on_line(cands, text, "        dhraw = (1 - hs[t] * hs[t]) * dh")
    assert not [c for c in deriv if "* hs[t] - 1" in c.after]


def test_result_a_helpers_returned_gradient_kept(tmp_path: Path) -> None:
    right = "        g_carry = unroll_step(stack.pop(), g_out, g_carry, acc)"
    cands = _generated(tmp_path, STACK, "        unroll_step(stack.pop(), g_out, g_carry, acc)",
                       right, wrong=HIDDEN, kind="result")
    _generated(tmp_path, STACK.replace("g_carry, acc)", "g_carry=g_carry, acc=acc)").replace(
        "def unroll_step(frame, g_out, g_carry, acc):", "def unroll_step(frame, g_out, *, "
        "g_carry, acc):"), "        unroll_step(stack.pop(), g_out, g_carry=g_carry, acc=acc)",
        right.replace("g_carry, acc)", "g_carry=g_carry, acc=acc)"), wrong=HIDDEN,
        kind="result")  # the carry passed by keyword
    # a helper that returns nothing has no result to keep
    text = STACK.replace(right, "        unroll_step(stack.pop(), g_out, g_carry, acc)")
    assert not [c for c in _on_line(cands, text, '        note(acc, "by")')
                if c.kind == "result"]


PRE = '''import numpy as np


def logistic(v):
    return 1 / (1 + np.exp(-v))


def f(xs, h0, W, U, b, V, c):
    a = [None] * len(xs)
    h = [h0]
    for t, x in enumerate(xs):
        a[t] = W @ x + U @ h[t] + b
        h.append(np.tanh(a[t]))
    dW = np.zeros_like(W)
    dh = np.zeros_like(h0)
    for t in reversed(range(len(xs))):
        dh = dh + V.T @ c
        da = dh * (1 - h[t + 1] ** 2)
        dW += da @ xs[t].T
        dh = U.T @ da
    return dW
'''


def test_tanh_a_derivative_at_the_pre_activation_gets_the_activation(tmp_path: Path) -> None:
    right = "        da = dh * (1 - h[t + 1] ** 2)"
    for bug, expect in (("        da = dh * (1 - a[t] ** 2)",
                         "        da = dh * (1 - np.tanh(a[t]) ** 2)"),
                        ("        da = dh * (1 - a[t] * a[t])",
                         "        da = dh * (1 - np.tanh(a[t]) * np.tanh(a[t]))"),
                        ("        da = (1 - a[t]) * (1 + a[t]) * dh",
                         "        da = (1 - np.tanh(a[t])) * (1 + np.tanh(a[t])) * dh"),
                        ("        da = a[t] * (1 - a[t]) * dh",  # the logistic form: the
                         "        da = logistic(a[t]) * (1 - logistic(a[t])) * dh")):  # file's
        _generated(tmp_path, PRE, bug, right, name="f", wrong=("Wxh",),
                   theirs={"Wxh": "W", "Whh": "U", "bh": "b"}, kind="tanh", expect=expect)
    # an activation's output is never wrapped again
    path = tmp_path / "ok.py"
    path.write_text(PRE)
    cands = fix.candidates(PRE, path, "f", ("Wxh",), {"Wxh": "W", "Whh": "U", "bh": "b"})
    assert not [c for c in cands if "tanh(h[" in c.after]


FORWARD = '''import numpy as np

Wxh = Whh = Why = bh = by = None


def forward(x_cols, h_start):
    h_prev = h_start
    trail = []
    for x_col in x_cols:
        h_new = np.tanh(Wxh @ x_col + Whh @ h_prev + bh)
        trail.append((x_col, h_prev, h_new))
        h_prev = h_new
    return trail


def lossFun(inputs, targets, hprev):
    trail = forward([np.eye(Wxh.shape[1])[:, [i]] for i in inputs], hprev)
    dWhh = np.zeros_like(Whh)
    for x_col, h_prev, h_new in trail:
        dWhh += h_new @ h_prev.T
    return 0.0, np.zeros_like(Wxh), dWhh, np.zeros_like(Why), np.zeros_like(bh), \\
        np.zeros_like(by), trail[-1][2]
'''


def test_neighbour_a_state_for_a_state_on_forward_lines(tmp_path: Path) -> None:
    """On a forward helper's lines: the initial state read at every step (``init``), the
    new state kept where the previous one belongs (``neighbour``)."""
    right = "        h_new = np.tanh(Wxh @ x_col + Whh @ h_prev + bh)"
    _generated(tmp_path, FORWARD, right.replace("@ h_prev", "@ h_start"), right,
               wrong=("Whh",), kind="init")
    right = "        trail.append((x_col, h_prev, h_new))"
    # (made by the neighbour family, or first by the same-role swap: h_new / h_prev are
    # one variable at two steps)
    cands = _generated(tmp_path, FORWARD, "        trail.append((x_col, h_new, h_new))", right,
                       wrong=("Whh",))
    # what the helper returns feeds the wrong gradient, so its lines are on the wrong
    # gradient's path; an input swapped for a state (a last resort there) ranks after
    text = FORWARD.replace(right, "        trail.append((x_col, h_new, h_new))")
    on_line = _on_line(cands, text, "        trail.append((x_col, h_new, h_new))")
    fixed = next(k for k, c in enumerate(cands) if c.after == right)
    assert all(cands.index(c) > fixed for c in on_line
               if "(h_prev, h_new" in c.after or "(h_new, h_new" in c.after)


def test_swap_an_array_for_the_copy_made_of_it(tmp_path: Path) -> None:
    source = '''import numpy as np


def grads(Y, P, S):
    D = P.copy()
    D[np.arange(len(Y)), Y] -= 1
    dWhy = D.T @ S
    dby = D.sum(axis=0)
    return dWhy, dby
'''
    _generated(tmp_path, source, "    dby = P.sum(axis=0)", "    dby = D.sum(axis=0)",
               name="grads", wrong=("by",), kind="swap")


def test_copy_a_kept_reference_written_in_place(tmp_path: Path) -> None:
    source = '''import numpy as np


def run(xs, h0, W, U):
    h = h0.copy()
    states, inputs = [], []
    for i in xs:
        x = np.zeros((W.shape[1], 1))
        x[i] = 1
        np.tanh(W @ x + U @ h, out=h)
        states.append(h.copy())
        inputs.append(x)
    dU = np.zeros_like(U)
    for s in states:
        dU += s @ s.T
    return dU
'''
    right = "        states.append(h.copy())"
    cands = _generated(tmp_path, source, "        states.append(h)", right, name="run",
                       wrong=("Whh",), theirs={"Wxh": "W", "Whh": "U"}, kind="copy",
                       expect="        states.append(np.copy(h))")
    # x is made anew each step before it is written: keeping it needs no copy
    text = source.replace(right, "        states.append(h)")
    assert not [c for c in _on_line(cands, text, "        inputs.append(x)") if c.kind == "copy"]
    # written in place with +=, kept in a tuple
    text = source.replace("np.tanh(W @ x + U @ h, out=h)", "h += U @ h").replace(
        right, "        states.append((x, h))")
    path = tmp_path / "tuple.py"
    path.write_text(text)
    cands = fix.candidates(text, path, "run", ("Whh",), {"Wxh": "W", "Whh": "U"})
    assert [c for c in _on_line(cands, text, "        states.append((x, h))")
            if c.after == "        states.append((x, np.copy(h)))" and c.kind == "copy"]


def test_term_a_bias_spelt_as_the_file_reshapes_its_others(tmp_path: Path) -> None:
    source = '''import numpy as np

Wxh = Whh = Why = bh = by = None


def lossFun(inputs, targets, hprev):
    h = [hprev[:, 0]]
    loss = 0.0
    for t, i in enumerate(inputs):
        h.append(np.tanh(Wxh[:, i] + Whh @ h[t] + bh[:, 0]))
        z = Why @ h[t + 1] + by[:, 0]
        loss += np.log(np.exp(z).sum()) - z[targets[t]]
    dbh = np.zeros_like(bh)
    return loss, dbh
'''
    right = "        h.append(np.tanh(Wxh[:, i] + Whh @ h[t] + bh[:, 0]))"
    _generated(tmp_path, source, right.replace(" + bh[:, 0]", ""), right, kind="bias")
    # a bias read nowhere but in the signature (its gradient made from another's shape)
    source = source.replace("def lossFun(inputs, targets, hprev):", "def f(inputs, targets, "
                            "hprev, Wxh, Whh, Why, bh, by):").replace("np.zeros_like(bh)",
                                                                      "np.zeros_like(by)")
    _generated(tmp_path, source, right.replace(" + bh[:, 0]", ""), right, name="f",
               kind="bias")


def test_init_the_previous_state_where_the_initial_one_is_read(tmp_path: Path) -> None:
    right = "        dWhh += np.dot(dhraw, hs[t - 1].T)"
    _generated(tmp_path, MINCHAR, "        dWhh += np.dot(dhraw, hprev.T)", right,
               wrong=("Whh",), kind="init",
               expect="        dWhh += np.dot(dhraw, (hs[t - 1] if t > 0 else hprev).T)")


@pytest.mark.parametrize(("bug", "right"), [
    ("        g_out = ys.pop() - outs.pop()", "        g_out = outs.pop() - ys.pop()"),
    ("        unroll_step(stack.pop(), g_out, g_carry, acc)",
     "        g_carry = unroll_step(stack.pop(), g_out, g_carry, acc)"),
], ids=["operands", "result"])
def test_search_finds_a_new_family_fix(tmp_path: Path, bug: str, right: str) -> None:
    """Two of the families above searched end to end on the stack-and-helpers style: a
    subtraction's operands swapped (every gradient negated) and a helper's returned carry
    thrown away; the edited copy passes the whole check at both points."""
    path = tmp_path / "rnn.py"
    assert STACK.count(right) == 1
    text = STACK.replace(right, bug)
    path.write_text(text)
    out = fix.search(f"{path}:lossFun", ImplOptions(), TINY_SPEC, budget=30.0)
    assert out.fix is not None and out.fix.verified and not out.fix.partial
    (edit,) = out.fix.edits
    assert (edit.before, edit.after) == (bug, right)
    assert path.read_text() == text


def test_a_carry_passed_back_without_the_recurrent_matrix_gets_it(tmp_path: Path) -> None:
    """`dhnext = dhraw`: the gradient carried to step t-1 without `Whh.T`."""
    right = _line(MINCHAR, "dhnext = np.dot(Whh.T, dhraw)")
    _generated(tmp_path, MINCHAR, right.replace("np.dot(Whh.T, dhraw)", "dhraw"), right,
               wrong=HIDDEN, kind="carry")
