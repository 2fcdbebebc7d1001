"""Behaviour in CI pipelines: JUnit XML, the JSON schema, colour, Ctrl-C, start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from click.testing import Result

from bpttcheck import checker, engines
from bpttcheck.model import PARAM_NAMES

from .test_mutations import mutant

TINY = ["--hidden", "5", "--seq", "4", "--vocab", "3"]
Run = Callable[..., Result]


def schema() -> dict:
    text = resources.files("bpttcheck").joinpath("schema/report-1.schema.json").read_text()
    return json.loads(text)


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


@pytest.mark.parametrize("command", ["compare", "numeric"])
def test_json_output_validates(run_cli: Run, command: str) -> None:
    data = json.loads(run_cli(command, *TINY, "--json").stdout)
    jsonschema.validate(data, schema())
    assert data["schema"] == 1


def test_failing_and_clipped_reports_validate(run_cli: Run,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    clipped = json.loads(run_cli("compare", *TINY, "--init-scale", "0.5", "--clip", "0.05",
                                 "--json").stdout)
    jsonschema.validate(clipped, schema())
    assert any(c["clipped"] for c in clipped["comparisons"])
    monkeypatch.setitem(engines.ENGINES, "tutorial", mutant("no_dhnext"))
    failing = json.loads(run_cli("compare", *TINY, "--init-scale", "0.5", "--json").stdout)
    jsonschema.validate(failing, schema())
    assert failing["exit_code"] == 1


def test_junit_has_a_case_per_parameter_and_pair(run_cli: Run, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "report.xml"
    assert run_cli("compare", *TINY, "--junit", str(out)).exit_code == 0
    root = ET.parse(out).getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == 15 and root.get("failures") == "0"
    names = {c.get("name") for c in cases}
    for p in PARAM_NAMES:
        assert f"{p} tutorial↔reference" in names
    monkeypatch.setitem(engines.ENGINES, "tutorial", mutant("no_dhnext"))
    assert run_cli("compare", *TINY, "--init-scale", "0.5", "--junit", str(out)).exit_code == 1
    failures = ET.parse(out).getroot().findall(".//testcase/failure")
    assert failures and all("worst" in (f.get("message") or "") for f in failures)
    failed_cases = {c.get("name").split()[0] for c in ET.parse(out).getroot().iter("testcase")
                    if c.find("failure") is not None}
    assert failed_cases == {"Wxh", "Whh", "bh"}


def test_junit_to_an_unwritable_place_is_exit_2(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("compare", *TINY, "--junit", str(tmp_path / "no" / "such" / "dir.xml"))
    assert result.exit_code == 2 and "--junit" in result.stderr


def test_no_colour_codes_when_not_a_terminal(run_cli: Run) -> None:
    assert "\x1b[" not in run_cli("compare", *TINY).stdout


def test_no_colour_with_no_color_even_on_a_terminal() -> None:
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "", "TERM": "xterm"}
    code = ("import sys; sys.argv = ['bpttcheck', 'compare', '--hidden', '4', '--seq', '3', "
            "'--vocab', '3']; import rich.console as c; c.Console.is_terminal = property("
            "lambda self: True); from bpttcheck.cli import main; main()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=False)
    assert out.returncode == 0 and "\x1b[" not in out.stdout and "\x1b[" not in out.stderr


def test_colour_on_a_terminal_without_no_color() -> None:
    """The opposite of the test above, so that it can fail."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    env["TERM"] = "xterm-256color"
    code = ("import sys; sys.argv = ['bpttcheck', 'compare', '--hidden', '4', '--seq', '3', "
            "'--vocab', '3']; import rich.console as c; c.Console.is_terminal = property("
            "lambda self: True); from bpttcheck.cli import main; main()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=False)
    assert out.returncode == 0 and "\x1b[" in out.stdout


def test_ctrl_c_exits_130_without_traceback(run_cli: Run,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(checker, "run", interrupted)
    result = run_cli("compare", *TINY)
    assert result.exit_code == 130
    assert result.stderr.strip() == "bpttcheck: error: interrupted"


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_no_numpy(flag: str) -> None:
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "bpttcheck", flag],
                         capture_output=True, text=True, check=True)
    imported = [line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines()
                if line.startswith("import time:")]
    assert "bpttcheck.cli" in imported
    assert not [m for m in imported if m.split(".")[0] in ("numpy", "rich")]


def test_quiet_failure_prints_only_what_failed(run_cli: Run,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(engines.ENGINES, "tutorial", mutant("h_t_for_h_prev"))
    result = run_cli("compare", *TINY, "--init-scale", "0.5", "--quiet")
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) >= 2 and all(line.startswith("Whh ") for line in lines[:-1])
    assert lines[-1] == "✗ the tutorial's backward pass is wrong in Whh"  # the headline last


def test_directions_and_impl_reports_validate(run_cli: Run, tmp_path: Path) -> None:
    screened = json.loads(run_cli("numeric", *TINY, "--directions", "2", "--json").stdout)
    jsonschema.validate(screened, schema())
    assert screened["directions"]["k"] == 2
    user = tmp_path / "user.py"
    user.write_text("import numpy as np\n"
                    "def f(params, inputs, targets, hprev):\n"
                    "    return 1.0, {k: np.zeros_like(v) for k, v in params.items()}\n",
                    encoding="utf-8")
    data = json.loads(run_cli("compare", *TINY, "--impl", f"{user}:f", "--json").stdout)
    jsonschema.validate(data, schema())
    # A constant loss is not the model's (issue 9: it used to pass as "its own loss").
    assert data["impl"]["loss_match"] is False and data["exit_code"] == 1
    assert data["impl"]["relation"]["kind"] == "constant"


def test_long_numeric_work_is_announced_with_an_estimate(run_cli: Run,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checker, "ANNOUNCE_SECONDS", 0.0)  # every run counts as long here
    result = run_cli("numeric", *TINY)
    assert result.exit_code == 0
    assert "numerical differentiation (complex) of 63 elements: estimated" in result.stderr
    assert "estimated" not in result.stdout  # diagnostics never mix with the report
    assert run_cli("numeric", *TINY, "--quiet").stderr == ""


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_json_reports_validate_against_the_schema(cell: str) -> None:
    """Comparisons name the cell's own parameters (Wf, bn, ...), which the schema allows."""
    import bpttcheck

    report = bpttcheck.check(cell=cell, hidden=4, seq=4, vocab=5)
    document = report.to_dict()
    jsonschema.validate(document, schema())
    assert {c["parameter"] for c in document["comparisons"]} >= {"Why", "by"}
