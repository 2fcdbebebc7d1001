"""Run bpttcheck on every file of tests/heldout2/manifest.json and record what it says.

A measurement, not a tuning step: the corpus is not changed in response. For each file:

    python -m bpttcheck compare --impl tests/heldout2/FILE:TARGET --hidden 8 --vocab 6
        --seq 7 [--cell lstm|gru] [flags] --format json

run from the worktree root (so the worktree's bpttcheck is the one measured). Records the
exit code, the first likely cause (or the one-line error for exit 2), the parameters
bpttcheck found wrong, and the fix it proposes, compared with the manifest's edit.
Writes tests/heldout2/results-<DATE>.md and .json (DATE = today, UTC).

Usage: python tests/heldout2/run_bpttcheck.py [--extra "FLAGS"] [--tag TAG] [FILE-SUBSTRING ...]
  --extra: more bpttcheck flags for every file (e.g. "--fix-budget 15"), recorded in the
  results; --tag: written to results-<DATE>-<TAG>.md/.json instead.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TIMEOUT = 600


def _norm(line: str | None) -> str | None:
    return None if line is None else "".join(line.split())


def run_one(entry: dict[str, Any], extra: list[str]) -> dict[str, Any]:
    rel = (HERE / entry["file"]).relative_to(ROOT)
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
                           "command": " ".join(cmd[1:])}
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
                      "edits": edits}
        edit = entry.get("edit")
        if edit and len(edits) == 1:
            e = edits[0]
            rec["fix_line_right"] = e.get("line") == edit["line"]
            if edit["kind"] == "change":
                rec["fix_restores"] = _norm(e.get("after")) == _norm(edit["original"])
            elif edit["kind"] == "insert":
                rec["fix_restores"] = e.get("after") is None
            else:
                rec["fix_restores"] = _norm(e.get("after")) == _norm(edit["original"])
    return rec


def _full_fix(rec: dict[str, Any]) -> bool:
    fix = rec.get("fix")
    return bool(fix and fix["verified"] and not fix["partial"])


def summarise(recs: list[dict[str, Any]]) -> list[str]:
    out = []
    for cell in ("vanilla", "lstm", "gru"):
        rs = [r for r in recs if r["cell"] == cell]
        if not rs:
            continue
        ok = [r for r in rs if r["expect"] == "ok"]
        bug = [r for r in rs if r["expect"] == "bug"]
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
                   f"/{len(bug)}")
    return out


def write(recs: list[dict[str, Any]], manifest: dict[str, Any], extra: list[str],
          tag: str) -> Path:
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    by_file = {e["file"]: e for e in manifest["files"]}
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True, check=False).stdout.strip()
    lines = [f"# bpttcheck on the heldout2 corpus ({date})", "",
             f"Measured at commit {head} of this worktree, UTC "
             f"{dt.datetime.now(dt.UTC).strftime('%H:%M')}, on a shared 2-core machine, "
             "with `python tests/heldout2/run_bpttcheck.py`: for each file",
             "`python -m bpttcheck compare --impl tests/heldout2/FILE:TARGET --hidden 8 "
             f"--vocab 6 --seq 7 [--cell lstm|gru] {shlex.join(extra + ['--format', 'json'])}`"
             f" ({'extra flags: ' + shlex.join(extra) if extra else 'no other flags'}).",
             "The files were not changed in response. 'wrong (manifest)' is what "
             "validate.py verified at its own points; 'wrong (bpttcheck)' is every "
             "parameter whose comparison with the model's gradient (impl ↔ tutorial, "
             "reference or numeric) failed at either of bpttcheck's points.", "",
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
            fix = f"{status}{where}: {ed}"
        elif r.get("fix_reason"):
            fix = f"none: {r['fix_reason']}"
        cause = (r.get("cause") or "(none named)").replace("|", "\\|")
        if r["exit"] == 1 and r.get("findings") and not r.get("cause"):
            cause = "(no cause) " + r["findings"][0].replace("|", "\\|")
        lines.append(f"| {r['file'].removeprefix('corpus/')} | {r['expect']} | {r['exit']} "
                     f"| {r['seconds']} | {cause} | {','.join(e['wrong']) or '-'}"
                     f"{' +loss' if e['loss_wrong'] else ''} | "
                     f"{','.join(r.get('failed_params') or []) or '-'} | "
                     f"{fix.replace('|', chr(92) + '|')} |")
    stem = f"results-{date}" + (f"-{tag}" if tag else "")
    path = HERE / f"{stem}.md"
    path.write_text("\n".join(lines) + "\n")
    (HERE / f"{stem}.json").write_text(json.dumps(recs, indent=1) + "\n")
    return path


def main(argv: list[str]) -> int:
    args = list(argv)
    extra: list[str] = []
    tag = ""
    while args and args[0] in ("--extra", "--tag"):
        flag, value = args.pop(0), args.pop(0)
        if flag == "--extra":
            extra = shlex.split(value)
        else:
            tag = value
    manifest = json.loads((HERE / "manifest.json").read_text())
    recs = []
    for entry in manifest["files"]:
        if args and not any(a in entry["file"] for a in args):
            continue
        rec = run_one(entry, extra)
        print(f"{rec['exit']:>3} {rec['seconds']:>6}s {entry['file']}: {rec.get('cause')}",
              flush=True)
        recs.append(rec)
    print("\n".join(summarise(recs)))
    print(f"wrote {write(recs, manifest, extra, tag)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
