"""The bad-input corpus: every case gets one line on stderr, exit 2, and no traceback.

A case is (name, args, files): ``files`` maps a file name to its bytes, written in a
temporary directory that is the working directory while the case runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .test_prose import grammar_problems

Run = Callable[..., Result]
SMALL = ["--hidden", "3", "--seq", "3", "--vocab", "3"]

OK_IMPL = b"""
import numpy as np
def f(params, inputs, targets, hprev):
    return 0.0, {k: np.zeros_like(v) for k, v in params.items()}
"""

CASES: list[tuple[str, list[str], dict[str, bytes]]] = [
    # flags: types and ranges
    ("hidden zero", ["compare", "--hidden", "0"], {}),
    ("hidden negative", ["compare", "--hidden", "-5"], {}),
    ("hidden text", ["compare", "--hidden", "abc"], {}),
    ("hidden fraction", ["compare", "--hidden", "1.5"], {}),
    ("seq zero", ["compare", "--seq", "0"], {}),
    ("seq text", ["compare", "--seq", "x"], {}),
    ("vocab one", ["compare", "--vocab", "1"], {}),
    ("vocab negative", ["compare", "--vocab", "-3"], {}),
    ("offset negative", ["compare", "--offset", "-1"], {}),
    ("seed negative", ["compare", "--seed", "-1"], {}),
    ("init-scale zero", ["compare", "--init-scale", "0"], {}),
    ("init-scale nan", ["compare", "--init-scale", "nan"], {}),
    ("init-scale inf", ["compare", "--init-scale", "inf"], {}),
    ("clip negative", ["compare", "--clip", "-5"], {}),
    ("clip text", ["compare", "--clip", "lots"], {}),
    ("clip inf", ["compare", "--clip", "inf"], {}),
    ("rtol-analytic zero", ["compare", "--rtol-analytic", "0"], {}),
    ("rtol-numeric above one", ["compare", "--rtol-numeric", "1.5"], {}),
    ("floor above one", ["compare", "--floor", "2"], {}),
    ("hprev choice", ["compare", "--hprev", "ones"], {}),
    ("method choice", ["compare", "--method", "bogus"], {}),
    ("step negative", ["compare", "--step", "-1"], {}),
    ("step text", ["compare", "--step", "zero"], {}),
    ("sample zero", ["numeric", "--sample", "0"], {}),
    ("format choice", ["compare", "--format", "xml"], {}),
    ("engine choice", ["numeric", "--engine", "numeric"], {}),
    ("unknown flag", ["compare", "--hiden", "5"], {}),
    ("unknown command", ["comapre"], {}),
    ("flag without value", ["compare", "--hidden"], {}),
    # absurd sizes: refused before anything is allocated or run
    ("hidden beyond bound", ["compare", "--hidden", "10000000000"], {}),
    ("hidden exhausts memory", ["compare", "--hidden", "1000000"], {}),
    ("vocab exhausts memory", ["compare", "--vocab", "1000000"], {}),
    ("seq takes weeks", ["compare", "--seq", "1000000", "--vocab", "3", "--hidden", "2"], {}),
    ("vocab and data", ["compare", "--vocab", "5", "--data", "t.txt"], {"t.txt": b"x" * 50}),
    # config files
    ("config missing", ["compare", "--config", "nope.toml"], {}),
    ("config directory", ["compare", "--config", "."], {}),
    ("config broken", ["compare", "--config", "c.toml"], {"c.toml": b"hidden = [1,\n"}),
    ("config wrong type", ["compare", "--config", "c.toml"], {"c.toml": b'hidden = "big"\n'}),
    ("config bool size", ["compare", "--config", "c.toml"], {"c.toml": b"seq = true\n"}),
    ("config unknown key", ["compare", "--config", "c.toml"], {"c.toml": b"hiden = 3\n"}),
    ("config table", ["compare", "--config", "c.toml"], {"c.toml": b"[model]\nhidden = 3\n"}),
    ("config not utf-8", ["compare", "--config", "c.toml"], {"c.toml": b"seq = 3 # \xff\n"}),
    ("config vocab and data", ["compare", "--config", "c.toml"],
     {"c.toml": b'vocab = 3\ndata = "t.txt"\n'}),
    # data files
    ("data missing", ["compare", "--data", "none.txt"], {}),
    ("data empty", ["compare", "--data", "t.txt"], {"t.txt": b""}),
    ("data not utf-8", ["compare", "--data", "t.txt"], {"t.txt": b"\xff\xfe\xfd" * 30}),
    ("data directory", ["compare", "--data", "."], {}),
    ("data too short", ["compare", "--data", "t.txt"], {"t.txt": b"short"}),
    ("offset past the end", ["compare", "--data", "t.txt", "--seq", "3", "--offset", "40"],
     {"t.txt": b"a fairly short text of some length"}),
    ("data huge", ["compare", "--data", "big.txt"], {"big.txt": b""}),  # made sparse below
    # output files
    ("save unwritable", ["compare", *SMALL, "--save", "no/dir/x.npz"], {}),
    ("junit unwritable", ["compare", *SMALL, "--junit", "no/dir/x.xml"], {}),
    # --impl targets
    ("impl missing file", ["compare", *SMALL, "--impl", "none.py:f"], {}),
    ("impl no colon", ["compare", *SMALL, "--impl", "user.py"], {"user.py": OK_IMPL}),
    ("impl syntax error", ["compare", *SMALL, "--impl", "user.py:f"],
     {"user.py": b"def f(params, inputs, targets, hprev)\n    return 1\n"}),
    ("impl name missing", ["compare", *SMALL, "--impl", "user.py:g"], {"user.py": OK_IMPL}),
    ("impl wrong signature", ["compare", *SMALL, "--impl", "user.py:f"],
     {"user.py": b"def f(a, b):\n    return a\n"}),
    ("impl raises", ["compare", *SMALL, "--impl", "user.py:f"],
     {"user.py": b"def f(params, inputs, targets, hprev):\n    raise ValueError('boom')\n"}),
    ("impl returns garbage", ["compare", *SMALL, "--impl", "user.py:f"],
     {"user.py": b"def f(params, inputs, targets, hprev):\n    return None\n"}),
    ("impl wrong shapes", ["compare", *SMALL, "--impl", "user.py:f"],
     {"user.py": b"import numpy as np\ndef f(params, inputs, targets, hprev):\n"
                 b"    return 0.0, {k: np.zeros(7) for k in params}\n"}),
    ("impl never returns", ["compare", *SMALL, "--impl", "user.py:f", "--timeout", "0.3"],
     {"user.py": b"def f(params, inputs, targets, hprev):\n    while True:\n        pass\n"}),
    ("impl bad names", ["compare", *SMALL, "--impl", "user.py:f", "--impl-names", "U"],
     {"user.py": OK_IMPL}),
    ("impl bad order", ["compare", *SMALL, "--impl", "user.py:f", "--impl-order", "dA,dB"],
     {"user.py": OK_IMPL}),
    ("impl timeout zero", ["compare", *SMALL, "--impl", "user.py:f", "--timeout", "0"],
     {"user.py": OK_IMPL}),
    # explain
    ("explain param", ["explain", *SMALL, "--param", "Wyy"], {}),
    ("explain truncate zero", ["explain", *SMALL, "--truncate", "0"], {}),
]


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("name", "args", "files"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                   args: list[str], files: dict[str, bytes]) -> None:
    monkeypatch.chdir(tmp_path)
    for file, content in files.items():
        (tmp_path / file).write_bytes(content)
    if name == "data huge":
        with open(tmp_path / "big.txt", "wb") as fh:
            fh.truncate(65 * 2**20)  # sparse: no disk is used
    result = run_cli(*args)
    assert result.exit_code == 2, (name, result.output)
    assert not grammar_problems(result.stderr), (name, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("bpttcheck: error: ")
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    if name.startswith("data "):  # a bad --data file: the message names the flag
        assert "--data" in lines[0], lines[0]


FLAGS = ["--hidden", "--seq", "--vocab", "--offset", "--seed", "--init-scale", "--clip",
         "--hprev", "--rtol-analytic", "--rtol-numeric", "--floor", "--method", "--step",
         "--sample", "--format", "--engine", "--config", "--data"]
VALUES = st.one_of(
    st.integers(-3, 6).map(str),
    st.sampled_from(["0", "-1", "1e309", "nan", "inf", "off", "", "x", "zeros", "random",
                     "central", "json", "table", "tutorial", "reference", "1e-300",
                     "99999999999", "0.5", "nope.toml", "--hidden"]),
    st.text(max_size=5),
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(["compare", "numeric"]),
       pairs=st.lists(st.tuples(st.sampled_from(FLAGS), VALUES), max_size=4))
def test_flag_combinations_never_traceback(run_cli: Run, command: str,
                                           pairs: list[tuple[str, str]]) -> None:
    # Keep every run small: these fixed sizes come first, so generated flags override them
    # only with values from VALUES (at most 6 hidden units or steps).
    args = [command, "--hidden", "3", "--seq", "3", "--vocab", "3"]
    for flag, value in pairs:
        args += [flag, value]
    result = run_cli(*args)
    assert result.exit_code in (0, 1, 2)
    assert "Traceback" not in result.output and "internal error" not in result.stderr
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1
