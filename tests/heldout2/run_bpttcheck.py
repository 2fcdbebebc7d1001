"""Run bpttcheck on every file of a held-out corpus's manifest.json (tests/heldout2 by
default, another with --dir) and record what it says.

A measurement, not a tuning step: the corpus is not changed in response. For each file:

    python -m bpttcheck compare --impl tests/heldout2/FILE:TARGET --hidden 8 --vocab 6
        --seq 7 [--cell lstm|gru] [flags] --format json

run from the worktree root (so the worktree's bpttcheck is the one measured). Records the
exit code, the first likely cause (or the one-line error for exit 2), the parameters
bpttcheck found wrong, and the fix it proposes, compared with the manifest's edit(s).

A proposed fix is also verified independently of bpttcheck: its edits (`impl.fix.edits`,
each replacing 1-based line `line` of the file, or of notebook cell `cell`, whose text is
`before`, by `after`: empty to delete, or several lines) are applied to a temporary copy
of the file, and validate.py's own gradient check runs on the copy (`fix_exact`). The
file's hash before and after each run is compared (`file_untouched`).
A partial fix is checked the same way: the copy must be exact in every parameter but the
ones the fix says remain, and wrong in those (`fix_as_claimed`).
Writes DIR/results-<DATE>.md and .json (DATE = today, UTC).

Usage: python tests/heldout2/run_bpttcheck.py [--dir DIR] [--extra "FLAGS"] [--tag TAG]
                                              [--rescore RESULTS.json] [FILE-SUBSTRING ...]
  --dir: the corpus (a directory holding manifest.json; default tests/heldout2);
  --rescore: do not run bpttcheck; verify again the fixes recorded in RESULTS.json (from
  an earlier run at the commit it records; give that run's --extra again) and write the
  results again;
  --extra: more bpttcheck flags for every file (e.g. "--fix-budget 15"), recorded in the
  results; --tag: written to results-<DATE>-<TAG>.md/.json instead.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import importlib.util
import json
import re
import shlex
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TIMEOUT = 600


def _validate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("heldout_validate", HERE / "validate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VALIDATE = _validate()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def apply_fix(path: Path, edits: list[dict[str, Any]], out: Path) -> list[str]:
    """Write `path` with the fix's edits applied to `out`; return the problems met (an
    edit whose `before` is not the line's text, or a line out of range)."""
    problems = []
    nb = json.loads(path.read_text()) if path.suffix == ".ipynb" else None
    if nb is None:
        parts = [path.read_text().splitlines(keepends=True)]
    else:
        parts = [list(c["source"]) if isinstance(c["source"], list)
                 else c["source"].splitlines(keepends=True) for c in nb["cells"]]
    # bottom-up, so that each edit's line is still the original file's
    for e in sorted(edits, key=lambda e: (e.get("cell") or 1, e["line"]), reverse=True):
        lines = parts[(e.get("cell") or 1) - 1]
        i = e["line"] - 1
        if not 0 <= i < len(lines):
            problems.append(f"line {e['line']} is out of range")
            continue
        if lines[i].rstrip("\r\n") != e["before"].rstrip("\r\n"):
            problems.append(f"line {e['line']} is {lines[i].rstrip()!r}, the fix says "
                            f"{e['before']!r}")
        after = e.get("after") or ""
        lines[i:i + 1] = [ln + "\n" for ln in after.splitlines()]
    if nb is None:
        out.write_text("".join(parts[0]))
    else:
        for c, lines in zip(nb["cells"], parts, strict=True):
            c["source"] = lines
        out.write_text(json.dumps(nb, indent=1) + "\n")
    return problems


def verify_fix(entry: dict[str, Any], root: Path, edits: list[dict[str, Any]]
               ) -> tuple[bool, list[str]]:
    """Apply the fix to a temporary copy and run validate.py's gradient check on it, as
    if the copy were a correct file of the corpus."""
    path = root / entry["file"]
    with tempfile.TemporaryDirectory() as tmp:
        fixed = Path(tmp) / path.name
        problems = apply_fix(path, edits, fixed)
        as_ok = copy.deepcopy(entry)
        as_ok.update(file=str(fixed), expect="ok", wrong=[], loss_wrong=False,
                     hlast_wrong=False)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                problems += VALIDATE.check(as_ok, False, root)
        except Exception as exc:  # the fixed code's own error is the finding
            problems.append(f"the fixed copy fails in validate.py: "
                            f"{type(exc).__name__}: {exc}")
    return not problems, problems


def score_fix(entry: dict[str, Any], root: Path, rec: dict[str, Any]) -> None:
    """Verify the fix recorded in `rec` with validate.py: `fix_exact`, `fix_problems`,
    and for a partial fix `fix_as_claimed` (wrong in exactly the parameters it says
    remain, right in every other one and in the loss and last state)."""
    fix = rec.get("fix")
    if not fix or not fix["edits"]:
        return
    rec["fix_exact"], rec["fix_problems"] = verify_fix(entry, root, fix["edits"])
    if fix["partial"]:
        suffix = " should be right but differs"
        still = {pr.split(" ")[0] for pr in rec["fix_problems"] if suffix in pr}
        rec["fix_as_claimed"] = (set(fix.get("remaining") or []) == still and all(
            suffix in pr for pr in rec["fix_problems"]) and not still & {"loss", "hlast"})


def _manifest_edits(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The manifest's edits with `file_line`: their line in the buggy file (an insert or
    a delete above an edit moves it)."""
    edits = entry.get("edits") or ([entry["edit"]] if entry.get("edit") else [])
    out = []
    for e in edits:
        shift = sum({"insert": 1, "delete": -1}.get(o["kind"], 0) for o in edits
                    if o is not e and o.get("cell") == e.get("cell")
                    and o["line"] < e["line"])
        out.append({**e, "file_line": e["line"] + shift})
    return out


def _norm(line: str | None) -> str | None:
    return None if line is None else "".join(line.split())


def run_one(entry: dict[str, Any], extra: list[str], root: Path = HERE) -> dict[str, Any]:
    rel = (root / entry["file"]).relative_to(ROOT)
    before = _digest(root / entry["file"])
    cmd = [sys.executable, "-m", "bpttcheck", "compare", "--impl",
           f"{rel}:{entry['target']}", "--hidden", "8", "--vocab", "6", "--seq", "7"]
    if entry["cell"] != "vanilla":
        cmd += ["--cell", entry["cell"]]
    cmd += list(entry["flags"]) + extra + ["--format", "json"]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT,
                          check=False)
    rec: dict[str, Any] = {"file": entry["file"], "cell": entry["cell"],
                           "expect": entry["expect"], "exit": proc.returncode,
                           "seconds": round(time.monotonic() - start, 1),
                           "command": " ".join(cmd[1:]),
                           "file_untouched": _digest(root / entry["file"]) == before}
    if proc.returncode not in (0, 1):
        err = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        rec["cause"] = err[-1] if err else "(no message)"
        return rec
    report = json.loads(proc.stdout)
    impl = report.get("impl") or {}
    causes = impl.get("causes") or []
    rec["cause"] = causes[0]["message"] if causes else None
    rec["cause_kind"] = causes[0]["kind"] if causes else None
    rec["findings"] = impl.get("findings") or []
    failed: set[str] = set()
    for pt in impl.get("points") or []:
        # against the model's gradient only (not impl-numeric: its own loss's)
        failed |= {f.split(" ")[0] for f in pt.get("failed") or []
                   if not f.endswith("impl-numeric")}
    rec["failed_params"] = sorted(failed)
    fix = impl.get("fix")
    rec["fix_reason"] = impl.get("fix_reason")
    if fix:
        edits = fix.get("edits") or []
        rec["fix"] = {"verified": fix.get("verified"), "partial": fix.get("partial"),
                      "remaining": fix.get("remaining"), "edits": edits}
        wanted = _manifest_edits(entry)
        if wanted and edits:
            at = [m for e in edits for m in wanted
                  if (m["file_line"], m.get("cell")) == (e.get("line"), e.get("cell"))]
            rec["fix_line_right"] = len(at) == len(edits)
            rec["fix_restores"] = rec["fix_line_right"] and all(
                not (e.get("after") or "").strip() if m["kind"] == "insert"
                else _norm(e.get("after")) == _norm(m["original"])
                for e, m in zip(edits, at, strict=True))
        score_fix(entry, root, rec)
    return rec


def _full_fix(rec: dict[str, Any]) -> bool:
    fix = rec.get("fix")
    return bool(fix and fix["verified"] and not fix["partial"])


def _partial_fix(rec: dict[str, Any]) -> bool:
    fix = rec.get("fix")
    return bool(fix and fix["partial"])


def summarise(recs: list[dict[str, Any]]) -> list[str]:
    out = []
    for cell in ("vanilla", "lstm", "gru"):
        rs = [r for r in recs if r["cell"] == cell]
        if not rs:
            continue
        ok = [r for r in rs if r["expect"] == "ok"]
        bug = [r for r in rs if r["expect"] == "bug"]
        bug2 = [r for r in rs if r["expect"] == "bug2"]
        refused = [r for r in rs if r["exit"] not in (0, 1)]
        out.append(f"- {cell}: {len(rs)} files; correct passed (exit 0) "
                   f"{sum(r['exit'] == 0 for r in ok)}/{len(ok)}; bugs detected (exit 1) "
                   f"{sum(r['exit'] == 1 for r in bug)}/{len(bug)}; refused or crashed "
                   f"(exit not 0/1) {len(refused)}; bugs with a cause named "
                   f"{sum(bool(r.get('cause')) and r['exit'] == 1 for r in bug)}/{len(bug)}; "
                   f"verified full fix proposed "
                   f"{sum(_full_fix(r) for r in bug)}"
                   f"/{len(bug)}, at the edited line "
                   f"{sum(bool(r.get('fix_line_right')) for r in bug)}/{len(bug)}, restoring "
                   f"the original text {sum(bool(r.get('fix_restores')) for r in bug)}"
                   f"/{len(bug)}; verified full fix proposed, and exact by validate.py: "
                   f"{sum(_full_fix(r) and bool(r.get('fix_exact')) for r in bug)}"
                   f"/{len(bug)}; a full fix NOT exact by validate.py "
                   f"{sum(_full_fix(r) and r.get('fix_exact') is False for r in rs)}; "
                   f"partial fixes proposed {sum(_partial_fix(r) for r in rs)}, as "
                   f"claimed by validate.py {sum(bool(r.get('fix_as_claimed')) for r in rs)}"
                   f"; user file unchanged "
                   f"after the run {sum(bool(r.get('file_untouched')) for r in rs)}"
                   f"/{len(rs)}")
        if bug2:
            out.append(f"- {cell}, two-bug files: {len(bug2)}; detected (exit 1) "
                       f"{sum(r['exit'] == 1 for r in bug2)}/{len(bug2)}; partial fix "
                       f"proposed: {sum(_partial_fix(r) for r in bug2)}/{len(bug2)}, as "
                       f"claimed by validate.py "
                       f"{sum(bool(r.get('fix_as_claimed')) for r in bug2)}/{len(bug2)}; "
                       f"full fix (both bugs) proposed {sum(_full_fix(r) for r in bug2)}"
                       f"/{len(bug2)}, exact by validate.py "
                       f"{sum(_full_fix(r) and bool(r.get('fix_exact')) for r in bug2)}"
                       f"/{len(bug2)}")
    return out


def _head() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True, check=False).stdout.strip()


def write(recs: list[dict[str, Any]], manifest: dict[str, Any], extra: list[str],
          tag: str, root: Path = HERE, rescored_from: Path | None = None) -> Path:
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    by_file = {e["file"]: e for e in manifest["files"]}
    head = recs[0].get("commit") if recs else None
    rel = root.relative_to(ROOT)
    now = dt.datetime.now(dt.UTC).strftime("%H:%M")
    when = f"UTC {recs[-1].get('utc', now) if recs else now}"
    if rescored_from is not None:
        when += (f" (bpttcheck's answers from {rescored_from.name}; its fixes verified "
                 f"again by validate.py at UTC {now})")
    lines = [f"# bpttcheck on the {root.name} corpus ({date})", "",
             f"Measured at commit {head or _head()} of this worktree, {when}, "
             "on a shared 2-core machine, "
             f"with `python tests/heldout2/run_bpttcheck.py --dir {rel}`: for each file",
             f"`python -m bpttcheck compare --impl {rel}/FILE:TARGET --hidden 8 "
             f"--vocab 6 --seq 7 [--cell lstm|gru] {shlex.join(extra + ['--format', 'json'])}`"
             f" ({'extra flags: ' + shlex.join(extra) if extra else 'no other flags'}).",
             "The files were not changed in response. 'wrong (manifest)' is what "
             "validate.py verified at its own points; 'wrong (bpttcheck)' is every "
             "parameter whose comparison with the model's gradient (impl ↔ tutorial, "
             "reference or numeric) failed at either of bpttcheck's points. A proposed "
             "fix is applied to a temporary copy and checked by validate.py's own "
             "gradient check ('exact' / 'NOT exact' below).", "",
             "## Summary", "", *summarise(recs), "",
             "## Per file", "",
             "| file | expect | exit | s | first cause (or error) | wrong (manifest) | "
             "wrong (bpttcheck) | fix |",
             "|---|---|---|---|---|---|---|---|"]
    for r in recs:
        e = by_file[r["file"]]
        fix = "-"
        if r.get("fix"):
            f = r["fix"]
            ed = "; ".join(f"line {x.get('line')}: `{(x.get('after') or '(delete)').strip()}`"
                           for x in f["edits"])
            status = "verified" if f["verified"] and not f["partial"] else "partial"
            where = ""
            if "fix_line_right" in r:
                where = (", restores the original" if r.get("fix_restores") else
                         (", at the edited line" if r["fix_line_right"] else ", elsewhere"))
            exact = ("" if "fix_exact" not in r else
                     "; exact by validate.py" if r["fix_exact"] else
                     "; as claimed by validate.py (the copy is wrong in "
                     f"{','.join(f.get('remaining') or [])} only)" if r.get("fix_as_claimed")
                     else "; NOT exact by validate.py: " + "; ".join(r["fix_problems"]))
            fix = f"{status}{where}: {ed}{exact}"
        elif r.get("fix_reason"):
            fix = f"none: {r['fix_reason']}"
        cause = (r.get("cause") or "(none named)").replace("|", "\\|")
        if r["exit"] == 1 and r.get("findings") and not r.get("cause"):
            cause = "(no cause) " + r["findings"][0].replace("|", "\\|")
        if not r.get("file_untouched", True):
            cause += " (FILE CHANGED by the run)"
        lines.append(f"| {r['file'].removeprefix('corpus/')} | {r['expect']} | {r['exit']} "
                     f"| {r['seconds']} | {cause} | {','.join(e['wrong']) or '-'}"
                     f"{' +loss' if e['loss_wrong'] else ''} | "
                     f"{','.join(r.get('failed_params') or []) or '-'} | "
                     f"{fix.replace('|', chr(92) + '|')} |")
    stem = f"results-{date}" + (f"-{tag}" if tag else "")
    path = root / f"{stem}.md"
    path.write_text("\n".join(lines) + "\n")
    (root / f"{stem}.json").write_text(json.dumps(recs, indent=1) + "\n")
    return path


def main(argv: list[str]) -> int:
    root, args = VALIDATE.corpus_dir(argv)
    extra: list[str] = []
    tag = ""
    rescore: Path | None = None
    while args and args[0] in ("--extra", "--tag", "--rescore"):
        flag, value = args.pop(0), args.pop(0)
        if flag == "--extra":
            extra = shlex.split(value)
        elif flag == "--rescore":
            rescore = Path(value)
        else:
            tag = value
    if any(a.startswith("-") for a in args):  # --help, or a flag this script does not know
        print(__doc__ if {"-h", "--help"} & set(args) else
              f"unknown option {next(a for a in args if a.startswith('-'))}; see --help",
              file=sys.stderr)
        return 0 if {"-h", "--help"} & set(args) else 2
    manifest = json.loads((root / "manifest.json").read_text())
    if rescore is not None:
        by_file = {e["file"]: e for e in manifest["files"]}
        recs = json.loads(rescore.read_text())
        for rec in recs:
            score_fix(by_file[rec["file"]], root, rec)
        # the commit the answers were measured at: recorded, or in the run's .md
        md = rescore.with_suffix(".md")
        measured = re.search(r"Measured at commit (\w+) of this worktree, UTC (\d\d:\d\d)",
                             md.read_text()) if md.is_file() else None
        for rec in recs:
            rec.setdefault("commit", measured.group(1) if measured else "unknown")
            rec.setdefault("utc", measured.group(2) if measured else "unknown")
        print("\n".join(summarise(recs)))
        print(f"wrote {write(recs, manifest, extra, tag, root, rescore)}")
        return 0
    head = _head()
    recs = []
    for entry in manifest["files"]:
        if args and not any(a in entry["file"] for a in args):
            continue
        rec = {**run_one(entry, extra, root), "commit": head,
               "utc": dt.datetime.now(dt.UTC).strftime("%H:%M")}
        print(f"{rec['exit']:>3} {rec['seconds']:>6}s {entry['file']}: {rec.get('cause')}",
              flush=True)
        recs.append(rec)
    print("\n".join(summarise(recs)))
    print(f"wrote {write(recs, manifest, extra, tag, root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
