"""Write heldout8's buggy files and manifest.json from the correct bases in corpus/.

Every bug is its base with one edit (two for the `_bug_two_` files). An edit names its
line by a piece of text that occurs in exactly one line of the base: `(old, new)`
replaces that piece with `new` in that line, `(old, None)` deletes the line. What each
bug makes wrong (`wrong`, `loss_wrong`, `hlast_wrong`) was written here by hand from
reading the code; tests/heldout2/validate.py confirms it.

Usage: python tests/heldout8/make_corpus.py   (rewrites corpus/*_bug_*.py, manifest.json)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"

ABOUT = (
    "Eighth held-out corpus of hand-written RNN loss functions with single-edit bugs "
    "(branch heldout8). Paths are relative to tests/heldout8/. 'wrong' uses bpttcheck's "
    "parameter names. 'expect' is ok, bug (one edit, under 'edit') or bug2 (two "
    "independent edits, under 'edits', in file order). An edit's 'line' is 1-based and is "
    "the line it has with that edit alone: for change/delete the line in the base. "
    "'kind' is the bug-kind row of README.md's table. 'flags' are passed to bpttcheck; "
    "'names' (where present) maps bpttcheck's parameter names to the file's, for "
    "validate.py."
)

VANILLA = ["Wxh", "Whh", "Why", "bh", "by"]
HIDDEN_V = ["Wxh", "Whh", "bh"]
LSTM_GATES = ["Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo"]
GRU_GATES = ["Wz", "Wr", "Wn", "bz", "br", "bn"]

# base stem -> cell, form, target, returns, flags, style
BASES: dict[str, dict[str, Any]] = {
    "v_student": {
        "cell": "vanilla", "form": "globals", "target": "lossFun", "returns": "tuple",
        "flags": [],
        "style": "a student's first attempt: very explicit names (`hidden_state_gradient`, "
                 "`output_error`, `gradient_from_next_step`), a temporary for every "
                 "partial result (`input_part`, `recurrent_part`, `tanh_derivative`), "
                 "`x = x + y` instead of `+=`, dicts keyed by step with `[-1]` the "
                 "initial state, `np.dot` only",
    },
    "v_typed": {
        "cell": "vanilla", "form": "globals", "target": "loss_and_gradients",
        "returns": "tuple", "flags": [],
        "style": "small type-annotated functions (`def softmax(z: np.ndarray) -> "
                 "np.ndarray`, `one_hot`, `forward_step`); a `backward_step` returning a "
                 "dict of one step's gradients plus `dh_prev`, summed into the totals by "
                 "key; states in a list with `hs[0]` the initial state; `@`",
    },
    "v_wlist": {
        "cell": "vanilla", "form": "globals", "target": "sample_loss", "returns": "tuple",
        "flags": [],
        "style": "weights kept in a list `[Wxh, Whh, Why, bh, by]` indexed by integer "
                 "constants (`W_XH = 0`, ..., `B_Y = 4`), the gradients a parallel list "
                 "returned with `*grads`; the carried gradient named `carry`; "
                 "`reversed(range(T))`",
    },
    "v_colmajor": {
        "cell": "vanilla", "form": "class", "target": "CharRNN.loss", "returns": "tuple",
        "flags": [],
        "style": "a class whose states are the columns of one (H, T + 1) array filled by "
                 "`hs[:, t + 1] = ...` (1-D vectors throughout), probabilities a (V, T) "
                 "array; the input read as the column `Wxh[:, inputs[t]]`; `np.outer`; "
                 "bias gradients through `[:, 0]`; the last state as the slice "
                 "`hs[:, T:T + 1]`",
    },
    "v_mixed": {
        "cell": "vanilla", "form": "dict", "target": "rnn_loss", "returns": "dict",
        "flags": [],
        "style": "weights unpacked from a dict; `while` loops with a hand-moved index for "
                 "both passes; `np.dot` and `@` mixed line by line; the target one-hot as "
                 "a column of `np.eye`; the gradients a dict built by a comprehension over "
                 "the params (`'d' + k`); the loss normalised by nothing",
    },
    "lstm_pergate": {
        "cell": "lstm", "form": "globals", "target": "lossFun", "returns": "tuple",
        "flags": [],
        "style": "an LSTM with a separate weight per gate and per input (`Wf_h`, `Wf_x`, "
                 "sliced from Wf once) concatenated nowhere in the forward pass; dicts "
                 "`fs is_ gs os_` keyed by step; a gradient per gate and per input, "
                 "joined with `np.hstack` only at the return",
    },
    "lstm_split": {
        "cell": "lstm", "form": "args", "target": "lstm_loss", "returns": "tuple",
        "flags": [],
        "style": "the four gates by one matrix product of `W = np.vstack([Wf, Wi, Wc, "
                 "Wo])` and `np.split(..., 4)`; a tape of 10-tuples walked with "
                 "`reversed`; the stacked pre-activation gradient built by "
                 "`np.concatenate` of four expressions; dW cut back with `np.split` at "
                 "the end; weights as arguments",
    },
    "gru_einsum": {
        "cell": "gru", "form": "globals", "target": "gru_loss", "returns": "tuple",
        "flags": [],
        "style": "a GRU on 1-D vectors with `np.einsum` for every product "
                 "(`'ij,j->i'`, `'ji,j->i'` for transposes, `'i,j->ij'` for outer "
                 "products); a log-softmax; a list of per-step tuples; biases flattened "
                 "on entry and made columns again at the return",
    },
    "gru_cache": {
        "cell": "gru", "form": "class", "target": "GRUModel.loss", "returns": "dict",
        "flags": [],
        "style": "a GRU class with `self.cache`, a dict of lists reset per call by "
                 "`_reset_cache`, filled by `zip(CACHE_KEYS, ...)` and read back by "
                 "index in a separate `backward` method; `.dot` methods; a grads dict "
                 "built from a `PARAM_NAMES` tuple and `getattr`",
    },
}

# (base, slug, kind, description, edits [(old, new or None)], wrong, loss_wrong,
#  hlast_wrong)
Bug = tuple[str, str, str, str, list[tuple[str, str | None]], list[str], bool, bool]
BUGS: list[Bug] = [
    # ---------------------------------------------------------------- v_student
    ("v_student", "dWhh_current_state", "step",
     "dWhh pairs each step's gradient with the state after the step, not before",
     [("hidden_states[step - 1].T)", "hidden_states[step].T)")], ["Whh"], False, False),
    ("v_student", "carry_no_T", "transpose",
     "the gradient carried to the previous step through Whh instead of Whh.T",
     [("np.dot(Whh.T, pre_activation_gradient)", "np.dot(Whh, pre_activation_gradient)")],
     HIDDEN_V, False, False),
    ("v_student", "tanh_deriv_prev_state", "deriv",
     "tanh' taken from the previous step's state",
     [("1 - hidden_states[step] * hidden_states[step]",
       "1 - hidden_states[step - 1] * hidden_states[step - 1]")], HIDDEN_V, False, False),
    ("v_student", "carry_dropped", "carry",
     "the gradient from the next step is never added to the hidden state's gradient",
     [(" + gradient_from_next_step", "")], HIDDEN_V, False, False),
    ("v_student", "dby_assigned", "assign",
     "dby assigned each step's output error instead of summing it",
     [("gradient_by = gradient_by + output_error", "gradient_by = output_error")],
     ["by"], False, False),
    ("v_student", "output_error_plus_one", "sign",
     "the output error adds 1 at the target instead of subtracting it",
     [("output_error[targets[step]] - 1", "output_error[targets[step]] + 1")],
     VANILLA, False, False),
    ("v_student", "carry_before_tanh", "carry",
     "the carried gradient taken from the gradient before tanh'",
     [("np.dot(Whh.T, pre_activation_gradient)", "np.dot(Whh.T, hidden_state_gradient)")],
     HIDDEN_V, False, False),
    # ---------------------------------------------------------------- v_typed
    ("v_typed", "step_args_swapped", "variable",
     "backward_step called with the state before the step and the state after swapped",
     [("xs[t], hs[t + 1], hs[t])", "xs[t], hs[t], hs[t + 1])")],
     ["Wxh", "Whh", "Why", "bh"], False, False),
    ("v_typed", "dWhh_outer_swapped", "transpose",
     "dWhh as h_prev da^T, the outer product's factors swapped",
     [('"Whh": da @ h_prev.T,', '"Whh": h_prev @ da.T,')], ["Whh"], False, False),
    ("v_typed", "tanh_deriv_squared_wrong", "deriv",
     "tanh' written (1 - h)^2",
     [("(1.0 - h ** 2) * dh", "(1.0 - h) ** 2 * dh")], HIDDEN_V, False, False),
    ("v_typed", "carry_accumulated", "carry",
     "the carry accumulated across steps (+=) instead of replaced",
     [('dh_next = step["dh_prev"]', 'dh_next += step["dh_prev"]')], HIDDEN_V, False, False),
    ("v_typed", "dWhy_prev_state", "step",
     "dWhy with the state before the step",
     [('"Why": dy @ h.T,', '"Why": dy @ h_prev.T,')], ["Why"], False, False),
    ("v_typed", "loop_skips_first", "loop",
     "the backward loop stops before step 0",
     [("range(len(inputs) - 1, -1, -1)", "range(len(inputs) - 1, 0, -1)")],
     VANILLA, False, False),
    ("v_typed", "target_from_inputs", "output",
     "the output error subtracts 1 at the input's index instead of the target's",
     [("dy[targets[t], 0] -= 1.0", "dy[inputs[t], 0] -= 1.0")], VANILLA, False, False),
    # ---------------------------------------------------------------- v_wlist
    ("v_wlist", "index_W_XH_for_W_HY", "index",
     "the output layer's path into h read from weights[W_XH] (same shape as Why.T)",
     [("dh = weights[W_HY].T @ dy", "dh = weights[W_XH] @ dy")], HIDDEN_V, False, False),
    ("v_wlist", "dWhh_next_state", "step",
     "dWhh with the state after the step",
     [("grads[W_HH] += da @ hs[t].T", "grads[W_HH] += da @ hs[t + 1].T")],
     ["Whh"], False, False),
    ("v_wlist", "carry_no_T", "transpose",
     "the carry through Whh instead of Whh.T",
     [("carry = weights[W_HH].T @ da", "carry = weights[W_HH] @ da")], HIDDEN_V, False,
     False),
    ("v_wlist", "tanh_deriv_prev", "deriv",
     "tanh' from the state before the step",
     [("(1.0 - hs[t + 1] ** 2)", "(1.0 - hs[t] ** 2)")], HIDDEN_V, False, False),
    ("v_wlist", "dby_deleted", "missing",
     "the output bias's update deleted",
     [("grads[B_Y] += dy", None)], ["by"], False, False),
    ("v_wlist", "target_set_not_subtracted", "output",
     "the output error at the target set to -1 instead of p - 1",
     [("dy[targets[t]] -= 1.0", "dy[targets[t]] = -1.0")], VANILLA, False, False),
    ("v_wlist", "loop_forward", "loop",
     "the backward loop runs forward in time",
     [("for t in reversed(range(T)):", "for t in range(T):")], HIDDEN_V, False, False),
    # ---------------------------------------------------------------- v_colmajor
    ("v_colmajor", "dWhh_next_column", "step",
     "dWhh with the column after the step",
     [("np.outer(draw, hs[:, t])", "np.outer(draw, hs[:, t + 1])")], ["Whh"], False,
     False),
    ("v_colmajor", "dWhh_outer_swapped", "transpose",
     "dWhh's outer product with its factors swapped",
     [("np.outer(draw, hs[:, t])", "np.outer(hs[:, t], draw)")], ["Whh"], False, False),
    ("v_colmajor", "carry_before_tanh", "carry",
     "the carry taken from dh, before tanh'",
     [("dh_next = self.Whh.T @ draw", "dh_next = self.Whh.T @ dh")], HIDDEN_V, False,
     False),
    ("v_colmajor", "dWxh_target_column", "variable",
     "dWxh's column chosen by the target instead of the input",
     [("dWxh[:, inputs[t]] += draw", "dWxh[:, targets[t]] += draw")], ["Wxh"], False,
     False),
    ("v_colmajor", "dby_assigned", "assign",
     "dby assigned each step's error",
     [("dby[:, 0] += dy", "dby[:, 0] = dy")], ["by"], False, False),
    ("v_colmajor", "initial_state_deleted", "forward",
     "the initial state never copied into column 0 (the forward starts from zeros)",
     [("hs[:, 0] = hprev[:, 0]", None)], VANILLA, True, True),
    ("v_colmajor", "loop_skips_last", "loop",
     "the backward loop starts one step early, skipping the last step",
     [("range(T - 1, -1, -1)", "range(T - 2, -1, -1)")], VANILLA, False, False),
    # ---------------------------------------------------------------- v_mixed
    ("v_mixed", "dWhh_transposed", "transpose",
     "dWhh as h_prev dhraw^T",
     [("dhraw @ hs[t - 1].T", "hs[t - 1] @ dhraw.T")], ["Whh"], False, False),
    ("v_mixed", "carry_accumulated", "carry",
     "the carry keeps its old value added (never reset)",
     [("dhnext = np.dot(Whh.T, dhraw)", "dhnext = np.dot(Whh.T, dhraw) + dhnext")],
     HIDDEN_V, False, False),
    ("v_mixed", "tanh_twice", "deriv",
     "tanh' computed as 1 - tanh(h)^2 of the already-activated state",
     [("dh * (1 - hs[t] * hs[t])", "dh * (1 - np.tanh(hs[t]) ** 2)")], HIDDEN_V, False,
     False),
    ("v_mixed", "start_one_early", "loop",
     "the backward while loop starts at steps - 2",
     [("t = steps - 1", "t = steps - 2")], VANILLA, False, False),
    ("v_mixed", "dby_scaled", "scale",
     "dby divided by the number of steps while the loss is summed",
     [('grads["dby"] += dy', 'grads["dby"] += dy / steps')], ["by"], False, False),
    ("v_mixed", "grads_alias_params", "alias",
     "the gradient dict holds the weights themselves (no zeros_like), so the "
     "accumulation adds into the weights and the carry reads the changed Whh",
     [('np.zeros_like(v) for k, v in params.items()', 'v for k, v in params.items()')],
     VANILLA, False, False),
    ("v_mixed", "dWxh_deleted", "missing",
     "dWxh's update deleted",
     [('grads["dWxh"] += np.dot(dhraw, xs[t].T)', None)], ["Wxh"], False, False),
    # ---------------------------------------------------------------- lstm_pergate
    ("lstm_pergate", "dc_carry_no_f", "gate",
     "the cell gradient carried to the previous step without the forget gate",
     [("dc_next = dc * fs[t]", "dc_next = dc")], LSTM_GATES, False, False),
    ("lstm_pergate", "dc_no_tanh_deriv", "deriv",
     "dc from dh without tanh'(c)",
     [("dh * os_[t] * (1.0 - tc ** 2) + dc_next", "dh * os_[t] + dc_next")], LSTM_GATES,
     False, False),
    ("lstm_pergate", "do_c_not_tanh", "gate",
     "the output gate's gradient times c instead of tanh(c)",
     [("do = dh * tc", "do = dh * cs[t]")], LSTM_GATES, False, False),
    ("lstm_pergate", "dWi_x_forget_term", "gate",
     "dWi_x accumulates the forget gate's pre-activation gradient",
     [("dWi_x += dai @ xs[t].T", "dWi_x += daf @ xs[t].T")], ["Wi"], False, False),
    ("lstm_pergate", "dh_next_no_output_gate", "missing",
     "the output gate's path into h_{t-1} left out of the carry",
     [(" + Wo_h.T @ dao", "")], LSTM_GATES, False, False),
    ("lstm_pergate", "dg_times_f", "gate",
     "the candidate's gradient times the forget gate instead of the input gate",
     [("dg = dc * is_[t]", "dg = dc * fs[t]")], LSTM_GATES, False, False),
    ("lstm_pergate", "forget_tanh_deriv", "deriv",
     "the forget gate's derivative written as tanh' (1 - f^2)",
     [("df * fs[t] * (1.0 - fs[t])", "df * (1.0 - fs[t] ** 2)")], LSTM_GATES, False,
     False),
    # ---------------------------------------------------------------- lstm_split
    ("lstm_split", "dh_next_tail_slice", "slice",
     "the carry sliced from the end of dz (`dz[-H:]`) instead of its start",
     [("dh_next = dz[:H]", "dh_next = dz[-H:]")], LSTM_GATES, False, False),
    ("lstm_split", "grad_split_order", "gate",
     "dW split back in the order i, f, c, o",
     [("dWf, dWi, dWc, dWo = np.split(dW, 4)", "dWi, dWf, dWc, dWo = np.split(dW, 4)")],
     ["Wf", "Wi"], False, False),
    ("lstm_split", "forward_split_order", "gate",
     "the forward pass splits the gates as f, i, o, g",
     [("af, ai, ag, ao = np.split", "af, ai, ao, ag = np.split")],
     LSTM_GATES + ["Why", "by"], True, True),
    ("lstm_split", "candidate_sigmoid_deriv", "deriv",
     "the candidate's derivative written as a sigmoid's g (1 - g)",
     [("dc * i * (1.0 - g ** 2),", "dc * i * g * (1.0 - g),")], LSTM_GATES, False, False),
    ("lstm_split", "dc_carry_dropped", "carry",
     "the cell gradient from the next step never added",
     [("dc = dc_next + dh * o", "dc = dh * o")], LSTM_GATES, False, False),
    ("lstm_split", "forget_new_cell", "step",
     "the forget gate's gradient times the new cell state instead of c_{t-1}",
     [("dc * c_prev * f * (1.0 - f),", "dc * c_t * f * (1.0 - f),")], LSTM_GATES, False,
     False),
    ("lstm_split", "dWhy_stale_h", "scope",
     "dWhy with `h`, the forward loop's last state, instead of the step's h_t",
     [("dWhy += dy @ h_t.T", "dWhy += dy @ h.T")], ["Why"], False, False),
    # ---------------------------------------------------------------- gru_einsum
    ("gru_einsum", "direct_path_dropped", "gate",
     "the carry leaves out the direct path dh * u",
     [("dh_next = dh * u + drc[:H] * r", "dh_next = drc[:H] * r")], GRU_GATES, False,
     False),
    ("gru_einsum", "dn_times_u", "gate",
     "the candidate's gradient weighted by u instead of 1 - u",
     [("dn = dh * (1.0 - u)", "dn = dh * u")], GRU_GATES, False, False),
    ("gru_einsum", "du_sign", "sign",
     "the update gate's gradient with n - h_{t-1}",
     [("du = dh * (h_prev - n)", "du = dh * (n - h_prev)")], GRU_GATES, False, False),
    ("gru_einsum", "dr_new_state", "step",
     "the reset gate's gradient times the new state instead of h_{t-1}",
     [("dr = drc[:H] * h_prev", "dr = drc[:H] * h_t")], GRU_GATES, False, False),
    ("gru_einsum", "dzc_update_for_reset", "gate",
     "the reset gate's path into [h; x] uses the update gate's gradient",
     [("np.einsum('ji,j->i', Wr, dar)", "np.einsum('ji,j->i', Wr, dau)")], GRU_GATES,
     False, False),
    ("gru_einsum", "update_deriv_of_reset", "deriv",
     "the update gate's derivative taken from the reset gate",
     [("dau = du * u * (1.0 - u)", "dau = du * r * (1.0 - r)")], GRU_GATES, False, False),
    ("gru_einsum", "state_not_advanced", "forward",
     "the forward loop never moves h on (`h = h_new` deleted)",
     [("        h = h_new", None)], GRU_GATES + ["Why", "by"], True, True),
    # ---------------------------------------------------------------- gru_cache
    ("gru_cache", "reset_factor_dropped", "gate",
     "the path through r * h_{t-1} into h_{t-1} without its factor r",
     [("dh * u + d_rh * r +", "dh * u + d_rh +")], GRU_GATES, False, False),
    ("gru_cache", "d_rh_update_weights", "gate",
     "the candidate's gradient sent back through Wz's columns instead of Wn's",
     [("d_rh = self.Wn[:, :H]", "d_rh = self.Wz[:, :H]")], GRU_GATES, False, False),
    ("gru_cache", "du_new_state", "step",
     "the update gate's gradient with h_t - n instead of h_{t-1} - n",
     [("dh * (h_prev - n) * u", "dh * (h - n) * u")], GRU_GATES, False, False),
    ("gru_cache", "dWr_reset_input", "variable",
     "dWr with [r h; x] (the candidate's input) instead of [h; x]",
     [('grads["dWr"] += dr_raw.dot(np.vstack((h_prev, x)).T)',
       'grads["dWr"] += dr_raw.dot(np.vstack((r * h_prev, x)).T)')], ["Wr"], False, False),
    ("gru_cache", "candidate_deriv", "deriv",
     "the candidate's tanh' written (1 - n)^2",
     [("(1 - u) * (1 - n ** 2)", "(1 - u) * (1 - n) ** 2")], GRU_GATES, False, False),
    ("gru_cache", "dbz_assigned", "assign",
     "dbz assigned each step's gradient",
     [('grads["dbz"] += du_raw', 'grads["dbz"] = du_raw')], ["bz"], False, False),
    ("gru_cache", "dWhy_prev_state", "step",
     "dWhy with the state before the step",
     [('grads["dWhy"] += dy.dot(h.T)', 'grads["dWhy"] += dy.dot(h_prev.T)')], ["Why"],
     False, False),
    # ---------------------------------------------------------------- two edits
    ("v_student", "two_carry_dby", "two",
     "the carry through Whh instead of Whh.T; dby assigned each step's error",
     [("gradient_by = gradient_by + output_error", "gradient_by = output_error"),
      ("np.dot(Whh.T, pre_activation_gradient)", "np.dot(Whh, pre_activation_gradient)")],
     HIDDEN_V + ["by"], False, False),
    ("gru_einsum", "two_direct_sign", "two",
     "the direct path dh * u left out of the carry; the update gate's sign",
     [("du = dh * (h_prev - n)", "du = dh * (n - h_prev)"),
      ("dh_next = dh * u + drc[:H] * r", "dh_next = drc[:H] * r")], GRU_GATES, False,
     False),
]


def apply_edit(lines: list[str], old: str, new: str | None) -> tuple[list[str], dict]:
    """The base's lines with one edit applied, and the manifest's record of it."""
    hits = [k for k, line in enumerate(lines) if old in line]
    if len(hits) != 1:
        raise ValueError(f"{old!r} occurs in {len(hits)} lines, expected exactly one")
    k = hits[0]
    if new is None:
        return lines[:k] + lines[k + 1:], {
            "kind": "delete", "line": k + 1, "original": lines[k], "buggy": None}
    buggy = lines[k].replace(old, new)
    return lines[:k] + [buggy] + lines[k + 1:], {
        "kind": "change", "line": k + 1, "original": lines[k], "buggy": buggy}


def build() -> tuple[dict[str, Any], dict[str, str]]:
    """The manifest and the text of every buggy file (path relative to HERE -> text)."""
    files: list[dict[str, Any]] = []
    texts: dict[str, str] = {}
    for stem, meta in BASES.items():
        files.append({"file": f"corpus/{stem}_ok.py", "base": f"corpus/{stem}_ok.py",
                      "expect": "ok", "description": None, "edit": None,
                      "wrong": [], "loss_wrong": False, "hlast_wrong": False, **meta})
    for stem, slug, kind, description, edits, wrong, loss_wrong, hlast_wrong in BUGS:
        base_lines = (CORPUS / f"{stem}_ok.py").read_text().splitlines()
        records = []
        lines = base_lines
        # apply bottom-up so each record's line number is the base's
        located = sorted(edits, key=lambda e: -[k for k, ln in enumerate(base_lines)
                                                 if e[0] in ln][0])
        for old, new in located:
            _, record = apply_edit(base_lines, old, new)
            lines, _ = apply_edit(lines, old, new)
            records.append(record)
        records.sort(key=lambda r: r["line"])
        name = f"corpus/{stem}_bug_{slug}.py"
        texts[name] = "\n".join(lines) + "\n"
        entry: dict[str, Any] = {"file": name, "base": f"corpus/{stem}_ok.py",
                                 "expect": "bug2" if len(edits) == 2 else "bug",
                                 "description": description, "kind": kind}
        if len(edits) == 2:
            entry["edits"] = records
        else:
            entry["edit"] = records[0]
        entry.update({"wrong": wrong, "loss_wrong": loss_wrong, "hlast_wrong": hlast_wrong,
                      **BASES[stem]})
        files.append(entry)
    return {"about": ABOUT, "files": files}, texts


def main() -> None:
    manifest, texts = build()
    for old in CORPUS.glob("*_bug_*.py"):
        old.unlink()
    for name, text in texts.items():
        (HERE / name).write_text(text)
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(texts)} buggy files and manifest.json ({len(manifest['files'])} "
          "entries)")


if __name__ == "__main__":
    main()
