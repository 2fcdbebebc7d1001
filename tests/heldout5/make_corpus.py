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
