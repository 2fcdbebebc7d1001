"""bpttcheck as a Unix citizen: exit codes, pipes, Ctrl-C, warnings, error documents."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from click.testing import Result

from bpttcheck import engines
from bpttcheck.engines import Gradients, Options
from bpttcheck.errors import ExitCode, SelfCheckError
from bpttcheck.model import Batch, Params

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--hidden", "5", "--seq", "4", "--vocab", "3", "--seed", "1"]
Run = Callable[..., Result]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def schema() -> dict:
    text = resources.files("bpttcheck").joinpath("schema/report-1.schema.json").read_text()
    return json.loads(text)


def test_no_arguments_print_the_help_and_exit_0(run_cli: Run) -> None:
    result = run_cli()
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: ") and "Exit codes:" in result.stdout
    assert result.stderr == ""


def test_help_shows_the_exit_code_table(run_cli: Run) -> None:
    text = run_cli("--help").stdout
    for code in ExitCode:
        assert f"\n    {int(code)} " in text, code


def test_bare_command_in_a_real_process() -> None:
    out = subprocess.run([sys.executable, "-m", "bpttcheck"], capture_output=True, text=True,
                         env=env(), cwd=ROOT, check=False)
    assert out.returncode == 0 and "Exit codes:" in out.stdout and out.stderr == ""


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_closed_pipe_exits_141_silently(fmt: str) -> None:
    """stdout closed before anything is written: a reader that went away."""
    with subprocess.Popen([sys.executable, "-m", "bpttcheck", "compare", *TINY, "--format", fmt],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(),
                          cwd=ROOT) as proc:
        assert proc.stdout is not None
        proc.stdout.close()
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.CLOSED_PIPE
    assert err == b""


def test_head_dash_1_never_exits_1() -> None:
    """``bpttcheck compare | head -1``: 141 when head closed the pipe first, 0 when every line
    was written before it did; never 1, and nothing on stderr."""
    with subprocess.Popen([sys.executable, "-m", "bpttcheck", "compare", *TINY],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(),
                          cwd=ROOT) as proc:
        head = subprocess.run(["head", "-1"], stdin=proc.stdout, capture_output=True,
                              check=False)
        assert proc.stdout is not None
        proc.stdout.close()
        _, err = proc.communicate(timeout=60)
    assert head.stdout.startswith(b"bpttcheck: hidden 5")
    assert proc.returncode in (ExitCode.CLOSED_PIPE, ExitCode.AGREE) and err == b""


def interrupted_during_import(module: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bpttcheck compare`` with SIGINT sent while ``module`` is imported."""
    code = ("import builtins, os, runpy, signal, sys\n"
            "real = builtins.__import__\n"
            "def imp(name, *a, **k):\n"
            f"    if name == {module!r}:\n"
            "        os.kill(os.getpid(), signal.SIGINT)\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = imp\n"
            "sys.argv = ['bpttcheck', 'compare', '--hidden', '5', '--seq', '4']\n"
            "runpy.run_module('bpttcheck', run_name='__main__')\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env(), cwd=ROOT, check=False, timeout=60)


@pytest.mark.parametrize("module", ["click", "numpy"])
def test_ctrl_c_during_imports_exits_130_without_traceback(module: str) -> None:
    out = interrupted_during_import(module)
    assert out.returncode == ExitCode.INTERRUPTED, out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_early_ctrl_c_in_a_real_process() -> None:
    """A real SIGINT while bpttcheck's modules still load (right after Click has), and at a
    few later moments: NumPy's import, the check itself."""
    for delay in (0.0, 0.05, 0.2):
        with subprocess.Popen([sys.executable, "-X", "importtime", "-m", "bpttcheck",
                               "compare", "--hidden", "50", "--seq", "60"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
                              env=env(), cwd=ROOT) as proc:
            assert proc.stderr is not None
            seen = b""
            while seen.rsplit(b"|", 1)[-1].strip() != b"click":  # -X importtime: one line per
                seen = proc.stderr.readline()  # import as it completes (unbuffered here)
                assert seen, "the process ended before importing click"
            time.sleep(delay)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
        assert proc.returncode == ExitCode.INTERRUPTED, (delay, err[-500:])
        assert b"Traceback" not in err and b"KeyboardInterrupt" not in err


def warning_engine(params: Params, batch: Batch, options: Options) -> Gradients:
    grads = engines.ENGINES["reference"](params, batch, options)
    np.exp(np.array([1000.0]))  # overflow: NumPy warns, quoting this line
    return Gradients("tutorial", grads.loss, grads.grads)


def test_numpy_warnings_become_report_notes(run_cli: Run,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(engines.ENGINES, "tutorial", warning_engine)
    result = run_cli("compare", *TINY)
    assert result.exit_code == 0
    assert "note: warning during the check: overflow encountered in exp" in result.stdout
    assert "RuntimeWarning" not in result.output and "np.exp" not in result.output
    data = json.loads(run_cli("compare", *TINY, "--json").stdout)
    assert "warning during the check: overflow encountered in exp" in data["notes"]


def test_a_recursion_error_in_user_code_is_one_short_line(run_cli: Run, tmp_path: Path) -> None:
    user = tmp_path / "rec.py"
    user.write_text("def lossFun(inputs, targets, hprev):\n"
                    "    return lossFun(inputs, targets, hprev)\n", encoding="utf-8")
    result = run_cli("compare", *TINY, "--impl", f"{user}:lossFun")
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) < 600
    assert "RecursionError" in lines[0] and "--debug shows all" in lines[0]


@pytest.mark.parametrize(
    ("args", "code"),
    [(["compare", "--hidden", "0"], 2), (["compare", "--bogus"], 2), (["frobnicate"], 2)],
)
def test_json_errors_are_one_document(run_cli: Run, args: list[str], code: int) -> None:
    result = run_cli(*args, "--format", "json")
    assert result.exit_code == code
    doc = json.loads(result.stdout)  # exactly one document: json.loads refuses trailing text
    jsonschema.validate(doc, schema())
    assert doc["error"]["exit_code"] == code and doc["tool"] == "bpttcheck"
    assert doc["error"]["message"] in result.stderr


def test_interrupted_json_run_prints_an_error_document(run_cli: Run,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from bpttcheck import checker

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(checker, "run", interrupted)
    result = run_cli("compare", *TINY, "--json")
    assert result.exit_code == 130
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, schema())
    assert doc["error"] == {"exit_code": 130, "message": "interrupted"}


def test_self_check_failure_is_exit_3_with_a_please_report_hint(
        run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    from bpttcheck import checker

    def broken(*args: object, **kwargs: object) -> None:
        raise SelfCheckError("the structured witness disagrees with the literal one on Whh[0, 0]")

    monkeypatch.setattr(checker, "run", broken)
    result = run_cli("compare", *TINY, "--json")
    assert result.exit_code == 3
    assert result.stderr.rstrip().endswith("please report it with the command line and the spec.")
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, schema())
    assert doc["error"]["exit_code"] == 3 and "please report" in doc["error"]["message"]


def test_a_report_is_not_an_error_document() -> None:
    """The schema tells the two kinds of document apart, so that it can fail."""
    bad = {"schema": 1, "tool": "bpttcheck", "version": "0", "error": {"exit_code": 1,
                                                                      "message": "x"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"schema": 1, "tool": "bpttcheck", "version": "0"}, schema())


def test_an_unwritable_picture_with_json_is_still_one_document(run_cli: Run,
                                                               tmp_path: Path) -> None:
    result = run_cli("explain", *TINY, "--json", "--save-svg", str(tmp_path / "no" / "x.svg"))
    assert result.exit_code == 2
    doc = json.loads(result.stdout)  # one document: the error, not the report and the error
    assert doc["error"]["exit_code"] == 2 and "--save-svg" in doc["error"]["message"]


def test_ctrl_c_during_threaded_numeric_work_exits_promptly() -> None:
    """The numeric engine's thread pool would finish its whole queue before letting Ctrl-C
    through; the watchdog ends the process within a fraction of a second instead, with the
    message once and (here, --json) the error document."""
    with subprocess.Popen([sys.executable, "-m", "bpttcheck", "numeric", "--hidden", "150",
                           "--seq", "150", "--method", "central", "--json"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0, env=env(),
                          cwd=ROOT) as proc:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # the announcement of long numeric work: it starts now
        assert b"numerical differentiation (central)" in line, line
        time.sleep(0.3)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        waited = time.monotonic() - sent
    assert proc.returncode == ExitCode.INTERRUPTED
    assert waited < 10.0, waited  # without the watchdog: the whole queue (about 26 s here)
    assert err.decode().count("interrupted") == 1 and b"Traceback" not in err
    doc = json.loads(out)
    jsonschema.validate(doc, schema())
    assert doc["error"]["exit_code"] == 130
