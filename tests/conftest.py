"""Shared fixtures: small specs and a way to run the CLI as a user would."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result

from bpttcheck.cli import cli
from bpttcheck.model import Problem, build
from bpttcheck.spec import Spec, resolve

SMALL = {"hidden": 6, "seq": 5, "vocab": 4, "seed": 3, "init_scale": 0.5, "hprev": "random"}


@pytest.fixture(autouse=True)
def _no_fix_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI searches a fix for wrong --impl code by default; tests ask for it explicitly
    (tests/test_fix.py), so that the others stay fast."""
    monkeypatch.setenv("BPTTCHECK_NO_FIX", "1")


@pytest.fixture
def small_spec() -> Spec:
    return resolve(overrides=SMALL)


@pytest.fixture
def small_problem(small_spec: Spec) -> Problem:
    return build(small_spec)


@pytest.fixture
def run_cli() -> Callable[..., Result]:
    """Invoke ``bpttcheck ARGS`` through Click's test runner, stdout and stderr apart."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke
