"""Check that every file in a held-out corpus's manifest.json (tests/heldout2 by default,
another with --dir) is what the manifest says, without bpttcheck.

For each file: load it (imports, functions, classes and constant assignments only; a
top-level block that is not Python 3 is skipped, as in a Python 2 script), call its
target with weights set the way the manifest's `form` says, and compare what it returns
with this file's own model: the loss, the last state(s) and the gradient from central
differences of the loss (float64). At two points (random weights, non-zero biases,
random initial states):

- a correct file ("ok") matches everywhere: relative error < MATCH;
- a buggy file mismatches (relative error > MISMATCH at some point) in exactly the
  parameters listed under "wrong", and matches in every other one; its loss and last
  state are wrong exactly when "loss_wrong" / "hlast_wrong" say so;
- gradients returned in another order are read in the order of the entry's
  `--impl-order` flag, as bpttcheck reads them;
- a buggy file differs from its correct base by the one edit the manifest records
  ("bug"), or by the two edits it lists under "edits" ("bug2").

A notebook (.ipynb) is its code cells read in order: IPython line magics and shell
escapes are skipped, and so is a cell under a cell magic. An edit in a notebook carries
"cell" (counted from 1 in notebook order, markdown cells included) and a line within it.

Usage: python tests/heldout2/validate.py [--dir DIR] [-v] [FILE-SUBSTRING ...]
  (exit 1 on any failure; DIR holds manifest.json, default tests/heldout2)
"""

from __future__ import annotations

import ast
import difflib
import functools
import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent

HIDDEN, VOCAB, SEQ = 8, 6, 7
SEEDS = (11, 12)
# Central differences in float64: truncation ~ h^2 * f''' and rounding ~ eps / h balance
# near h ~ eps^(1/3) ~ 6e-6; 1e-5 leaves errors near 1e-10 relative on these sizes.
STEP = 1e-5
# A correct float32 file is off by ~1e-7 relative (norm-wise); a true bug by far more.
MATCH = 1e-5
MISMATCH = 1e-3

PARAMS = {
    "vanilla": ["Wxh", "Whh", "Why", "bh", "by"],
    "lstm": ["Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo", "Why", "by"],
    "gru": ["Wz", "Wr", "Wn", "bz", "br", "bn", "Why", "by"],
}
SIZES = {"hidden_size": HIDDEN, "vocab_size": VOCAB, "seq_length": SEQ,
         "learning_rate": 0.1}


# ---------------------------------------------------------------- the models
def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def _xent(logits: np.ndarray, target: int) -> float:
    m = float(np.max(logits))
    return float(m + np.log(np.sum(np.exp(logits - m))) - logits[target, 0])


def _one_hot(ix: int) -> np.ndarray:
    x = np.zeros((VOCAB, 1))
    x[ix, 0] = 1.0
    return x


def model_vanilla(p: dict[str, np.ndarray], inputs: list[int], targets: list[int],
                  states: tuple[np.ndarray, ...]) -> tuple[float, tuple[np.ndarray, ...]]:
    h = states[0]
    loss = 0.0
    for ix, tg in zip(inputs, targets, strict=True):
        h = np.tanh(p["Wxh"] @ _one_hot(ix) + p["Whh"] @ h + p["bh"])
        loss += _xent(p["Why"] @ h + p["by"], tg)
    return loss, (h,)


def model_lstm(p: dict[str, np.ndarray], inputs: list[int], targets: list[int],
               states: tuple[np.ndarray, ...]) -> tuple[float, tuple[np.ndarray, ...]]:
    h, c = states
    loss = 0.0
    for ix, tg in zip(inputs, targets, strict=True):
        z = np.vstack([h, _one_hot(ix)])
        f = _sigmoid(p["Wf"] @ z + p["bf"])
        i = _sigmoid(p["Wi"] @ z + p["bi"])
        g = np.tanh(p["Wc"] @ z + p["bc"])
        o = _sigmoid(p["Wo"] @ z + p["bo"])
        c = f * c + i * g
        h = o * np.tanh(c)
        loss += _xent(p["Why"] @ h + p["by"], tg)
    return loss, (h, c)


def model_gru(p: dict[str, np.ndarray], inputs: list[int], targets: list[int],
              states: tuple[np.ndarray, ...]) -> tuple[float, tuple[np.ndarray, ...]]:
    h = states[0]
    loss = 0.0
    for ix, tg in zip(inputs, targets, strict=True):
        x = _one_hot(ix)
        z = np.vstack([h, x])
        u = _sigmoid(p["Wz"] @ z + p["bz"])
        r = _sigmoid(p["Wr"] @ z + p["br"])
        n = np.tanh(p["Wn"] @ np.vstack([r * h, x]) + p["bn"])
        h = u * h + (1.0 - u) * n
        loss += _xent(p["Why"] @ h + p["by"], tg)
    return loss, (h,)


MODELS = {"vanilla": model_vanilla, "lstm": model_lstm, "gru": model_gru}


def point(cell: str, seed: int) -> tuple[dict[str, np.ndarray], list[int], list[int],
                                          tuple[np.ndarray, ...]]:
    rng = np.random.default_rng(seed)
    n_in = HIDDEN if cell == "vanilla" else HIDDEN + VOCAB
    shapes = {"Wxh": (HIDDEN, VOCAB), "Whh": (HIDDEN, HIDDEN), "bh": (HIDDEN, 1),
              "Why": (VOCAB, HIDDEN), "by": (VOCAB, 1)}
    for w in ("Wf", "Wi", "Wc", "Wo", "Wz", "Wr", "Wn"):
        shapes[w] = (HIDDEN, n_in)
    for b in ("bf", "bi", "bc", "bo", "bz", "br", "bn"):
        shapes[b] = (HIDDEN, 1)
    p = {}
    for name in PARAMS[cell]:
        scale = 0.3 if name.startswith("b") else 0.5
        p[name] = rng.standard_normal(shapes[name]) * scale
    inputs = [int(v) for v in rng.integers(0, VOCAB, SEQ)]
    targets = [int(v) for v in rng.integers(0, VOCAB, SEQ)]
    states = tuple(np.tanh(rng.standard_normal((HIDDEN, 1)))
                   for _ in range(2 if cell == "lstm" else 1))
    return p, inputs, targets, states


@functools.cache
def _numeric_at(cell: str, seed: int) -> dict[str, np.ndarray]:
    """The central-difference gradient at point(cell, seed), computed once per run."""
    return numeric_gradient(cell, *point(cell, seed))


def numeric_gradient(cell: str, p: dict[str, np.ndarray], inputs: list[int],
                     targets: list[int], states: tuple[np.ndarray, ...]
                     ) -> dict[str, np.ndarray]:
    model = MODELS[cell]
    grads = {}
    for name in PARAMS[cell]:
        g = np.zeros_like(p[name])
        for idx in np.ndindex(*p[name].shape):
            q = {k: v.copy() for k, v in p.items()}
            q[name][idx] += STEP
            up = model(q, inputs, targets, states)[0]
            q[name][idx] -= 2 * STEP
            down = model(q, inputs, targets, states)[0]
            g[idx] = (up - down) / (2 * STEP)
        grads[name] = g
    return grads


def rel_err(a: Any, b: Any) -> float:
    """Norm-wise relative error with a guarded denominator; inf when shapes differ."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf")
    denom = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)), 1e-12)
    return float(np.linalg.norm(a - b)) / denom


# ---------------------------------------------------------------- loading user files
def _chunks(source: str) -> list[tuple[int, str]]:
    """Top-level blocks: each starts at a line in column 0 that is not blank, not a
    comment and not a closing bracket."""
    lines = source.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines)
              if line[:1] not in ("", " ", "\t", "\n", "#", ")", "]", "}")]
    starts = [i for i in starts if not lines[i].startswith(("else", "elif", "except",
                                                            "finally"))]
    # a decorator belongs to the block that follows it
    starts = [i for i in starts if i == 0 or not lines[i - 1].startswith("@")]
    out = []
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < len(starts) else len(lines)
        out.append((s + 1, "".join(lines[s:e])))
    return out


def _names_loaded(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)}


def cells(path: Path) -> list[list[str]] | None:
    """A notebook's cells as lists of lines (markdown cells empty, so that list index + 1
    is the cell's number); None for a .py file."""
    if path.suffix != ".ipynb":
        return None
    out = []
    for c in json.loads(path.read_text())["cells"]:
        src = c["source"] if isinstance(c["source"], str) else "".join(c["source"])
        out.append(src.splitlines() if c["cell_type"] == "code" else [])
    return out


def source(path: Path) -> str:
    """The Python text of a file: for a notebook, its code cells in order, without
    IPython magics, shell escapes and cells under a cell magic."""
    nb = cells(path)
    if nb is None:
        return path.read_text()
    kept = []
    for lines in nb:
        if lines and lines[0].startswith("%%"):
            continue
        kept += [ln for ln in lines if not ln.lstrip().startswith(("%", "!"))]
    return "\n".join(kept) + "\n"


def load(path: Path) -> tuple[dict[str, Any], list[str]]:
    """Run the file's imports, defs, classes and assignments whose values read only
    names already defined (never builtins such as open); skip everything else."""
    ns: dict[str, Any] = {"__name__": "heldout_" + path.stem, "__file__": str(path)}
    ns.update(SIZES)
    skipped = []
    for lineno, chunk in _chunks(source(path)):
        try:
            tree = ast.parse(chunk)
        except SyntaxError:
            skipped.append(f"line {lineno}: not Python 3")
            continue
        for stmt in tree.body:
            run = isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef,
                                    ast.ClassDef))
            if isinstance(stmt, ast.Assign):
                run = _names_loaded(stmt.value) <= set(ns)
            if not run:
                skipped.append(f"line {lineno + stmt.lineno - 1}: {type(stmt).__name__}")
                continue
            # dont_inherit: this file's own __future__ imports must not apply to theirs
            code = compile(ast.Module(body=[stmt], type_ignores=[]), str(path), "exec",
                           dont_inherit=True)
            exec(code, ns)
    ns.update(SIZES)
    return ns, skipped


def call(entry: dict[str, Any], ns: dict[str, Any], p: dict[str, np.ndarray],
         inputs: list[int], targets: list[int], states: tuple[np.ndarray, ...]
         ) -> tuple[float, dict[str, np.ndarray], tuple[np.ndarray, ...]]:
    cell = entry["cell"]
    order = PARAMS[cell]
    names: dict[str, str] = entry.get("names") or {k: k for k in order}
    theirs = {names[k]: p[k].copy() for k in order}
    form = entry["form"]
    args = [list(inputs), list(targets)] + [s.copy() for s in states]
    target: str = entry["target"]
    fn: Callable[..., Any]
    if form == "globals":
        ns.update(theirs)
        fn = ns[target]
        out = fn(*args)
    elif form == "class":
        cls_name, meth = target.split(".")
        cls = ns[cls_name]
        sig = inspect.signature(cls.__init__)
        sizes = {**SIZES, "hidden": HIDDEN, "vocab": VOCAB}
        kwargs = {k: sizes[k] for k in sig.parameters if k in sizes}
        obj = cls(**kwargs)
        for k, v in theirs.items():
            setattr(obj, k, v)
        out = getattr(obj, meth)(*args)
    elif form == "args":
        fn = ns[target]
        rest = iter(args)
        bound = {}
        for pname in inspect.signature(fn).parameters:
            bound[pname] = theirs[pname] if pname in theirs else next(rest)
        out = fn(**bound)
    elif form == "dict":
        out = ns[target](theirs, *args)
    else:
        raise ValueError(f"unknown form {form}")
    if entry.get("returns") == "dict":
        loss, gdict, *last = out
        grads = {k: gdict["d" + names[k]] if "d" + names[k] in gdict else gdict[names[k]]
                 for k in order}
    else:
        loss = out[0]
        returned = order
        flags = list(entry.get("flags") or [])
        if "--impl-order" in flags:  # the order the file declares, e.g. dWhy,dby,...
            declared = flags[flags.index("--impl-order") + 1].split(",")
            returned = [k[1:] if k.startswith("d") else k for k in declared]
        grads = dict(zip(returned, out[1:1 + len(order)], strict=True))
        last = list(out[1 + len(order):])
    return float(loss), grads, tuple(last)


# ---------------------------------------------------------------- the checks
def _diff(base: list[str], mine: list[str], cell: int | None
          ) -> list[tuple[str, int, int, int, int, int | None]]:
    return [(*op, cell) for op in difflib.SequenceMatcher(a=base, b=mine, autojunk=False)
            .get_opcodes() if op[0] != "equal"]


def check_edit(entry: dict[str, Any], root: Path = HERE) -> list[str]:
    """The file differs from its base by exactly the edit(s) the manifest lists. A line
    is 1-based: for change/delete the base's line, for insert the inserted line's number
    with that edit alone (for a notebook, within the cell "cell")."""
    if entry["expect"] == "ok":
        return []
    edits = entry["edits"] if entry["expect"] == "bug2" else [entry["edit"]]
    base_path, mine_path = root / entry["base"], root / entry["file"]
    base_cells, mine_cells = cells(base_path), cells(mine_path)
    if base_cells is None or mine_cells is None:
        ops = _diff(base_path.read_text().splitlines(), mine_path.read_text().splitlines(),
                    None)
        base_cells, mine_cells = [base_path.read_text().splitlines()], [
            mine_path.read_text().splitlines()]
    else:
        if len(base_cells) != len(mine_cells):
            return [f"{len(mine_cells)} cells, its base has {len(base_cells)}"]
        ops = [op for k, (b, m) in enumerate(zip(base_cells, mine_cells, strict=True))
               for op in _diff(b, m, k + 1)]
    if len(ops) != len(edits):
        return [f"{len(ops)} edits from its base, expected {len(edits)}"]
    problems = []
    for (tag, i1, i2, j1, j2, cell), edit in zip(ops, edits, strict=True):
        base = base_cells[(cell or 1) - 1]
        mine = mine_cells[(cell or 1) - 1]
        kind = {"replace": "change", "insert": "insert", "delete": "delete"}[tag]
        if kind != edit["kind"] or max(i2 - i1, j2 - j1) != 1:
            problems.append(f"edit is a {kind} of {max(i2 - i1, j2 - j1)} line(s), "
                            f"manifest says one {edit['kind']}")
        line = i1 + 1
        if line != edit["line"] or cell != edit.get("cell"):
            problems.append(f"edit at line {line}{f' of cell {cell}' if cell else ''}, "
                            f"manifest says {edit['line']}")
        original = base[i1] if kind != "insert" else None
        buggy = mine[j1] if kind != "delete" else None
        if original != edit["original"] or buggy != edit["buggy"]:
            problems.append("edit text differs from the manifest's")
    return problems


def check(entry: dict[str, Any], verbose: bool, root: Path = HERE) -> list[str]:
    path = root / entry["file"]
    cell = entry["cell"]
    ns, skipped = load(path)
    problems = check_edit(entry, root)
    worst: dict[str, float] = {}
    for seed in SEEDS:
        p, inputs, targets, states = point(cell, seed)
        loss, grads, last = call(entry, ns, p, inputs, targets, states)
        true_loss, true_last = MODELS[cell](p, inputs, targets, states)
        num = _numeric_at(cell, seed)
        errs = {k: rel_err(grads[k], num[k]) for k in PARAMS[cell]}
        errs["loss"] = rel_err(loss, true_loss)
        errs["hlast"] = max(rel_err(a, b) for a, b in zip(last, true_last, strict=True))
        if len(last) != len(true_last):
            errs["hlast"] = float("inf")
        for k, v in errs.items():
            worst[k] = max(worst.get(k, 0.0), v)
    wrong = set(entry["wrong"])
    if entry["loss_wrong"]:
        wrong.add("loss")
    if entry["hlast_wrong"]:
        wrong.add("hlast")
    for k, v in worst.items():
        if k in wrong and not v > MISMATCH:
            problems.append(f"{k} should be wrong but matches (rel. error {v:.1e})")
        if k not in wrong and not v < MATCH:
            problems.append(f"{k} should be right but differs (rel. error {v:.1e})")
    if verbose:
        shown = ", ".join(f"{k} {v:.0e}" for k, v in worst.items())
        print(f"    {shown}")
        if skipped:
            print(f"    skipped: {'; '.join(skipped)}")
    return problems


def corpus_dir(argv: list[str]) -> tuple[Path, list[str]]:
    """--dir DIR (relative to the current directory) and the remaining arguments."""
    args = list(argv)
    if "--dir" not in args:
        return HERE, args
    k = args.index("--dir")
    if k + 1 >= len(args) or not (Path(args[k + 1]) / "manifest.json").is_file():
        raise SystemExit("--dir: expected a directory holding manifest.json")
    root = Path(args[k + 1]).resolve()
    return root, args[:k] + args[k + 2:]


def main(argv: list[str]) -> int:
    root, argv = corpus_dir(argv)
    verbose = "-v" in argv
    wanted = [a for a in argv if a != "-v"]
    manifest = json.loads((root / "manifest.json").read_text())
    n_fail = n = 0
    for entry in manifest["files"]:
        if wanted and not any(w in entry["file"] for w in wanted):
            continue
        n += 1
        problems = check(entry, verbose, root)
        mark = "ok  " if not problems else "FAIL"
        print(f"{mark} {entry['file']} ({entry['expect']}"
              f"{': wrong ' + ','.join(entry['wrong']) if entry['expect'] != 'ok' else ''})")
        for pr in problems:
            print(f"     - {pr}")
        n_fail += bool(problems)
    print(f"{n - n_fail} of {n} files are what the manifest says")
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
