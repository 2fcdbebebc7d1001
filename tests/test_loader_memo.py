"""The loader: its per-process memo (bpttcheck/impl/memo.py), lines counted as Python counts
them, and a target bound by an alias. Copies of one file that differ
by a line, loaded one after another at the same path (as the fix search does), each get
their own behaviour, line numbers and summary."""

from __future__ import annotations

import traceback
from pathlib import Path

from bpttcheck.impl.loader import load
from bpttcheck.impl.memo import Memo

PY3 = """import numpy as np

SCALE = 2.0

def helper(x):
    return SCALE * x

def f(x):
    return helper(x) + 1

class Model:
    def g(self, x):
        return helper(x) - 1
"""

# A Python 2 script: a print statement at the top and a Python 2 method inside a class
# (read member by member), so that blocks are parsed one by one.
PY2 = """import numpy as np
print "hello"

class Model:
    def old(self):
        print "py2 method"

    def g(self, x):
        return 3 * x

def f(x):
    y = x + 1
    raise ValueError(y)
"""


def test_memo_keeps_the_most_recent_and_makes_once() -> None:
    memo: Memo[int] = Memo(2)
    made: list[str] = []

    def make(k: str) -> int:
        made.append(k)
        return len(made)

    assert memo.get("a", lambda: make("a")) == 1
    assert memo.get("a", lambda: make("a")) == 1  # kept: not made again
    memo.get("b", lambda: make("b"))
    memo.get("c", lambda: make("c"))  # "a" is the least recently used: dropped
    assert memo.get("a", lambda: make("a")) == 4
    assert made == ["a", "b", "c", "a"]


def test_a_copy_edited_at_one_line_behaves_as_edited(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    for k in range(3):  # each edit, then back to the first text: never a stale function
        for factor in ("2.0", "5.0", "2.0"):
            text = PY3.replace("SCALE * x", f"{factor} * x" if k else "SCALE * x")
            text = text.replace("+ 1", f"+ {k}")
            path.write_text(text)
            f = load(f"{path}:f").obj
            g = load(f"{path}:Model.g").obj.g
            scale = 2.0 if k == 0 else float(factor)
            assert f(1.0) == scale + k
            assert g(None, 1.0) == scale - 1


def test_python2_copies_keep_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "old.py"
    seen = []
    for extra in ("", "\n", "", "\n\n"):  # lines inserted above move everything below
        path.write_text(PY2.replace("import numpy as np\n", "import numpy as np\n" + extra))
        loaded = load(f"{path}:f")
        assert loaded.python2
        shift = extra.count("\n")
        lines = {s.text.split()[0]: s.line for s in loaded.statements}
        assert lines["print"] == 2 + shift
        try:
            loaded.obj(1)
        except ValueError as exc:
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            assert frame.lineno == 13 + shift  # the raise, as the file numbers it
        method = load(f"{path}:Model.g").obj.g
        assert method(None, 2) == 6
        assert method.__code__.co_firstlineno == 8 + shift
        seen.append(loaded.summary())
    assert seen[0] == seen[2]  # the same text loads to the same summary


def test_lines_are_counted_as_python_counts_them() -> None:
    from bpttcheck.impl.source import code_lines

    text = "a = 1\n\x0c\nb = 2\r\nc\x1c = 3\rd = 4"
    assert code_lines(text) == ["a = 1", "\x0c", "b = 2", "c\x1c = 3", "d = 4"]
    assert "".join(code_lines(text, keepends=True)) == text
    assert code_lines("") == [] and code_lines("x\n") == ["x"]


def test_a_form_feed_line_does_not_shift_the_memo(tmp_path: Path) -> None:
    """A page-break line (^L) splits a str.splitlines() line in two but not a Python one:
    the memo must key each block by the lines Python numbers, or an edited last line of a
    function is taken for the unedited one."""
    path = tmp_path / "ff.py"
    head = "import numpy as np\n\x0c\n\ndef f(x):\n    y = x + 1\n"
    for factor, want in (("2", 4), ("3", 6), ("2", 4)):
        path.write_text(head + f"    return y * {factor}\n")
        assert load(f"{path}:f").obj(1) == want


def test_a_target_bound_by_a_top_level_alias_is_found(tmp_path: Path) -> None:
    """``lossFun = loss_v2`` at the top level: the alias is the target, though no
    definition reads it (it was skipped as unused)."""
    path = tmp_path / "alias.py"
    path.write_text("def loss_v2(x):\n    return x + 1\n\n\nlossFun = loss_v2\n")
    assert load(f"{path}:lossFun").obj(1) == 2
