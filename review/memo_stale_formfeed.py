"""Reproducer: the loader memo (bpttcheck/impl/memo.py) returns stale code when a file
contains a form feed (or any other character str.splitlines() splits on but Python's
tokenizer does not: \\v, \\x1c-\\x1e, \\x85, \\u2028, \\u2029).

Two texts of one path differ only in the last line of f(); the second load gets the
first load's compiled f.  Run: PYTHONPATH=. python review/memo_stale_formfeed.py
"""
from pathlib import Path
import tempfile

from bpttcheck.impl.loader import load_source

A = "import numpy as np\n\x0c\ndef f(x):\n    y = x + 1\n    return y * 2\n"
B = "import numpy as np\n\x0c\ndef f(x):\n    y = x + 1\n    return y * 3\n"

path = Path(tempfile.mkdtemp()) / "m.py"
for text in (A, B):
    path.write_text(text)
    f = load_source(text, path, "f").obj
    print(repr(text.splitlines()[-1]), "-> f(1) =", f(1))
ns = {}
exec(B, ns)
print("plain Python runs B: f(1) =", ns["f"](1))
