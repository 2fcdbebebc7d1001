"""Write the buggy variants of tests/heldout3/corpus/*_ok.* and manifest.json.

The correct files are written by hand; this script applies the edits listed below and
records them, so that the manifest and the files cannot drift apart. A "bug" file is one
edit of its base (a line changed, inserted or deleted); a "bug2" file is two independent
edits of its base. In a notebook the edit is made inside the code cell holding the anchor.

Run from anywhere: python tests/heldout3/make_corpus.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"

VANILLA = ["Wxh", "Whh", "Why", "bh", "by"]
LSTM = ["Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo", "Why", "by"]
GRU = ["Wz", "Wr", "Wn", "bz", "br", "bn", "Why", "by"]
HIDDEN = ["Wxh", "Whh", "bh"]
LSTM_GATES = LSTM[:8]
GRU_GATES = GRU[:6]

# How each correct file is called (by validate.py and by bpttcheck).
BASES: dict[str, dict[str, Any]] = {
    "v_cache_ok.py": {
        "target": "rnn_loss", "cell": "vanilla", "form": "args",
        "style": "weights as arguments; the forward pushes one tuple per step on a list "
                 "and a backward helper pops them (a `while cache:` loop), `@`"},
    "v_steps_ok.py": {
        "target": "lossFun", "cell": "vanilla", "form": "globals",
        "style": "module globals; step_forward / step_backward helpers called per step, "
                 "gradient buffers in a list updated in place, index arithmetic "
                 "t = T - 1 - i"},
    "v_prealloc_ok.py": {
        "target": "loss_and_grads", "cell": "vanilla", "form": "dict", "returns": "dict",
        "style": "explicit params dict unpacked at the top, 1-D vectors, preallocated 2-D "
                 "state array with an offset row, log-sum-exp loss, output layer "
                 "vectorised over steps, grads dict keyed Wxh"},
    "v_while_ok.py": {
        "target": "Elman.loss_and_grad", "cell": "vanilla", "form": "class",
        "style": "class, np.matmul, pre-activations stored and tanh' from them, a "
                 "`while t > 0` backward loop, clipping to [-10, 10] at the end, training "
                 "loop under `if __name__ == \"__main__\":`"},
    "v_einsum_ok.py": {
        "target": "lossFun", "cell": "vanilla", "form": "globals",
        "style": "module globals, np.einsum for every product, 1-D vectors, log-softmax, "
                 "an unguarded training loop at module level reading input.txt"},
    "v_notebook_ok.ipynb": {
        "target": "lossFun", "cell": "vanilla", "form": "globals",
        "style": "Jupyter notebook: helpers (softmax, tanh' from the output, one-hot) in "
                 "one cell, the loss in another, magics; np.matmul, states in a dict "
                 "keyed by step with hprev for step 0"},
    "v_methods_ok.py": {
        "target": "TinyRNN.loss", "cell": "vanilla", "form": "class",
        "style": "class whose forward() and backward() keep lists on the instance, an "
                 "in-place state buffer (np.tanh(..., out=h)) copied per step, "
                 "W.dot(x), reversed(enumerate(zip(...))), loss summed after backward"},
    "lstm_steps_ok.py": {
        "target": "lstm_loss", "cell": "lstm", "form": "args",
        "style": "LSTM, weights as arguments, lstm_step / lstm_step_back helpers with a "
                 "cache tuple, sigmoid via tanh, gate gradients in lists"},
    "gru_rows_ok.py": {
        "target": "gru_loss", "cell": "gru", "form": "dict", "returns": "dict",
        "style": "GRU, explicit params dict, 1-D states as rows of preallocated arrays, "
                 "np.outer, grads dict keyed dWz"},
}


class Edit(NamedTuple):
    """kind "change": the line whose stripped text is `anchor` becomes `new` (same
    indent); "insert": `new` (with its indent) goes after the line stripped == anchor;
    "delete": the line stripped == anchor is removed."""

    kind: str
    anchor: str
    new: str | None = None


class Bug(NamedTuple):
    base: str
    name: str
    edits: list[Edit]
    description: str
    wrong: list[str]
    loss_wrong: bool = False
    hlast_wrong: bool = False


def C(anchor: str, new: str) -> Edit:
    return Edit("change", anchor, new)


def I(anchor: str, new: str) -> Edit:  # noqa: E743
    return Edit("insert", anchor, new)


def D(anchor: str) -> Edit:
    return Edit("delete", anchor)


BUGS: list[Bug] = [
    # ---- v_cache_ok.py
    Bug("v_cache_ok.py", "pop_front",
        [C("x, h_prev, h, p, tgt = cache.pop()", "x, h_prev, h, p, tgt = cache.pop(0)")],
        "cache.pop(0) takes the first step first: the backward pass runs forwards in time",
        HIDDEN),
    Bug("v_cache_ok.py", "cache_h_twice",
        [C("cache.append((x, h_prev, h, p, tgt))", "cache.append((x, h, h, p, tgt))")],
        "the cache stores the new state where the previous one belongs, so dWhh uses h_t "
        "for h_{t-1}", ["Whh"]),
    Bug("v_cache_ok.py", "why_prev_state",
        [C("dWhy += d_logits @ h.T", "dWhy += d_logits @ h_prev.T")],
        "dWhy built from the previous step's state", ["Why"]),
    Bug("v_cache_ok.py", "dtanh_prev",
        [C("d_pre = g_h * (1.0 - h ** 2)", "d_pre = g_h * (1.0 - h_prev ** 2)")],
        "tanh derivative evaluated at the previous step's state", HIDDEN),
    Bug("v_cache_ok.py", "carry_before_tanh",
        [C("grad_next = Whh.T @ d_pre", "grad_next = Whh.T @ g_h")],
        "the carried gradient is taken before the tanh derivative (g_h, not d_pre)",
        HIDDEN),
    Bug("v_cache_ok.py", "forward_h0",
        [C("h = np.tanh(Wxh @ x + Whh @ h_prev + bh)", "h = np.tanh(Wxh @ x + Whh @ h0 + bh)")],
        "forward slip: every step's recurrence reads the initial state h0", VANILLA,
        loss_wrong=True, hlast_wrong=True),
    # ---- v_steps_ok.py
    Bug("v_steps_ok.py", "skip_first",
        [C("for i in range(T):", "for i in range(T - 1):")],
        "backward loop stops one step early: step 0 never contributes", VANILLA),
    Bug("v_steps_ok.py", "forward_index",
        [C("t = T - 1 - i", "t = i")],
        "index arithmetic dropped: the backward loop runs forwards", HIDDEN),
    Bug("v_steps_ok.py", "carry_discarded",
        [C("grad_next = step_backward(delta_y, grad_next, caches[t], grads)",
           "step_backward(delta_y, grad_next, caches[t], grads)")],
        "the gradient step_backward returns for h_prev is thrown away: nothing is carried",
        HIDDEN),
    Bug("v_steps_ok.py", "whh_outer_order",
        [C("gWhh += np.dot(g_a, h_prev.T)", "gWhh += np.dot(h_prev, g_a.T)")],
        "dWhh's outer product with its arguments swapped (the transpose)", ["Whh"]),
    Bug("v_steps_ok.py", "sigmoid_form",
        [C("g_a = (1 - h * h) * g_h", "g_a = h * (1 - h) * g_h")],
        "the sigmoid's derivative form h(1 - h) used for tanh", HIDDEN),
    Bug("v_steps_ok.py", "no_minus_one",
        [D("delta_y[targets[t], 0] -= 1")],
        "the -1 at the target is missing from the softmax gradient", VANILLA),
    # ---- v_prealloc_ok.py
    Bug("v_prealloc_ok.py", "dtanh_offset",
        [C("dpre = (1.0 - states[t + 1] ** 2) * dh", "dpre = (1.0 - states[t] ** 2) * dh")],
        "tanh derivative read from the offset array one row early (the previous state)",
        HIDDEN),
    Bug("v_prealloc_ok.py", "why_rows_offset",
        [C('g["Why"] = D.T @ states[1:]', 'g["Why"] = D.T @ states[:-1]')],
        "vectorised dWhy pairs each step's output error with the previous state",
        ["Why"]),
    Bug("v_prealloc_ok.py", "loss_sign",
        [C("loss += lse - logits[targets[t]]", "loss += logits[targets[t]] - lse")],
        "forward slip: the log-likelihood is summed instead of its negative", [],
        loss_wrong=True),
    Bug("v_prealloc_ok.py", "carry_row_vector",
        [C("dnext = Whh.T @ dpre", "dnext = dpre @ Whh.T")],
        "1-D product written dpre @ Whh.T, which is Whh @ dpre: the transpose is lost",
        HIDDEN),
    Bug("v_prealloc_ok.py", "by_before_minus",
        [C('g["by"][:, 0] = D.sum(axis=0)', 'g["by"][:, 0] = P.sum(axis=0)')],
        "output bias gradient summed from the probabilities before the -1 at the target",
        ["by"]),
    Bug("v_prealloc_ok.py", "reset_in_loop",
        [I("for t in reversed(range(n_steps)):", "        dnext = np.zeros(n_hidden)")],
        "the carried gradient is reset at the top of every step", HIDDEN),
    # ---- v_while_ok.py
    Bug("v_while_ok.py", "dtanh_preact",
        [C("delta = delta * (1 - np.tanh(acts[t]) ** 2)", "delta = delta * (1 - acts[t] ** 2)")],
        "tanh derivative evaluated at the pre-activation (1 - a^2, not 1 - tanh(a)^2)",
        HIDDEN),
    Bug("v_while_ok.py", "while_skip_first",
        [C("while t > 0:", "while t > 1:")],
        "the while loop stops before step 0", VANILLA),
    Bug("v_while_ok.py", "clip_one",
        [C("np.clip(g, -10, 10, out=g)", "np.clip(g, -1, 1, out=g)")],
        "clipping bound 1 instead of 10: changes the elements beyond 1 in size",
        VANILLA),
    Bug("v_while_ok.py", "dy_sign",
        [C("dy = ps[t] - self.one_hot(targets[t])", "dy = self.one_hot(targets[t]) - ps[t]")],
        "sign error: y - p instead of p - y", VANILLA),
    Bug("v_while_ok.py", "whh_next_state",
        [C("dWhh += np.matmul(delta, hs[t].T)", "dWhh += np.matmul(delta, hs[t + 1].T)")],
        "dWhh uses hs[t + 1] (h_t, the list starts with h0) instead of hs[t]", ["Whh"]),
    Bug("v_while_ok.py", "dbh_assign",
        [C("dbh += delta", "dbh = delta")],
        "dbh assigned instead of accumulated", ["bh"]),
    # ---- v_einsum_ok.py
    Bug("v_einsum_ok.py", "carry_einsum_no_T",
        [C('carry = np.einsum("ji,j->i", Whh, back)', 'carry = np.einsum("ij,j->i", Whh, back)')],
        "einsum subscripts of the carry are Whh's, not Whh.T's", HIDDEN),
    Bug("v_einsum_ok.py", "whh_outer_ji",
        [C('dWhh += np.einsum("i,j->ij", back, h[t])', 'dWhh += np.einsum("i,j->ji", back, h[t])')],
        "dWhh's einsum writes the transposed outer product", ["Whh"]),
    Bug("v_einsum_ok.py", "wxh_prev_input",
        [C('dWxh += np.einsum("i,j->ij", back, onehots[t])',
           'dWxh += np.einsum("i,j->ij", back, onehots[t - 1])')],
        "dWxh paired with the previous step's input", ["Wxh"]),
    Bug("v_einsum_ok.py", "dtanh_paren",
        [C("back *= 1 - h[t + 1] ** 2", "back *= (1 - h[t + 1]) ** 2")],
        "tanh derivative mis-parenthesised: (1 - h)^2 for 1 - h^2", HIDDEN),
    Bug("v_einsum_ok.py", "carry_accumulates",
        [C('carry = np.einsum("ji,j->i", Whh, back)', 'carry += np.einsum("ji,j->i", Whh, back)')],
        "the carry is accumulated across steps instead of replaced", HIDDEN),
    Bug("v_einsum_ok.py", "forward_no_bh",
        [C('z = np.einsum("ij,j->i", Wxh, onehots[t]) + np.einsum("ij,j->i", Whh, h[t])'
           " + bh.ravel()",
           'z = np.einsum("ij,j->i", Wxh, onehots[t]) + np.einsum("ij,j->i", Whh, h[t])')],
        "forward slip: the hidden bias is left out of the recurrence", VANILLA,
        loss_wrong=True, hlast_wrong=True),
    Bug("v_einsum_ok.py", "dby_over_T",
        [C("dby += e", "dby += e / T")],
        "the output bias gradient divided by T while the loss is summed", ["by"]),
    # ---- v_notebook_ok.ipynb
    Bug("v_notebook_ok.ipynb", "ascending",
        [C("for t in sorted(hs, reverse=True):", "for t in sorted(hs):")],
        "sorted(hs) without reverse=True: the backward loop runs forwards", HIDDEN),
    Bug("v_notebook_ok.ipynb", "dtanh_twice",
        [C("return 1.0 - h * h", "return 1.0 - np.tanh(h) ** 2")],
        "helper cell: tanh' written for a pre-activation but called with the output h",
        HIDDEN),
    Bug("v_notebook_ok.ipynb", "h_prev_initial",
        [C("h_prev = hprev if t == 0 else hs[t - 1]", "h_prev = hprev")],
        "dWhh uses the initial state at every step", ["Whh"]),
    Bug("v_notebook_ok.ipynb", "no_dby",
        [D("dby += d_out")],
        "the output bias gradient is never accumulated", ["by"]),
    Bug("v_notebook_ok.ipynb", "carry_subtracted",
        [C("delta = np.matmul(Why.T, d_out) + delta_next",
           "delta = np.matmul(Why.T, d_out) - delta_next")],
        "the carried gradient is subtracted instead of added", HIDDEN),
    # ---- v_methods_ok.py
    Bug("v_methods_ok.py", "alias_state",
        [C("self.hs.append(h.copy())", "self.hs.append(h)")],
        "aliasing: every stored state is the one buffer that np.tanh(..., out=h) "
        "overwrites, so all steps see the last state",
        ["Wxh", "Whh", "Why", "bh"]),
    Bug("v_methods_ok.py", "alias_probs",
        [C("dscore = p.copy()", "dscore = p")],
        "aliasing: the -1 at the target is written into the stored probabilities, and "
        "the loss, summed after backward(), reads them", [], loss_wrong=True),
    Bug("v_methods_ok.py", "prevs_slice",
        [C("prevs = [self.h0] + self.hs[:-1]", "prevs = [self.h0] + self.hs[1:]")],
        "previous states sliced off by one (hs[1:] for hs[:-1])", ["Whh"]),
    Bug("v_methods_ok.py", "wxh_grad_h",
        [C('g["Wxh"] += grad_a.dot(x.T)', 'g["Wxh"] += grad_h.dot(x.T)')],
        "dWxh built from the gradient before the tanh derivative", ["Wxh"]),
    # ---- lstm_steps_ok.py
    Bug("lstm_steps_ok.py", "no_dtanh_c",
        [C("dc = dc + dh * o * (1.0 - tc ** 2)", "dc = dc + dh * o")],
        "tanh'(c) missing on the way from h to c", LSTM_GATES),
    Bug("lstm_steps_ok.py", "dc_prev_no_f",
        [C("dc_prev = dc * f", "dc_prev = dc")],
        "the cell-state carry skips the forget gate", LSTM_GATES),
    Bug("lstm_steps_ok.py", "candidate_sigmoid",
        [C("d_pre_g = dg * (1.0 - g ** 2)", "d_pre_g = dg * g * (1.0 - g)")],
        "the candidate's derivative written in the sigmoid form", LSTM_GATES),
    Bug("lstm_steps_ok.py", "no_dh_next",
        [D("dh_next = dz[:n_h]")],
        "the hidden-state carry is never updated (stays zero)", LSTM_GATES),
    Bug("lstm_steps_ok.py", "dW_assign",
        [C("dW[k] += d_pres[k] @ cache[0].T", "dW[k] = d_pres[k] @ cache[0].T")],
        "gate weight gradients assigned, not accumulated", ["Wf", "Wi", "Wc", "Wo"]),
    Bug("lstm_steps_ok.py", "df_uses_dh",
        [C("df = dc * c_prev", "df = dh * c_prev")],
        "forget gate gradient from dh instead of dc", LSTM_GATES),
    # ---- gru_rows_ok.py
    Bug("gru_rows_ok.py", "du_sign",
        [C("du = dh * (hs[t] - ns[t])", "du = dh * (ns[t] - hs[t])")],
        "update gate gradient with (n - h) for (h - n)", GRU_GATES),
    Bug("gru_rows_ok.py", "dr_no_h",
        [C("dr_pre = d_rh * hs[t] * rs[t] * (1 - rs[t])", "dr_pre = d_rh * rs[t] * (1 - rs[t])")],
        "reset gate gradient misses its factor h_{t-1}", GRU_GATES),
    Bug("gru_rows_ok.py", "no_rh_path",
        [D("dh_prev += d_rh * rs[t]")],
        "the path h_{t-1} -> r * h_{t-1} -> n is missing from the carry", GRU_GATES),
    Bug("gru_rows_ok.py", "wn_plain_z",
        [C('grads["dWn"] += np.outer(dn_pre, np.concatenate([rs[t] * hs[t], x]))',
           'grads["dWn"] += np.outer(dn_pre, np.concatenate([hs[t], x]))')],
        "dWn against [h; x] instead of [r * h; x]", ["Wn"]),
    Bug("gru_rows_ok.py", "carry_dh",
        [C("dh_next = dh_prev", "dh_next = dh")],
        "the carry is this step's dh, not the gradient for h_{t-1}", GRU_GATES),
    # ---- two independent edits (bug2)
    Bug("v_cache_ok.py", "two_T_dbh",
        [C("grad_next = Whh.T @ d_pre", "grad_next = Whh @ d_pre"), D("dbh += d_pre")],
        "two bugs: the carry multiplies by Whh instead of Whh.T, and dbh is never "
        "accumulated", HIDDEN),
    Bug("v_steps_ok.py", "two_dtanh_gby",
        [C("gby += delta_y", "gby = delta_y"), C("g_a = (1 - h * h) * g_h", "g_a = (1 - h) * g_h")],
        "two bugs: dby assigned instead of accumulated, and tanh' written 1 - h",
        HIDDEN + ["by"]),
    Bug("v_prealloc_ok.py", "two_reset_by",
        [C('g["by"][:, 0] = D.sum(axis=0)', 'g["by"][:, 0] = P.sum(axis=0)'),
         I("for t in reversed(range(n_steps)):", "        dnext = np.zeros(n_hidden)")],
        "two bugs: dby from the probabilities before the -1, and the carry reset every "
        "step", HIDDEN + ["by"]),
    Bug("v_while_ok.py", "two_skip_whh",
        [C("while t > 0:", "while t > 1:"),
         C("dWhh += np.matmul(delta, hs[t].T)", "dWhh += np.matmul(delta, hs[t + 1].T)")],
        "two bugs: the loop skips step 0, and dWhh uses the next state", VANILLA),
    Bug("v_einsum_ok.py", "two_carry_wxh",
        [C('dWxh += np.einsum("i,j->ij", back, onehots[t])',
           'dWxh += np.einsum("i,j->ij", back, onehots[t - 1])'),
         C('carry = np.einsum("ji,j->i", Whh, back)', 'carry = np.einsum("ij,j->i", Whh, back)')],
        "two bugs: dWxh paired with the previous input, and the carry not transposed",
        HIDDEN),
    Bug("v_notebook_ok.ipynb", "two_dby_hprev",
        [D("dby += d_out"), C("h_prev = hprev if t == 0 else hs[t - 1]", "h_prev = hprev")],
        "two bugs: dby never accumulated, and dWhh uses the initial state at every step",
        ["Whh", "by"]),
]


def _read(path: Path) -> tuple[list[list[str]], dict[str, Any] | None]:
    """Lists of lines (with newlines) per cell; one list for a .py file."""
    if path.suffix != ".ipynb":
        return [path.read_text().splitlines(keepends=True)], None
    nb = json.loads(path.read_text())
    return [list(c["source"]) if c["cell_type"] == "code" else [] for c in nb["cells"]], nb


def _write(path: Path, parts: list[list[str]], nb: dict[str, Any] | None) -> None:
    if nb is None:
        path.write_text("".join(parts[0]))
        return
    for c, lines in zip(nb["cells"], parts, strict=True):
        if c["cell_type"] == "code":
            c["source"] = lines
    path.write_text(json.dumps(nb, indent=1) + "\n")


def _apply(parts: list[list[str]], edit: Edit, notebook: bool, where: str
           ) -> dict[str, Any]:
    hits = [(k, i) for k, lines in enumerate(parts) for i, line in enumerate(lines)
            if line.strip() == edit.anchor]
    if len(hits) != 1:
        raise SystemExit(f"{where}: anchor {edit.anchor!r} found {len(hits)} times, "
                         "expected 1")
    k, i = hits[0]
    lines = parts[k]
    indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    rec: dict[str, Any] = {"kind": edit.kind}
    if edit.kind == "change":
        assert edit.new is not None
        rec.update(line=i + 1, original=lines[i].rstrip("\n"), buggy=indent + edit.new)
        lines[i] = indent + edit.new + "\n"
    elif edit.kind == "insert":
        assert edit.new is not None
        rec.update(line=i + 2, original=None, buggy=edit.new)
        lines.insert(i + 1, edit.new + "\n")
    elif edit.kind == "delete":
        rec.update(line=i + 1, original=lines[i].rstrip("\n"), buggy=None)
        del lines[i]
    else:
        raise SystemExit(f"{where}: unknown edit kind {edit.kind}")
    if notebook:
        rec["cell"] = k + 1
    return rec


def build() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    params = {"vanilla": VANILLA, "lstm": LSTM, "gru": GRU}
    for base, info in BASES.items():
        entries.append({"file": f"corpus/{base}", "base": f"corpus/{base}", "expect": "ok",
                        "flags": [], "description": None, "edit": None, "wrong": [],
                        "loss_wrong": False, "hlast_wrong": False, **info})
    for bug in BUGS:
        info = BASES[bug.base]
        where = f"{bug.base} -> {bug.name}"
        parts, nb = _read(CORPUS / bug.base)
        # Apply bottom-up so each recorded line is the one it has with that edit alone.
        located = []
        for edit in bug.edits:
            hit = [(k, i) for k, ls in enumerate(parts) for i, ln in enumerate(ls)
                   if ln.strip() == edit.anchor]
            located.append((hit[0] if hit else (-1, -1), edit))
        recs = {}
        for _, edit in sorted(located, key=lambda e: e[0], reverse=True):
            recs[edit] = _apply(parts, edit, nb is not None, where)
        unknown = set(bug.wrong) - set(params[str(info["cell"])])
        if unknown:
            raise SystemExit(f"{where}: unknown parameters {sorted(unknown)}")
        suffix = Path(bug.base).suffix
        fname = bug.base.replace(f"_ok{suffix}", f"_bug_{bug.name}{suffix}")
        _write(CORPUS / fname, parts, nb)
        ordered = [recs[e] for _, e in sorted(located, key=lambda e: e[0])]
        entry: dict[str, Any] = {
            "file": f"corpus/{fname}", "base": f"corpus/{bug.base}",
            "expect": "bug" if len(bug.edits) == 1 else "bug2", "flags": [],
            "description": bug.description}
        if len(bug.edits) == 1:
            entry["edit"] = ordered[0]
        else:
            entry["edits"] = ordered
        entry.update(wrong=bug.wrong, loss_wrong=bug.loss_wrong,
                     hlast_wrong=bug.hlast_wrong, **info)
        entries.append(entry)
    return entries


def main() -> None:
    entries = build()
    manifest = {
        "about": "Third held-out corpus of hand-written RNN backward passes (branch "
                 "heldout3). Paths are relative to tests/heldout3/. 'wrong' uses "
                 "bpttcheck's parameter names. 'expect' is ok, bug (one edit, under "
                 "'edit') or bug2 (two independent edits, under 'edits', in file "
                 "order). An edit's 'line' is 1-based and is the line it has with that "
                 "edit alone: for change/delete the line in the base, for insert the "
                 "inserted line; in a notebook it counts within the code cell 'cell' "
                 "(cells numbered from 1, markdown included).",
        "files": entries,
    }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    counts = {x: sum(e["expect"] == x for e in entries) for x in ("ok", "bug", "bug2")}
    print(f"wrote {len(entries)} entries {counts} to {HERE / 'manifest.json'}")


if __name__ == "__main__":
    main()
