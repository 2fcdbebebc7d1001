"""Apply a report's impl.fix.edits as README "Flags, API, JSON" describes, then re-check.

Usage: python review/apply_check2.py FILE.py:NAME [bpttcheck compare flags...]
Runs `python -m bpttcheck compare --impl FILE.py:NAME FLAGS --format json` (the search
on), writes FILE with the edits applied to a temporary folder (each edit replaces the
whole line `line`, 1-based, whose text must be `before`, by `after` split on newlines),
then runs the same check with --no-fix on the patched copy and prints its exit code.
The user's file is compared byte for byte before and after.
"""
import json
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main() -> int:
    target, flags = sys.argv[1], sys.argv[2:]
    path = pathlib.Path(target.rsplit(":", 1)[0])
    name = target.rsplit(":", 1)[1]
    original = path.read_bytes()
    run = subprocess.run([sys.executable, "-m", "bpttcheck", "compare", "--impl", target,
                          *flags, "--format", "json"], cwd=ROOT, capture_output=True,
                         text=True)
    print("search exit", run.returncode)
    assert path.read_bytes() == original, "the user's file changed"
    report = json.loads(run.stdout)
    fix = report["impl"]["fix"]
    print("fix_reason:", report["impl"].get("fix_reason"))
    if not fix:
        return 0
    print(json.dumps(fix["edits"], indent=1))
    lines = path.read_text(encoding="utf-8").split("\n")
    for e in sorted(fix["edits"], key=lambda e: e["line"], reverse=True):
        k = e["line"] - 1
        if lines[k].rstrip("\r") != e["before"]:
            print(f"MISMATCH at line {e['line']}: file has {lines[k]!r}, before is "
                  f"{e['before']!r}")
            return 1
        lines[k:k + 1] = e["after"].split("\n") if e["after"] else []
    with tempfile.TemporaryDirectory() as d:
        fixed = pathlib.Path(d) / path.name
        fixed.write_text("\n".join(lines), encoding="utf-8")
        again = subprocess.run([sys.executable, "-m", "bpttcheck", "compare", "--impl",
                                f"{fixed}:{name}", *flags, "--no-fix"], cwd=ROOT,
                               capture_output=True, text=True)
        print("patched copy: verified" if fix["verified"] else "patched copy: partial",
              "-> --no-fix exit", again.returncode)
        print(again.stdout.strip().splitlines()[-1] if again.stdout.strip() else again.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
