"""How often does bpttcheck's fix search (bpttcheck/fix/) find a verified one-edit fix?

Two figures, as issue 15 asks:

- **held-out corpus** (tests/heldout, written by someone briefed only with bug
  descriptions, never used to tune the search): the share of buggy files for which
  the search returns a verified fix (the edited function's gradient is exact at the
  spec and at the second point), and how many of those fixes are the manifest's own
  inverse edit (same line, same text up to whitespace). The search runs as the CLI
  runs it: through ``bpttcheck.fix.search`` with the file's ``--impl-*`` flags.
- **harness mutants** (bench/mutants.py, tuning sources): the share of
  gradient-changing mutants fixed, and the median search time. The harness holds
  the inverse of every repair by construction, so this measures speed, not
  generalisation.

Spec for both: hidden 24, seq 13 (the issue's timing point), other keys default.

Usage: python bench/fixes.py [--budget S] [--seed N] [--per-op K] [--skip-mutants]
       [--skip-heldout] [--ranks] [-v]
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import mutants  # noqa: E402
from bpttcheck import fix  # noqa: E402
from bpttcheck.impl.options import ImplOptions, parse_names, parse_order  # noqa: E402
from bpttcheck.spec import resolve  # noqa: E402

CORPUS = ROOT / "tests" / "heldout"
SIZES = {"hidden": 24, "seq": 13}


def _options(flags: list[str]) -> ImplOptions:
    names = parse_names(flags[flags.index("--impl-names") + 1]) if "--impl-names" in flags \
        else {}
    order = parse_order(flags[flags.index("--impl-order") + 1], names) \
        if "--impl-order" in flags else None
    return ImplOptions(names=names, order=order)


def _sizes(flags: list[str]) -> dict[str, Any]:
    """The spec, with an entry's own ``--hidden``/``--vocab``/``--seq`` flags (some bugs,
    such as a transposed square matrix, only run when two sizes are equal)."""
    out: dict[str, Any] = dict(SIZES)
    for key in ("hidden", "vocab", "seq"):
        if f"--{key}" in flags:
            out[key] = int(flags[flags.index(f"--{key}") + 1])
    return out


def _squash(text: str | None) -> str:
    return "".join((text or "").split())


def _cause(target: str, flags: list[str]) -> str | None:
    """The kind of the first likely cause the CLI's check names for ``target`` (the search
    gets it from the check, as on the command line), or None."""
    sizes = [f for k, v in SIZES.items() if f"--{k}" not in flags for f in (f"--{k}", str(v))]
    cmd = [sys.executable, "-m", "bpttcheck", "compare", "--impl", target, "--no-fix",
           "--format", "json", *sizes, *flags]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 1:
        return None
    causes = (json.loads(proc.stdout).get("impl") or {}).get("causes") or []
    return causes[0]["kind"] if causes else None


def heldout(budget: float, verbose: bool) -> dict[str, Any]:
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    found = inverse = total = 0
    times = []
    for e in manifest:
        if e["correct"]:
            continue
        total += 1
        spec = resolve(None, _sizes(e["cli_flags"]))
        target = f"{CORPUS / e['file']}:{e['function']}"
        cause = _cause(target, e["cli_flags"])
        o = fix.search(target, _options(e["cli_flags"]), spec, budget, cause=cause)
        times.append(o.seconds)
        ok = o.fix is not None and o.fix.verified
        found += ok
        same = False
        if ok and o.fix is not None and len(o.fix.edits) == 1 and e["edit"] == "change":
            ed = o.fix.edits[0]
            same = ed.line == e["line"] and _squash(ed.after) == _squash(e["before"])
        inverse += same
        if verbose or not ok:
            shown = [(ed.line, ed.after.strip()) for ed in o.fix.edits] if o.fix else None
            print(f"  {e['file']:7} {e['kind']:32} {'FIX' if ok else '---'}"
                  f"{' =inverse' if same else ''} tried {o.tried}/{o.generated} "
                  f"{o.seconds:.1f}s {shown}", flush=True)
    return {"files": total, "fixed": found, "inverse": inverse,
            "median_seconds": statistics.median(times) if times else 0.0}


def ranks(corpus_entries: list[dict[str, Any]], root: Path) -> dict[str, Any]:
    """Where the manifest's own inverse edit stands in the search's order (machine-free:
    the unedited file is run once, nothing else is): how many candidates a search must
    screen before it, whatever the machine's speed."""
    out: list[int | None] = []
    for e in corpus_entries:
        spec = resolve(None, _sizes(e["flags"]))
        target = f"{root / e['file']}:{e['function']}"
        cands = fix.ranking(target, _options(e["flags"]), spec,
                            cause=_cause(target, e["flags"]))
        rank = next((k + 1 for k, c in enumerate(cands) if c.line == e["line"]
                     and _squash(c.after) == _squash(e["inverse"])), None)
        out.append(rank)
    found = sorted(r for r in out if r is not None)
    return {"files": len(out), "generated": len(found),
            **{f"within_{k}": sum(r <= k for r in found) for k in (10, 25, 50, 100)},
            "median_rank": statistics.median(found) if found else None}


def _changes(manifest: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The held-out bugs made by changing one line: where the inverse is one candidate."""
    return [{"file": e["file"], "function": e["function"], "flags": e["cli_flags"],
             "line": e["line"], "inverse": e["before"]} for e in manifest
            if not e["correct"] and e["edit"] == "change"]


def harness(budget: float, seed: int, per_op: int, verbose: bool) -> dict[str, Any]:
    spec = resolve(None, dict(SIZES))
    fixed = changed = 0
    times = []
    with tempfile.TemporaryDirectory(prefix="bpttcheck-fixbench-") as tmp:
        for k, (site, tree) in enumerate(mutants.select(seed, per_op, mutants.TUNING)):
            text = ast.unparse(tree)
            path = Path(tmp) / f"{site.source}_{k}.py"
            path.write_text(text)
            target = next(n.value.value for n in tree.body if isinstance(n, ast.Assign)
                          and isinstance(n.targets[0], ast.Name) and n.targets[0].id == "TARGET"
                          and isinstance(n.value, ast.Constant))
            o = fix.search(f"{path}:{target}", ImplOptions(), spec, budget)
            if not o.wrong:  # the mutation does not change the gradient: nothing to fix
                continue
            changed += 1
            ok = o.fix is not None and o.fix.verified
            fixed += ok
            times.append(o.seconds)
            if verbose or not ok:
                print(f"  {site.id:50} {'FIX' if ok else '---'} tried {o.tried}/{o.generated} "
                      f"{o.seconds:.1f}s", flush=True)
    return {"mutants": changed, "fixed": fixed,
            "median_seconds": statistics.median(times) if times else 0.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=fix.BUDGET)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-op", type=int, default=1)
    parser.add_argument("--skip-mutants", action="store_true")
    parser.add_argument("--skip-heldout", action="store_true")
    parser.add_argument("--ranks", action="store_true",
                        help="only where each held-out inverse edit is ranked (no timing)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.ranks:
        r = ranks(_changes(json.loads((CORPUS / "manifest.json").read_text())), CORPUS)
        print(f"held-out one-line changes: the inverse edit is a candidate for "
              f"{r['generated']}/{r['files']}; ranked within the first 10 / 25 / 50 / 100: "
              f"{r['within_10']} / {r['within_25']} / {r['within_50']} / {r['within_100']}; "
              f"median rank {r['median_rank']}")
        return 0
    if not args.skip_heldout:
        h = heldout(args.budget, args.verbose)
        print(f"held-out corpus: verified fix for {h['fixed']}/{h['files']} buggy files "
              f"({100 * h['fixed'] / max(1, h['files']):.0f}%); the manifest's inverse edit "
              f"for {h['inverse']}; median search {h['median_seconds']:.2f} s", flush=True)
    if not args.skip_mutants:
        m = harness(args.budget, args.seed, args.per_op, args.verbose)
        print(f"harness mutants (seed {args.seed}, per-op {args.per_op}): verified fix for "
              f"{m['fixed']}/{m['mutants']} gradient-changing mutants "
              f"({100 * m['fixed'] / max(1, m['mutants']):.0f}%); median search "
              f"{m['median_seconds']:.2f} s")
    print(f"(hidden {SIZES['hidden']}, seq {SIZES['seq']}, budget {args.budget:g} s, "
          f"{datetime.date.today().isoformat()}, {time.perf_counter() - start:.0f} s in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
