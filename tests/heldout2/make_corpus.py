"""Write the buggy variants of tests/heldout2/corpus/*_ok.py and manifest.json.

Each bug is one edit of one correct file: a line changed, inserted or deleted. The
correct files are written by hand; this script only applies the edits listed below and
records them, so that the manifest and the files cannot drift apart.

Run from anywhere: python tests/heldout2/make_corpus.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"

VANILLA = ["Wxh", "Whh", "Why", "bh", "by"]
LSTM = ["Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo", "Why", "by"]
GRU = ["Wz", "Wr", "Wn", "bz", "br", "bn", "Why", "by"]
HIDDEN = ["Wxh", "Whh", "bh"]
LSTM_GATES = LSTM[:8]
GRU_GATES = GRU[:6]

# How each correct file is called (used by validate.py, and the bpttcheck target).
BASES: dict[str, dict[str, object]] = {
    "v_py2script_ok.py": {"target": "lossFun", "cell": "vanilla", "form": "globals",
                          "style": "Python 2 script (print statements, xrange in other "
                                   "functions), module globals"},
    "v_class_ok.py": {"target": "CharRNN.lossFun", "cell": "vanilla", "form": "class",
                      "style": "class with self.* weights, @ operator, grads in a dict"},
    "v_uvw_ok.py": {"target": "forward_backward", "cell": "vanilla", "form": "args",
                    "names": {"Wxh": "U", "Whh": "W", "Why": "V", "bh": "b", "by": "c"},
                    "style": "Goodfellow U/W/V/b/c weights as arguments, 1-D states as "
                             "rows of one array, np.outer"},
    "v_dict_ok.py": {"target": "loss_and_gradients", "cell": "vanilla", "form": "dict",
                     "returns": "dict",
                     "style": "explicit params dict in, grads dict out, states in a list "
                              "offset by one"},
    "v_vectorised_ok.py": {"target": "lossFun", "cell": "vanilla", "form": "globals",
                           "style": "one-hot matrices, one column per step, weight "
                                    "gradients as one matrix product after the loop"},
    "v_helpers_ok.py": {"target": "lossFun", "cell": "vanilla", "form": "args",
                        "style": "helper functions (softmax, tanh_backward, "
                                 "linear_backward) in the same file, weights as arguments"},
    "v_float32_ok.py": {"target": "lossFun", "cell": "vanilla", "form": "globals",
                        "style": "float32 throughout, module globals"},
    "v_commented_ok.py": {"target": "lossFun", "cell": "vanilla", "form": "globals",
                          "style": "long comments, odd spacing, semicolons, backslash "
                                   "continuations, a while loop, states in a list"},
    "lstm_globals_ok.py": {"target": "lossFun", "cell": "lstm", "form": "globals",
                           "style": "min-char-rnn LSTM, module globals, one dict per gate"},
    "lstm_class_ok.py": {"target": "LSTM.lossFun", "cell": "lstm", "form": "class",
                         "style": "class, the four gates stacked into one matrix inside "
                                  "the method"},
    "gru_globals_ok.py": {"target": "lossFun", "cell": "gru", "form": "globals",
                          "style": "min-char-rnn GRU, module globals"},
    "gru_class_ok.py": {"target": "GRU.lossFun", "cell": "gru", "form": "class",
                        "style": "class, gate matrices split into hidden and input "
                                 "columns, a cache list walked in reverse"},
}

# (base, name, kind, anchor, new, description, wrong, loss_wrong, hlast_wrong)
# kind "change": the line whose stripped text is `anchor` becomes `new` (same indent).
# kind "insert": `new` (given with its indent) goes after the line stripped == anchor.
# kind "delete": the line whose stripped text is `anchor` is removed.
BUGS: list[tuple[str, str, str, str, str | None, str, list[str], bool, bool]] = [
    # ---- v_py2script_ok.py
    ("v_py2script_ok.py", "nocarry", "change",
     "dh = np.dot(Why.T, dy) + dhnext", "dh = np.dot(Why.T, dy)",
     "dhnext is computed but never added to dh: no gradient flows back in time",
     HIDDEN, False, False),
    ("v_py2script_ok.py", "tanh_one_minus_h", "change",
     "dhraw = (1 - hs[t] * hs[t]) * dh", "dhraw = (1 - hs[t]) * dh",
     "tanh derivative written 1 - h instead of 1 - h^2",
     HIDDEN, False, False),
    ("v_py2script_ok.py", "whh_hs_t", "change",
     "dWhh += np.dot(dhraw, hs[t-1].T)", "dWhh += np.dot(dhraw, hs[t].T)",
     "dWhh uses hs[t] instead of hs[t-1] (off by one step)",
     ["Whh"], False, False),
    ("v_py2script_ok.py", "carry_no_transpose", "change",
     "dhnext = np.dot(Whh.T, dhraw)", "dhnext = np.dot(Whh, dhraw)",
     "dhnext multiplies by Whh instead of Whh.T",
     HIDDEN, False, False),
    ("v_py2script_ok.py", "grads_mean", "insert",
     "dhnext = np.dot(Whh.T, dhraw)",
     "  for dparam in [dWxh, dWhh, dWhy, dbh, dby]: dparam /= len(inputs)",
     "every gradient divided by T after the loop while the loss stays summed",
     VANILLA, False, False),
    # ---- v_class_ok.py
    ("v_class_ok.py", "why_assign", "change",
     'grads["Why"] += dy @ h[t].T', 'grads["Why"] = dy @ h[t].T',
     "dWhy assigned (=) instead of accumulated (+=): only step 0's term survives",
     ["Why"], False, False),
    ("v_class_ok.py", "forward_loop", "change",
     "for t in range(len(inputs) - 1, -1, -1):", "for t in range(len(inputs)):",
     "backward loop runs forward in time, so dh_next carries the past, not the future",
     HIDDEN, False, False),
    ("v_class_ok.py", "dy_inputs", "change",
     "dy[targets[t]] -= 1.0", "dy[inputs[t]] -= 1.0",
     "softmax gradient subtracts 1 at the input character instead of the target",
     VANILLA, False, False),
    ("v_class_ok.py", "loss_mean", "change",
     "loss -= np.log(p[t][j, 0])", "loss -= np.log(p[t][j, 0]) / len(inputs)",
     "loss averaged over T while the gradients are of the summed loss",
     [], True, False),
    # ---- v_uvw_ok.py
    ("v_uvw_ok.py", "du_targets", "change",
     "dU[:, x[t]] += delta", "dU[:, y[t]] += delta",
     "dU accumulated into the target's column instead of the input's",
     ["Wxh"], False, False),
    ("v_uvw_ok.py", "dw_outer_swapped", "change",
     "dW += np.outer(delta, s[t - 1])", "dW += np.outer(s[t - 1], delta)",
     "dW is the transposed outer product",
     ["Whh"], False, False),
    ("v_uvw_ok.py", "tanh_prev_state", "change",
     "delta = (V.T.dot(delta_o[t]) + carry) * (1 - s[t] ** 2)",
     "delta = (V.T.dot(delta_o[t]) + carry) * (1 - s[t - 1] ** 2)",
     "tanh derivative taken at the previous state s[t-1]",
     HIDDEN, False, False),
    ("v_uvw_ok.py", "carry_double_tanh", "change",
     "carry = W.T.dot(delta)", "carry = W.T.dot(delta) * (1 - s[t - 1] ** 2)",
     "tanh derivative applied to the carry as well, so it counts twice for every "
     "step but the last",
     HIDDEN, False, False),
    ("v_uvw_ok.py", "dc_summed", "change",
     "dc[:, 0] += delta_o[t]", "dc[:, 0] += delta_o[t].sum()",
     "output bias gradient summed over the vocabulary (a scalar broadcast)",
     ["by"], False, False),
    # ---- v_dict_ok.py
    ("v_dict_ok.py", "whh_offset", "change",
     'grads["dWhh"] += dpre.dot(hs[t].T)', 'grads["dWhh"] += dpre.dot(hs[t + 1].T)',
     "dWhh uses the state after step t (the list is offset by one)",
     ["Whh"], False, False),
    ("v_dict_ok.py", "carry_skips_tanh", "change",
     "dh_future = Whh.T.dot(dpre)", "dh_future = Whh.T.dot(dh)",
     "the carry is taken from dh, before the tanh derivative",
     HIDDEN, False, False),
    ("v_dict_ok.py", "dy_plus", "change",
     "dlogits[targets[t]] -= 1", "dlogits[targets[t]] += 1",
     "sign error in the softmax gradient: +1 at the target",
     VANILLA, False, False),
    ("v_dict_ok.py", "clip_one", "insert",
     "dh_future = Whh.T.dot(dpre)",
     "    grads = {k: np.clip(g, -1, 1) for k, g in grads.items()}",
     "stray clipping of every gradient to [-1, 1] after the loop (changes only the "
     "elements beyond 1 in size: all five parameters at validate.py's points, likely "
     "only by at small weights such as bpttcheck's default 0.01)",
     VANILLA, False, False),
    # ---- v_vectorised_ok.py
    ("v_vectorised_ok.py", "dby_last", "change",
     "dby = dZ.sum(axis=1, keepdims=True)", "dby = dZ[:, -1:]",
     "output bias gradient takes only the last column instead of summing over steps",
     ["by"], False, False),
    ("v_vectorised_ok.py", "whh_cols", "change",
     "dWhh = dA @ H[:, :-1].T", "dWhh = dA @ H[:, 1:].T",
     "dWhh pairs step t with h_t instead of h_{t-1} (wrong column slice)",
     ["Whh"], False, False),
    ("v_vectorised_ok.py", "carry_no_transpose", "change",
     "carry = Whh.T @ dA[:, t:t + 1]", "carry = Whh @ dA[:, t:t + 1]",
     "carry multiplies by Whh instead of Whh.T",
     HIDDEN, False, False),
    ("v_vectorised_ok.py", "softmax_twice", "change",
     "dZ = P - Y", "dZ = (P - Y) * (1 - P)",
     "softmax gradient multiplied by (1 - P) once more",
     VANILLA, False, False),
    ("v_vectorised_ok.py", "skip_last_step", "change",
     "for t in reversed(range(T)):", "for t in reversed(range(T - 1)):",
     "backward loop skips the last step, so its dA column stays zero",
     HIDDEN, False, False),
    # ---- v_helpers_ok.py
    ("v_helpers_ok.py", "tanh_of_output", "change",
     "return dout * (1.0 - out * out)", "return dout * (1.0 - np.tanh(out) ** 2)",
     "tanh_backward applies tanh again to the output it is given",
     HIDDEN, False, False),
    ("v_helpers_ok.py", "ce_backward_minus_one", "change",
     "d[target, 0] -= 1.0", "d[target, 0] = -1.0",
     "softmax_cross_entropy_backward sets the target entry to -1 instead of p - 1",
     VANILLA, False, False),
    ("v_helpers_ok.py", "forward_no_by", "change",
     "ps[t] = softmax(Why @ hs[t] + by)", "ps[t] = softmax(Why @ hs[t])",
     "forward pass drops the output bias: loss and every gradient are those of another "
     "model",
     VANILLA, True, False),
    ("v_helpers_ok.py", "dbh_before_tanh", "change",
     "dbh += dhraw", "dbh += dh + dhnext",
     "hidden bias gradient taken before the tanh derivative",
     ["bh"], False, False),
    # ---- v_float32_ok.py
    ("v_float32_ok.py", "no_carry_update", "delete",
     "dhnext = W_hh.T @ dhraw", None,
     "the line updating dhnext is missing, so it stays zero",
     HIDDEN, False, False),
    ("v_float32_ok.py", "hprev_ignored", "change",
     "hs[-1] = np.array(hprev, dtype=DTYPE)", "hs[-1] = np.zeros_like(hprev, dtype=DTYPE)",
     "hprev ignored: the sequence starts from a zero state",
     VANILLA, True, True),
    ("v_float32_ok.py", "why_prev_state", "change",
     "dWhy += dy @ hs[t].T", "dWhy += dy @ hs[t - 1].T",
     "dWhy uses hs[t-1] instead of hs[t]",
     ["Why"], False, False),
    # ---- v_commented_ok.py
    ("v_commented_ok.py", "wxh_dh", "change",
     "dWxh += np.dot( dhraw , onehots[ t ].T )", "dWxh += np.dot( dh , onehots[ t ].T )",
     "dWxh uses dh instead of dhraw (tanh derivative left out of one line)",
     ["Wxh"], False, False),
    ("v_commented_ok.py", "carry_accumulates", "change",
     "dhnext = np.dot( Whh.T , dhraw )            # hand it to step t-1",
     "dhnext += np.dot( Whh.T , dhraw )           # hand it to step t-1",
     "dhnext accumulated (+=) instead of assigned: old carries are never dropped",
     HIDDEN, False, False),
    ("v_commented_ok.py", "start_t_minus_2", "change",
     "t = T - 1", "t = T - 2",
     "the backward walk starts one step too early: the last step contributes nothing",
     VANILLA, False, False),
    ("v_commented_ok.py", "no_dby", "delete",
     "dby += dy", None,
     "the output bias gradient is never accumulated (stays zero)",
     ["by"], False, False),
    # ---- lstm_globals_ok.py
    ("lstm_globals_ok.py", "dc_not_carried", "change",
     "dc = dh * ogs[t] * (1 - tc * tc) + dcnext", "dc = dh * ogs[t] * (1 - tc * tc)",
     "dc is not carried to step t-1 (dcnext never added)",
     LSTM_GATES, False, False),
    ("lstm_globals_ok.py", "df_wrong_state", "change",
     "df = dc * cs[t-1]", "df = dc * cs[t]",
     "forget gate derivative taken against c_t instead of c_{t-1}",
     LSTM_GATES, False, False),
    ("lstm_globals_ok.py", "dbo_before_sigmoid", "change",
     "dbo += doraw", "dbo += do",
     "output gate bias gradient taken before the sigmoid derivative",
     ["bo"], False, False),
    ("lstm_globals_ok.py", "di_uses_f", "change",
     "diraw = di * igs[t] * (1 - igs[t])", "diraw = di * fs[t] * (1 - fs[t])",
     "input gate sigmoid derivative computed from the forget gate",
     LSTM_GATES, False, False),
    # ---- lstm_class_ok.py
    ("lstm_class_ok.py", "no_tanh_prime_c", "change",
     "dc = dc_next + dh * o * (1.0 - tanh_c ** 2)", "dc = dc_next + dh * o",
     "tanh'(c) missing in the path from h to c",
     LSTM_GATES, False, False),
    ("lstm_class_ok.py", "o_on_c", "change",
     "dh * tanh_c * o * (1.0 - o),", "dh * c[t] * o * (1.0 - o),",
     "output gate gradient uses c instead of tanh(c)",
     LSTM_GATES, False, False),
    ("lstm_class_ok.py", "dc_next_no_f", "change",
     "dc_next = dc * f", "dc_next = dc",
     "dc carried to step t-1 without the forget gate factor",
     LSTM_GATES, False, False),
    ("lstm_class_ok.py", "split_order", "change",
     "dWf, dWi, dWc, dWo = np.split(dW, 4)", "dWi, dWf, dWc, dWo = np.split(dW, 4)",
     "the stacked gradient is split in the wrong order: dWf and dWi swapped",
     ["Wf", "Wi"], False, False),
    # ---- gru_globals_ok.py
    ("gru_globals_ok.py", "one_minus_u_flipped", "change",
     "dn = dh * (1 - us[t])", "dn = dh * us[t]",
     "candidate gradient uses u instead of (1 - u)",
     GRU_GATES, False, False),
    ("gru_globals_ok.py", "no_direct_path", "change",
     "dhnext = dh * us[t] + drh * rs[t] + dz[:hidden_size]",
     "dhnext = drh * rs[t] + dz[:hidden_size]",
     "dhnext misses the direct path u * dh through h_t = u * h_{t-1} + ...",
     GRU_GATES, False, False),
    ("gru_globals_ok.py", "dbr_before_sigmoid", "change",
     "dbr += drraw", "dbr += dr",
     "reset gate bias gradient taken before the sigmoid derivative",
     ["br"], False, False),
    ("gru_globals_ok.py", "dwn_no_reset", "change",
     "dWn += dnraw @ rhs[t].T", "dWn += dnraw @ zs[t].T",
     "dWn uses [h_{t-1}; x] instead of [r * h_{t-1}; x]",
     ["Wn"], False, False),
    # ---- gru_class_ok.py
    ("gru_class_ok.py", "du_sign", "change",
     "du_pre = dh * (h_prev - n) * u * (1.0 - u)",
     "du_pre = dh * (n - h_prev) * u * (1.0 - u)",
     "update gate gradient has the wrong sign (n - h_prev)",
     GRU_GATES, False, False),
    ("gru_class_ok.py", "dr_wrong_state", "change",
     "dr_pre = d_rh * h_prev * r * (1.0 - r)", "dr_pre = d_rh * h_t * r * (1.0 - r)",
     "reset gate derivative taken against h_t instead of h_{t-1}",
     GRU_GATES, False, False),
    ("gru_class_ok.py", "carry_no_r", "change",
     "dh_next = dh * u + d_rh * r + Uz.T @ du_pre + Ur.T @ dr_pre",
     "dh_next = dh * u + d_rh + Uz.T @ du_pre + Ur.T @ dr_pre",
     "the path through the candidate is carried without the reset gate factor",
     GRU_GATES, False, False),
    ("gru_class_ok.py", "wz_input_col", "change",
     "grads[\"Wz\"][:, H + ix] += du_pre[:, 0]", "grads[\"Wz\"][:, ix] += du_pre[:, 0]",
     "dWz's input part is written into the hidden columns (index ix, not H + ix)",
     ["Wz"], False, False),
]


def _find(lines: list[str], anchor: str, where: str) -> int:
    hits = [i for i, line in enumerate(lines) if line.strip() == anchor]
    if len(hits) != 1:
        raise SystemExit(f"{where}: anchor {anchor!r} found {len(hits)} times, expected 1")
    return hits[0]


def build() -> list[dict[str, object]]:
    entries: list[dict[str, object]] = []
    params = {"vanilla": VANILLA, "lstm": LSTM, "gru": GRU}
    for base, info in BASES.items():
        entry = {"file": f"corpus/{base}", "base": f"corpus/{base}", "expect": "ok",
                 "flags": [], "description": None, "edit": None, "wrong": [],
                 "loss_wrong": False, "hlast_wrong": False, **info}
        entries.append(entry)
    for base, name, kind, anchor, new, desc, wrong, loss_wrong, hlast_wrong in BUGS:
        info = BASES[base]
        lines = (CORPUS / base).read_text().splitlines(keepends=True)
        where = f"{base} -> {name}"
        i = _find(lines, anchor, where)
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
        if kind == "change":
            assert new is not None
            original, buggy = lines[i].rstrip("\n"), indent + new
            lines[i] = buggy + "\n"
            line = i + 1
        elif kind == "insert":
            assert new is not None
            original, buggy = None, new
            lines.insert(i + 1, new + "\n")
            line = i + 2
        elif kind == "delete":
            original, buggy = lines[i].rstrip("\n"), None
            del lines[i]
            line = i + 1
        else:
            raise SystemExit(f"{where}: unknown edit kind {kind}")
        unknown = set(wrong) - set(params[str(info["cell"])])
        if unknown:
            raise SystemExit(f"{where}: unknown parameters {sorted(unknown)}")
        fname = base.replace("_ok.py", f"_bug_{name}.py")
        (CORPUS / fname).write_text("".join(lines))
        entries.append({
            "file": f"corpus/{fname}", "base": f"corpus/{base}", "expect": "bug",
            "flags": [], "description": desc,
            "edit": {"kind": kind, "line": line, "original": original, "buggy": buggy},
            "wrong": wrong, "loss_wrong": loss_wrong, "hlast_wrong": hlast_wrong,
            **info,
        })
    return entries


def main() -> None:
    entries = build()
    manifest = {
        "about": "Held-out hand-written RNN backward passes (branch heldout2). Paths are "
                 "relative to tests/heldout2/. 'wrong' uses bpttcheck's parameter names; "
                 "'edit.line' is 1-based: for change/delete the line in the correct file "
                 "(base), for insert the inserted line in the buggy file.",
        "files": entries,
    }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    n_bug = sum(e["expect"] == "bug" for e in entries)
    print(f"wrote {len(entries)} entries ({n_bug} bugs) to {HERE / 'manifest.json'}")


if __name__ == "__main__":
    main()
