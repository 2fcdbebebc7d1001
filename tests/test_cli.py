"""The command line as a user meets it: exit codes, output, files, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

from bpttcheck import engines
from bpttcheck.model import PARAM_NAMES

from .test_mutations import mutant

TINY = ["--hidden", "5", "--seq", "4", "--vocab", "3", "--seed", "1"]
Run = Callable[..., Result]


def test_compare_agrees_and_exits_0(run_cli: Run) -> None:
    result = run_cli("compare", *TINY)
    assert result.exit_code == 0, result.output
    for name in PARAM_NAMES:
        assert name in result.stdout
    assert result.stdout.splitlines()[-1].startswith("✓ tutorial, reference and numeric agree")


def test_json_report_has_the_documented_fields(run_cli: Run) -> None:
    result = run_cli("compare", *TINY, "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["passed"] is True and report["exit_code"] == 0 and report["schema"] == 1
    assert report["spec"]["hidden"] == 5 and report["spec"]["vocab"] == 3
    pairs = {(c["parameter"], c["a"], c["b"]) for c in report["comparisons"]}
    assert len(pairs) == 15
    for c in report["comparisons"]:
        assert c["parameter"] in PARAM_NAMES
        assert {c["a"], c["b"]} <= {"tutorial", "reference", "numeric"}
        assert 0 <= c["max_rel_error"] <= 1e-6 and 0 <= c["norm_rel_error"] <= 1e-6
        assert isinstance(c["worst_index"], list) and isinstance(c["passed"], bool)


def test_json_flag_is_format_json(run_cli: Run) -> None:
    assert json.loads(run_cli("numeric", *TINY, "--json").stdout)["passed"] is True


def test_save_writes_every_array(run_cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "run.npz"
    result = run_cli("compare", *TINY, "--save", str(out))
    assert result.exit_code == 0
    with np.load(out) as data:
        keys = set(data.files)
        for key in (*PARAM_NAMES, "hprev", "inputs", "targets", "loss"):
            assert key in keys
        for engine in ("tutorial", "reference", "numeric"):
            for name in PARAM_NAMES:
                assert data[f"{engine}.d{name}"].shape == data[name].shape
        assert np.allclose(data["tutorial.dWhh"], data["reference.dWhh"], rtol=1e-9)


def test_mismatch_exits_1_and_names_the_parameters(run_cli: Run,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(engines.ENGINES, "tutorial", mutant("no_dhnext"))
    result = run_cli("compare", *TINY, "--init-scale", "0.5")
    assert result.exit_code == 1
    for name in ("Whh", "Wxh", "bh"):
        assert f"{name} tutorial↔reference" in result.stdout
    assert "is wrong in Wxh, Whh and bh" in result.stdout
    headline = "✗ the tutorial's backward pass is wrong in Wxh, Whh and bh"
    assert result.stdout.splitlines()[-1] == headline
    data = json.loads(run_cli("compare", *TINY, "--init-scale", "0.5", "--json").stdout)
    assert data["passed"] is False and data["exit_code"] == 1
    failed = {c["parameter"] for c in data["comparisons"] if not c["passed"]}
    assert failed == {"Wxh", "Whh", "bh"}


def test_numeric_command_checks_one_engine(run_cli: Run) -> None:
    data = json.loads(run_cli("numeric", *TINY, "--engine", "reference", "--json").stdout)
    assert {(c["a"], c["b"]) for c in data["comparisons"]} == {("reference", "numeric")}


def test_numeric_sample_shows_the_sampled_indices(run_cli: Run) -> None:
    result = run_cli("numeric", *TINY, "--sample", "2")
    assert result.exit_code == 0
    assert "sampled Whh:" in result.stdout and "2 sampled per parameter" in result.stdout
    data = json.loads(run_cli("numeric", *TINY, "--sample", "2", "--json").stdout)
    assert all(len(v) == 2 for v in data["sampled"].values())


def test_clip_marks_clipped_elements_and_still_passes(run_cli: Run) -> None:
    args = ["compare", "--hidden", "30", "--seq", "12", "--init-scale", "0.2", "--clip", "0.5"]
    result = run_cli(*args, "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0, data["verdict"]
    clipped = [c for c in data["comparisons"] if c["clipped"]]
    assert clipped and all(c["a"] == "tutorial" for c in clipped)
    text = " ".join(run_cli(*args).stdout.split())  # undo the terminal's line wrapping
    assert "Clipping to ±0.5 changed" in text and "marked clipped" in text


def test_quiet_prints_nothing_on_success(run_cli: Run) -> None:
    result = run_cli("compare", *TINY, "--quiet")
    assert result.exit_code == 0 and result.stdout == ""


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["compare", "--hidden", "0"], "--hidden: expected a positive number"),
        (["compare", "--hidden", "abc"], "'abc' is not a valid integer"),
        (["compare", "--seq", "-2"], "--seq: expected a positive number"),
        (["compare", "--clip", "many"], "--clip: expected a number or 'off'"),
        (["compare", "--hprev", "ones"], "'ones' is not one of"),
        (["compare", "--config", "missing.toml"], "missing.toml: config file not found"),
        (["compare", "--data", "missing.txt"], "data file missing.txt: not found"),
        (["compare", "--bogus"], "No such option"),
        (["numeric", "--sample", "0"], "--sample"),
        (["frobnicate"], "No such command"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_cli: Run, args: list[str], fragment: str) -> None:
    result = run_cli(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bpttcheck: error: ")
    assert fragment in lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ("hidden = -1\n", "key 'hidden': expected a positive number"),
        ("hiden = 3\n", "did you mean 'hidden'"),
        ("hidden = [\n", "invalid TOML"),
        ('seq = "long"\n', "key 'seq': expected an integer"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(run_cli: Run, tmp_path: Path, toml: str,
                                           fragment: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    result = run_cli("compare", "--config", str(path))
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert str(path) in result.stderr and fragment in result.stderr


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"", "is empty"), (b"\xff\xfe\xfa" * 40, "not UTF-8"), (b"tiny", "too short")],
)
def test_bad_data_file_is_one_line_and_exit_2(run_cli: Run, tmp_path: Path, content: bytes,
                                              fragment: str) -> None:
    path = tmp_path / "text.txt"
    path.write_bytes(content)
    result = run_cli("compare", "--data", str(path))
    assert result.exit_code == 2 and fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_debug_shows_the_traceback(run_cli: Run) -> None:
    from bpttcheck.errors import SpecError

    with pytest.raises(SpecError):
        run_cli("compare", "--hidden", "0", "--debug")


def test_help_has_an_example(run_cli: Run) -> None:
    for command in ([], ["compare"], ["numeric"]):
        result = run_cli(*command, "--help")
        assert result.exit_code == 0 and "Example:" in result.stdout


def test_python_dash_m_and_version() -> None:
    out = subprocess.run([sys.executable, "-m", "bpttcheck", "--version"], capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0 and "bpttcheck, version" in out.stdout
    out = subprocess.run([sys.executable, "-m", "bpttcheck", "compare", "--seq", "0"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 2 and "Traceback" not in out.stderr
