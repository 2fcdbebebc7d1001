"""Code as people write it (#12, loader side): each form through the plain command.

The fixtures in ``tests/forms/`` are written for these tests: a Python 2 class,
weights as arguments, sizes and constants under other names, notebooks, and
files mixing two naming conventions, each correct and with a bug.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

import bpttcheck
from bpttcheck.errors import ImplError
from bpttcheck.impl import ImplOptions, parse_names
from bpttcheck.impl.adapters import prepare
from bpttcheck.impl.loader import load
from bpttcheck.impl.options import parse_values

Run = Callable[..., Result]
FORMS = Path(__file__).parent / "forms"
ROOT = Path(__file__).parent.parent
TINY = ["--hidden", "6", "--seq", "5", "--vocab", "4", "--seed", "2", "--init-scale", "0.5",
        "--hprev", "random"]
SIZES = ["--impl-names", "M=vocab,N=hidden"]

# (file:NAME, extra flags, expected exit code, a phrase the last line must hold)
CASES = [
    ("py2_class_ok.py:CharRNN.bptt", [], 0, "computes this RNN's gradient"),
    ("py2_class_bug.py:CharRNN.bptt", [], 1, "dhnext is computed from dh"),
    ("args_ok.py:lossFun", [], 0, "computes this RNN's gradient"),
    ("args_uvw_bug.py:bptt", [], 1, "truncated BPTT"),
    ("notebook_ok.ipynb:lossFun", [], 0, "computes this RNN's gradient"),
    ("notebook_bug.ipynb:lossFun", [], 1, "is wrong in Wxh, Whh and bh"),
    ("names_mixed_globals.py:lossFun", [], 0, "computes this RNN's gradient"),
    ("names_dict_keys.py:forward_backward", [], 1, "uses h_t where h_{t-1} belongs"),
]
SLOW_CASES = [
    ("args_uvw_ok.py:bptt", [], 0, "computes this RNN's gradient"),
    ("sizes_argparse.py:lossFun", [*SIZES, "--impl-set", "TEMP=1.0"], 0,
     "computes this RNN's gradient"),
    ("sizes_temp_bug.py:lossFun", [*SIZES, "--impl-set", "TEMP=2.0", "--impl-loss", "own"], 1,
     "2 times the truth"),
]


def last_line(result: Result) -> str:
    return (result.stdout.strip().splitlines() or [""])[-1]


@pytest.mark.parametrize(("target", "flags", "code", "phrase"), CASES)
def test_each_form_with_the_plain_command(run_cli: Run, target: str, flags: list[str],
                                          code: int, phrase: str) -> None:
    result = run_cli("compare", "--impl", str(FORMS / target), *flags, *TINY)
    assert result.exit_code == code, result.output
    assert phrase in last_line(result)


@pytest.mark.slow
@pytest.mark.parametrize(("target", "flags", "code", "phrase"), SLOW_CASES)
def test_more_forms(run_cli: Run, target: str, flags: list[str], code: int,
                    phrase: str) -> None:
    test_each_form_with_the_plain_command(run_cli, target, flags, code, phrase)


def test_python2_class_keeps_its_python3_methods_and_reports_the_others() -> None:
    loaded = load(f"{FORMS / 'py2_class_ok.py'}:CharRNN.bptt")
    assert {"__init__", "bptt"} <= set(vars(loaded.obj))
    assert "report" not in vars(loaded.obj) and "sample" not in vars(loaded.obj)
    summary = loaded.summary()
    assert "line 13 def report(self, n, loss): (not Python 3, in class CharRNN)" in summary
    assert loaded.python2


def test_a_method_asked_for_as_a_function_names_the_class(run_cli: Run) -> None:
    result = run_cli("compare", "--impl", f"{FORMS / 'py2_class_ok.py'}:bptt", *TINY)
    assert result.exit_code == 2
    assert "bptt is a method of class CharRNN: give --impl " in result.stderr
    assert "py2_class_ok.py:CharRNN.bptt" in result.stderr


def test_weights_as_arguments_are_bound_by_name() -> None:
    code = prepare(f"{FORMS / 'args_uvw_ok.py'}:bptt", ImplOptions(),
                   {"hidden": 6, "vocab": 4, "seq": 5})
    assert code.form == "arguments"
    assert code.names == {"U": "Wxh", "W": "Whh", "V": "Why", "b": "bh", "c": "by"}
    assert code.slots["x"] == "inputs" and code.slots["y"] == "targets"
    assert code.slots["h0"] == "hprev"


def test_sizes_and_constants_are_asked_for_by_the_flag(run_cli: Run) -> None:
    script = f"{FORMS / 'sizes_argparse.py'}:lossFun"
    first = run_cli("compare", "--impl", script, *TINY)
    assert first.exit_code == 2
    assert "M looks like a size: name it with --impl-names M=vocab" in first.stderr
    second = run_cli("compare", "--impl", script, *SIZES, *TINY)
    assert second.exit_code == 2
    assert "give it a value with --impl-set TEMP=VALUE" in second.stderr
    done = run_cli("compare", "--impl", script, *SIZES, "--impl-set", "TEMP=1.0", *TINY)
    assert done.exit_code == 0, done.output


def test_parse_names_accepts_sizes_and_parse_values_literals() -> None:
    assert parse_names("M=vocab, B=batch,U=Wxh") == {"M": "vocab", "B": "batch", "U": "Wxh"}
    with pytest.raises(ImplError, match="a size \\(hidden, vocab, seq, batch\\)"):
        parse_names("M=vocabulary")
    assert parse_values(["T=2.0", "name=abc", "shape=(2, 3)"]) == {
        "T": 2.0, "name": "abc", "shape": (2, 3)}
    with pytest.raises(ImplError, match="--impl-set: expected NAME=VALUE"):
        parse_values(["T"])


def test_explicit_dict_uses_the_keys_the_function_indexes() -> None:
    code = prepare(f"{FORMS / 'names_dict_keys.py'}:forward_backward", ImplOptions(),
                   {"hidden": 6, "vocab": 4, "seq": 5})
    assert code.form == "explicit"
    assert set(code.names) == {"U", "W", "V", "b", "c"}


def test_each_weight_is_set_under_the_name_the_code_reads() -> None:
    code = prepare(f"{FORMS / 'names_mixed_globals.py'}:lossFun", ImplOptions(),
                   {"hidden": 6, "vocab": 4, "seq": 5})
    assert code.names == {"U": "Wxh", "W": "Whh", "V": "Why", "bh": "bh", "by": "by"}


def test_wrong_order_with_telling_shapes_suggests_impl_order(run_cli: Run,
                                                             tmp_path: Path) -> None:
    text = (FORMS / "args_ok.py").read_text(encoding="utf-8")
    text = text.replace("return loss, dWxh, dWhh, dWhy, dbh, dby,",
                        "return loss, dWhy, dWhh, dWxh, dby, dbh,")
    (tmp_path / "swapped.py").write_text(text, encoding="utf-8")
    result = run_cli("compare", "--impl", f"{tmp_path / 'swapped.py'}:lossFun", *TINY)
    assert result.exit_code == 2
    assert "that is the shape of dWhy" in result.stderr
    assert "--impl-order dWhy,dWhh,dWxh,dby,dbh" in result.stderr
    fixed = run_cli("compare", "--impl", f"{tmp_path / 'swapped.py'}:lossFun",
                    "--impl-order", "dWhy,dWhh,dWxh,dby,dbh", *TINY)
    assert fixed.exit_code == 0, fixed.output


def test_notebook_magics_are_skipped_and_reported() -> None:
    loaded = load(f"{FORMS / 'notebook_ok.ipynb'}:lossFun")
    summary = loaded.summary()
    for magic in ("cell 2, line 1 %matplotlib inline (IPython magic)",
                  "cell 2, line 2 !pip install numpy (IPython magic)",
                  "cell 4, line 1 np.dot? (IPython magic)",
                  "cell 9, line 1 %%time (IPython magic)"):
        assert magic in summary
    assert callable(loaded.namespace["softmax"])


def _edit_notebook(tmp_path: Path, old: str, new: str) -> Path:
    doc = json.loads((FORMS / "notebook_ok.ipynb").read_text(encoding="utf-8"))
    cell = doc["cells"][7]
    text = "".join(cell["source"])
    assert old in text
    cell["source"] = text.replace(old, new, 1).splitlines(keepends=True)
    out = tmp_path / "edited.ipynb"
    out.write_text(json.dumps(doc), encoding="utf-8")
    return out


def test_notebook_errors_cite_cell_and_line(run_cli: Run, tmp_path: Path) -> None:
    bad = _edit_notebook(tmp_path, "        xs[t][inputs[t]] = 1\n",
                         "        xs[t][inputs[t]] = 1\n        print xs[t]\n")
    result = run_cli("compare", "--impl", f"{bad}:lossFun", *TINY)
    assert result.exit_code == 2
    assert "edited.ipynb cell 8, line 8: syntax error in lossFun" in result.stderr
    crash = _edit_notebook(tmp_path, "dhnext = Whh.T @ dhraw", "dhnext = Whh.T @ dhraw[0, 5]")
    result = run_cli("compare", "--impl", f"{crash}:lossFun", *TINY)
    assert result.exit_code == 2
    assert "IndexError" in result.stderr
    assert "edited.ipynb cell 8, line 24 in lossFun: dhnext = Whh.T @ dhraw[0, 5]" in \
        result.stderr


def test_not_a_notebook_is_one_line(run_cli: Run, tmp_path: Path) -> None:
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{not json", encoding="utf-8")
    result = run_cli("compare", "--impl", f"{bad}:lossFun", *TINY)
    assert result.exit_code == 2
    assert "broken.ipynb: not a Jupyter notebook" in result.stderr


def test_live_notebook_function_checked_in_process() -> None:
    """As in a running kernel: cells executed into one namespace, then check(impl=fn)."""
    doc = json.loads((FORMS / "notebook_ok.ipynb").read_text(encoding="utf-8"))
    ns: dict[str, object] = {"__name__": "__main__"}
    for k in (6, 7):  # the helper's cell and lossFun's cell, as the kernel compiles them
        exec(compile("".join(doc["cells"][k]["source"]), f"/tmp/ipykernel_1/{k}.py", "exec"), ns)
    exec("import numpy as np", ns)
    report = bpttcheck.check(impl=ns["lossFun"], hidden=6, seq=5, vocab=4, hprev="random")
    assert report.passed
    shown = report._repr_mimebundle_()
    assert "computes this RNN's gradient" in shown["text/plain"]
    assert "<" in shown["text/html"]
    assert "Wxh" not in ns  # the weights were set in a copy of the notebook's globals


def test_module_target_resolves_from_the_current_directory(tmp_path: Path) -> None:
    (tmp_path / "my_rnn.py").write_text((FORMS / "args_ok.py").read_text(encoding="utf-8"),
                                        encoding="utf-8")
    # As the console script runs: the current directory is not on sys.path.
    program = ("import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.', "
               f"{str(tmp_path)!r})]; from bpttcheck.cli import main; main()")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", program, "compare", "--impl",
                           "my_rnn:lossFun", *TINY], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def test_a_python2_method_asked_for_gives_its_line(run_cli: Run) -> None:
    result = run_cli("compare", "--impl", f"{FORMS / 'py2_class_ok.py'}:CharRNN.report", *TINY)
    assert result.exit_code == 2
    assert "py2_class_ok.py:13: method CharRNN.report does not parse as Python 3" in result.stderr


def test_batch_size_by_name_is_one_without_a_batch(run_cli: Run, tmp_path: Path) -> None:
    text = (FORMS / "sizes_argparse.py").read_text(encoding="utf-8")
    text = text.replace("dhnext = np.zeros((N, 1))", "dhnext = np.zeros((N, B))")
    (tmp_path / "with_b.py").write_text(text, encoding="utf-8")
    result = run_cli("compare", "--impl", f"{tmp_path / 'with_b.py'}:lossFun",
                     "--impl-names", "M=vocab,N=hidden,B=batch", "--impl-set", "TEMP=1.0", *TINY)
    assert result.exit_code == 0, result.output


def test_constructor_sizes_under_other_names(run_cli: Run, tmp_path: Path) -> None:
    text = (FORMS / "py2_class_ok.py").read_text(encoding="utf-8")
    text = text.replace("def __init__(self, hidden_size, vocab_size):",
                        "def __init__(self, Q, R):\n        hidden_size, vocab_size = Q, R")
    (tmp_path / "qr.py").write_text(text, encoding="utf-8")
    target = f"{tmp_path / 'qr.py'}:CharRNN.bptt"
    asked = run_cli("compare", "--impl", target, *TINY)
    assert asked.exit_code == 2
    assert "no spec value for Q, R" in asked.stderr and "--impl-names" in asked.stderr
    done = run_cli("compare", "--impl", target, "--impl-names", "Q=hidden,R=vocab", *TINY)
    assert done.exit_code == 0, done.output


def test_a_default_argument_reading_a_supplied_size_gets_the_spec_s(run_cli: Run,
                                                                     tmp_path: Path) -> None:
    """``def onehot(i, n=vocab_size)``: the default is made when the definition is, so the
    size bpttcheck supplies is bound before (it was a NameError: the file's own
    ``vocab_size = 65`` is skipped as supplied)."""
    src = (Path(bpttcheck.__file__).parent / "selftest" / "corpus" /
           "bug_recursion_Whh.py").read_text()
    src = src.replace("np.dot(Whh, dhraw)", "np.dot(Whh.T, dhraw)")
    src = src.replace("        xs[t] = np.zeros((vocab_size, 1))\n        xs[t][inputs[t]] = 1\n",
                      "        xs[t] = onehot(inputs[t])\n")
    src = src.replace("def lossFun(", "def onehot(i, n=vocab_size):\n    v = np.zeros((n, 1))\n"
                      "    v[i] = 1\n    return v\n\n\ndef lossFun(")
    assert "onehot(inputs[t])" in src
    path = tmp_path / "onehot.py"
    path.write_text(src)
    r = run_cli("compare", "--impl", f"{path}:lossFun", *TINY)
    assert r.exit_code == 0, r.output
