"""Spec key ``biases``: a bias-free model has no bh and by at all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

import bpttcheck
from bpttcheck.errors import SpecError
from bpttcheck.model import build, loss, with_biases
from bpttcheck.spec import resolve

SMALL = {"hidden": 5, "seq": 4, "vocab": 3, "seed": 2, "init_scale": 0.5, "hprev": "random"}


def test_bias_free_model_has_no_biases_and_the_same_loss_as_zero_biases() -> None:
    free = build(resolve(None, {**SMALL, "biases": False}))
    full = build(resolve(None, SMALL))  # tutorial: zero biases, same draws otherwise
    assert set(free.params) == {"Wxh", "Whh", "Why"}
    assert free.n_params == full.n_params - 5 - 3
    assert loss(free.params, free.batch) == loss(full.params, full.batch)
    completed = with_biases(free.params)
    assert not completed["bh"].any() and completed["by"].shape == (3, 1)


def test_check_of_a_bias_free_model_compares_three_parameters() -> None:
    report = bpttcheck.check(**SMALL, biases=False)
    assert report.passed
    assert {c.parameter for c in report.comparisons} == {"Wxh", "Whh", "Why"}
    assert set(report.results["numeric"].grads) == {"Wxh", "Whh", "Why"}
    assert report.to_dict()["spec"]["biases"] is False


def test_bias_free_refusals() -> None:
    with pytest.raises(SpecError, match="bias_scale"):
        build(resolve(None, {**SMALL, "biases": False, "bias_scale": 0.1}))
    with pytest.raises(SpecError, match="vanilla"):
        build(resolve(None, {**SMALL, "biases": False, "cell": "gru"}))
    with pytest.raises(SpecError, match="--directions"):
        bpttcheck.check(**SMALL, biases=False, directions=2)


def test_flag_and_toml(run_cli: Callable[..., Result], tmp_path: Path) -> None:
    result = run_cli("compare", "--hidden", "4", "--seq", "3", "--vocab", "3", "--no-biases")
    assert result.exit_code == 0, result.output
    assert "bh" not in result.stdout.split("Largest")[1].split("Relative")[0]
    bad = tmp_path / "b.toml"
    bad.write_text('biases = "no"\n')
    result = run_cli("compare", "--config", str(bad))
    assert result.exit_code == 2 and "expected true or false" in result.stderr
    good = tmp_path / "g.toml"
    good.write_text("biases = false\nhidden = 4\nseq = 3\nvocab = 3\n")
    assert run_cli("compare", "--config", str(good)).exit_code == 0
