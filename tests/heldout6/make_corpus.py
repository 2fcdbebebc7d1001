"""Write heldout6's buggy files and manifest.json from the correct bases in corpus/.

Every bug is one entry of BUGS: its base, a slug, a kind (a row of README.md's table), a
description, its edit(s), the parameters it makes wrong (bpttcheck's names) and whether
the loss and the last state come out wrong. What a bug makes wrong was written here by
hand, from reading the code; tests/heldout2/validate.py confirms it.

An edit is (anchor, new): the base's one line that contains `anchor` (exactly one line
does, and it contains it once) with `anchor` replaced by `new`; `new` None deletes the
line. Nothing is numbered by hand.

Usage: python tests/heldout6/make_corpus.py   (from anywhere; rewrites the buggy files
and manifest.json, and deletes no file)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"

ABOUT = (
    "Sixth held-out corpus of hand-written RNN loss functions with single-edit bugs "
    "(branch heldout6). Paths are relative to tests/heldout6/. 'wrong' uses bpttcheck's "
    "parameter names. 'expect' is ok, bug (one edit, under 'edit') or bug2 (two "
    "independent edits, under 'edits', in file order). An edit's 'line' is 1-based and is "
    "the line it has with that edit alone: for change/delete the line in the base. 'kind' "
    "is the bug-kind row of README.md's table. 'flags' are passed to bpttcheck; 'names' "
    "(where present) maps bpttcheck's parameter names to the file's, for validate.py."
)

VANILLA = ["Wxh", "Whh", "Why", "bh", "by"]
HIDDEN = ["Wxh", "Whh", "bh"]
LSTM_GATES = ["Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo"]
LSTM = [*LSTM_GATES, "Why", "by"]
GRU_GATES = ["Wz", "Wr", "Wn", "bz", "br", "bn"]
GRU = [*GRU_GATES, "Why", "by"]

BASES: dict[str, dict[str, Any]] = {
    "v_cell": {
        "cell": "vanilla", "form": "dict", "target": "rnn_loss", "returns": "dict",
        "flags": ["--impl-names", "Wax=Wxh,Waa=Whh,Wya=Why,ba=bh,by=by"],
        "names": {"Wxh": "Wax", "Whh": "Waa", "Why": "Wya", "bh": "ba", "by": "by"},
        "style": "course assignment: `rnn_step_forward(xt, a_prev, parameters)` returns "
                 "(a_next, cache) with the cache a tuple, `rnn_step_backward(da_next, "
                 "cache, parameters)` returns a 4-tuple; Coursera names `Wax Waa Wya ba "
                 "by` in a `parameters` dict; a `gradients` dict keyed `dWax` built by "
                 "a loop over the parameters; `np.dot`; `np.sum(..., axis=1, "
                 "keepdims=True)` for the bias",
    },
    "v_minchar": {
        "cell": "vanilla", "form": "globals", "target": "lossFun", "returns": "tuple",
        "flags": ["--impl-names", "W_xh=Wxh,W_hh=Whh,W_hy=Why,b_h=bh,b_y=by"],
        "names": {"Wxh": "W_xh", "Whh": "W_hh", "Why": "W_hy", "bh": "b_h", "by": "b_y"},
        "style": "a min-char-rnn rewrite with Python-2-era habits: two-space indents, "
                 "snake-case weights `W_xh W_hh W_hy b_h b_y` as module globals, the "
                 "data-reading lines at module level, dicts `x, h, y, p` keyed by t with "
                 "`h[-1]` the initial state, `np.zeros_like` for every buffer, "
                 "`p[t].copy()`, `h[t-1]` without spaces, an unshifted softmax, the last "
                 "state returned as `h[len(inputs)-1]`",
    },
    "v_flat": {
        "cell": "vanilla", "form": "globals", "target": "lossFun", "returns": "tuple",
        "flags": [],
        "style": "every weight packed into one flat vector `theta` (a `layout()` of "
                 "offsets and shapes) and read back as reshaped views; the gradient one "
                 "flat `grad` whose views `G[name]` are accumulated in place and "
                 "returned as fresh views; 1-D states; the input column read as "
                 "`Wx[:, ix]` and its gradient scattered back; `np.outer`; an index "
                 "loop `range(len(inputs) - 1, -1, -1)`",
    },
    "v_call": {
        "cell": "vanilla", "form": "class", "target": "BPTT.__call__", "returns": "tuple",
        "flags": [],
        "style": "a class whose `__call__` is the loss; states and probabilities in "
                 "dicts keyed by time with `-1` for the initial state; the backward loop "
                 "`for t, ix, iy in zip(reversed(range(T)), reversed(inputs), "
                 "reversed(targets))`; gradient buffers a list unpacked into names and "
                 "returned with `*grads`; Wxh's gradient scattered by column; `@`",
    },
    "v_recur": {
        "cell": "vanilla", "form": "args", "target": "sequence_loss", "returns": "tuple",
        "flags": [],
        "style": "row vectors (h is 1 x H, `x @ Wxh.T`); one-hot rows from "
                 "`np.eye(V)[inputs]`; the backward pass a recursive nested function "
                 "`back(t, dh_from_next)` that updates the enclosing gradients through "
                 "`nonlocal` and calls itself for t - 1; the weights as leading arguments",
    },
    "lstm_cell": {
        "cell": "lstm", "form": "dict", "target": "lstm_loss", "returns": "dict",
        "flags": ["--impl-names", "Wy=Why"],
        "names": {**{k: k for k in LSTM}, "Why": "Wy"},
        "style": "course assignment: `lstm_cell_forward(xt, a_prev, c_prev, parameters)` "
                 "returning a 9-tuple cache, `lstm_cell_backward(da_next, dc_next, "
                 "cache, parameters)` returning a gradients dict with `da_prev` and "
                 "`dc_prev`; the lectures' names (`ft it cct ot`, `concat`, `Wy`); "
                 "`dconcat` summed over four lines; the step's gradients added to the "
                 "totals by key",
    },
    "lstm_pack": {
        "cell": "lstm", "form": "globals", "target": "lossFun", "returns": "tuple",
        "flags": ["--impl-order", "dWi,dWf,dWo,dWc,dbi,dbf,dbo,dbc,dWhy,dby"],
        "style": "the four gates packed in one matrix in the order input, forget, "
                 "output, candidate (a module constant `GATE_ORDER = \"ifog\"` and a "
                 "dict of slices); activations written into one preallocated array; "
                 "states in dicts keyed by time with `-1`; the backward loop over "
                 "`zip(reversed(range(T)), reversed(targets))`; the gate gradients "
                 "written into slices of one `da`; gradients returned in the packed "
                 "order (`--impl-order`)",
    },
    "gru_cell": {
        "cell": "gru", "form": "args", "target": "gru_loss", "returns": "tuple",
        "flags": [],
        "style": "step helpers `gru_step_forward(x, h_prev, ...)` returning (h, cache "
                 "tuple) and `gru_step_backward(dh, cache, ...)` returning (dh_prev, a "
                 "6-tuple of gradients) summed into a list by `zip`; 1-D vectors, "
                 "`np.concatenate`, `np.outer`, `Wz.T[:H]` for the h part; the weights "
                 "as arguments after the data",
    },
    "gru_py2": {
        "cell": "gru", "form": "globals", "target": "lossFun", "returns": "tuple",
        "flags": [],
        "style": "a min-char-rnn-style GRU script: two-space indents, module-level data "
                 "and weight initialisation, eight dicts keyed by t with `hs[-1]`, "
                 "`np.vstack` for [h; x], the global `hidden_size` to slice the h part, "
                 "an unshifted softmax, `ps[t].copy()`",
    },
}

E = tuple[str, str | None]


@dataclass(frozen=True)
class Bug:
    base: str
    slug: str
    kind: str
    description: str
    edits: tuple[E, ...]
    wrong: tuple[str, ...]
    loss_wrong: bool = False
    hlast_wrong: bool = False


def bug(base: str, slug: str, kind: str, description: str, edit: E, wrong: list[str],
        loss_wrong: bool = False, hlast_wrong: bool = False) -> Bug:
    return Bug(base, slug, kind, description, (edit,), tuple(wrong), loss_wrong,
               hlast_wrong)


def two(base: str, slug: str, description: str, edits: list[E], wrong: list[str],
        loss_wrong: bool = False, hlast_wrong: bool = False) -> Bug:
    return Bug(base, slug, "two", description, tuple(edits), tuple(wrong), loss_wrong,
               hlast_wrong)


BUGS: list[Bug] = [
    # ------------------------------------------------------------ v_cell
    bug("v_cell", "da_prev_no_T", "transpose",
        "the step backward carries through Waa instead of Waa.T",
        ('parameters["Waa"].T, dtanh', 'parameters["Waa"], dtanh'), HIDDEN),
    bug("v_cell", "cache_a_next_twice", "step",
        "the cache stores a_next where a_prev belongs, so dWaa pairs with the new state",
        ("cache = (a_next, a_prev, xt)", "cache = (a_next, a_next, xt)"), ["Whh"]),
    bug("v_cell", "dtanh_one_minus_a", "deriv",
        "tanh' written as 1 - a instead of 1 - a**2",
        ("dtanh = (1 - a_next ** 2)", "dtanh = (1 - a_next)"), HIDDEN),
    bug("v_cell", "carry_dropped", "carry",
        "the gradient from the next step is not added to da",
        ('dy) + da_next', 'dy)'), HIDDEN),
    bug("v_cell", "dy_at_input", "output",
        "the -1 of the softmax gradient is put at the input character, not the target",
        ("dy[Y[t]] -= 1", "dy[X[t]] -= 1"), VANILLA),
    bug("v_cell", "dba_axis0", "axis",
        "the bias gradient summed over axis 0 (all units) instead of axis 1",
        ("axis=1, keepdims=True", "axis=0, keepdims=True"), ["bh"]),
    bug("v_cell", "dWya_with_a_prev", "step",
        "dWya pairs each output error with the cached a_prev instead of a_next",
        ("a_t = caches[t][0]", "a_t = caches[t][1]"), ["Why"]),
    bug("v_cell", "dWaa_assigned", "assign",
        "dWaa assigned instead of accumulated, keeping step 0's only",
        ('gradients["dWaa"] += dWaa', 'gradients["dWaa"] = dWaa'), ["Whh"]),
    bug("v_cell", "loop_forward", "loop",
        "the backward loop runs forward in time",
        ("for t in reversed(range(len(X))):", "for t in range(len(X)):"), HIDDEN),
    # ------------------------------------------------------------ v_minchar
    bug("v_minchar", "dW_hh_with_h_t", "step",
        "dW_hh pairs dh_raw with h[t] instead of h[t-1]",
        ("np.dot(dh_raw, h[t-1].T)", "np.dot(dh_raw, h[t].T)"), ["Whh"]),
    bug("v_minchar", "tanh_prime_prev_state", "deriv",
        "tanh' taken from h[t-1] instead of h[t]",
        ("(1 - h[t] * h[t])", "(1 - h[t-1] * h[t-1])"), HIDDEN),
    bug("v_minchar", "carry_before_tanh", "carry",
        "dh_next computed from dh (before tanh') instead of dh_raw",
        ("dh_next = np.dot(W_hh.T, dh_raw)", "dh_next = np.dot(W_hh.T, dh)"), HIDDEN),
    bug("v_minchar", "dy_plus_one", "sign",
        "the target's 1 is added to the probabilities instead of subtracted",
        ("dy[targets[t]] -= 1", "dy[targets[t]] += 1"), VANILLA),
    bug("v_minchar", "db_y_over_T", "scale",
        "db_y averaged over the steps while the loss is summed",
        ("db_y += dy", "db_y += dy / len(inputs)"), ["by"]),
    bug("v_minchar", "forward_from_hprev", "forward",
        "every step's recurrence reads hprev instead of h[t-1]",
        ("np.dot(W_hh, h[t-1]) + b_h", "np.dot(W_hh, hprev) + b_h"), VANILLA,
        loss_wrong=True, hlast_wrong=True),
    bug("v_minchar", "carry_through_W_hh", "transpose",
        "the carry goes through W_hh instead of W_hh.T",
        ("dh_next = np.dot(W_hh.T, dh_raw)", "dh_next = np.dot(W_hh, dh_raw)"), HIDDEN),
    bug("v_minchar", "db_h_missing", "missing",
        "the hidden bias gradient is never accumulated",
        ("db_h += dh_raw", None), ["bh"]),
    bug("v_minchar", "skip_step_0", "loop",
        "the backward loop stops before step 0",
        ("reversed(range(len(inputs)))", "reversed(range(1, len(inputs)))"), VANILLA),
    # ------------------------------------------------------------ v_flat
    bug("v_flat", "pack_order", "pack",
        "theta is packed with Whh before Wxh while the layout reads Wxh first",
        ("[Wxh.ravel(), Whh.ravel(),", "[Whh.ravel(), Wxh.ravel(),"), VANILLA,
        loss_wrong=True, hlast_wrong=True),
    bug("v_flat", "dWhh_rebound", "alias",
        "G['Whh'] rebound to a new array, so the flat gradient's view never sees it",
        ('G["Whh"] += np.outer(a, hs[k])', 'G["Whh"] = G["Whh"] + np.outer(a, hs[k])'),
        ["Whh"]),
    bug("v_flat", "scatter_at_target", "variable",
        "Wxh's gradient scattered into the target's column instead of the input's",
        ('G["Wxh"][:, inputs[k]]', 'G["Wxh"][:, targets[k]]'), ["Wxh"]),
    bug("v_flat", "dWhy_prev_state", "step",
        "dWhy pairs the output error with the state before the step",
        ("np.outer(e, hs[k + 1])", "np.outer(e, hs[k])"), ["Why"]),
    bug("v_flat", "dWhh_outer_swapped", "transpose",
        "dWhh's outer product with its factors swapped",
        ("np.outer(a, hs[k])", "np.outer(hs[k], a)"), ["Whh"]),
    bug("v_flat", "carry_accumulated", "carry",
        "the carry accumulates over the steps instead of being replaced",
        ("carry = Wh.T @ a", "carry = carry + Wh.T @ a"), HIDDEN),
    bug("v_flat", "tanh_of_state", "recompute",
        "tanh' recomputed by applying tanh to the stored state (already a tanh)",
        ("(1.0 - hs[k + 1] ** 2)", "(1.0 - np.tanh(hs[k + 1]) ** 2)"), HIDDEN),
    bug("v_flat", "by_from_probs", "output",
        "dby accumulates the probabilities from the stored list, not the error",
        ('G["by"][:, 0] += e', 'G["by"][:, 0] += ps[k]'), ["by"]),
    # ------------------------------------------------------------ v_call
    bug("v_call", "time_not_reversed", "loop",
        "the time index runs forward while inputs and targets run backward",
        ("zip(reversed(range(T)), reversed(inputs)", "zip(range(T), reversed(inputs)"),
        ["Wxh", "Whh", "Why", "bh"]),
    bug("v_call", "tanh_prime_prev", "deriv",
        "tanh' taken from state[t - 1] instead of state[t]",
        ("(1.0 - state[t] ** 2)", "(1.0 - state[t - 1] ** 2)"), HIDDEN),
    bug("v_call", "carry_subtracted", "sign",
        "the carried gradient subtracted",
        ("@ err + from_future)", "@ err - from_future)"), HIDDEN),
    bug("v_call", "from_future_never_set", "carry",
        "the line that carries the gradient to the previous step is missing",
        ("from_future = self.Whh.T @ pre", None), HIDDEN),
    bug("v_call", "gWxh_assigned", "assign",
        "Wxh's column assigned, so a repeated input keeps only its earliest step",
        ("gWxh[:, ix] += pre[:, 0]", "gWxh[:, ix] = pre[:, 0]"), ["Wxh"]),
    bug("v_call", "gWhh_outer_swapped", "transpose",
        "gWhh computed as state[t - 1] @ pre.T (the transpose)",
        ("gWhh += pre @ state[t - 1].T", "gWhh += state[t - 1] @ pre.T"), ["Whh"]),
    bug("v_call", "err_at_input", "output",
        "the -1 at the reversed input character instead of the target",
        ("err[iy, 0] -= 1.0", "err[ix, 0] -= 1.0"), VANILLA),
    # ------------------------------------------------------------ v_recur
    bug("v_recur", "carry_Whh_T", "transpose",
        "the recursive call carries dz @ Whh.T in row-vector code (needs dz @ Whh)",
        ("back(t - 1, dz @ Whh)", "back(t - 1, dz @ Whh.T)"), HIDDEN),
    bug("v_recur", "base_case_le", "loop",
        "the recursion stops at t <= 0 and skips step 0",
        ("if t < 0:", "if t <= 0:"), VANILLA),
    bug("v_recur", "carry_accumulated", "carry",
        "the recursive call passes the incoming carry on as well",
        ("back(t - 1, dz @ Whh)", "back(t - 1, dz @ Whh + dh_from_next)"), HIDDEN),
    bug("v_recur", "dWhh_transposed", "transpose",
        "dWhh as hs[t].T @ dz (the transpose)",
        ("dWhh += dz.T @ hs[t]", "dWhh += hs[t].T @ dz"), ["Whh"]),
    bug("v_recur", "tanh_prime_at_t", "deriv",
        "tanh' from hs[t] (the previous state in this offset list)",
        ("(1 - hs[t + 1] ** 2)", "(1 - hs[t] ** 2)"), HIDDEN),
    bug("v_recur", "h0_zero", "forward",
        "the state list starts from zeros instead of hprev",
        ("hs = [hprev.T]", "hs = [np.zeros_like(hprev.T)]"), VANILLA,
        loss_wrong=True, hlast_wrong=True),
    bug("v_recur", "input_row_t_minus_1", "step",
        "dWxh pairs dz with the previous step's input row",
        ("dz.T @ X[t][None, :]", "dz.T @ X[t - 1][None, :]"), ["Wxh"]),
    bug("v_recur", "dWhy_prev_state", "step",
        "dWhy pairs the output error with hs[t] (the state before the step)",
        ("dWhy += g.T @ hs[t + 1]", "dWhy += g.T @ hs[t]"), ["Why"]),
    # ------------------------------------------------------------ lstm_cell
    bug("lstm_cell", "dc_prev_without_f", "gate",
        "the cell gradient is carried to the previous step without the forget gate",
        ('gradients["dc_prev"] = dc * ft', 'gradients["dc_prev"] = dc'), LSTM_GATES),
    bug("lstm_cell", "dot_with_c", "gate",
        "the output gate's gradient uses c_next instead of tanh(c_next)",
        ("da_next * np.tanh(c_next) * ot", "da_next * c_next * ot"), LSTM_GATES),
    bug("lstm_cell", "dft_with_c_next", "step",
        "the forget gate's gradient uses c_next instead of c_prev",
        ("dft = dc * c_prev", "dft = dc * c_next"), LSTM_GATES),
    bug("lstm_cell", "dcct_sigmoid_prime", "deriv",
        "the candidate's derivative in sigmoid form cct (1 - cct)",
        ("dcct = dc * it * (1 - cct ** 2)", "dcct = dc * it * cct * (1 - cct)"),
        LSTM_GATES),
    bug("lstm_cell", "da_prev_bottom_rows", "slice",
        "da_prev taken from the last n_a rows of dconcat instead of the first",
        ('gradients["da_prev"] = dconcat[:n_a]', 'gradients["da_prev"] = dconcat[-n_a:]'),
        LSTM_GATES),
    bug("lstm_cell", "dc_next_dropped", "carry",
        "dc starts from the tanh path only, without dc_next",
        ("dc = dc_next + da_next", "dc = da_next"), LSTM_GATES),
    bug("lstm_cell", "dconcat_no_candidate", "missing",
        "the candidate's path into dconcat is missing",
        ('dconcat += np.dot(parameters["Wc"].T, dcct)', None), LSTM_GATES),
    bug("lstm_cell", "cache_it_ft_swapped", "gate",
        "the cache stores it where ft belongs and ft where it belongs",
        ("c_prev, ft, it, cct, ot, xt)\n", "c_prev, it, ft, cct, ot, xt)\n"), LSTM_GATES),
    # ------------------------------------------------------------ lstm_pack
    bug("lstm_pack", "unpack_f_i", "gate",
        "the packed weight gradient unpacked as f, i, o, g (GATE_ORDER is i, f, o, g)",
        ("dWi, dWf, dWo, dWc = (dW", "dWf, dWi, dWo, dWc = (dW"), ["Wf", "Wi"]),
    bug("lstm_pack", "tanh_c_prev", "step",
        "tanh(c) recomputed in the backward pass from c[t - 1]",
        ("tc = np.tanh(c[t])", "tc = np.tanh(c[t - 1])"), LSTM_GATES),
    bug("lstm_pack", "di_sigmoid_of_f", "gate",
        "the input gate's sigmoid' taken from the forget gate",
        ("dc * g_ * i_ * (1.0 - i_)", "dc * g_ * f_ * (1.0 - f_)"), LSTM_GATES),
    bug("lstm_pack", "dc_next_from_dc_next", "carry",
        "the cell carry multiplies the old dc_next by f, not this step's dc",
        ("dc_next = f_ * dc\n", "dc_next = f_ * dc_next\n"), LSTM_GATES),
    bug("lstm_pack", "do_from_dh_next", "variable",
        "the output gate's gradient from dh_next (the carried part only) instead of dh",
        ("dh * tc * o_", "dh_next * tc * o_"), LSTM_GATES),
    bug("lstm_pack", "db_missing", "missing",
        "the packed bias gradient is never accumulated",
        ("db += da", None), ["bf", "bi", "bc", "bo"]),
    bug("lstm_pack", "targets_not_reversed", "loop",
        "the targets are not reversed in the backward zip",
        ("reversed(range(T)), reversed(targets))", "reversed(range(T)), targets)"),
        [*LSTM_GATES, "Why"]),
    # ------------------------------------------------------------ gru_cell
    bug("gru_cell", "no_direct_path", "gate",
        "dh_prev misses the direct path dh * z",
        ("dh_prev = dh * z + dxrh[:H] * r", "dh_prev = dxrh[:H] * r"), GRU_GATES),
    bug("gru_cell", "dr_sigmoid_of_z", "gate",
        "the reset gate's sigmoid' taken from the update gate",
        ("h_prev * r * (1.0 - r)", "h_prev * z * (1.0 - z)"), GRU_GATES),
    bug("gru_cell", "no_reset_factor", "gate",
        "the path through the candidate into h_prev misses the reset gate's factor",
        ("dh * z + dxrh[:H] * r", "dh * z + dxrh[:H]"), GRU_GATES),
    bug("gru_cell", "Wz_T_bottom_rows", "slice",
        "the update gate's path into h_prev uses the last H rows of Wz.T",
        ("dh_prev += Wz.T[:H] @ dz", "dh_prev += Wz.T[-H:] @ dz"), GRU_GATES),
    bug("gru_cell", "dWr_with_xrh", "variable",
        "dWr paired with [r h; x] instead of [h; x]",
        ("np.outer(dr, xh)", "np.outer(dr, xrh)"), ["Wr"]),
    bug("gru_cell", "sum_rebinds", "alias",
        "`acc = acc + g` rebinds the loop variable; the sums stay zero",
        ("            acc += g", "            acc = acc + g"), GRU_GATES),
    bug("gru_cell", "dWhy_prev_step", "step",
        "dWhy pairs the output error with hs[t - 1] (step 0 wraps to the last state)",
        ("np.outer(dlogits, hs[t])", "np.outer(dlogits, hs[t - 1])"), ["Why"]),
    bug("gru_cell", "cache_unpacked_r_z", "gate",
        "the backward pass unpacks the cache with z and r swapped",
        ("x, h_prev, xh, xrh, z, r, n = cache", "x, h_prev, xh, xrh, r, z, n = cache"),
        GRU_GATES),
    # ------------------------------------------------------------ gru_py2
    bug("gru_py2", "dhnext_assigned", "assign",
        "the gates' paths replace dh_next (= for +=), dropping the direct and reset paths",
        ("dhnext += np.dot(Wz.T, dz)", "dhnext = np.dot(Wz.T, dz)"), GRU_GATES),
    bug("gru_py2", "dr_with_hs_t", "step",
        "the reset gate's gradient uses hs[t] instead of hs[t-1]",
        ("dr = dxrh[:hidden_size] * hs[t-1]", "dr = dxrh[:hidden_size] * hs[t]"),
        GRU_GATES),
    bug("gru_py2", "dn_one_minus_n", "deriv",
        "the candidate's tanh' written as 1 - n",
        ("(1 - ns[t] * ns[t])", "(1 - ns[t])"), GRU_GATES),
    bug("gru_py2", "dWr_with_xrh", "variable",
        "dWr paired with xrhs[t] instead of xhs[t]",
        ("dWr += np.dot(dr, xhs[t].T)", "dWr += np.dot(dr, xrhs[t].T)"), ["Wr"]),
    bug("gru_py2", "dbr_missing", "missing",
        "the reset gate's bias gradient is never accumulated",
        ("dbr += dr", None), ["br"]),
    bug("gru_py2", "dz_sigmoid_of_r", "gate",
        "the update gate's sigmoid' taken from the reset gate",
        ("zs[t] * (1 - zs[t])", "rs[t] * (1 - rs[t])"), GRU_GATES),
    bug("gru_py2", "no_minus_one", "output",
        "the -1 at the target is missing: dy is the probabilities",
        ("dy[targets[t]] -= 1", None), GRU),
    # ------------------------------------------------------------ two edits
    two("v_minchar", "carry_T_db_y",
        "the carry through W_hh instead of W_hh.T; db_y averaged over the steps",
        [("db_y += dy", "db_y += dy / len(inputs)"),
         ("dh_next = np.dot(W_hh.T, dh_raw)", "dh_next = np.dot(W_hh, dh_raw)")],
        [*HIDDEN, "by"]),
    two("v_call", "sign_assign",
        "the carry subtracted; gWhh computed as its transpose",
        [("@ err + from_future)", "@ err - from_future)"),
         ("gWhh += pre @ state[t - 1].T", "gWhh += state[t - 1] @ pre.T")],
        HIDDEN),
    two("gru_py2", "reset_factor_dWr",
        "the reset gate's factor missing from dh_next; dWr paired with xrhs[t]",
        [("dWr += np.dot(dr, xhs[t].T)", "dWr += np.dot(dr, xrhs[t].T)"),
         ("dh * zs[t] + dxrh[:hidden_size] * rs[t]", "dh * zs[t] + dxrh[:hidden_size]")],
        GRU_GATES),
]


def base_path(base: str) -> Path:
    return CORPUS / f"{base}_ok.py"


def bug_file(b: Bug) -> str:
    middle = "two_" if b.kind == "two" else ""
    return f"{b.base}_bug_{middle}{b.slug}.py"


def apply(lines: list[str], edit: E) -> tuple[int, str, str | None]:
    """(0-based line, original, buggy) of one edit on the base's lines (keepends)."""
    anchor, new = edit
    hits = [i for i, line in enumerate(lines) if anchor in line]
    if len(hits) != 1:
        raise SystemExit(f"anchor {anchor!r} is in {len(hits)} lines of the base")
    i = hits[0]
    if lines[i].count(anchor) != 1:
        raise SystemExit(f"anchor {anchor!r} occurs more than once in line {i + 1}")
    return i, lines[i], None if new is None else lines[i].replace(anchor, new)


def record(i: int, original: str, buggy: str | None) -> dict[str, Any]:
    return {"buggy": None if buggy is None else buggy.rstrip("\n"),
            "kind": "change" if buggy is not None else "delete",
            "line": i + 1, "original": original.rstrip("\n")}


def entry(base: str, file: str, expect: str) -> dict[str, Any]:
    spec = BASES[base]
    out: dict[str, Any] = {
        "base": f"corpus/{base}_ok.py", "cell": spec["cell"], "description": None,
        "edit": None, "expect": expect, "file": f"corpus/{file}",
        "flags": list(spec["flags"]), "form": spec["form"], "hlast_wrong": False,
        "loss_wrong": False, "returns": spec["returns"], "style": spec["style"],
        "target": spec["target"], "wrong": [],
    }
    if "names" in spec:
        out["names"] = dict(spec["names"])
    return out


def build() -> tuple[dict[str, Any], dict[str, str]]:
    """The manifest and every buggy file's text, keyed by file name."""
    files: list[dict[str, Any]] = [entry(b, f"{b}_ok.py", "ok") for b in BASES]
    texts: dict[str, str] = {}
    for b in BUGS:
        lines = base_path(b.base).read_text().splitlines(keepends=True)
        applied = sorted(apply(lines, e) for e in b.edits)
        if len({i for i, _, _ in applied}) != len(applied):
            raise SystemExit(f"{b.slug}: two edits on one line")
        mine = list(lines)
        for i, _, buggy in sorted(applied, reverse=True):
            if buggy is None:
                del mine[i]
            else:
                mine[i] = buggy
        name = bug_file(b)
        texts[name] = "".join(mine)
        e = entry(b.base, name, "bug2" if b.kind == "two" else "bug")
        e["description"] = b.description
        e["kind"] = b.kind
        e["wrong"] = list(b.wrong)
        e["loss_wrong"] = b.loss_wrong
        e["hlast_wrong"] = b.hlast_wrong
        records = [record(*a) for a in applied]
        if b.kind == "two":
            del e["edit"]
            e["edits"] = records
        else:
            e["edit"] = records[0]
        files.append(e)
    return {"about": ABOUT, "files": files}, texts


def manifest_text(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"


def main() -> None:
    manifest, texts = build()
    for name, text in texts.items():
        (CORPUS / name).write_text(text)
    (HERE / "manifest.json").write_text(manifest_text(manifest))
    print(f"{len(texts)} buggy files and manifest.json ({len(manifest['files'])} entries)")


if __name__ == "__main__":
    main()
