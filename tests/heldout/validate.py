"""Independent judge of the held-out corpus (tests/heldout/).

For every entry of manifest.json this script checks, without importing bpttcheck:

(a) the edit: a buggy file differs from the correct file it is derived from in exactly one
    line, the one the manifest describes (``line``, ``before``, ``after``, ``edit``);
(b) the gradient: it loads the file, calls the function the way ``bpttcheck --impl`` would
    (module globals, an instance's attributes, or a params dict; names and order from the
    entry's ``cli_flags``), and compares every returned gradient with its own numerical
    differentiation of the model's loss, written below: Richardson-extrapolated central
    differences in float64, on two small random instances with non-zero biases and hprev.
    A correct file must agree on every parameter (error < TOL); a buggy file must be wrong on
    exactly the parameters the manifest lists, on both instances. Every file's loss and hlast
    must equal the model's (the bugs are all in the backward pass).

Usage: ``python tests/heldout/validate.py [-v] [FILE ...]``; exit 0 when every entry is
consistent, 1 otherwise, with one line per problem.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import inspect
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
OURS = ("Wxh", "Whh", "Why", "bh", "by")
SIZES = {"hidden": 5, "vocab": 4, "seq": 6}  # small, non-square by default
SEEDS = (11, 12)  # two instances; a classification must hold on both
WEIGHT_SCALE = 0.5  # large enough that tanh is not linear, small enough to stay unsaturated
BIAS_SCALE = 0.3  # non-zero biases, so a wrong bias gradient or a dropped bias shows
# Richardson extrapolation of central differences, (4 D(h/2) - D(h)) / 3: truncation
# error O(h^4) = 1e-12 at h = 1e-3, rounding about eps * |L| / h = 1e-12 for |L| ~ 10.
STEP = 1e-3
# A gradient is "right" when max|g - numeric| <= TOL * max|numeric|. Measured errors of the
# correct files are near 1e-11; the single-edit bugs here are off by 1e-3 or far more.
TOL = 1e-6
LOSS_TOL = 1e-10  # relative; every file computes the model's forward pass
# Constructor argument names this script fills in (the same idea as bpttcheck's, its own list).
CTOR_NAMES = {
    "hidden": ("hidden_size", "hidden", "n_hidden", "hidden_dim", "H"),
    "vocab": ("vocab_size", "vocab", "n_vocab", "input_dim", "input_size", "V"),
    "seq": ("seq_length", "seq_len", "T"),
}


# -- the model, written here independently -------------------------------------------------
def instance(seed: int, hidden: int, vocab: int, seq: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    params = {
        "Wxh": WEIGHT_SCALE * rng.standard_normal((hidden, vocab)),
        "Whh": WEIGHT_SCALE * rng.standard_normal((hidden, hidden)),
        "Why": WEIGHT_SCALE * rng.standard_normal((vocab, hidden)),
        "bh": BIAS_SCALE * rng.standard_normal((hidden, 1)),
        "by": BIAS_SCALE * rng.standard_normal((vocab, 1)),
    }
    inputs = [int(i) for i in rng.integers(0, vocab, seq)]
    targets = [int(i) for i in rng.integers(0, vocab, seq)]
    hprev = np.tanh(rng.standard_normal((hidden, 1)))
    return {"params": params, "inputs": inputs, "targets": targets, "hprev": hprev}


def model_loss(params: dict[str, np.ndarray], inputs: list[int], targets: list[int],
               hprev: np.ndarray) -> tuple[float, np.ndarray]:
    """Summed cross-entropy of the vanilla RNN, and the last hidden state."""
    h = hprev[:, 0]
    loss = 0.0
    for x, y in zip(inputs, targets, strict=True):
        h = np.tanh(params["Wxh"][:, x] + params["Whh"] @ h + params["bh"][:, 0])
        logits = params["Why"] @ h + params["by"][:, 0]
        top = logits.max()
        loss += top + np.log(np.sum(np.exp(logits - top))) - logits[y]
    return float(loss), h[:, None]


def numeric_gradient(case: dict[str, Any]) -> dict[str, np.ndarray]:
    def f(params: dict[str, np.ndarray]) -> float:
        return model_loss(params, case["inputs"], case["targets"], case["hprev"])[0]

    def central(params: dict[str, np.ndarray], name: str, i: tuple[int, ...],
                h: float) -> float:
        keep = params[name][i]
        params[name][i] = keep + h
        up = f(params)
        params[name][i] = keep - h
        down = f(params)
        params[name][i] = keep
        return (up - down) / (2 * h)

    params = {k: v.copy() for k, v in case["params"].items()}
    grads = {}
    for name in OURS:
        g = np.zeros_like(params[name])
        for i in np.ndindex(g.shape):
            coarse = central(params, name, i, STEP)
            fine = central(params, name, i, STEP / 2)
            g[i] = (4 * fine - coarse) / 3
        grads[name] = g
    return grads


# -- calling a file the way bpttcheck --impl does ------------------------------------------
def flag(flags: list[str], name: str) -> str | None:
    return flags[flags.index(name) + 1] if name in flags else None


def sizes_of(entry: dict[str, Any]) -> dict[str, int]:
    flags = entry["cli_flags"]
    return {k: int(flag(flags, f"--{k}") or v) for k, v in SIZES.items()}


def names_of(entry: dict[str, Any]) -> dict[str, str]:
    """Their weight names -> ours, from --impl-names (identity otherwise)."""
    text = flag(entry["cli_flags"], "--impl-names")
    names = {o: o for o in OURS}
    if text:
        names = dict(pair.split("=") for pair in text.split(","))
    assert sorted(names.values()) == sorted(OURS), f"bad --impl-names {text!r}"
    return names


def load(path: Path, tag: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"heldout_{path.stem}_{tag}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def call(entry: dict[str, Any], case: dict[str, Any], tag: str,
         root: Path) -> tuple[float, dict, Any]:
    module = load(root / entry["file"], tag)
    names = names_of(entry)
    theirs = {t: case["params"][o].copy() for t, o in names.items()}
    args = (list(case["inputs"]), list(case["targets"]), case["hprev"].copy())
    hidden, vocab = case["params"]["Whh"].shape[0], case["params"]["Why"].shape[0]
    size = {"hidden": hidden, "vocab": vocab, "seq": len(case["inputs"])}
    target = entry["function"]
    if "." in target:  # Class.method, weights as attributes
        cls_name, method = target.split(".")
        factory = flag(entry["cli_flags"], "--impl-factory")
        maker = getattr(module, factory) if factory else getattr(module, cls_name)
        kwargs = {}
        for p in inspect.signature(maker).parameters.values():
            key = next((k for k, aliases in CTOR_NAMES.items() if p.name in aliases), None)
            if key is not None:
                kwargs[p.name] = size[key]
        obj = maker(**kwargs)
        for t, value in theirs.items():
            setattr(obj, t, value)
        out = getattr(obj, method)(*args)
    else:
        func = getattr(module, target)
        if len(inspect.signature(func).parameters) == 4:  # explicit params dict
            out = func(theirs, *args)
        else:  # module globals
            for t, value in theirs.items():
                setattr(module, t, value)
            module.hidden_size, module.vocab_size = hidden, vocab
            module.seq_length = len(case["inputs"])
            out = func(*args)
    return unpack(entry, out, names)


def unpack(entry: dict[str, Any], out: Any, names: dict[str, str]) -> tuple[float, dict, Any]:
    if len(out) in (2, 3) and isinstance(out[1], dict):
        grads = {}
        for key, value in out[1].items():
            bare = key[1:] if key.startswith("d") and key not in names else key
            grads[names.get(bare, bare)] = value
        hlast = out[2] if len(out) == 3 else None
    else:
        text = flag(entry["cli_flags"], "--impl-order")
        order = [names.get(k.removeprefix("d"), k.removeprefix("d"))
                 for k in text.split(",")] if text else list(OURS)
        grads = dict(zip(order, out[1:6], strict=True))
        hlast = out[6] if len(out) == 7 else None
    return float(out[0]), grads, hlast


# -- the two checks ------------------------------------------------------------------------
def check_edit(entry: dict[str, Any], root: Path) -> list[str]:
    if entry["correct"]:
        return []
    bug = (root / entry["file"]).read_text().splitlines()
    good = (root / entry["derived_from"]).read_text().splitlines()
    ops = [op for op in difflib.SequenceMatcher(None, good, bug, autojunk=False).get_opcodes()
           if op[0] != "equal"]
    if len(ops) != 1:
        return [f"{len(ops)} changed regions against {entry['derived_from']}; expected one"]
    tag, i1, i2, j1, j2 = ops[0]
    kind, line = entry["edit"], entry["line"]
    found = {"replace": "change", "insert": "add", "delete": "delete"}[tag]
    problems = []
    if found != kind or max(i2 - i1, j2 - j1) != 1:
        problems.append(f"the diff is a {found} of {i2 - i1} -> {j2 - j1} lines; "
                        f"the manifest says one-line {kind}")
    elif j1 + 1 != line:
        problems.append(f"the edit is at line {j1 + 1}; the manifest says {line}")
    before = good[i1] if i2 > i1 else None
    after = bug[j1] if j2 > j1 else None
    if (before, after) != (entry["before"], entry["after"]):
        problems.append(f"before/after are {before!r} -> {after!r}; the manifest says "
                        f"{entry['before']!r} -> {entry['after']!r}")
    return problems


_NUMERIC: dict[tuple[int, ...], dict[str, np.ndarray]] = {}  # (seed, sizes) -> gradient


def check_gradient(entry: dict[str, Any], verbose: bool, root: Path) -> list[str]:
    problems = []
    expected_wrong = set(entry["parameters"])
    for seed in SEEDS:
        sizes = sizes_of(entry)
        case = instance(seed, **sizes)
        key = (seed, *sizes.values())
        loss, grads, hlast = call(entry, case, str(seed), root)
        ref_loss, ref_h = model_loss(case["params"], case["inputs"], case["targets"],
                                     case["hprev"])
        if abs(loss - ref_loss) > LOSS_TOL * abs(ref_loss):
            problems.append(f"seed {seed}: loss {loss!r} is not the model's {ref_loss!r}")
        if hlast is not None and not np.allclose(np.asarray(hlast).reshape(-1, 1), ref_h,
                                                 rtol=0, atol=1e-12):
            problems.append(f"seed {seed}: hlast is not the model's last hidden state")
        if key not in _NUMERIC:  # the same instance serves every file of these sizes
            _NUMERIC[key] = numeric_gradient(case)
        numeric = _NUMERIC[key]
        wrong, errors = set(), {}
        for name in OURS:
            g = np.asarray(grads[name], dtype=np.float64)
            if g.shape != numeric[name].shape:
                problems.append(f"seed {seed}: d{name} has shape {g.shape}")
                continue
            err = float(np.max(np.abs(g - numeric[name])) / np.max(np.abs(numeric[name])))
            errors[name] = err
            if err > TOL:
                wrong.add(name)
        if verbose:
            print(f"  seed {seed}: " + ", ".join(f"d{k} {v:.1e}" for k, v in errors.items()))
        if wrong != expected_wrong:
            problems.append(f"seed {seed}: wrong in {sorted(wrong) or 'nothing'}; the manifest "
                            f"says {sorted(expected_wrong) or 'nothing'} "
                            f"(errors {', '.join(f'{k} {v:.1e}' for k, v in errors.items())})")
    return problems


def check_entry_fields(entry: dict[str, Any], files: set[str]) -> list[str]:
    keys = {"file", "function", "form", "correct", "derived_from", "edit", "line", "before",
            "after", "kind", "parameters", "boundary_step", "cli_flags"}
    problems = [f"missing field {k!r}" for k in sorted(keys - entry.keys())]
    if problems:
        return problems
    if entry["correct"] and (entry["derived_from"] or entry["parameters"] or entry["line"]):
        problems.append("a correct file has derived_from, parameters or line set")
    if not entry["correct"] and entry["derived_from"] not in files:
        problems.append(f"derived_from {entry['derived_from']!r} is not a correct file listed")
    if entry["boundary_step"] not in (None, "first", "last"):
        problems.append(f"boundary_step {entry['boundary_step']!r}")
    if not set(entry["parameters"]) <= {f"{n}" for n in OURS}:
        problems.append(f"parameters {entry['parameters']} are not among {OURS}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", help="only these manifest entries")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every error")
    parser.add_argument("--root", default=str(HERE), help="the corpus folder (default: this one)")
    opts = parser.parse_args(argv)
    root = Path(opts.root)
    manifest = json.loads((root / "manifest.json").read_text())
    correct = {e["file"] for e in manifest if e["correct"]}
    listed = {e["file"] for e in manifest}
    on_disk = {p.name for p in root.glob("*.py")} - {"validate.py"}
    on_disk -= {p.name for p in root.glob("test_*.py")}
    failures = [f"{name}: on disk but not in manifest.json" for name in sorted(on_disk - listed)]
    failures += [f"{name}: in manifest.json but not on disk" for name in sorted(listed - on_disk)]
    for entry in manifest:
        if opts.files and entry["file"] not in {Path(f).name for f in opts.files}:
            continue
        if opts.verbose:
            print(entry["file"], entry["kind"])
        problems = check_entry_fields(entry, correct)
        if not problems:
            problems = check_edit(entry, root) + check_gradient(entry, opts.verbose, root)
        failures += [f"{entry['file']}: {p}" for p in problems]
    for line in failures:
        print(line)
    n = len(manifest) if not opts.files else len(opts.files)
    print(f"{n} entries checked, {len(failures)} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
