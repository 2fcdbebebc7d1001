"""Write heldout5's buggy files and manifest.json from the correct bases in corpus/.

Every bug is listed once in BUGS: its base, a slug, its kind (a row of README.md's
table), a description, its edit(s), the parameters it makes wrong and whether the loss
and the last state come out wrong. An edit names its line by a piece of text that
occurs in exactly one line of the base ("anchor"), so nothing is numbered by hand:

- ("change", anchor, old, new): in the anchor's line, the one occurrence of old -> new;
- ("delete", anchor): the anchor's line is removed;
- ("insert", anchor, text): the line text is inserted after the anchor's line.

What each bug makes wrong is written here by hand, from reading the code;
tests/heldout2/validate.py checks it.

Usage: python tests/heldout5/make_corpus.py   (rewrites the *_bug_* files and manifest.json)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"

VANILLA_HID = ["Wxh", "Whh", "bh"]
VANILLA_ALL = ["Wxh", "Whh", "Why", "bh", "by"]
LSTM_GATES = ["Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo"]
GRU_GATES = ["Wz", "Wr", "Wn", "bz", "br", "bn"]

ABOUT = (
    "Fifth held-out corpus of hand-written RNN loss functions with single-edit bugs "
    "(branch heldout5). Paths are relative to tests/heldout5/. 'wrong' uses bpttcheck's "
    "parameter names. 'expect' is ok, bug (one edit, under 'edit') or bug2 (two "
    "independent edits, under 'edits', in file order). An edit's 'line' is 1-based and is "
    "the line it has with that edit alone: for change/delete the line in the base, for "
    "insert the inserted line. 'kind' is the bug-kind row of README.md's table. 'flags' "
    "are passed to bpttcheck; 'names' (where present) maps bpttcheck's parameter names to "
    "the file's, for validate.py."
)

BASES: dict[str, dict[str, Any]] = {
    "v_cols": {
        "target": "lossFun", "cell": "vanilla", "form": "globals", "returns": "tuple",
        "flags": [],
        "style": "every per-step quantity a column of one preallocated 2-D array "
                 "(H[:, t + 1] the state after step t, 1-D column slices); one-hot and "
                 "target matrices built by fancy indexing; the output layer's backward "
                 "pass vectorised over all steps (G = P - Y, dWhy = G H[:, 1:].T); "
                 "`range(T - 1, -1, -1)`; the hidden gradients as matrix products of a "
                 "preallocated Draw array after the loop; `.dot` methods",
    },
    "v_fold": {
        "target": "rnn_grads", "cell": "vanilla", "form": "args", "returns": "tuple",
        "flags": [],
        "style": "functional: the weights as leading arguments; forward and backward are "
                 "`functools.reduce` folds with nested closures; the tape is an immutable "
                 "list of tuples rebuilt at every step; the gradient accumulators a tuple "
                 "threaded through the backward fold; `@`",
    },
    "v_recompute": {
        "target": "ElmanRNN.loss", "cell": "vanilla", "form": "class", "returns": "tuple",
        "flags": [],
        "style": "class with type hints and docstrings; a `@dataclass` Step per time step "
                 "holding only the pre-activation; the backward pass recomputes tanh "
                 "(and the previous state, `steps[k - 1]` guarded by `if k > 0`); Wxh's "
                 "column read by slicing `Wxh[:, ix:ix + 1]`; an index loop "
                 "`range(len(steps) - 1, -1, -1)`",
    },
    "v_rows": {
        "target": "bptt", "cell": "vanilla", "form": "dict", "returns": "dict",
        "flags": ["--impl-names", "U=Wxh,W=Whh,V=Why,b=bh,c=by"],
        "names": {"Wxh": "U", "Whh": "W", "Why": "V", "bh": "b", "by": "c"},
        "style": "Goodfellow's names U W V b c in a params dict, grads dict keyed dU; "
                 "1-D states in a list; a `math`-module softmax over Python lists; the "
                 "whole backward pass written as explicit loops over matrix rows "
                 "(`dW[i, :] += da[i] * hs[t]`, the carry as a sum of rows of W)",
    },
    "v_gen": {
        "target": "loss_fn", "cell": "vanilla", "form": "globals", "returns": "tuple",
        "flags": [],
        "style": "a generator `unroll()` yields (x, h_prev, h) per step; an early guard "
                 "raising on mismatched lengths; log-softmax; the backward pass pops "
                 "the tape and the output gradients off two lists (`while tape:`); "
                 "gradient buffers unpacked from a list that is returned with `*grads`; "
                 "`np.matmul`",
    },
    "lstm_einsum": {
        "target": "lossFun", "cell": "lstm", "form": "globals", "returns": "tuple",
        "flags": [],
        "style": "every product an `np.einsum` on 1-D vectors (`'ij,j->i'`, "
                 "`'ji,j->i'` for the transposes, `'i,j->ij'` for outer products); "
                 "sigmoid via tanh; one-hot rows of `np.eye`; the cache a list of "
                 "10-tuples; dz built up term by term; biases reshaped to columns by a "
                 "lambda at the return",
    },
    "lstm_tape": {
        "target": "lstm_loss", "cell": "lstm", "form": "dict", "returns": "dict",
        "flags": [],
        "style": "explicit params dict, grads dict keyed like the params; a frozen "
                 "`@dataclass` Tape per step holding the gates' pre-activations only; a "
                 "module-level table GATES of gate letter -> activation; the backward "
                 "pass recomputes the activations and loops over gate letters; type hints",
    },
    "gru_trainer": {
        "target": "GRUTrainer.loss_and_grads", "cell": "gru", "form": "class",
        "returns": "dict",
        "flags": ["--impl-names", "Wu=Wz,Wh=Wn,bu=bz,bh=bn,Wy=Why"],
        "names": {"Wz": "Wu", "Wr": "Wr", "Wn": "Wh", "bz": "bu", "br": "br", "bn": "bh",
                  "Why": "Wy", "by": "by"},
        "style": "a trainer class with its own spelling (`Wu Wr Wh bu br bh Wy by`, the "
                 "vanilla name bh for the candidate's bias; `flags` carry --impl-names); "
                 "per-step `_forward_step`/`_backward_step` methods, the latter returning "
                 "a dict of gate gradients summed into the totals by key; a staticmethod "
                 "sigmoid; the state after step t read back from the next step's cache",
    },
    "gru_stack": {
        "target": "gru_loss", "cell": "gru", "form": "globals", "returns": "tuple",
        "flags": [],
        "style": "the three gate matrices stacked into one (3H, H + V) matrix inside the "
                 "loss and sliced (`W[:2 * H]`, `W[2 * H:]`); states as rows of a "
                 "preallocated (T + 1, H) array; gates in a (T, 3, H) array; `np.outer`; "
                 "one stacked gate gradient `da`; the gradient cut back with `np.split`",
    },
}

# (base, slug, kind, description, edits, wrong, loss_wrong, hlast_wrong)
BUGS: list[tuple[str, str, str, str, list[tuple[str, ...]], list[str], bool, bool]] = [
    # ---- v_cols: columns of preallocated arrays
    ("v_cols", "dWhy_prev_state", "step",
     "dWhy pairs each step's output error with the state before the step (H[:, :-1])",
     [("change", "dWhy = G.dot(H[:, 1:].T)", "H[:, 1:]", "H[:, :-1]")],
     ["Why"], False, False),
    ("v_cols", "dWhh_new_state", "step",
     "dWhh uses the states after each step (H[:, 1:]) instead of before",
     [("change", "dWhh = Draw.dot(H[:, :-1].T)", "H[:, :-1]", "H[:, 1:]")],
     ["Whh"], False, False),
    ("v_cols", "carry_outside_tanh", "carry",
     "the carry is added after tanh' instead of inside the bracket",
     [("change", "Draw[:, t] = (1.0 - H[:, t + 1] ** 2) * (Dh[:, t] + carry)",
       "(1.0 - H[:, t + 1] ** 2) * (Dh[:, t] + carry)",
       "(1.0 - H[:, t + 1] ** 2) * Dh[:, t] + carry")],
     VANILLA_HID, False, False),
    ("v_cols", "tanh_prime_prev", "deriv",
     "tanh' taken from the state before the step (H[:, t]) instead of after it",
     [("change", "Draw[:, t] = (1.0 - H[:, t + 1] ** 2)", "H[:, t + 1]", "H[:, t]")],
     VANILLA_HID, False, False),
    ("v_cols", "range_stops_at_1", "loop",
     "the backward loop stops before step 0 (range(T - 1, 0, -1))",
     [("change", "for t in range(T - 1, -1, -1):", "-1, -1", "0, -1")],
     VANILLA_HID, False, False),
    ("v_cols", "carry_no_T", "transpose",
     "the carry goes back through Whh instead of Whh.T",
     [("change", "carry = Whh.T.dot(Draw[:, t])", "Whh.T.dot", "Whh.dot")],
     VANILLA_HID, False, False),
    ("v_cols", "targets_from_inputs", "variable",
     "the target matrix is built from the inputs (the loss itself stays right)",
     [("change", "Yt[targets, steps] = 1.0", "targets", "inputs")],
     VANILLA_ALL, False, False),
    ("v_cols", "Dh_from_P", "output",
     "the hidden layer gets Why.T P, the probabilities, not the error P - Y",
     [("change", "Dh = Why.T.dot(G)", "dot(G)", "dot(P)")],
     VANILLA_HID, False, False),
    ("v_cols", "dby_mean", "scale",
     "dby averaged over the steps while the loss is summed",
     [("change", "dby = G.sum(axis=1, keepdims=True)", "G.sum(", "G.mean(")],
     ["by"], False, False),
    # ---- v_fold: functools.reduce
    ("v_fold", "tape_not_reversed", "loop",
     "the backward fold walks the tape forwards (reversed() left out)",
     [("change", "reduce(backward, reversed(tape),", "reversed(tape)", "tape")],
     VANILLA_HID, False, False),
    ("v_fold", "carry_before_tanh", "carry",
     "the fold carries Whh.T dh, taken before tanh', instead of Whh.T dpre",
     [("change", "return grads, Whh.T @ dpre", "@ dpre", "@ dh")],
     VANILLA_HID, False, False),
    ("v_fold", "no_carry", "carry",
     "the carried gradient is never added to dh (the fold threads it but drops it)",
     [("change", "dh = Why.T @ dlogits + dh_next", " + dh_next", "")],
     VANILLA_HID, False, False),
    ("v_fold", "dWhh_with_h", "step",
     "dWhh uses the step's own state h instead of h_prev",
     [("change", "gWhh + dpre @ h_prev.T,", "h_prev.T", "h.T")],
     ["Whh"], False, False),
    ("v_fold", "closure_hprev", "scope",
     "tanh' from hprev, the enclosing function's argument the closure can see, not "
     "the record's h",
     [("change", "dpre = dh * (1 - h * h)", "h * h", "hprev * hprev")],
     VANILLA_HID, False, False),
    ("v_fold", "gby_plus_p", "output",
     "dby accumulates the probabilities p instead of the error p - y",
     [("change", "gby + dlogits)", "dlogits", "p")],
     ["by"], False, False),
    ("v_fold", "h_prev_first", "forward",
     "the forward fold reads the first record's state (tape[0]) as h_prev at every step",
     [("change", "h_prev = tape[-1][2] if tape else hprev", "tape[-1]", "tape[0]")],
     VANILLA_ALL, True, True),
    # ---- v_recompute: dataclass steps, pre-activations only
    ("v_recompute", "h_before_no_tanh", "recompute",
     "the previous state is taken as the previous pre-activation (tanh not re-applied)",
     [("change", "h_before = np.tanh(steps[k - 1].pre) if k > 0 else h0",
       "np.tanh(steps[k - 1].pre)", "steps[k - 1].pre")],
     ["Whh"], False, False),
    ("v_recompute", "h_is_pre", "recompute",
     "the step's state is taken as its pre-activation (tanh not re-applied)",
     [("change", "h = np.tanh(s.pre)", "np.tanh(s.pre)", "s.pre")],
     ["Wxh", "Whh", "Why", "bh"], False, False),
    ("v_recompute", "k_ge_0", "step",
     "the guard k >= 0 lets step 0 read steps[-1], the last step, as its previous state",
     [("change", "if k > 0 else h0", "k > 0", "k >= 0")],
     ["Whh"], False, False),
    ("v_recompute", "dWxh_assign", "assign",
     "dWxh's column is assigned, not accumulated: a repeated character keeps only its "
     "earliest step",
     [("change", "dWxh[:, s.ix:s.ix + 1] += dpre", "+=", "=")],
     ["Wxh"], False, False),
    ("v_recompute", "tanh_prime_squared_diff", "deriv",
     "tanh' written (1 - h) ** 2 instead of 1 - h ** 2",
     [("change", "dpre = (1.0 - h ** 2) *", "(1.0 - h ** 2)", "(1.0 - h) ** 2")],
     VANILLA_HID, False, False),
    ("v_recompute", "carry_accumulated", "carry",
     "the carry is accumulated across steps (+ dh_later) instead of replaced",
     [("change", "dh_later = self.Whh.T @ dpre", "@ dpre", "@ dpre + dh_later")],
     VANILLA_HID, False, False),
    ("v_recompute", "dWhy_h_before", "step",
     "dWhy uses the previous state h_before instead of h",
     [("change", "dWhy += dlogits @ h.T", "h.T", "h_before.T")],
     ["Why"], False, False),
    # ---- v_rows: explicit row loops, Goodfellow's names
    ("v_rows", "carry_dropped", "carry",
     "dh starts from zeros at every step instead of from the carried gradient",
     [("change", "dh = future.copy()", "future.copy()", "np.zeros(n_h)")],
     VANILLA_HID, False, False),
    ("v_rows", "carry_column", "transpose",
     "the carry sums W's columns instead of its rows (W da instead of W.T da)",
     [("change", "future += da[j] * W[j, :]", "W[j, :]", "W[:, j]")],
     VANILLA_HID, False, False),
    ("v_rows", "carry_not_reset", "reset",
     "the carry buffer is not reset before it is summed again: it keeps every earlier "
     "step's sum",
     [("delete", "        future = np.zeros(n_h)")],
     VANILLA_HID, False, False),
    ("v_rows", "dW_new_state", "step",
     "dW's rows use the state after the step (hs[t + 1]) instead of before",
     [("change", "dW[i, :] += da[i] * hs[t]", "hs[t]", "hs[t + 1]")],
     ["Whh"], False, False),
    ("v_rows", "dU_target_column", "variable",
     "dU's column is the target's, not the input's",
     [("change", "dU[i, inputs[t]] += da[i]", "inputs[t]", "targets[t]")],
     ["Wxh"], False, False),
    ("v_rows", "carry_loop_from_1", "loop",
     "the carry's row loop starts at 1 (translated from 1-based pseudocode)",
     [("change", "for j in range(n_h):", "range(n_h)", "range(1, n_h)")],
     VANILLA_HID, False, False),
    ("v_rows", "tanh_twice", "deriv",
     "tanh' computed from tanh(h) (tanh applied to the state a second time)",
     [("change", "da = dh * (1.0 - hs[t + 1] ** 2)", "hs[t + 1] ** 2",
       "np.tanh(hs[t + 1]) ** 2")],
     VANILLA_HID, False, False),
    ("v_rows", "dc_missing", "missing",
     "the output bias's row update is left out",
     [("delete", "dc[i, 0] += do[i]")],
     ["by"], False, False),
    # ---- v_gen: generator tape, popped
    ("v_gen", "pop_front", "step",
     "the output errors are popped from the front (dys.pop(0)): each step gets the "
     "mirror step's error",
     [("change", "dy = dys.pop()", "pop()", "pop(0)")],
     ["Wxh", "Whh", "Why", "bh"], False, False),
    ("v_gen", "gby_rebound", "alias",
     "gby = gby + dy rebinds the name: the list returned with *grads keeps zeros",
     [("change", "gby += dy", "gby += dy", "gby = gby + dy")],
     ["by"], False, False),
    ("v_gen", "outer_swapped", "transpose",
     "dWhh's outer product has its factors swapped (h_prev draw.T, square, so no error)",
     [("change", "gWhh += np.matmul(draw, h_prev.T)", "np.matmul(draw, h_prev.T)",
       "np.matmul(h_prev, draw.T)")],
     ["Whh"], False, False),
    ("v_gen", "carry_accumulated", "carry",
     "dh_next accumulated (+=) instead of replaced",
     [("change", "dh_next = np.matmul(Whh.T, draw)", "dh_next =", "dh_next +=")],
     VANILLA_HID, False, False),
    ("v_gen", "dWhy_h_prev", "step",
     "dWhy pairs the output error with h_prev instead of h",
     [("change", "gWhy += np.matmul(dy, h.T)", "h.T", "h_prev.T")],
     ["Why"], False, False),
    ("v_gen", "generator_no_advance", "forward",
     "the generator never advances its state: every step starts from hprev",
     [("delete", "        h = h_new")],
     VANILLA_ALL, True, True),
    ("v_gen", "logp_as_p", "output",
     "the output error starts from the log-probabilities instead of exp(logp)",
     [("change", "dy = np.exp(logp)", "np.exp(logp)", "logp.copy()")],
     VANILLA_ALL, False, False),
    # ---- lstm_einsum
    ("lstm_einsum", "cell_carry_dropped", "carry",
     "the cell state's carried gradient dc_next is never added to dc",
     [("change", "dc = dh * o * (1 - tc ** 2) + dc_next", " + dc_next", "")],
     LSTM_GATES, False, False),
    ("lstm_einsum", "df_stale_c", "scope",
     "df uses c, the forward loop's last cell state, instead of the cached c_prev",
     [("change", "df = dc * c_prev * f * (1 - f)", "c_prev", "c")],
     LSTM_GATES, False, False),
    ("lstm_einsum", "dz_no_candidate", "missing",
     "the candidate's term Wc.T dg is left out of dz",
     [("delete", 'dz += np.einsum("ji,j->i", Wc, dg)')],
     LSTM_GATES, False, False),
    ("lstm_einsum", "h_part_from_end", "slice",
     "the carried h gradient is cut from the end of dz (dz[-n:]) instead of the start",
     [("change", "dh_next = dz[:n]", "dz[:n]", "dz[-n:]")],
     LSTM_GATES, False, False),
    ("lstm_einsum", "cell_carry_sigmoid_prime", "gate",
     "the cell carry is multiplied by f's sigmoid' as well as by f",
     [("change", "dc_next = dc * f", "dc * f", "dc * f * (1 - f)")],
     LSTM_GATES, False, False),
    ("lstm_einsum", "dWhy_stale_h", "scope",
     "dWhy uses h, the forward loop's last state, instead of the cached h_t",
     [("change", 'dWhy += np.einsum("i,j->ij", dy, h_t)', "h_t)", "h)")],
     ["Why"], False, False),
    # ---- lstm_tape
    ("lstm_tape", "recompute_all_sigmoid", "recompute",
     "the backward pass recomputes every gate with sigmoid, the candidate too",
     [("change", 'f, i, g, o = (GATES[k](tp.a[k]) for k in "fico")', "GATES[k](",
       "sig(")],
     LSTM_GATES, False, False),
    ("lstm_tape", "unpack_order", "gate",
     "the gates are recomputed in the order f, c, i, o but unpacked as f, i, g, o",
     [("change", 'f, i, g, o = (GATES[k](tp.a[k]) for k in "fico")', '"fico")',
       '"fcio")')],
     LSTM_GATES, False, False),
    ("lstm_tape", "h_t_without_tanh", "recompute",
     "the recomputed h_t is o * c instead of o * tanh(c)",
     [("change", "h_t = o * tc", "o * tc", "o * tp.c")],
     ["Why"], False, False),
    ("lstm_tape", "do_from_dc", "gate",
     "the output gate's gradient starts from dc instead of dh",
     [("change", '"o": dh * tc * o * (1.0 - o)}', '"o": dh', '"o": dc')],
     LSTM_GATES, False, False),
    ("lstm_tape", "tc_from_c_prev", "step",
     "tanh(c) recomputed from the previous cell state",
     [("change", "tc = np.tanh(tp.c)", "tp.c)", "tp.c_prev)")],
     LSTM_GATES + ["Why"], False, False),
    ("lstm_tape", "tape_c_prev_new", "step",
     "the tape records the new cell state as c_prev",
     [("change", "tapes.append(Tape(z, a, c, c_new, probs, tg))", "a, c, c_new",
       "a, c_new, c_new")],
     LSTM_GATES, False, False),
    # ---- gru_stack
    ("gru_stack", "no_direct_path", "carry",
     "the direct path dh * u is left out of the carried gradient",
     [("change", "dh = dh * u + dzn[:H] * r", "dh * u + ", "")],
     GRU_GATES, False, False),
    ("gru_stack", "update_rows_only", "slice",
     "the gate rows' path into h_{t-1} takes only the update gate's rows (W[:H], da[:H])",
     [("change", "W[:2 * H, :H].T @ da[:2 * H]", "W[:2 * H, :H].T @ da[:2 * H]",
       "W[:H, :H].T @ da[:H]")],
     GRU_GATES, False, False),
    ("gru_stack", "du_sign", "sign",
     "the update gate's gradient uses n - h_{t-1} (the other convention's sign)",
     [("change", "du = dh * (hs[t] - n)", "(hs[t] - n)", "(n - hs[t])")],
     GRU_GATES, False, False),
    ("gru_stack", "dWn_without_r", "variable",
     "dWn pairs dn with [h; x] instead of [r * h; x]",
     [("change", "dW[2 * H:] += np.outer(dn, np.concatenate([r * hs[t], xs[t]]))",
       "np.concatenate([r * hs[t], xs[t]])", "zt")],
     ["Wn"], False, False),
    ("gru_stack", "dr_new_state", "step",
     "the reset gate's gradient multiplies by the new state hs[t + 1]",
     [("change", "dr = dzn[:H] * hs[t] * r", "hs[t] * r", "hs[t + 1] * r")],
     GRU_GATES, False, False),
    ("gru_stack", "split_order", "gate",
     "the stacked gradient is split back as r, z, n instead of z, r, n",
     [("change", "dWz, dWr, dWn = np.split(dW, 3)", "dWz, dWr,", "dWr, dWz,")],
     ["Wz", "Wr"], False, False),
    ("gru_stack", "dn_u", "gate",
     "the candidate's gradient is weighted by u instead of 1 - u",
     [("change", "dn = dh * (1.0 - u) * (1.0 - n ** 2)", "(1.0 - u) *", "u *")],
     GRU_GATES, False, False),
    ("gru_stack", "db_assign", "assign",
     "the stacked bias gradient is assigned (db = da), keeping only step 0's",
     [("change", "db += da", "db += da", "db = da")],
     ["bz", "br", "bn"], False, False),
    # ---- gru_trainer
    ("gru_trainer", "no_reset_term", "missing",
     "the reset gate's path into h_prev is left out of dh_prev",
     [("delete", "dh_prev += (self.Wr.T @ dr_raw)[:H]")],
     GRU_GATES, False, False),
    ("gru_trainer", "dr_without_h_prev", "gate",
     "the reset gate's gradient misses its factor h_prev",
     [("change", "dr_raw = dxrh[:H] * h_prev * r", "* h_prev * r", "* r")],
     GRU_GATES, False, False),
    ("gru_trainer", "h_t_from_own_cache", "step",
     "the output layer's state read from step t's own cache (h_{t-1}) instead of the next",
     [("change", "h_t = caches[t + 1][5] if", "caches[t + 1][5]", "caches[t][5]")],
     ["Why"], False, False),
    ("gru_trainer", "dWh_with_xh", "variable",
     "the candidate's weight gradient pairs with [h; x] instead of [r * h; x]",
     [("change", '"Wh": dhc_raw @ xrh.T', "xrh.T", "xh.T")],
     ["Wn"], False, False),
    ("gru_trainer", "step_grads_assigned", "assign",
     "each step's gate gradients replace the totals (= for +=)",
     [("change", "grads[name] += val", "+=", "=")],
     GRU_GATES, False, False),
    ("gru_trainer", "carry_dropped", "carry",
     "the carried dh_next is not passed into the step's backward call",
     [("change", "self._backward_step(self.Wy.T @ dy + dh_next,", " + dh_next", "")],
     GRU_GATES, False, False),
    # ---- two edits
    ("v_cols", "two_carry_dWhy", "two",
     "the carry through Whh instead of Whh.T; dWhy with the states before each step",
     [("change", "dWhy = G.dot(H[:, 1:].T)", "H[:, 1:]", "H[:, :-1]"),
      ("change", "carry = Whh.T.dot(Draw[:, t])", "Whh.T.dot", "Whh.dot")],
     VANILLA_HID + ["Why"], False, False),
    ("v_gen", "two_pop_rebound", "two",
     "output errors popped from the front; gby rebound",
     [("change", "gby += dy", "gby += dy", "gby = gby + dy"),
      ("change", "dy = dys.pop()", "pop()", "pop(0)")],
     VANILLA_ALL, False, False),
    ("gru_stack", "two_split_sign", "two",
     "the stacked gradient split as r, z, n; the update gate's sign flipped",
     [("change", "du = dh * (hs[t] - n)", "(hs[t] - n)", "(n - hs[t])"),
      ("change", "dWz, dWr, dWn = np.split(dW, 3)", "dWz, dWr,", "dWr, dWz,")],
     GRU_GATES, False, False),
]


def code_lines(text: str) -> list[str]:
    return text.splitlines()


def locate(lines: list[str], anchor: str) -> int:
    hits = [k for k, ln in enumerate(lines) if anchor in ln]
    if len(hits) != 1:
        raise SystemExit(f"anchor {anchor!r} is in {len(hits)} lines, expected 1")
    return hits[0]


def apply_one(lines: list[str], edit: tuple[str, ...]) -> tuple[list[str], dict[str, Any]]:
    """The base's lines with one edit, and the manifest's record of it."""
    op, anchor = edit[0], edit[1]
    k = locate(lines, anchor)
    out = list(lines)
    if op == "change":
        old, new = edit[2], edit[3]
        if lines[k].count(old) != 1:
            raise SystemExit(f"{old!r} occurs {lines[k].count(old)} times in {lines[k]!r}")
        out[k] = lines[k].replace(old, new)
        rec = {"kind": "change", "line": k + 1, "original": lines[k], "buggy": out[k]}
    elif op == "delete":
        del out[k]
        rec = {"kind": "delete", "line": k + 1, "original": lines[k], "buggy": None}
    elif op == "insert":
        out.insert(k + 1, edit[2])
        rec = {"kind": "insert", "line": k + 2, "original": None, "buggy": edit[2]}
    else:
        raise SystemExit(f"unknown edit {op}")
    return out, rec


def apply_all(lines: list[str], edits: list[tuple[str, ...]]
              ) -> tuple[list[str], list[dict[str, Any]]]:
    """All edits (independent, on different lines), applied from the bottom up."""
    recs = [apply_one(lines, e)[1] for e in edits]
    order = sorted(range(len(edits)), key=lambda j: locate(lines, edits[j][1]), reverse=True)
    out = list(lines)
    for j in order:
        out = apply_one(out, edits[j])[0]
    recs.sort(key=lambda r: r["line"])
    return out, recs


def entry(file: str, base: str, expect: str, meta: dict[str, Any]) -> dict[str, Any]:
    e: dict[str, Any] = {"file": f"corpus/{file}", "base": f"corpus/{base}_ok.py",
                         "expect": expect}
    e.update(meta)
    info = BASES[base]
    e.update({k: info[k] for k in ("target", "cell", "form", "returns", "flags")})
    if "names" in info:
        e["names"] = info["names"]
    e["style"] = info["style"]
    return e


def build() -> tuple[dict[str, Any], dict[str, str]]:
    """The manifest and the text of every buggy file."""
    files: list[dict[str, Any]] = []
    texts: dict[str, str] = {}
    for base in BASES:
        files.append(entry(f"{base}_ok.py", base, "ok", {
            "description": None, "edit": None, "wrong": [], "loss_wrong": False,
            "hlast_wrong": False}))
    for base, slug, kind, desc, edits, wrong, loss_wrong, hlast_wrong in BUGS:
        lines = code_lines((CORPUS / f"{base}_ok.py").read_text())
        out, recs = apply_all(lines, edits)
        name = f"{base}_bug_{slug}.py"
        texts[name] = "\n".join(out) + "\n"
        meta: dict[str, Any] = {"description": desc, "kind": kind}
        if len(edits) == 1:
            meta["edit"] = recs[0]
            expect = "bug"
        else:
            meta["edits"] = recs
            expect = "bug2"
        meta.update({"wrong": wrong, "loss_wrong": loss_wrong, "hlast_wrong": hlast_wrong})
        files.append(entry(name, base, expect, meta))
    return {"about": ABOUT, "files": files}, texts


def main() -> None:
    manifest, texts = build()
    for old in CORPUS.glob("*_bug_*.py"):
        if old.name not in texts:
            old.unlink()
    for name, text in texts.items():
        (CORPUS / name).write_text(text)
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(texts)} buggy files, {len(manifest['files'])} manifest entries")


if __name__ == "__main__":
    main()
