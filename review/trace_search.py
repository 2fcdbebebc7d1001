"""Run the CLI in-process with Trials.full traced: which copies reach the whole check."""
import sys, difflib
from bpttcheck.fix import trials as T
orig_full = T.Trials.full
def full(self, content):
    r = orig_full(self, content)
    base = self.original.read_text()
    d = [l for l in difflib.unified_diff(base.splitlines(), content.splitlines(), lineterm="", n=0) if l[:1] in "+-" and l[:3] not in ("+++", "---")]
    print("FULL CHECK:", d, "->", r, file=sys.stderr)
    return r
T.Trials.full = full
from bpttcheck.cli import main
sys.argv[0] = 'bpttcheck'
main()
