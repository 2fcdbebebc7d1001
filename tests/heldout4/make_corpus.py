"""Write heldout4's buggy files and manifest.json from the correct bases in corpus/.

Every bug is listed here once: the base it is made from, what it gets wrong (in words),
the edit(s), and which parameters (bpttcheck's names), whether the loss and whether the
last state come out wrong. An edit names its line by a piece of text that occurs in
exactly one line of the base (``nth`` picks among several), so a base can change
without renumbering anything here. validate.py checks each file against what is
written here; nothing here is computed from the files' outputs.

Usage: python tests/heldout4/make_corpus.py   (rewrites corpus/*_bug_*.py and manifest.json)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"

PARAMS = {
    "vanilla": ["Wxh", "Whh", "Why", "bh", "by"],
    "lstm": ["Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo", "Why", "by"],
    "gru": ["Wz", "Wr", "Wn", "bz", "br", "bn", "Why", "by"],
}
HIDDEN = ["Wxh", "Whh", "bh"]
LSTM_GATES = ["Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo"]
GRU_GATES = ["Wz", "Wr", "Wn", "bz", "br", "bn"]

ORDER_FLAGS = ["--impl-order", "dWhy,dby,dWxh,dWhh,dbh"]

BASES: dict[str, dict[str, object]] = {
    "v_py2": dict(
        cell="vanilla", form="globals", target="lossFun", returns="tuple", flags=[],
        style="Python 2.7 script (print statements, xrange in sample(), a `while True:` "
              "training loop at top level reading input.txt); one-hot matrices built up "
              "front with np.eye(...)[:, inputs]; states in a list with hs[t + 1] the state "
              "after step t; stable softmax; `for t in reversed(range(n))`; np.clip(out=) "
              "at ±25"),
    "v_layers": dict(
        cell="vanilla", form="dict", target="rnn_loss", returns="dict", flags=[],
        style="cs231n assignment flavour: rnn_step_forward/backward and affine_forward/"
              "backward returning (out, cache), a vectorised softmax_loss over all steps; "
              "row vectors and (in, out) weights inside (Wx = Wxh.T), grads dict keyed "
              "Wxh; `for t in range(T - 1, -1, -1)`"),
    "v_coursera": dict(
        cell="vanilla", form="args", target="char_rnn_loss", returns="tuple", flags=[],
        style="Coursera deep-learning-specialisation flavour: weights as arguments, "
              "renamed inside to Wax/Waa/Wya/ba in a parameters dict; rnn_cell_forward / "
              "rnn_cell_backward, a gradients dict keyed dWax, dicts x, a, y_hat with "
              "a[-1] = a0"),
    "v_class": dict(
        cell="vanilla", form="class", target="CharRNN.loss", returns="tuple", flags=[],
        style="class with weights as attributes; gradient buffers a dict comprehension "
              "over a class-level tuple of names read with getattr; a staticmethod "
              "softmax; `@`; `for t in range(T)[::-1]`; returns a tuple built from the "
              "dict"),
    "v_f32": dict(
        cell="vanilla", form="globals", target="lossFun", returns="tuple", flags=[],
        style="float32 throughout (weights cast at the top of the loss); list "
              "comprehensions and generator sums for the output layer; the backward "
              "loop over zip() of reversed slices (xs[::-1], hs[::-1], prevs[::-1], ...)"),
    "v_order": dict(
        cell="vanilla", form="globals", target="loss_and_gradients", returns="tuple",
        flags=ORDER_FLAGS,
        style="1-D state vectors; Wxh's column looked up instead of a one-hot product "
              "and its gradient scattered back (dWxh[:, i] += delta); np.outer; the "
              "carried gradient folded into one line; gradients returned output layer "
              "first (declared with --impl-order)"),
    "v_nb": dict(
        cell="vanilla", form="globals", target="lossFun", returns="tuple", flags=[],
        ext=".ipynb",
        style="Jupyter notebook (markdown cells, %load_ext / %autoreload line magics, a "
              "%%time training cell, the data read in a cell that is skipped); outer "
              "products written as broadcasts (dhraw * hs[t - 1].T); the carry in row "
              "form np.dot(dhraw.T, Whh).T; the backward loop over sorted(ps, "
              "reverse=True); grads unpacked from a list comprehension"),
    "lstm_stack": dict(
        cell="lstm", form="globals", target="lossFun", returns="tuple", flags=[],
        style="LSTM with the four gates stacked in one (4H, H + V) matrix built inside "
              "the loss; activations written into slices of one array, np.split into "
              "f, i, g, o; the backward builds one stacked da, dz = W.T @ da and "
              "dh_next = dz[:H]; the gradient split back with np.split"),
    "lstm_class": dict(
        cell="lstm", form="class", target="LSTM.loss", returns="dict", flags=[],
        style="LSTM as a class: step() returns a dict per step (a tape), the backward "
              "walks tape[::-1] and loops over (weight, bias, gate gradient) triples with "
              "getattr; one dz buffer reused at every step; log-softmax; grads dict keyed "
              "dWf"),
    "gru_dict": dict(
        cell="gru", form="dict", target="gru_loss", returns="tuple", flags=[],
        style="GRU with a parameters dict and the lectures' names (gamma_u, gamma_r, "
              "h_tilde, J); a list of per-step tuples; np.dot; dh_prev accumulated over "
              "its three paths; slices [:n_h] of the concatenated gradient"),
    "gru_split": dict(
        cell="gru", form="globals", target="lossFun", returns="tuple", flags=[],
        style="GRU with each gate's weight cut into a recurrent block U* = W[:, :H] and "
              "an input block W*x = W[:, H:]: no [h; x] vector, the input column looked "
              "up and its gradient scattered back, the blocks glued with np.hstack; "
              "backward over reversed(steps) of 8-tuples"),
}


@dataclass
class Edit:
    """change: `old` (a piece of one line) becomes `new` in that line; delete: the line
    holding `old`; insert: the full line `new` after the line holding `old`."""

    kind: str
    old: str
    new: str | None = None
    nth: int = 0


def change(old: str, new: str, nth: int = 0) -> Edit:
    return Edit("change", old, new, nth)


def delete(old: str, nth: int = 0) -> Edit:
    return Edit("delete", old, None, nth)


def insert_after(anchor: str, line: str, nth: int = 0) -> Edit:
    return Edit("insert", anchor, line, nth)


@dataclass
class Bug:
    base: str
    name: str
    kind: str  # the bug-kind row of README.md's table
    description: str
    edits: list[Edit]
    wrong: list[str]
    loss_wrong: bool = False
    hlast_wrong: bool = False
    extra: dict[str, object] = field(default_factory=dict)


BUGS: list[Bug] = []

ALL_V = PARAMS["vanilla"]
ALL_L = LSTM_GATES
ALL_G = GRU_GATES

# ------------------------------------------------------------------ vanilla, one edit
BUGS += [
    Bug("v_py2", "dhnext_no_T", "transpose",
        "the carried gradient goes through Whh instead of Whh.T",
        [change("dh_next = np.dot(Whh.T, da)", "dh_next = np.dot(Whh, da)")], HIDDEN),
    Bug("v_py2", "dWhh_h_t", "wrong step",
        "dWhh pairs the step's gradient with h_t (hs[t + 1]) instead of h_{t-1} (hs[t])",
        [change("dWhh += np.dot(da, hs[t].T)", "dWhh += np.dot(da, hs[t + 1].T)")],
        ["Whh"]),
    Bug("v_py2", "carry_before_tanh", "carry",
        "dh_next is taken from dh, before the tanh derivative, instead of from da",
        [change("dh_next = np.dot(Whh.T, da)", "dh_next = np.dot(Whh.T, dh)")], HIDDEN),
    Bug("v_py2", "dy_from_X", "wrong variable",
        "dy subtracts the input's one-hot column X instead of the target's Y",
        [change("dy = ps[t] - Y[:, [t]]", "dy = ps[t] - X[:, [t]]")], ALL_V),
    Bug("v_py2", "clip_bound", "clip",
        "the gradient is clipped at ±2.5 instead of ±25 (a digit dropped)",
        [change("np.clip(dparam, -25, 25, out=dparam)",
                "np.clip(dparam, -2.5, 2.5, out=dparam)")], HIDDEN),
    Bug("v_py2", "forward_feeds_target", "forward",
        "the forward pass feeds the target's one-hot column Y instead of the input's X",
        [change("a = np.dot(Wxh, X[:, [t]])", "a = np.dot(Wxh, Y[:, [t]])")], ALL_V,
        loss_wrong=True, hlast_wrong=True),
    Bug("v_py2", "loop_forwards", "loop",
        "the backward loop runs forwards in time (reversed() left out)",
        [change("for t in reversed(range(n)):", "for t in range(n):")], HIDDEN),
]

BUGS += [
    Bug("v_layers", "dprev_no_T", "transpose",
        "rnn_step_backward: dprev_h = dpre.dot(Wh) without the transpose (row-vector "
        "convention)",
        [change("dprev_h = dpre.dot(Wh.T)", "dprev_h = dpre.dot(Wh)")], HIDDEN),
    Bug("v_layers", "dWh_swapped", "transpose",
        "rnn_step_backward: the product for dWh has its arguments swapped "
        "(dpre.T.dot(prev_h), the transpose of the gradient)",
        [change("dWh = prev_h.T.dot(dpre)", "dWh = dpre.T.dot(prev_h)")], ["Whh"]),
    Bug("v_layers", "tanh_prev_h", "derivative",
        "rnn_step_backward: tanh' computed from prev_h instead of next_h",
        [change("dpre = dnext_h * (1 - next_h ** 2)", "dpre = dnext_h * (1 - prev_h ** 2)")],
        HIDDEN),
    Bug("v_layers", "no_carry", "carry",
        "the upstream gradient dprev_h is not added to the step's output gradient",
        [change("dh = dh_all[t:t + 1] + dprev_h", "dh = dh_all[t:t + 1]")], HIDDEN),
    Bug("v_layers", "cache_off_by_one", "wrong step",
        "the backward step is handed the previous step's cache (step_caches[t - 1])",
        [change("step_caches[t])", "step_caches[t - 1])")], HIDDEN),
    Bug("v_layers", "dscores_assign", "assign",
        "softmax_loss writes -1 at the target instead of subtracting 1 (`= -1` for `-= 1`)",
        [change("dscores[np.arange(len(y)), y] -= 1", "dscores[np.arange(len(y)), y] = -1")],
        ALL_V),
    Bug("v_layers", "db_axis", "axis",
        "rnn_step_backward sums dpre over axis 1 instead of the batch axis 0 (the "
        "per-step sum broadcasts into every bias element)",
        [change("db = dpre.sum(axis=0)", "db = dpre.sum(axis=1)")], ["bh"]),
    Bug("v_layers", "dscores_mean", "scale",
        "softmax_loss divides dscores by the number of steps but returns the summed loss",
        [insert_after("dscores[np.arange(len(y)), y] -= 1", "    dscores /= len(y)")],
        ALL_V),
]

BUGS += [
    Bug("v_coursera", "da_prev_no_T", "transpose",
        "rnn_cell_backward: da_prev = Waa @ dtanh without the transpose",
        [change("da_prev = np.dot(Waa.T, dtanh)", "da_prev = np.dot(Waa, dtanh)")], HIDDEN),
    Bug("v_coursera", "dWaa_a_next", "wrong step",
        "rnn_cell_backward: dWaa uses a_next (a<t>) where a_prev (a<t-1>) belongs",
        [change("dWaa = np.dot(dtanh, a_prev.T)", "dWaa = np.dot(dtanh, a_next.T)")],
        ["Whh"]),
    Bug("v_coursera", "dWya_prev_step", "wrong step",
        "dWya pairs dy at step t with the state a[t - 1]",
        [change('gradients["dWya"] += np.dot(dy, a[t].T)',
                'gradients["dWya"] += np.dot(dy, a[t - 1].T)')], ["Why"]),
    Bug("v_coursera", "da_next_accumulated", "carry",
        "da_next accumulates the cells' da_prev (+=) instead of being replaced by it",
        [change('da_next = step["da_prev"]', 'da_next += step["da_prev"]')], HIDDEN),
    Bug("v_coursera", "dtanh_sigmoid", "derivative",
        "rnn_cell_backward: the sigmoid's derivative a(1 - a) for tanh's 1 - a²",
        [change("dtanh = (1 - a_next ** 2) * da_next",
                "dtanh = a_next * (1 - a_next) * da_next")], HIDDEN),
    Bug("v_coursera", "dba_axis", "axis",
        "rnn_cell_backward sums dtanh over axis 0 (all hidden units) instead of axis 1",
        [change("dba = np.sum(dtanh, axis=1, keepdims=True)",
                "dba = np.sum(dtanh, axis=0, keepdims=True)")], ["bh"]),
    Bug("v_coursera", "forward_y_from_prev", "forward",
        "rnn_cell_forward: the prediction is made from a_prev instead of a_next",
        [change("yt_pred = softmax(np.dot(Wya, a_next) + by)",
                "yt_pred = softmax(np.dot(Wya, a_prev) + by)")], ALL_V, loss_wrong=True),
]

BUGS += [
    Bug("v_class", "dWhh_h_t", "wrong step",
        "dWhh uses hs[t] (h_t) where hs[t - 1] (h_{t-1}) belongs",
        [change('grads["Whh"] += graw @ hs[t - 1].T', 'grads["Whh"] += graw @ hs[t].T')],
        ["Whh"]),
    Bug("v_class", "range_short", "loop",
        "the backward loop's range stops one short: the last step is never visited",
        [change("for t in range(len(inputs))[::-1]:",
                "for t in range(len(inputs) - 1)[::-1]:")], ALL_V),
    Bug("v_class", "target_from_inputs", "wrong variable",
        "the -1 of the softmax gradient goes to the input's index instead of the target's",
        [change("g[targets[t]] -= 1", "g[inputs[t]] -= 1")], ALL_V),
    Bug("v_class", "carry_sign", "sign",
        "the carried gradient is subtracted",
        [change("gh = self.Why.T @ g + carry", "gh = self.Why.T @ g - carry")], HIDDEN),
    Bug("v_class", "tanh_prev_step", "derivative",
        "tanh' is taken from the previous step's state hs[t - 1]",
        [change("graw = gh * (1 - hs[t] * hs[t])", "graw = gh * (1 - hs[t - 1] * hs[t - 1])")],
        HIDDEN),
]

BUGS += [
    Bug("v_f32", "prevs_slice", "wrong step",
        "the list of previous states is hs[1:] instead of hs[:-1] (each step gets its "
        "successor's state)",
        [change("prevs = [hprev.astype(np.float32)] + hs[:-1]",
                "prevs = [hprev.astype(np.float32)] + hs[1:]")], ["Whh"]),
    Bug("v_f32", "dby_mean", "scale",
        "dby is averaged over the steps while the loss is summed",
        [change("dby = sum(dys)", "dby = sum(dys) / len(dys)")], ["by"]),
    Bug("v_f32", "dys_inputs", "wrong variable",
        "the output gradients subtract the inputs' one-hot vectors (zip with inputs)",
        [change("for p, y in zip(ps, targets)]", "for p, y in zip(ps, inputs)]")], ALL_V),
    Bug("v_f32", "prevs_not_reversed", "loop",
        "one list in the backward zip is not reversed: prevs runs forwards while the "
        "others run backwards",
        [change("prevs[::-1], dys[::-1]", "prevs, dys[::-1]")], ["Whh"]),
    Bug("v_f32", "dpre_from_dnext", "wrong variable",
        "dpre is computed from the carried gradient dnext instead of the step's total dh",
        [change("dpre = (1.0 - h * h) * dh", "dpre = (1.0 - h * h) * dnext")], HIDDEN),
]

BUGS += [
    Bug("v_order", "scatter_assign", "assign",
        "the input column of dWxh is overwritten (=) instead of accumulated (+=): a "
        "character seen twice keeps only its earliest step's gradient",
        [change("dWxh[:, inputs[t]] += delta", "dWxh[:, inputs[t]] = delta")], ["Wxh"]),
    Bug("v_order", "scatter_targets", "wrong variable",
        "the gradient is scattered into the target's column of dWxh instead of the input's",
        [change("dWxh[:, inputs[t]] += delta", "dWxh[:, targets[t]] += delta")], ["Wxh"]),
    Bug("v_order", "tanh_prev_state", "derivative",
        "tanh' is taken from states[t] (h_{t-1}) instead of states[t + 1] (h_t)",
        [change("* (1.0 - states[t + 1] ** 2)", "* (1.0 - states[t] ** 2)")], HIDDEN),
    Bug("v_order", "outer_swapped", "transpose",
        "np.outer's arguments swapped for dWhh (its transpose)",
        [change("dWhh += np.outer(delta, states[t])", "dWhh += np.outer(states[t], delta)")],
        ["Whh"]),
]

BUGS += [
    Bug("v_py2", "tanh_prime_sign", "sign",
        "tanh' written 1 + h² instead of 1 - h²",
        [change("da = (1 - hs[t + 1] ** 2) * dh", "da = (1 + hs[t + 1] ** 2) * dh")], HIDDEN),
    Bug("v_coursera", "dby_missing", "missing",
        "the dby accumulation is missing",
        [delete('gradients["dby"] += dy')], ["by"]),
    Bug("v_f32", "carry_reset", "carry",
        "dnext is reset to zero at the top of every backward step",
        [insert_after("for x, h, h_prev, dy in zip(", "        dnext = np.zeros_like(b_h)")],
        HIDDEN),
    Bug("v_class", "clip_per_step", "clip",
        "the step's hidden gradient is clipped to ±1 inside the loop (clipping belongs to "
        "the update, if anywhere)",
        [insert_after("gh = self.Why.T @ g + carry", "            gh = np.clip(gh, -1, 1)")],
        HIDDEN),
    Bug("v_order", "column_alias", "aliasing",
        "the input's column of Wxh is taken without .copy(): the in-place += that follows "
        "writes into Wxh itself, so a character seen again sees a changed column",
        [change("pre = Wxh[:, inputs[t]].copy()", "pre = Wxh[:, inputs[t]]")], ALL_V,
        loss_wrong=True, hlast_wrong=True),
    Bug("v_order", "skip_step_0", "loop",
        "the backward range stops at 1: step 0 is never visited",
        [change("for t in range(T - 1, -1, -1):", "for t in range(T - 1, 0, -1):")], ALL_V),
]

BUGS += [
    Bug("v_nb", "carry_extra_T", "transpose",
        "the row-form carry transposes Whh as well: np.dot(dhraw.T, Whh.T).T is Whh @ dhraw",
        [change("dhnext = np.dot(dhraw.T, Whh).T", "dhnext = np.dot(dhraw.T, Whh.T).T")],
        HIDDEN),
    Bug("v_nb", "broadcast_outer_swapped", "transpose",
        "the broadcast outer product for dWhh is written row times column "
        "(dhraw.T * hs[t - 1]): its transpose",
        [change("dWhh += dhraw * hs[t - 1].T", "dWhh += dhraw.T * hs[t - 1]")], ["Whh"]),
    Bug("v_nb", "dWhy_prev_state", "wrong step",
        "dWhy pairs the output gradient with hs[t - 1]",
        [change("dWhy += do * hs[t].T", "dWhy += do * hs[t - 1].T")], ["Why"]),
    Bug("v_nb", "sorted_forwards", "loop",
        "the backward loop walks sorted(ps) forwards (reverse=True left out)",
        [change("for t in sorted(ps, reverse=True):", "for t in sorted(ps):")], HIDDEN),
    Bug("v_nb", "carry_outside_parens", "carry",
        "a bracket lost: dhnext is added after tanh' instead of inside it",
        [change("dhraw = (1 - hs[t] ** 2) * (np.dot(do.T, Why).T + dhnext)",
                "dhraw = (1 - hs[t] ** 2) * np.dot(do.T, Why).T + dhnext")], HIDDEN),
]

BUGS += [
    Bug("v_layers", "db_missing", "missing",
        "the per-step bias gradient is never added to db",
        [delete("db += db_t")], ["bh"]),
    Bug("v_class", "dbh_missing", "missing",
        "the dbh accumulation is missing",
        [delete('grads["bh"] += graw')], ["bh"]),
]

# gated additions
EXTRA_GATED = [
    Bug("lstm_stack", "dW_assign", "assign",
        "the stacked weight gradient is assigned (=) at every step instead of accumulated",
        [change("dW += da @ zs[t].T", "dW = da @ zs[t].T")], ["Wf", "Wi", "Wc", "Wo"]),
    Bug("lstm_class", "no_dh_carry", "carry",
        "dh_carry is never added: h's gradient sees only the step's own loss",
        [change('dh = self.Why.T @ dlogits + dh_carry', 'dh = self.Why.T @ dlogits')], ALL_L),
    Bug("gru_dict", "h_part_from_end", "slice",
        "the h part of the candidate's concatenated gradient is taken from the end "
        "([-n_h:]) instead of the start ([:n_h]) in dgamma_r",
        [change("dgamma_r = dconcat_r[:n_h] * h_prev", "dgamma_r = dconcat_r[-n_h:] * h_prev")],
        ALL_G),
    Bug("lstm_class", "dc_carry_missing", "missing",
        "the statement that carries dc to the previous step is missing (dc_carry stays 0)",
        [delete('dc_carry = dc * rec["f"]')], ALL_L),
    Bug("gru_split", "dbr_missing", "missing",
        "the reset gate's bias gradient is never accumulated",
        [delete("dbr += dr")], ["br"]),
    Bug("gru_split", "loop_forwards", "loop",
        "the backward loop walks the steps forwards (reversed() left out)",
        [change("in reversed(steps):", "in steps:")], ALL_G),
]

# ------------------------------------------------------------------ vanilla, two edits
BUGS += [
    Bug("v_py2", "two_noT_h_t", "two",
        "two bugs: the carry goes through Whh instead of Whh.T, and dWhy pairs dy with "
        "h_{t-1} (hs[t]) instead of h_t",
        [change("dWhy += np.dot(dy, hs[t + 1].T)", "dWhy += np.dot(dy, hs[t].T)"),
         change("dh_next = np.dot(Whh.T, da)", "dh_next = np.dot(Whh, da)")],
        ["Wxh", "Whh", "Why", "bh"]),
    Bug("v_layers", "two_tanh_axis", "two",
        "two bugs: tanh' from prev_h, and db summed over axis 1",
        [change("dpre = dnext_h * (1 - next_h ** 2)", "dpre = dnext_h * (1 - prev_h ** 2)"),
         change("db = dpre.sum(axis=0)", "db = dpre.sum(axis=1)")], HIDDEN),
    Bug("v_coursera", "two_dWaa_carry", "two",
        "two bugs: dWaa uses a_next, and da_next accumulates instead of being replaced",
        [change("dWaa = np.dot(dtanh, a_prev.T)", "dWaa = np.dot(dtanh, a_next.T)"),
         change('da_next = step["da_prev"]', 'da_next += step["da_prev"]')], HIDDEN),
    Bug("v_order", "two_assign_outer", "two",
        "two bugs: dby overwritten (=) instead of accumulated, and np.outer's arguments "
        "swapped for dWhh",
        [change("dby += dlogits", "dby = dlogits"),
         change("dWhh += np.outer(delta, states[t])", "dWhh += np.outer(states[t], delta)")],
        ["Whh", "by"]),
]

# ------------------------------------------------------------------ LSTM
BUGS += [
    Bug("lstm_stack", "dz_slice_shift", "slice",
        "the h part of dz is cut one row late (dz[1:H + 1] instead of dz[:H])",
        [change("dh_next = dz[:H]", "dh_next = dz[1:H + 1]")], ALL_L),
    Bug("lstm_stack", "dc_no_forget", "gate",
        "the cell gradient is carried back without the forget gate's factor",
        [change("dc_next = f * dc", "dc_next = dc")], ALL_L),
    Bug("lstm_stack", "do_from_c", "gate",
        "the output gate's gradient uses c_t instead of tanh(c_t)",
        [change("dh * tc * o * (1 - o)", "dh * cs[t] * o * (1 - o)")], ALL_L),
    Bug("lstm_stack", "df_c_t", "wrong step",
        "the forget gate's gradient multiplies by c_t instead of c_{t-1}",
        [change("dc * cs[t - 1] * f * (1 - f)", "dc * cs[t] * f * (1 - f)")], ALL_L),
    Bug("lstm_stack", "g_sigmoid_prime", "derivative",
        "the candidate's derivative is the sigmoid's g(1 - g) instead of tanh's 1 - g²",
        [change("dc * i * (1 - g ** 2)", "dc * i * g * (1 - g)")], ALL_L),
    Bug("lstm_stack", "split_order", "gate",
        "the backward pass unpacks the stacked activations as f, i, o, g (the order the "
        "forward pass does not use)",
        [change("f, i, g, o = np.split(acts[t], 4)", "f, i, o, g = np.split(acts[t], 4)")],
        ALL_L),
]

BUGS += [
    Bug("lstm_class", "carry_alias", "aliasing",
        "dh_carry is a view of the reused dz buffer (no .copy()), so dz.fill(0.0) at the "
        "next step zeroes the carried gradient",
        [change("dh_carry = dz[:self.hidden_size].copy()", "dh_carry = dz[:self.hidden_size]")],
        ALL_L),
    Bug("lstm_class", "gate_pairs_swapped", "gate",
        "the forget and input gates' gradients are paired with each other's weights",
        [change('for W, b, da in (("Wf", "bf", daf), ("Wi", "bi", dai),',
                'for W, b, da in (("Wf", "bf", dai), ("Wi", "bi", daf),')], ALL_L),
    Bug("lstm_class", "no_tanh_prime_c", "derivative",
        "the path from h to c leaves out tanh'(c)",
        [change('dc = dc_carry + dh * rec["o"] * (1.0 - tanh_c ** 2)',
                'dc = dc_carry + dh * rec["o"]')], ALL_L),
    Bug("lstm_class", "carry_input_gate", "gate",
        "the cell gradient is carried back through the input gate i instead of f",
        [change('dc_carry = dc * rec["f"]', 'dc_carry = dc * rec["i"]')], ALL_L),
    Bug("lstm_class", "df_c_new", "wrong step",
        "df multiplies dc by the new cell state c_t instead of c_{t-1}",
        [change('df = dc * rec["c_prev"]', 'df = dc * rec["c"]')], ALL_L),
]

# ------------------------------------------------------------------ GRU
BUGS += [
    Bug("gru_dict", "bias_alias", "aliasing",
        "the three gate-bias buffers are one array (dbz = dbr = dbn = ...): each gets the "
        "sum of all three",
        [change("dbz, dbr, dbn = np.zeros_like(bz), np.zeros_like(br), np.zeros_like(bn)",
                "dbz = dbr = dbn = np.zeros_like(bz)")], ["bz", "br", "bn"]),
    Bug("gru_dict", "u_flipped", "gate",
        "the candidate's share uses gamma_u instead of (1 - gamma_u)",
        [change("dh_tilde = dh * (1 - gamma_u)", "dh_tilde = dh * gamma_u")], ALL_G),
    Bug("gru_dict", "reset_not_applied", "gate",
        "the gradient to h_prev through the candidate leaves out the reset gate",
        [change("dh_prev += dconcat_r[:n_h] * gamma_r", "dh_prev += dconcat_r[:n_h]")],
        ALL_G),
    Bug("gru_dict", "reset_prime_from_u", "gate",
        "the reset gate's pre-activation gradient uses the update gate's sigmoid' "
        "(gamma_u (1 - gamma_u))",
        [change("da_r = dgamma_r * gamma_r * (1 - gamma_r)",
                "da_r = dgamma_r * gamma_u * (1 - gamma_u)")], ALL_G),
    Bug("gru_dict", "no_update_path", "missing",
        "dh_prev misses the path through the update gate's pre-activation",
        [change("dh_prev += np.dot(Wr.T, da_r)[:n_h] + np.dot(Wz.T, da_u)[:n_h]",
                "dh_prev += np.dot(Wr.T, da_r)[:n_h]")], ALL_G),
]

BUGS += [
    Bug("gru_split", "Un_no_T", "transpose",
        "the gradient to r * h_prev goes through Un instead of Un.T",
        [change("drh = np.dot(Un.T, dn)", "drh = np.dot(Un, dn)")], ALL_G),
    Bug("gru_split", "dUn_without_r", "wrong variable",
        "dUn pairs dn with h_prev instead of r * h_prev",
        [change("dUn += np.dot(dn, (r * h_prev).T)", "dUn += np.dot(dn, h_prev.T)")],
        ["Wn"]),
    Bug("gru_split", "du_missing_u", "derivative",
        "the update gate's sigmoid' misses its factor u: (1 - u) alone",
        [change("du = dh * (h_prev - n) * u * (1 - u)", "du = dh * (h_prev - n) * (1 - u)")],
        ALL_G),
    Bug("gru_split", "scatter_target", "wrong variable",
        "the update gate's input-block gradient goes to the target's column",
        [change("dWzx[:, ix] += du[:, 0]", "dWzx[:, tg] += du[:, 0]")], ["Wz"]),
    Bug("gru_split", "direct_path_1_minus_u", "gate",
        "the direct path to h_{t-1} is multiplied by (1 - u) instead of u",
        [change("dh_after = dh * u + drh * r", "dh_after = dh * (1 - u) + drh * r")], ALL_G),
    Bug("gru_split", "forward_reset_after", "forward",
        "the forward pass applies the reset gate after the recurrent product "
        "(r * (Un h) instead of Un (r * h))",
        [change("n = np.tanh(np.dot(Un, r * h) + Wnx[:, [ix]] + bn)",
                "n = np.tanh(r * np.dot(Un, h) + Wnx[:, [ix]] + bn)")], PARAMS["gru"],
        loss_wrong=True, hlast_wrong=True),
]


BUGS += EXTRA_GATED


# ------------------------------------------------------------------ writing
# A file is a list of cells, each a list of lines: a .py file is one cell (numbered None
# in the manifest); a notebook's cells are numbered from 1, markdown included, and only
# code cells are searched for an edit's text.
def _ext(base: str) -> str:
    return str(BASES[base].get("ext", ".py"))


def _read(base: str) -> tuple[list[list[str]], list[bool], dict[str, object] | None]:
    """The base's cells (lines), which of them are code, and the notebook's JSON."""
    path = CORPUS / f"{base}_ok{_ext(base)}"
    if path.suffix != ".ipynb":
        return [path.read_text().splitlines()], [True], None
    nb = json.loads(path.read_text())
    cells = ["".join(c["source"]).split("\n") for c in nb["cells"]]
    return cells, [c["cell_type"] == "code" for c in nb["cells"]], nb


def _write(cells: list[list[str]], nb: dict[str, object] | None) -> str:
    if nb is None:
        return "\n".join(cells[0]) + "\n"
    out = json.loads(json.dumps(nb))
    for cell, lines in zip(out["cells"], cells, strict=True):
        cell["source"] = [line + "\n" for line in lines[:-1]] + [lines[-1]]
    return json.dumps(out, indent=1) + "\n"


def _locate(cells: list[list[str]], code: list[bool], edit: Edit,
            where: str) -> tuple[int, int]:
    hits = [(c, k) for c, lines in enumerate(cells) if code[c]
            for k, line in enumerate(lines) if edit.old in line]
    if len(hits) <= edit.nth:
        raise SystemExit(f"{where}: {edit.old!r} is in {len(hits)} line(s), "
                         f"wanted occurrence {edit.nth}")
    if edit.nth == 0 and len(hits) > 1:
        raise SystemExit(f"{where}: {edit.old!r} is in {len(hits)} lines; give nth")
    return hits[edit.nth]


def _apply(lines: list[str], k: int, edit: Edit) -> None:
    """Apply one edit at line index k, in place."""
    assert edit.kind == "delete" or edit.new is not None
    if edit.kind == "change":
        lines[k] = lines[k].replace(edit.old, edit.new or "")
    elif edit.kind == "delete":
        del lines[k]
    else:
        lines.insert(k + 1, edit.new or "")


def _record(lines: list[str], k: int, edit: Edit, cell: int | None,
            where: str) -> dict[str, object]:
    """The edit as the manifest records it: its line with that edit alone."""
    alone = list(lines)
    _apply(alone, k, edit)
    if edit.kind == "change":
        if alone[k] == lines[k]:
            raise SystemExit(f"{where}: the change leaves line {k + 1} as it was")
        rec: dict[str, object] = {"kind": "change", "line": k + 1, "original": lines[k],
                                  "buggy": alone[k]}
    elif edit.kind == "delete":
        rec = {"kind": "delete", "line": k + 1, "original": lines[k], "buggy": None}
    else:
        rec = {"kind": "insert", "line": k + 2, "original": None, "buggy": edit.new}
    if cell is not None:
        rec["cell"] = cell
    return rec


def build(bug: Bug) -> tuple[str, list[dict[str, object]]]:
    """The buggy file's text and its edits in file order."""
    cells, code, nb = _read(bug.base)
    where = f"{bug.base}_bug_{bug.name}"
    located = sorted((_locate(cells, code, edit, where), n, edit)
                     for n, edit in enumerate(bug.edits))
    recs = [_record(cells[c], k, edit, None if nb is None else c + 1, where)
            for (c, k), _n, edit in located]
    out = [list(lines) for lines in cells]
    # from the bottom up, so that the lines above keep their numbers
    for (c, k), _n, edit in reversed(located):
        _apply(out[c], k, edit)
    return _write(out, nb), recs


def bug_file(bug: Bug) -> str:
    return f"{bug.base}_bug_{bug.name}{_ext(bug.base)}"


def entry(base: str, file: str, **rest: object) -> dict[str, object]:
    info = BASES[base]
    out: dict[str, object] = {"file": f"corpus/{file}", "base": f"corpus/{base}_ok{_ext(base)}"}
    out.update(rest)
    out.update({"target": info["target"], "cell": info["cell"], "form": info["form"],
                "returns": info["returns"], "flags": list(info["flags"]),  # type: ignore[call-overload]
                "style": info["style"]})
    return out


def manifest() -> dict[str, object]:
    files = []
    for base in BASES:
        files.append(entry(base, f"{base}_ok{_ext(base)}", expect="ok", description=None,
                           edit=None, wrong=[], loss_wrong=False, hlast_wrong=False))
    for bug in sorted(BUGS, key=lambda b: list(BASES).index(b.base)):  # stable: by base
        _, recs = build(bug)
        cell = str(BASES[bug.base]["cell"])
        wrong = [k for k in PARAMS[cell] if k in bug.wrong]
        if len(wrong) != len(set(bug.wrong)):
            raise SystemExit(f"{bug.base}_bug_{bug.name}: unknown names in wrong")
        fields: dict[str, object] = {"expect": "bug2" if len(recs) == 2 else "bug",
                                     "description": bug.description, "kind": bug.kind}
        if len(recs) == 2:
            fields["edits"] = recs
        else:
            fields["edit"] = recs[0]
        fields.update(wrong=wrong, loss_wrong=bug.loss_wrong, hlast_wrong=bug.hlast_wrong)
        files.append(entry(bug.base, bug_file(bug), **fields))
    about = ("Fourth held-out corpus of hand-written RNN loss functions with single-edit "
             "bugs (branch heldout4). Paths are relative to tests/heldout4/. 'wrong' uses "
             "bpttcheck's parameter names. 'expect' is ok, bug (one edit, under 'edit') or "
             "bug2 (two independent edits, under 'edits', in file order). An edit's "
             "'line' is 1-based and is the line it has with that edit alone: for "
             "change/delete the line in the base, for insert the inserted line; in the "
             "notebook it counts within the code cell 'cell' (cells numbered from 1, "
             "markdown included). 'kind' is the bug-kind row of README.md's table. "
             "'flags' are passed to bpttcheck (and validate.py reads --impl-order from "
             "them).")
    return {"about": about, "files": files}


def main() -> None:
    for pattern in ("*_bug_*.py", "*_bug_*.ipynb"):
        for old in CORPUS.glob(pattern):
            old.unlink()
    for bug in BUGS:
        text, _ = build(bug)
        (CORPUS / bug_file(bug)).write_text(text)
    (HERE / "manifest.json").write_text(json.dumps(manifest(), indent=1) + "\n")


if __name__ == "__main__":
    main()
