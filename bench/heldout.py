"""bpttcheck on the held-out hand-written corpus (tests/heldout): detection, false alarms, causes.

The corpus was written by someone who never saw bpttcheck's diagnosis, in styles unlike the
selftest corpus and the mutation harness's sources, and nothing was tuned on it. Each buggy
file is one edit away from a correct one; its manifest entry names the gradients the edit makes
wrong (measured by tests/heldout/validate.py, which shares no code with bpttcheck).

For each file this runs ``bpttcheck compare --impl FILE:NAME`` (through the CLI, as a user
would) at a small spec and reads the JSON report. It prints:

- detection: buggy files that exit 1 (goal: all);
- false alarms: correct files that do not exit 0 (goal: none);
- causes: buggy files whose first cause is *specific* (not the fallback kinds ``hidden`` or
  ``measured``, which only describe where the error is) and names every parameter the
  manifest says is wrong and no parameter it says is right. Whether the sentence is *true*
  is for a person to read: ``--show`` prints each file's edit beside the cause named.

Usage: python bench/heldout.py [--show]
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "heldout"
SPEC = ["--hidden", "5", "--vocab", "4", "--seq", "6", "--init-scale", "0.5",
        "--hprev", "random"]
FALLBACK = ("hidden", "measured")
OURS = {"dWxh": "Wxh", "dWhh": "Whh", "dWhy": "Why", "dbh": "bh", "dby": "by"}


def run(entry: dict) -> dict:
    flags = list(entry["cli_flags"])
    spec = list(SPEC)
    for i in range(0, len(flags) - 1):  # an entry's own sizes win over ours
        if flags[i] in spec:
            j = spec.index(flags[i])
            del spec[j:j + 2]
    args = [sys.executable, "-m", "bpttcheck", "compare", "--impl",
            f"{CORPUS / entry['file']}:{entry['function']}", *spec, *flags, "--format", "json"]
    out = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=300)
    report = json.loads(out.stdout) if out.stdout.strip() else {}
    return {"exit": out.returncode, "report": report, "stderr": out.stderr.strip()}


def main(argv: list[str]) -> int:
    show = "--show" in argv
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    caught = bugs = alarms = correct = specific = 0
    for entry in manifest:
        r = run(entry)
        impl = r["report"].get("impl") or {}
        causes = impl.get("causes") or []
        if entry["correct"]:
            correct += 1
            alarms += r["exit"] != 0
            if r["exit"] != 0 or show:
                print(f"{entry['file']:24} correct  exit {r['exit']}  {r['stderr'][:100]}")
            continue
        bugs += 1
        caught += r["exit"] == 1
        wrong = {OURS.get(p, p) for p in entry["parameters"]}
        first = causes[0] if causes else None
        named = set(first["params"]) if first else set()
        ok = first is not None and first["kind"] not in FALLBACK and named == wrong
        specific += ok
        if show or not ok:
            cause = f"{first['kind']}: {first['message'][:150]}" if first else "(no cause)"
            print(f"{entry['file']:8} exit {r['exit']} {'OK ' if ok else '-- '} "
                  f"{entry['kind']:32} wrong={sorted(wrong)}\n         {cause}")
    print(f"\ndetection: {caught}/{bugs} buggy files exit 1")
    print(f"false alarms: {alarms}/{correct} correct files did not exit 0")
    print(f"specific causes naming exactly the wrong parameters: {specific}/{bugs} "
          f"({100 * specific / max(1, bugs):.0f}%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
