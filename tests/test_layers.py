"""Layer functions (--impl FILE.py:rnn_backward): both styles, correct and buggy."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

import bpttcheck
from bpttcheck.errors import ImplError
from bpttcheck.layers import is_layer_target, load_pair, partner_name, reference
from bpttcheck.layers.check import point
from bpttcheck.layers.styles import COURSERA, CS231N

FIXTURES = Path(__file__).parent / "fixtures" / "layers"
CORPUS = Path(__file__).parent.parent / "bpttcheck" / "selftest" / "corpus"
# Fixtures the selftest corpus already ships (one copy each; the corpus adds a 3-line header).
IN_CORPUS = {"cs231n_ok": "ok_layer_cs231n", "coursera_ok": "ok_layer_coursera",
             "cs231n_nocarry": "bug_layer_carry", "coursera_transpose": "bug_layer_carry_transpose"}


def layer_file(name: str) -> Path:
    """The file of layer fixture ``name`` (without .py)."""
    return CORPUS / f"{IN_CORPUS[name]}.py" if name in IN_CORPUS else FIXTURES / f"{name}.py"
ROOT = Path(__file__).parent.parent
SIZES = ("--hidden", "5", "--vocab", "4", "--seq", "6")


def _run(run_cli: Callable[..., Result], name: str, *extra: str) -> Result:
    return run_cli("compare", "--impl", f"{layer_file(name)}:rnn_backward", *SIZES, *extra)


def test_reference_is_the_gradient_of_the_layer() -> None:
    """The explicit double sum against numerical differentiation of our own forward."""
    ours, G, _ = point({"N": 3, "T": 5, "D": 4, "H": 3}, seed=1)
    report = bpttcheck.check_function(lambda p: np.sum(G * reference.forward(p)),
                                      lambda p: reference.gradients(p, G)[0], ours)
    assert report.passed and report.method == "complex-literal"


def test_reference_steps_sum_to_the_total() -> None:
    ours, G, _ = point({"N": 2, "T": 4, "D": 3, "H": 2}, seed=2)
    total, per = reference.gradients(ours, G, steps=True)
    assert per is not None
    for n, v in total.items():
        np.testing.assert_allclose(per[n].sum(axis=0), v, rtol=1e-12, atol=1e-14)


def test_layouts_map_elements_to_ours() -> None:
    rng = np.random.default_rng(0)
    W = rng.standard_normal((5, 4))  # our Wxh (H, D)
    x = rng.standard_normal((2, 6, 4))  # our x (N, T, D)
    wx = CS231N.arg("Wx")
    assert wx.to_theirs(W)[1, 3] == W[3, 1] and wx.our_index((1, 3)) == (3, 1)
    cx = COURSERA.arg("x")
    assert cx.to_theirs(x)[2, 1, 5] == x[1, 5, 2] and cx.our_index((2, 1, 5)) == (1, 5, 2)
    ba = COURSERA.arg("ba")
    assert ba.to_theirs(np.arange(3.0)).shape == (3, 1) and ba.our_index((2, 0)) == (2,)
    np.testing.assert_array_equal(cx.to_ours(cx.to_theirs(x)), x)


def test_partner_names() -> None:
    assert partner_name("rnn_backward") == "rnn_forward"
    assert partner_name("backward") == "forward"
    assert partner_name("lossFun") is None
    assert is_layer_target("f.py:RNN.backward", None)  # a candidate: load_pair decides
    assert not is_layer_target("f.py:RNN.lossFun", None)
    assert is_layer_target("f.py:step", "fwd")


def test_loss_function_named_backward_is_not_a_layer(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("def rnn_forward(x):\n    return x\n"
                 "def rnn_backward(inputs, targets, hprev):\n    return 0\n")
    assert load_pair(f"{f}:rnn_backward", None) is None  # three arguments: a loss function
    g = tmp_path / "n.py"
    g.write_text("def rnn_backward(dh, cache):\n    return 0\n")
    assert load_pair(f"{g}:rnn_backward", None) is None  # no partner


@pytest.mark.parametrize("name", ["cs231n_ok", "coursera_ok"])
def test_correct_layers_pass(run_cli: Callable[..., Result], name: str) -> None:
    result = _run(run_cli, name)
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("✓ rnn_backward (with rnn_forward) is the gradient of <G,")


@pytest.mark.parametrize(("name", "param", "ours", "kind", "steps"), [
    ("cs231n_transpose", "dWh", "our dWhh", "transpose", "t = 0..5"),
    ("cs231n_nocarry", "dh0", "our dx", "no-carry", "t = 1..5"),
    ("coursera_nocarry", "da0", "our dx", "no-carry", "t = 1..5"),
    ("coursera_transpose", "dWaa", "our dx", "carry-transpose", "t = 1..5"),
])
def test_buggy_layers_fail_naming_parameter_element_and_step(
        run_cli: Callable[..., Result], name: str, param: str, ours: str, kind: str,
        steps: str) -> None:
    result = _run(run_cli, name)
    assert result.exit_code == 1, result.output
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("✗ rnn_backward (with rnn_forward) is wrong in ")
    assert param in last and ours in last and f"at loss steps {steps}" in last
    doc = json.loads(_run(run_cli, name, "--format", "json").stdout)
    assert doc["exit_code"] == 1 and doc["causes"][0]["kind"] == kind
    assert doc["tool"] == "bpttcheck" and "schema" in doc
    failing = [c for c in doc["comparisons"] if not c["passed"]]
    assert failing and all("ours" in c for c in failing)


def test_ours_alongside_in_json(run_cli: Callable[..., Result]) -> None:
    doc = json.loads(_run(run_cli, "cs231n_transpose", "--format", "json").stdout)
    (c,) = [c for c in doc["comparisons"] if c["b"] == "reference" and not c["passed"]]
    assert c["parameter"] == "Wh" and c["ours"]["parameter"] == "Whh"
    assert c["ours"]["worst_index"] == c["worst_index"][::-1]  # Wh is Whh transposed


def test_plain_command_in_a_subprocess() -> None:
    for name, code in (("cs231n_ok", 0), ("coursera_nocarry", 1)):
        out = subprocess.run([sys.executable, "-m", "bpttcheck", "compare", "--impl",
                              f"{layer_file(name)}:rnn_backward", *SIZES],
                             capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert out.returncode == code, out.stderr


def test_missing_partner_is_one_line_exit_2(run_cli: Callable[..., Result],
                                            tmp_path: Path) -> None:
    f = tmp_path / "lonely.py"
    f.write_text("def rnn_backward(dh, cache):\n    return cache\n")
    result = run_cli("compare", "--impl", f"{f}:rnn_backward", "--impl-forward", "rnn_forward",
                     *SIZES)
    assert result.exit_code == 2
    assert "rnn_forward" in result.stderr and "Traceback" not in result.stderr


def test_impl_forward_names_another_partner(run_cli: Callable[..., Result],
                                            tmp_path: Path) -> None:
    text = layer_file("cs231n_ok").read_text()
    f = tmp_path / "renamed.py"
    f.write_text(text.replace("def rnn_forward(", "def layer_fwd(").replace(
        "def rnn_backward(", "def layer_bwd("))
    result = run_cli("compare", "--impl", f"{f}:layer_bwd", "--impl-forward", "layer_fwd",
                     *SIZES)
    assert result.exit_code == 0, result.output


def test_api_check_layer_on_live_functions() -> None:
    from bpttcheck.spec import resolve

    ns: dict[str, object] = {}
    exec(compile(layer_file("coursera_ok").read_text(), "coursera_ok", "exec"), ns)
    report = bpttcheck.check_layer(ns["rnn_forward"], ns["rnn_backward"],
                                   resolve(None, {"hidden": 3, "vocab": 2, "seq": 3}))
    assert report.passed and report.style is COURSERA


def test_backward_returning_the_wrong_thing_is_an_input_error() -> None:
    from bpttcheck.spec import resolve

    ns: dict[str, object] = {}
    exec(compile(layer_file("cs231n_ok").read_text(), "cs231n_ok", "exec"), ns)
    with pytest.raises(ImplError, match=r"expected \(dx, dh0, dWx, dWh, db\)"):
        bpttcheck.check_layer(ns["rnn_forward"], lambda dh, cache: 0.0,
                              resolve(None, {"hidden": 3, "vocab": 2, "seq": 3}))


def _variant(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = layer_file("cs231n_ok").read_text()
    assert old in text
    f = tmp_path / f"{name}.py"
    f.write_text(text.replace(old, new))
    return f


def test_layer_runs_in_the_child_process_endless_loop(run_cli: Callable[..., Result],
                                                      tmp_path: Path) -> None:
    f = _variant(tmp_path, "spin", "    N, T, H = dh.shape\n",
                 "    N, T, H = dh.shape\n    while True:\n        pass\n")
    result = run_cli("compare", "--impl", f"{f}:rnn_backward", *SIZES, "--timeout", "1")
    assert result.exit_code == 2
    assert "--timeout" in result.stderr and "its backward" in result.stderr


def test_layer_runs_in_the_child_process_exit_and_print(run_cli: Callable[..., Result],
                                                        tmp_path: Path) -> None:
    f = _variant(tmp_path, "leave", "    N, T, H = dh.shape\n",
                 "    import os\n    os._exit(3)\n")
    result = run_cli("compare", "--impl", f"{f}:rnn_backward", *SIZES)
    assert result.exit_code == 2 and "ended its process" in result.stderr
    g = _variant(tmp_path, "chatty", "    N, T, H = dh.shape\n",
                 "    print('debugging dh', dh.shape)\n    N, T, H = dh.shape\n")
    result = run_cli("compare", "--impl", f"{g}:rnn_backward", *SIZES)
    assert result.exit_code == 0 and "debugging" not in result.output


def test_batch_is_n_for_layers_and_b_for_the_engines(run_cli: Callable[..., Result]) -> None:
    doc = json.loads(_run(run_cli, "coursera_ok", "--batch", "3", "--format", "json").stdout)
    assert doc["passed"] and doc["sizes"]["N"] == 3
    (x_ref,) = [c for c in doc["comparisons"] if c["parameter"] == "x" and c["b"] == "reference"]
    assert x_ref["compared"] == 3 * 6 * 4  # x: N x T x D, every element against the reference
    result = run_cli("compare", "--hidden", "4", "--seq", "3", "--batch", "2")  # B sequences
    assert result.exit_code == 0 and "batch 2" in result.stdout, result.output


def test_text_vocabulary_gives_d(run_cli: Callable[..., Result]) -> None:
    result = run_cli("compare", "--impl", f"{layer_file('cs231n_ok')}:rnn_backward",
                     "--hidden", "3", "--seq", "3", "--format", "json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 0 and doc["sizes"]["D"] > 10  # the sonnets' characters


def test_forward_without_complex_falls_back_to_central(run_cli: Callable[..., Result],
                                                        tmp_path: Path) -> None:
    """np.zeros((N, T, H)) drops the imaginary part: detected, central differences used."""
    f = _variant(tmp_path, "plain", "np.zeros((N, T, H), dtype=np.result_type(x, h0, Wx, Wh, b))",
                 "np.zeros((N, T, H))")
    doc = json.loads(run_cli("compare", "--impl", f"{f}:rnn_backward", *SIZES,
                             "--format", "json").stdout)
    assert doc["passed"] and doc["method"] == "central" and doc["screen"]["method"] == "central"


def test_modular_forward_backward_pair(run_cli: Callable[..., Result], tmp_path: Path) -> None:
    text = layer_file("cs231n_nocarry").read_text()
    f = tmp_path / "modular.py"
    f.write_text(text.replace("def rnn_forward(", "def forward(").replace(
        "def rnn_backward(", "def backward("))
    result = run_cli("compare", "--impl", f"{f}:backward", *SIZES)
    assert result.exit_code == 1
    assert "backward (with forward) is wrong in" in result.stdout.splitlines()[-1]


def test_child_batches_answer_as_the_scalar_loss() -> None:
    """RemoteLayerLoss (batches in the child) agrees with one call a point in-process."""
    from bpttcheck.impl import ImplOptions
    from bpttcheck.layers.remote import RemoteLayer
    from bpttcheck.probes import DirectionProbes, ElementProbes, ScalarLoss

    ns: dict[str, object] = {}
    exec(compile(layer_file("cs231n_ok").read_text(), "cs231n_ok", "exec"), ns)
    ours, G, out_layer = point({"N": 2, "T": 3, "D": 2, "H": 3}, seed=4)
    theirs = CS231N.to_theirs(ours)

    def local(p: dict[str, np.ndarray]) -> object:
        return np.sum(G * ns["rnn_forward"](p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])[0])

    layer = RemoteLayer(f"{layer_file('cs231n_ok')}:rnn_backward", None, ImplOptions())
    try:
        remote = layer.batched_loss(theirs, G, out_layer, True)
        scalar = ScalarLoss(local, theirs, accepts_complex=True)
        assert remote.base == pytest.approx(scalar.base, rel=1e-15)
        probes = ElementProbes("Wx", np.array([0, 5, 3]), np.array([1e-20j, 1e-20j, 1e-20j]))
        np.testing.assert_allclose(remote.elements(probes), scalar.elements(probes), rtol=1e-15)
        v = {n: np.ones((1, *a.shape)) for n, a in theirs.items()}
        along = DirectionProbes(v, np.array([1e-3]))
        np.testing.assert_allclose(remote.along(along), scalar.along(along), rtol=1e-14)
    finally:
        layer.close()


def test_impl_sample_limits_numeric_not_the_reference(run_cli: Callable[..., Result]) -> None:
    doc = json.loads(_run(run_cli, "cs231n_nocarry", "--impl-sample", "4",
                          "--format", "json").stdout)
    numeric = [c for c in doc["comparisons"] if c["b"] == "numeric" and c["a"] == "yours"]
    reference = [c for c in doc["comparisons"] if c["b"] == "reference"]
    assert all(c["compared"] == 4 for c in numeric)
    assert sum(c["compared"] for c in reference) == 108
    assert doc["causes"][0]["kind"] == "no-carry" and not doc["passed"]
    full = json.loads(_run(run_cli, "cs231n_ok", "--impl-sample", "0", "--format",
                           "json").stdout)
    assert sum(c["compared"] for c in full["comparisons"] if c["a"] == "yours"
               and c["b"] == "numeric") == 108
    result = _run(run_cli, "cs231n_ok", "--sample", "3")
    assert result.exit_code == 2 and "--impl-sample" in result.stderr
    result = _run(run_cli, "cs231n_ok", "--impl-loss", "mean=T")
    assert result.exit_code == 2 and "--impl-loss is not available" in result.stderr


def test_wrong_forward_is_the_headline(run_cli: Callable[..., Result], tmp_path: Path) -> None:
    f = _variant(tmp_path, "nobias", "np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b)",
                 "np.tanh(x.dot(Wx) + prev_h.dot(Wh))")
    result = run_cli("compare", "--impl", f"{f}:rnn_backward", *SIZES)
    assert result.exit_code == 1
    last = result.stdout.strip().splitlines()[-1]
    assert "the forward pass differs" in last and "worst h[" in last and "step t =" in last
