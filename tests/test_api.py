"""The Python API and the pytest helper, used the way a test suite would."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

import bpttcheck
from bpttcheck.impl import ImplOptions, ImplRequest
from bpttcheck.testing import assert_gradients_match

SMALL = {"hidden": 6, "seq": 5, "vocab": 4, "seed": 2, "init_scale": 0.5}

# A min-char-rnn-style backward pass, as a user would keep it in their own module; BUG is
# substituted to make deliberately wrong copies.
SOURCE = '''
import numpy as np

def lossFun(inputs, targets, hprev):
    xs, hs, ps = {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0.0
    for t in range(len(inputs)):
        xs[t] = np.zeros((Why.shape[0], 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
        y = Why @ hs[t] + by
        ps[t] = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += dy @ hs[t].T
        dby += dy
        dh = Why.T @ dy + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw
        dWxh += dhraw @ xs[t].T
        dWhh += dhraw @ hs[BUG].T
        dhnext = Whh.T @ dhraw
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]
'''


def user_module(bug: str = "t - 1") -> types.ModuleType:
    module = types.ModuleType("user_rnn")
    exec(compile(SOURCE.replace("BUG", bug), "user_rnn.py", "exec"), module.__dict__)
    return module


def test_check_returns_a_report_with_results() -> None:
    report = bpttcheck.check(hidden=12, seq=9)
    assert report.passed and report.exit_code == 0
    c = report.comparison("Whh", "tutorial", "reference")
    assert c.passed and c.max_rel_error <= 1e-10
    assert json.loads(report.to_json())["passed"] is True


def test_check_needs_neither_click_nor_rich() -> None:
    code = ("import sys, bpttcheck; r = bpttcheck.check(hidden=4, seq=3, vocab=3); "
            "assert r.passed; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('click', 'rich')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_the_readme_one_liner() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import bpttcheck; print(bpttcheck.check(hidden=12, seq=9).passed)"],
        capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_check_with_a_correct_function_passes_and_leaves_its_module_alone() -> None:
    module = user_module()
    report = bpttcheck.check(impl=module.lossFun, **SMALL)
    assert report.passed
    assert report.impl is not None and report.impl.loss_match
    assert "Wxh" not in vars(module)  # weights were set on a copy of its globals


def test_check_with_a_config_file_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text("hidden = 5\nseq = 4\nvocab = 3\n", encoding="utf-8")
    report = bpttcheck.check(str(path), seq=6)
    assert report.problem.batch.seq == 6 and report.problem.hidden == 5


def test_explicit_form_function() -> None:
    module = user_module()

    def explicit(params, inputs, targets, hprev):  # type: ignore[no-untyped-def]
        scope = {**module.__dict__, **params}
        loss, *grads, _ = types.FunctionType(module.lossFun.__code__, scope)(
            inputs, targets, hprev)
        return loss, dict(zip(("Wxh", "Whh", "Why", "bh", "by"), grads, strict=True))

    assert bpttcheck.check(impl=explicit, **SMALL).passed


def test_unbound_method_form() -> None:
    module = user_module()
    source = textwrap.dedent('''
        class CharRNN:
            def __init__(self, hidden_size, vocab_size):
                self.Wxh = self.Whh = self.Why = self.bh = self.by = None
            def step(self, inputs, targets, hprev):
                g = dict(globals())
                g.update(Wxh=self.Wxh, Whh=self.Whh, Why=self.Why, bh=self.bh, by=self.by)
                return type(lossFun)(lossFun.__code__, g)(inputs, targets, hprev)
    ''')
    exec(compile(source, "char_rnn.py", "exec"), module.__dict__)
    report = bpttcheck.check(impl=module.CharRNN.step, **SMALL)
    assert report.passed and report.impl is not None and report.impl.form == "method"


def test_impl_request_carries_options() -> None:
    module = user_module()
    request = ImplRequest(module.lossFun, ImplOptions(sample=3))
    report = bpttcheck.check(impl=request, **SMALL)
    assert report.passed
    assert report.results["impl-numeric"].covered is not None
    assert all(len(i) == 3 for i in report.results["impl-numeric"].covered.values())


def test_pytest_helper_passes_silently_and_returns_the_report() -> None:
    report = assert_gradients_match(user_module().lossFun, **SMALL)
    assert report.passed


def test_pytest_helper_message_names_parameter_element_values_and_cause() -> None:
    with pytest.raises(AssertionError) as info:
        assert_gradients_match(user_module("t").lossFun, **SMALL)
    message = str(info.value)
    assert "Whh" in message
    assert "worst Whh[" in message  # the element
    assert "impl " in message and "reference " in message  # both values
    assert "rel. error" in message
    assert "Likely cause:" in message and "hs[t-1]" in message


def test_pytest_helper_without_impl_checks_the_tutorial() -> None:
    report = assert_gradients_match(hidden=4, seq=3, vocab=3)
    assert {c.a for c in report.comparisons} == {"tutorial", "reference"}


def test_api_rejects_what_it_cannot_call() -> None:
    from bpttcheck.errors import ImplError

    with pytest.raises(ImplError, match="expected a Python function"):
        bpttcheck.check(impl=np.sum, **SMALL)
