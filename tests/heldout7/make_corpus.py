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
