"""A user's bias-free model (the U/V/W tutorial RNN) checked with --impl and --no-biases."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

from bpttcheck.engines import Options, reference, tutorial
from bpttcheck.errors import ImplError
from bpttcheck.impl.options import parse_order
from bpttcheck.impl.returns import unpack
from bpttcheck.model import build, with_biases
from bpttcheck.spec import resolve

CORPUS = Path(__file__).parent.parent / "bpttcheck" / "selftest" / "corpus"
SIZES = ("--hidden", "6", "--vocab", "4", "--seq", "7", "--seed", "1", "--init-scale", "1",
         "--hprev", "random")
CLASS = f"{CORPUS / 'ok_uvw_nobias.py'}:RNNNumpy.bptt"
GLOBALS = '''import numpy as np


def bptt(x, y, h0):
    h = {-1: h0}
    p = {}
    loss = 0.0
    for t in range(len(x)):
        h[t] = np.tanh(U[:, [x[t]]] + W @ h[t - 1])
        o = V @ h[t]
        e = np.exp(o - o.max())
        p[t] = e / e.sum()
        loss -= np.log(p[t][y[t], 0])
    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    carry = np.zeros_like(h0)
    for t in reversed(range(len(x))):
        do = p[t].copy()
        do[y[t]] -= 1
        dV += do @ h[t].T
        da = (1 - h[t] ** 2) * (V.T @ do + carry)
        dU[:, [x[t]]] += da
        dW += da @ h[t - 1].T
        carry = W.T @ da{bug}
    return loss, dU, dW, dV
'''


def test_engines_on_a_bias_free_model_have_three_gradients() -> None:
    p = build(resolve(overrides={"hidden": 4, "vocab": 3, "seq": 5, "biases": False}))
    assert set(p.params) == {"Wxh", "Whh", "Why"}
    for engine in (tutorial, reference):
        g = engine.gradients(p.params, p.batch, Options())
        full = engine.gradients(with_biases(p.params), p.batch, Options())
        assert set(g.grads) == set(p.params)
        assert all(np.array_equal(g.grads[n], full.grads[n]) for n in g.grads)


def test_class_with_u_v_w_only_passes(run_cli: Callable[..., Result]) -> None:
    result = run_cli("compare", "--impl", CLASS, "--no-biases", "--impl-order", "dU,dV,dW",
                     *SIZES, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["impl"]["passed"] and set(doc["impl"]["names"]) == {"U", "W", "V"}
    assert "no biases" in doc["impl"]["checked"]


def test_truncated_bptt_is_named(run_cli: Callable[..., Result]) -> None:
    target = f"{CORPUS / 'bug_uvw_truncated.py'}:RNNNumpy.bptt"
    result = run_cli("compare", "--impl", target, "--no-biases", "--impl-order", "dU,dV,dW",
                     *SIZES, "--format", "json")
    assert result.exit_code == 1, result.output
    causes = json.loads(result.stdout)["impl"]["causes"]
    assert causes[0]["kind"] == "truncated" and causes[0]["value"] == 5.0  # 4 steps back


def test_without_the_flag_the_error_points_to_it(run_cli: Callable[..., Result]) -> None:
    result = run_cli("compare", "--impl", CLASS, *SIZES)
    assert result.exit_code == 2 and result.stdout == ""
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "--no-biases" in line and "b, c" in line


@pytest.mark.parametrize(("bug", "code"), [("", 0), ("\n        carry = 0 * carry", 1)])
def test_globals_form_returning_three_gradients(run_cli: Callable[..., Result], tmp_path: Path,
                                                bug: str, code: int) -> None:
    path = tmp_path / "uvw.py"
    path.write_text(GLOBALS.replace("{bug}", bug))
    result = run_cli("compare", "--impl", f"{path}:bptt", "--no-biases", *SIZES)
    assert result.exit_code == code, result.output
    if code:
        assert "dhnext is missing" in result.stdout
    biased = run_cli("compare", "--impl", f"{path}:bptt", *SIZES)  # a model with bh and by
    assert biased.exit_code == 2 and "--no-biases" in biased.stderr
    assert "returned 4 values; expected 7" in biased.stderr


def test_order_of_three_needs_a_bias_free_model() -> None:
    order = parse_order("dU,dV,dW", {})
    assert order == ("Wxh", "Why", "Whh")
    p = build(resolve(overrides={"hidden": 4, "vocab": 3, "seq": 5}))
    out = (1.0, *(np.zeros_like(p.params[n]) for n in order))
    with pytest.raises(ImplError, match="names 3 gradients; this model has 5"):
        unpack(out + (0.0, 0.0), p.params, "f", {}, order)
    free = build(resolve(overrides={"hidden": 4, "vocab": 3, "seq": 5, "biases": False}))
    loss, grads, hlast, _ = unpack(out, free.params, "f", {}, order)
    assert loss == 1.0 and set(grads) == set(free.params) and hlast is None
