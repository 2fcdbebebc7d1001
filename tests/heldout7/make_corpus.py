"""Write heldout7's buggy files and manifest.json from the correct bases in corpus/.

Every bug is its base with one edit (two for the `*_bug_two_*` files). An edit names
its line by a piece of text that occurs in exactly one line of the base, and either
replaces that piece by another (a changed line) or deletes the line (replacement
None). What each bug makes wrong was written here by hand from reading the code;
tests/heldout2/validate.py confirms it.

Usage: python tests/heldout7/make_corpus.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"

VANILLA = ["Wxh", "Whh", "Why", "bh", "by"]
HIDDEN = ["Wxh", "Whh", "bh"]
LSTM_GATES = ["Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo"]
GRU_GATES = ["Wz", "Wr", "Wn", "bz", "br", "bn"]

WILDML_NAMES = {"Wxh": "U", "Whh": "W", "Why": "V", "bh": "b", "by": "c"}
D2L_ORDER = "dWxh,dWhh,dbh,dWhy,dby"

# file stem -> (cell, form, target, returns, flags, names, style)
BASES: dict[str, tuple[str, str, str, str, list[str], dict[str, str] | None, str]] = {
    "v_wildml": (
        "vanilla", "class", "RNNNumpy.bptt_loss", "tuple",
        ["--impl-names", "U=Wxh,W=Whh,V=Why,b=bh,c=by"], WILDML_NAMES,
        "WildML tutorial flavour: a class `RNNNumpy(vocab_size, hidden_size, "
        "bptt_truncate)` with `U W V b c` (and `--impl-names`), separate "
        "`forward_propagation` / `calculate_loss` methods, 1-D states as rows of a "
        "(T + 1, H) array whose spare last row is the initial state (`s[t - 1]` at "
        "t = 0), the input as the column `U[:, x[t]]`; the backward pass is the "
        "tutorial's double loop (every output's error walked back through all earlier "
        "steps, `np.arange(max(0, t - bptt_truncate), t + 1)[::-1]`), not a carried "
        "dh_next; `np.outer`"),
    "v_d2l": (
        "vanilla", "dict", "rnn_loss", "tuple", ["--impl-order", D2L_ORDER], None,
        "d2l from-scratch flavour: the params dict turned into d2l's list order "
        "(`W_xh, W_hh, b_h, W_hq, b_q`) and unpacked at the top; a helper `rnn(X, "
        "state, params)` over a (steps, batch=1, vocab) one-hot tensor with (1, H) row "
        "states and a state tuple; outputs concatenated and a row-wise softmax; the "
        "gradient buffers a list unpacked into names and updated in place, returned "
        "with `*grads` in d2l's order (`--impl-order`)"),
    "v_blog": (
        "vanilla", "globals", "forward_backward", "tuple", [], None,
        "blog-post flavour: one-hot inputs as a (T, V) matrix, 1-D states as rows of "
        "a (T + 1, H) array with `h[-1]` the initial state; the output layer forward and "
        "backward as whole-sequence matrix products; a loop that only fills a (T, H) "
        "array of pre-activation gradients; the weight gradients after the loop, the "
        "previous states via `np.roll(h, 1, axis=0)[:T]`"),
    "v_script": (
        "vanilla", "globals", "compute_loss_and_gradients", "tuple", [], None,
        "a long procedural function with banner comments and debug bookkeeping "
        "(a `debug` dict of per-step losses, max pre-activation, gradient norm); "
        "`states[k]` the state before step k; preallocated buffers written with "
        "`out=` (`np.tanh(a, out=h_buf)`, `np.dot(Why.T, dscores, out=dh_total)`, "
        "`np.multiply(..., out=da)`) and in-place `+=`/`-=`/`/=`; a scattered "
        "`dWxh[:, ix]` column"),
    "v_layers": (
        "vanilla", "args", "sequence_loss", "tuple", [], None,
        "object-oriented layers: `Linear`, `Tanh` and `SoftmaxCrossEntropy` classes "
        "with `forward` / `backward` methods, new layer objects per step sharing the "
        "weights and the gradient buffers (a dict); the recurrent `Linear` with a zero "
        "bias; the backward pass walks the list of per-step layer tuples reversed; "
        "the weights after the data in the signature"),
    "lstm_rows": (
        "lstm", "globals", "lstm_loss", "tuple", [], None,
        "row vectors throughout ((1, n) arrays, `z @ Wf.T + bf.T`, gradients "
        "`df.T @ st.z`); one `namedtuple` `Step` per time step on a tape with the "
        "probabilities; log-softmax; buffers made by generator unpacking; "
        "`dz = df @ Wf + ...` and `dh_next = dz[:, :H]`"),
    "lstm_cells": (
        "lstm", "class", "LSTMNet.loss", "dict", [], None,
        "object-oriented: an `LSTMNet` holding the weights and one `LSTMCell` object "
        "per step with `forward(ix, h_prev, c_prev)` / `backward(dh, dc_next, grads)`; "
        "each gate weight cut into its recurrent block `W[:, :H]` and input columns "
        "`W[:, H + ix]`; gates looked up by letter with `getattr`; pre-activation "
        "gradients in a dict; 1-D vectors; grads dict keyed `dWf`"),
    "gru_rowT": (
        "gru", "args", "gru_loss", "tuple", [], None,
        "row vectors with `@` and explicit transposes (`hx @ Wz.T + bz.T`, "
        "`dn_pre.T @ s['rhx']`); `np.concatenate(..., axis=1)` for [h, x] and "
        "[r h, x]; a dict per step in a list; the weights first in the signature"),
    "gru_proc": (
        "gru", "dict", "gru_forward_backward", "dict", [], None,
        "procedural, 1-D: biases flattened at the top; gates as rows of (T, H) "
        "arrays and states in a (T + 1, H) array with `hs[-1]` the initial state; "
        "each weight used as a recurrent block `W[:, :H]` plus the input's column; "
        "`np.exp(y, out=P[t])`; in-place `*=` for the derivatives; `np.add.at` to "
        "scatter the input column's gradient; `np.einsum` once for dWhy; a loop over "
        "(name, gradient, input) triples"),
}

# (base, slug, kind, description, edits, wrong, loss_wrong, hlast_wrong)
# an edit: (text naming the line, its replacement; None deletes the line)
Bug = tuple[str, str, str, str, list[tuple[str, str | None]], list[str], bool, bool]
BUGS: list[Bug] = [
    # ---------------------------------------------------------------- v_wildml
    ("v_wildml", "carry_W_not_T", "transpose",
     "the error walked back through W instead of W.T",
     [("self.W.T.dot(delta_t)", "self.W.dot(delta_t)")], HIDDEN, False, False),
    ("v_wildml", "dW_same_step", "step",
     "dLdW pairs the error at bptt_step with that step's own state s[bptt_step]",
     [("np.outer(delta_t, s[bptt_step - 1])", "np.outer(delta_t, s[bptt_step])")],
     ["Whh"], False, False),
    ("v_wildml", "inner_range_stop", "loop",
     "the inner range stops at t, so the error starts one step too early",
     [("t + 1)[::-1]", "t)[::-1]")], HIDDEN, False, False),
    ("v_wildml", "walk_deriv_step", "deriv",
     "walking back, tanh' taken at s[bptt_step] instead of the earlier step's state",
     [("(1 - s[bptt_step - 1] ** 2)", "(1 - s[bptt_step] ** 2)")], HIDDEN, False, False),
    ("v_wildml", "minus_one_at_input", "output",
     "the -1 of softmax cross-entropy put at the input word's index",
     [("delta_o[np.arange(len(y)), y] -= 1.0", "delta_o[np.arange(len(y)), x] -= 1.0")],
     VANILLA, False, False),
    ("v_wildml", "dU_assigned", "assign",
     "U's input column assigned instead of accumulated",
     [("dLdU[:, x[bptt_step]] += delta_t", "dLdU[:, x[bptt_step]] = delta_t")],
     ["Wxh"], False, False),
    ("v_wildml", "no_initial_state", "forward",
     "the initial state never written into the spare row (zeros used instead)",
     [("s[-1] = s0[:, 0]", None)], VANILLA, True, True),
    ("v_wildml", "dc_from_probs", "output",
     "the output bias accumulates the probabilities, not the error",
     [("dLdc[:, 0] += delta_o[t]", "dLdc[:, 0] += o[t]")], ["by"], False, False),
    # ---------------------------------------------------------------- v_d2l
    ("v_d2l", "carry_extra_T", "transpose",
     "the carry to the previous step through W_hh.T in row-vector code",
     [("dH_next = dA @ W_hh", "dH_next = dA @ W_hh.T")], HIDDEN, False, False),
    ("v_d2l", "dWhh_new_state", "step",
     "dW_hh with the state after the step (Hs[t + 1]) instead of before it",
     [("dW_hh += dA.T @ Hs[t]", "dW_hh += dA.T @ Hs[t + 1]")], ["Whh"], False, False),
    ("v_d2l", "dWhq_old_state", "step",
     "dW_hq with the state before the step (Hs[t])",
     [("dW_hq += dY_t.T @ Hs[t + 1]", "dW_hq += dY_t.T @ Hs[t]")], ["Why"], False, False),
    ("v_d2l", "carry_dropped", "carry",
     "the gradient from later steps not added to dH",
     [("dH = dY_t @ W_hq + dH_next", "dH = dY_t @ W_hq")], HIDDEN, False, False),
    ("v_d2l", "dbq_rebound", "alias",
     "db_q rebound to a new array, so the buffer in the returned list stays zero",
     [("db_q += dY_t.T", "db_q = db_q + dY_t.T")], ["by"], False, False),
    ("v_d2l", "dWhq_averaged", "scale",
     "dW_hq divided by the number of steps while the loss is summed",
     [("dW_hq += dY_t.T @ Hs[t + 1]", "dW_hq += dY_t.T @ Hs[t + 1] / num_steps")],
     ["Why"], False, False),
    ("v_d2l", "deriv_prev_state", "deriv",
     "tanh' from the previous state Hs[t]",
     [("dA = dH * (1 - Hs[t + 1] ** 2)", "dA = dH * (1 - Hs[t] ** 2)")], HIDDEN, False, False),
    ("v_d2l", "loop_forwards", "loop",
     "the backward loop runs forwards in time",
     [("for t in reversed(range(num_steps)):", "for t in range(num_steps):")],
     HIDDEN, False, False),
    # ---------------------------------------------------------------- v_blog
    ("v_blog", "roll_wrong_way", "step",
     "np.roll by -1: row t becomes h[t + 1], not h[t - 1]",
     [("np.roll(h, 1, axis=0)[:T]", "np.roll(h, -1, axis=0)[:T]")], ["Whh"], False, False),
    ("v_blog", "dWhy_rows_shifted", "step",
     "dWhy from h[1:] (the next step's state, the initial state last)",
     [("dWhy = dlogits.T @ h[:T]", "dWhy = dlogits.T @ h[1:]")], ["Why"], False, False),
    ("v_blog", "carry_outside", "carry",
     "the carry added after tanh' instead of inside the bracket",
     [("dA[t] = (dh[t] + carry) * (1 - h[t] ** 2)", "dA[t] = dh[t] * (1 - h[t] ** 2) + carry")],
     HIDDEN, False, False),
    ("v_blog", "carry_row_transpose", "transpose",
     "the carry as dA[t] @ Whh.T, which is Whh @ dA[t], not Whh.T @ dA[t]",
     [("carry = Whh.T @ dA[t]", "carry = dA[t] @ Whh.T")], HIDDEN, False, False),
    ("v_blog", "loop_skips_last", "loop",
     "the backward loop over range(T - 1): the last step gets no gradient",
     [("for t in reversed(range(T)):", "for t in reversed(range(T - 1)):")],
     HIDDEN, False, False),
    ("v_blog", "initial_in_row0", "forward",
     "the initial state written into h[0] instead of the spare row h[-1]",
     [("h[-1] = hprev[:, 0]", "h[0] = hprev[:, 0]")], VANILLA, True, True),
    ("v_blog", "dby_from_probs", "output",
     "dby sums the probabilities, not the error",
     [("dby = dlogits.sum(axis=0)[:, None]", "dby = probs.sum(axis=0)[:, None]")],
     ["by"], False, False),
    ("v_blog", "deriv_prev_row", "deriv",
     "tanh' from the previous state h[t - 1]",
     [("* (1 - h[t] ** 2)", "* (1 - h[t - 1] ** 2)")], HIDDEN, False, False),
    # ---------------------------------------------------------------- v_script
    ("v_script", "state_buffer_alias", "alias",
     "the tanh scratch buffer appended without .copy(): every stored state is the last one",
     [("states.append(h_buf.copy())", "states.append(h_buf)")],
     ["Wxh", "Whh", "Why", "bh"], False, False),
    ("v_script", "carry_not_added", "carry",
     "the line adding the carry to dh_total deleted",
     [("dh_total += dh_carry", None)], HIDDEN, False, False),
    ("v_script", "out_wrong_buffer", "inplace",
     "tanh' written with out=dh_total, so da (all zeros) is what the weights see",
     [("1.0 - h_here * h_here, out=da)", "1.0 - h_here * h_here, out=dh_total)")],
     HIDDEN, False, False),
    ("v_script", "plus_one_at_target", "sign",
     "+1 instead of -1 at the target's score",
     [("dscores[targets[step]] -= 1.0", "dscores[targets[step]] += 1.0")],
     VANILLA, False, False),
    ("v_script", "dWhh_same_step", "step",
     "dWhh with the state after the step",
     [("np.dot(da, states[step].T)", "np.dot(da, states[step + 1].T)")], ["Whh"], False, False),
    ("v_script", "carry_no_T", "transpose",
     "the carry computed with Whh instead of Whh.T",
     [("np.dot(Whh.T, da, out=dh_carry)", "np.dot(Whh, da, out=dh_carry)")],
     HIDDEN, False, False),
    ("v_script", "dWxh_target_col", "variable",
     "Wxh's gradient scattered into the target's column",
     [("dWxh[:, inputs[step]] += da[:, 0]", "dWxh[:, targets[step]] += da[:, 0]")],
     ["Wxh"], False, False),
    ("v_script", "dWhy_prev_state", "step",
     "dWhy with the state before the step",
     [("np.dot(dscores, states[step + 1].T)", "np.dot(dscores, states[step].T)")],
     ["Why"], False, False),
    # ---------------------------------------------------------------- v_layers
    ("v_layers", "dW_rebound", "alias",
     "Linear.backward rebinds self.dW: the shared weight-gradient buffers stay zero",
     [("self.dW += dy @ self.x.T", "self.dW = dy @ self.x.T")],
     ["Wxh", "Whh", "Why"], False, False),
    ("v_layers", "tanh_sigmoid_deriv", "deriv",
     "Tanh.backward with the sigmoid's derivative y (1 - y)",
     [("return dy * (1.0 - self.y ** 2)", "return dy * self.y * (1.0 - self.y)")],
     HIDDEN, False, False),
    ("v_layers", "no_db", "missing",
     "Linear.backward's bias accumulation deleted",
     [("self.db += dy", None)], ["bh", "by"], False, False),
    ("v_layers", "rec_bias_buffer", "variable",
     "the recurrent layer given bh's gradient buffer for its (zero) bias",
     [('grads["Whh"], unused)', 'grads["Whh"], grads["bh"])')], ["bh"], False, False),
    ("v_layers", "carry_dropped", "carry",
     "dh_next not added to the output layer's gradient",
     [("dh = out.backward(ce.backward()) + dh_next", "dh = out.backward(ce.backward())")],
     HIDDEN, False, False),
    ("v_layers", "loop_forwards", "loop",
     "the per-step layers walked forwards",
     [("in reversed(steps):", "in steps:")], HIDDEN, False, False),
    ("v_layers", "tanh_backward_carry", "variable",
     "the tanh layer fed dh_next instead of dh",
     [("da = act.backward(dh)", "da = act.backward(dh_next)")], HIDDEN, False, False),
    ("v_layers", "softmax_unshifted_top", "output",
     "the softmax's numerator from the unshifted scores over the shifted denominator",
     [("self.p = np.exp(shifted) / np.exp(shifted).sum()",
       "self.p = np.exp(scores) / np.exp(shifted).sum()")], VANILLA, True, False),
    # ---------------------------------------------------------------- lstm_rows
    ("lstm_rows", "dc_carry_no_f", "gate",
     "the cell-state carry passed on without the forget gate",
     [("dc_next = dc * st.f", "dc_next = dc")], LSTM_GATES, False, False),
    ("lstm_rows", "do_with_c", "gate",
     "the output gate's gradient with c instead of tanh(c)",
     [("do = dh * tc * st.o", "do = dh * st.c * st.o")], LSTM_GATES, False, False),
    ("lstm_rows", "df_new_cell", "step",
     "the forget gate's gradient with the new cell state c_t instead of c_{t-1}",
     [("df = dc * st.c_prev", "df = dc * st.c")], LSTM_GATES, False, False),
    ("lstm_rows", "dh_next_tail", "slice",
     "dh_next taken from the last H columns of dz (input part included)",
     [("dh_next = dz[:, :H]", "dh_next = dz[:, -H:]")], LSTM_GATES, False, False),
    ("lstm_rows", "dWi_from_df", "gate",
     "dWi accumulates the forget gate's gradient",
     [("dWi += di.T @ st.z", "dWi += df.T @ st.z")], ["Wi"], False, False),
    ("lstm_rows", "candidate_sigmoid_deriv", "deriv",
     "the candidate's derivative in sigmoid form g (1 - g)",
     [("dg = dc * st.i * (1 - st.g ** 2)", "dg = dc * st.i * st.g * (1 - st.g)")],
     LSTM_GATES, False, False),
    ("lstm_rows", "carry_dropped", "carry",
     "dh_next not added to the output layer's gradient",
     [("dh = dy @ Why + dh_next", "dh = dy @ Why")], LSTM_GATES, False, False),
    ("lstm_rows", "dbo_assigned", "assign",
     "dbo assigned instead of accumulated",
     [("dbo += do.T", "dbo = do.T")], ["bo"], False, False),
    # ---------------------------------------------------------------- lstm_cells
    ("lstm_cells", "input_col_no_offset", "slice",
     "the input column's gradient written at ix instead of H + ix",
     [("dW[:, H + self.ix] += dpre[k]", "dW[:, self.ix] += dpre[k]")],
     ["Wf", "Wi", "Wc", "Wo"], False, False),
    ("lstm_cells", "dc_carry_stale", "carry",
     "the cell carry returned as dc_next * f (the incoming carry, not this step's dc)",
     [("return dh_prev, dc * self.f", "return dh_prev, dc_next * self.f")],
     LSTM_GATES, False, False),
    ("lstm_cells", "f_deriv_of_i", "gate",
     "the forget gate's gradient with the input gate's sigmoid'",
     [('"f": dc * self.c_prev * self.f * (1.0 - self.f),',
       '"f": dc * self.c_prev * self.i * (1.0 - self.i),')], LSTM_GATES, False, False),
    ("lstm_cells", "dh_prev_no_T", "transpose",
     "the path into h_prev through W[:, :H] instead of its transpose",
     [("dh_prev += W[:, :H].T @ dpre[k]", "dh_prev += W[:, :H] @ dpre[k]")],
     LSTM_GATES, False, False),
    ("lstm_cells", "dc_tanh_of_c", "gate",
     "tanh' in dc taken from c instead of tanh(c)",
     [("(1.0 - self.tanh_c ** 2)", "(1.0 - self.c ** 2)")], LSTM_GATES, False, False),
    ("lstm_cells", "dWhy_h_prev", "step",
     "dWhy with the cell's h_prev instead of its h",
     [("np.outer(dy, cells[t].h)", "np.outer(dy, cells[t].h_prev)")], ["Why"], False, False),
    # ---------------------------------------------------------------- gru_rowT
    ("gru_rowT", "no_direct_path", "gate",
     "the direct path dh * u left out of dh_next",
     [('dh_next = dh * s["u"] + drhx', "dh_next = drhx")], GRU_GATES, False, False),
    ("gru_rowT", "dn_times_u", "gate",
     "the candidate's gradient weighted by u instead of 1 - u",
     [('dn = dh * (1.0 - s["u"])', 'dn = dh * s["u"]')], GRU_GATES, False, False),
    ("gru_rowT", "dr_no_h", "gate",
     "the reset gate's gradient without its factor h_{t-1}",
     [('dr = drhx[:, :H] * s["h"]', "dr = drhx[:, :H]")], GRU_GATES, False, False),
    ("gru_rowT", "du_deriv_of_r", "gate",
     "the update gate's sigmoid' taken from r",
     [('du_pre = du * s["u"] * (1.0 - s["u"])', 'du_pre = du * s["r"] * (1.0 - s["r"])')],
     GRU_GATES, False, False),
    ("gru_rowT", "dr_tail_slice", "slice",
     "the reset gate's gradient from the last H columns of drhx",
     [('dr = drhx[:, :H] * s["h"]', 'dr = drhx[:, -H:] * s["h"]')], GRU_GATES, False, False),
    ("gru_rowT", "dbz_assigned", "assign",
     "dbz assigned instead of accumulated",
     [("dbz += du_pre.T", "dbz = du_pre.T")], ["bz"], False, False),
    ("gru_rowT", "dWhy_prev_state", "step",
     "dWhy with the state before the step",
     [('dWhy += dlogits.T @ s["h_new"]', 'dWhy += dlogits.T @ s["h"]')], ["Why"], False, False),
    # ---------------------------------------------------------------- gru_proc
    ("gru_proc", "carry_accumulated", "carry",
     "the carried gradient accumulated (dh += dh_prev) instead of replaced",
     [("dh = dh_prev", "dh += dh_prev")], GRU_GATES, False, False),
    ("gru_proc", "add_at_no_offset", "slice",
     "np.add.at scatters the input gradient at column ix instead of H + ix",
     [("np.add.at(grads[name], (slice(None), col), d)",
       "np.add.at(grads[name], (slice(None), inputs[t]), d)")],
     ["Wz", "Wr", "Wn"], False, False),
    ("gru_proc", "dN_deriv_of_h", "deriv",
     "the candidate's tanh' taken from the new state instead of n",
     [("dN *= 1.0 - N[t] ** 2", "dN *= 1.0 - hs[t] ** 2")], GRU_GATES, False, False),
    ("gru_proc", "direct_path_one_minus_u", "gate",
     "the direct path into h_{t-1} weighted by 1 - u",
     [("dh_prev = dh * U[t]", "dh_prev = dh * (1.0 - U[t])")], GRU_GATES, False, False),
    ("gru_proc", "dR_aliases_d_rh", "inplace",
     "dR bound to d_rh itself (no factor h_{t-1}); the *= then also scales d_rh",
     [("dR = d_rh * h_prev", "dR = d_rh")], GRU_GATES, False, False),
    ("gru_proc", "dN_aliases_dh", "inplace",
     "dN bound to dh without the (1 - u) factor; the *= then modifies dh",
     [("dN = dh * (1.0 - U[t])", "dN = dh")], GRU_GATES, False, False),
    ("gru_proc", "dWhy_rows_shifted", "step",
     "dWhy's einsum over hs[1:T + 1] (the next states, the initial state last)",
     [("dY, hs[:T])", "dY, hs[1:T + 1])")], ["Why"], False, False),
    ("gru_proc", "dbn_from_dU", "variable",
     "the candidate's bias accumulates the update gate's gradient",
     [('grads["bn"][:, 0] += dN', 'grads["bn"][:, 0] += dU')], ["bn"], False, False),
    # ---------------------------------------------------------------- two edits
    ("v_blog", "carry_dby", "two",
     "the carry added outside the bracket; dby from the probabilities",
     [("dA[t] = (dh[t] + carry) * (1 - h[t] ** 2)", "dA[t] = dh[t] * (1 - h[t] ** 2) + carry"),
      ("dby = dlogits.sum(axis=0)[:, None]", "dby = probs.sum(axis=0)[:, None]")],
     HIDDEN + ["by"], False, False),
    ("v_d2l", "transpose_loop", "two",
     "the carry through W_hh.T; the backward loop forwards",
     [("dH_next = dA @ W_hh", "dH_next = dA @ W_hh.T"),
      ("for t in reversed(range(num_steps)):", "for t in range(num_steps):")],
     HIDDEN, False, False),
    ("gru_rowT", "dn_u_dbz", "two",
     "the candidate's gradient weighted by u; dbz assigned",
     [('dn = dh * (1.0 - s["u"])', 'dn = dh * s["u"]'), ("dbz += du_pre.T", "dbz = du_pre.T")],
     GRU_GATES, False, False),
]


def _edit(lines: list[str], anchor: str, new: str | None) -> tuple[list[str], dict[str, Any]]:
    hits = [k for k, line in enumerate(lines) if anchor in line]
    if len(hits) != 1:
        raise SystemExit(f"{anchor!r} occurs in {len(hits)} lines of the base")
    k = hits[0]
    out = list(lines)
    if new is None:
        del out[k]
        rec = {"kind": "delete", "line": k + 1, "original": lines[k], "buggy": None}
    else:
        out[k] = lines[k].replace(anchor, new)
        if out[k] == lines[k]:
            raise SystemExit(f"edit {anchor!r} -> {new!r} changes nothing")
        rec = {"kind": "change", "line": k + 1, "original": lines[k], "buggy": out[k]}
    return out, rec


def build() -> tuple[dict[str, Any], dict[str, str]]:
    """The manifest and the text of every buggy file, by file name."""
    files: list[dict[str, Any]] = []
    texts: dict[str, str] = {}

    def entry(stem: str, base: str) -> dict[str, Any]:
        cell, form, target, returns, flags, names, style = BASES[base]
        e: dict[str, Any] = {"file": f"corpus/{stem}.py", "base": f"corpus/{base}_ok.py",
                             "target": target, "cell": cell, "form": form,
                             "returns": returns, "flags": list(flags), "style": style}
        if names:
            e["names"] = dict(names)
        return e

    for base in BASES:
        e = entry(f"{base}_ok", base)
        e.update(expect="ok", description=None, edit=None, wrong=[], loss_wrong=False,
                 hlast_wrong=False)
        files.append(e)
    for base, slug, kind, desc, edits, wrong, loss_wrong, hlast_wrong in BUGS:
        lines = (CORPUS / f"{base}_ok.py").read_text().splitlines()
        two = len(edits) == 2
        stem = f"{base}_bug_{'two_' if two else ''}{slug}"
        recs = []
        # each edit's line is its line with that edit alone: apply to the base each time
        for anchor, new in edits:
            recs.append(_edit(lines, anchor, new)[1])
        mine = lines
        for anchor, new in sorted(edits, key=lambda a: -_edit(lines, *a)[1]["line"]):
            mine = _edit(mine, anchor, new)[0]
        recs.sort(key=lambda r: r["line"])
        e = entry(stem, base)
        e.update(expect="bug2" if two else "bug", description=desc, kind="two" if two else kind,
                 wrong=list(wrong), loss_wrong=loss_wrong, hlast_wrong=hlast_wrong)
        if two:
            e["edits"] = recs
        else:
            e["edit"] = recs[0]
        files.append(e)
        texts[f"{stem}.py"] = "\n".join(mine) + "\n"
    manifest = {
        "about": ("Seventh held-out corpus of hand-written RNN loss functions with "
                  "single-edit bugs (branch heldout7). Paths are relative to "
                  "tests/heldout7/. 'wrong' uses bpttcheck's parameter names. 'expect' is "
                  "ok, bug (one edit, under 'edit') or bug2 (two independent edits, under "
                  "'edits', in file order). An edit's 'line' is 1-based and is the line it "
                  "has with that edit alone: for change/delete the line in the base. 'kind' "
                  "is the bug-kind row of README.md's table. 'flags' are passed to "
                  "bpttcheck; 'names' (where present) maps bpttcheck's parameter names to "
                  "the file's, for validate.py."),
        "files": files,
    }
    return manifest, texts


def main() -> None:
    manifest, texts = build()
    for old in CORPUS.glob("*_bug_*.py"):
        if old.name not in texts:
            old.unlink()
    for name, text in texts.items():
        (CORPUS / name).write_text(text)
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
