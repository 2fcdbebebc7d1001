"""The command reference in docs/commands.md is generated from the Click commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bpttcheck import _docs
from bpttcheck.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def test_command_reference_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    assert committed == _docs.reference(), (
        "docs/commands.md differs from the commands' --help: run python -m bpttcheck._docs")


def test_reference_covers_every_command_and_option() -> None:
    text = _docs.reference()
    for name, command in cli.commands.items():
        assert f"## bpttcheck {name}\n" in text
        for param in command.params:
            for opt in getattr(param, "opts", []):
                assert opt in text, (name, opt)


def test_check_mode_fails_on_a_stale_file(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    out = subprocess.run([sys.executable, "-m", "bpttcheck._docs", "--check"], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    stale = tmp_path / "commands.md"
    stale.write_text("# Command reference\n", encoding="utf-8")
    monkeypatch.setattr(_docs, "TARGET", stale)
    assert _docs.main(["--check"]) == 1
