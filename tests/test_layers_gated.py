"""LSTM layer functions (--impl FILE.py:lstm_backward): both styles, correct and buggy."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from click.testing import Result
from hypothesis import given, settings
from hypothesis import strategies as st

import bpttcheck
from bpttcheck.errors import ImplError
from bpttcheck.layers import gru_reference as gru
from bpttcheck.layers import lstm_reference as ref
from bpttcheck.layers.check import point_for
from bpttcheck.layers.gates import gated_variants, their_index
from bpttcheck.layers.styles import (
    COURSERA,
    COURSERA_LSTM,
    CS231N,
    CS231N_GRU,
    CS231N_LSTM,
    STYLES,
    recognise,
)
from bpttcheck.spec import resolve

CORPUS = Path(__file__).parent.parent / "bpttcheck" / "selftest" / "corpus"
SIZES = ("--hidden", "4", "--vocab", "3", "--seq", "5")
SMALL = {"N": 2, "T": 4, "D": 3, "H": 3}


def _run(run_cli: Callable[..., Result], path: Path, *extra: str) -> Result:
    return run_cli("compare", "--impl", f"{path}:lstm_backward", *SIZES, *extra)


def _load(name: str) -> dict[str, Any]:
    """The functions of a corpus file, run in this process (the API path)."""
    space: dict[str, Any] = {}
    exec(compile((CORPUS / f"{name}.py").read_text(encoding="utf-8"), name, "exec"), space)
    return space


# ----------------------------------------------------------------- the reference


def test_reference_is_the_gradient_of_the_layer() -> None:
    ours, G, _ = ref.point(SMALL, seed=1)
    report = bpttcheck.check_function(lambda p: np.sum(G * ref.forward(p)),
                                      lambda p: ref.gradients(p, G)[0], ours)
    assert report.passed and report.method == "complex-literal"


def _autograd_layer(P: dict[str, Any], G: Any) -> Any:
    """<G, h> of the LSTM layer, written anew from the issue's equations with autograd.numpy."""
    x, h = P["x"], P["h0"]
    c = anp.zeros(h.shape)
    total = 0.0
    for t in range(x.shape[1]):
        z = anp.concatenate([h, x[:, t]], axis=1)
        f = 1 / (1 + anp.exp(-(anp.dot(z, P["Wf"].T) + P["bf"])))
        i = 1 / (1 + anp.exp(-(anp.dot(z, P["Wi"].T) + P["bi"])))
        g = anp.tanh(anp.dot(z, P["Wc"].T) + P["bc"])
        o = 1 / (1 + anp.exp(-(anp.dot(z, P["Wo"].T) + P["bo"])))
        c = f * c + i * g
        h = o * anp.tanh(c)
        total = total + anp.sum(G[:, t] * h)
    return total


@settings(max_examples=6, deadline=None)
@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 3), st.integers(1, 4),
       st.integers(0, 10**6))
def test_reference_matches_autograd(N: int, T: int, D: int, H: int, seed: int) -> None:
    ours, G, _ = ref.point({"N": N, "T": T, "D": D, "H": H}, seed)
    truth = autograd.grad(_autograd_layer)(ours, G)
    mine, _ = ref.gradients(ours, G)
    for n in ref.OURS:
        np.testing.assert_allclose(mine[n], truth[n], rtol=1e-10, atol=1e-13, err_msg=n)


def test_reference_steps_sum_to_the_total() -> None:
    ours, G, _ = ref.point(SMALL, seed=2)
    total, per = ref.gradients(ours, G, steps=True)
    assert per is not None
    for n, v in total.items():
        np.testing.assert_allclose(per[n].sum(axis=0), v, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("style", [CS231N_LSTM, COURSERA_LSTM])
def test_every_named_variant_changes_the_gradient(style: Any) -> None:
    """Otherwise a correct gradient could be 'explained' by a bug."""
    ours, G, _ = ref.point(SMALL, seed=3)
    exact, _ = ref.gradients(ours, G)
    for variant, cause in gated_variants(style, SMALL["T"]):
        got, _ = ref.gradients(ours, G, variant=variant)
        assert any(not np.allclose(got[n], exact[n], rtol=1e-6) for n in exact), cause.kind


# ----------------------------------------------------------------- layouts


@pytest.mark.parametrize("style", [CS231N_LSTM, COURSERA_LSTM])
def test_every_element_is_placed_among_ours(style: Any) -> None:
    """Their element name[index] is our place.ours[place.index], both ways."""
    ours, _, _ = ref.point(SMALL, seed=4)
    theirs = style.to_theirs(ours)
    back = style.to_ours(theirs)
    for n in ref.OURS:
        np.testing.assert_array_equal(back[n], ours[n])
    for name, arr in theirs.items():
        for index in np.ndindex(arr.shape):
            where = style.place(name, index, SMALL["H"])
            assert arr[index] == ours[where.ours][where.index]
            assert their_index(style, ours, where.ours, where.index) == (name, index)


def test_stacked_blocks_follow_cs231n_order() -> None:
    ours, _, _ = ref.point(SMALL, seed=5)
    H, D = SMALL["H"], SMALL["D"]
    Wx = CS231N_LSTM.to_theirs(ours)["Wx"]
    assert Wx.shape == (D, 4 * H)
    np.testing.assert_array_equal(Wx[:, H:2 * H], ours["Wf"][:, H:].T)  # block 1: f
    np.testing.assert_array_equal(Wx[:, 3 * H:], ours["Wc"][:, H:].T)  # block 3: g
    where = CS231N_LSTM.place("Wx", (2, H + 1), H)
    assert (where.ours, where.index, where.gate) == ("Wf", (1, H + 2), "f")
    assert CS231N_LSTM.place("b", (2 * H,), H).gate == "o"


# ----------------------------------------------------------------- recognition


def _pair(name: str, fwd: str = "lstm_forward", bwd: str = "lstm_backward"
          ) -> tuple[Any, Any]:
    space = _load(name)
    return space[fwd], space[bwd]


@pytest.mark.parametrize(("name", "style"), [
    ("ok_layer_lstm_cs231n", CS231N_LSTM), ("ok_layer_lstm_coursera", COURSERA_LSTM),
    ("ok_layer_cs231n", CS231N), ("ok_layer_coursera", COURSERA),
    ("ok_layer_gru_cs231n", CS231N_GRU)])
def test_styles_recognised_by_name_and_by_probe(name: str, style: Any) -> None:
    prefix = style.cell
    fwd, bwd = _pair(name, f"{prefix}_forward", f"{prefix}_backward")
    assert recognise(fwd, bwd, "x") is style

    def forward(*args: Any) -> Any:  # names that say neither cell: the probe decides
        return fwd(*args)

    def backward(dout: Any, cache: Any) -> Any:
        return bwd(dout, cache)

    forward.__signature__ = __import__("inspect").signature(fwd)  # type: ignore[attr-defined]
    assert recognise(forward, backward, "x") is style


def test_probe_names_what_it_tried() -> None:
    def forward(x: Any, h0: Any, Wx: Any, Wh: Any, b: Any) -> Any:
        return x, None  # states of the wrong shape for either cell

    def backward(dh: Any, cache: Any) -> Any:
        return None

    with pytest.raises(ImplError, match="not a vanilla, LSTM or GRU layer"):
        recognise(forward, backward, "x")


def test_styles_are_distinct_by_name() -> None:
    assert len({s.name for s in STYLES}) == len(STYLES)


# ----------------------------------------------------------------- the check, API


def test_api_checks_live_functions() -> None:
    fwd, bwd = _pair("ok_layer_lstm_cs231n")
    spec = resolve(overrides={"hidden": 3, "vocab": 3, "seq": 4})
    report = bpttcheck.layers.check_layer(fwd, bwd, spec)
    assert report.passed and report.style is CS231N_LSTM and not report.gates
    fwd, bwd = _pair("bug_layer_lstm_forget_c_t")
    report = bpttcheck.layers.check_layer(fwd, bwd, spec)
    assert not report.passed and report.function.causes[0].kind == "lstm-forget-against-c-t"
    first = {g.gate: g.steps[0] for g in report.gates if g.wrong}
    assert first["f"] == 0 and min(v for q, v in first.items() if q != "f") == 1


# ----------------------------------------------------------------- the check, CLI


@pytest.mark.parametrize("name", ["ok_layer_lstm_cs231n", "ok_layer_lstm_coursera"])
def test_correct_lstm_layers_pass(run_cli: Callable[..., Result], name: str) -> None:
    result = _run(run_cli, CORPUS / f"{name}.py")
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("✓ lstm_backward (with lstm_forward) is the gradient of <G,")


@pytest.mark.parametrize(("name", "kind", "lead", "param", "steps"), [
    ("bug_layer_lstm_no_c_carry", "lstm-no-c-carry", "gates i (input) and g (candidate)",
     "dWf", "t = 1..4"),
    ("bug_layer_lstm_tanh_prime", "lstm-no-tanh-prime", "gates i (input) and g (candidate)",
     "dWx", "t = 0..4"),
    ("bug_layer_lstm_forget_c_t", "lstm-forget-against-c-t", "gate f (forget)", "dWf",
     "t = 0..4"),
    ("bug_layer_lstm_output_on_c", "lstm-output-on-c", "gate o (output)", "dWo", "t = 0..4"),
    ("bug_layer_lstm_carry_no_f", "lstm-c-carry-without-f", "gates i (input) and g (candidate)",
     "dWx", "t = 1..4"),
    ("bug_layer_lstm_stack_order", "lstm-stack-order", "gates g (candidate) and o (output)",
     "dWx", "t = 0..4"),
])
def test_lstm_bugs_fail_naming_gate_element_step_and_cause(
        run_cli: Callable[..., Result], name: str, kind: str, lead: str, param: str,
        steps: str) -> None:
    result = _run(run_cli, CORPUS / f"{name}.py", "--format", "json")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["cell"] == "lstm" and doc["causes"][0]["kind"] == kind
    headline = doc["headline"]
    assert headline.startswith("✗ lstm_backward (with lstm_forward) is wrong in ")
    assert f"{lead} wrong first, at loss step " in headline
    assert f"at loss steps {steps}" in headline
    wrong = {g["gate"]: g for g in doc["gates"] if g["wrong"]}
    assert wrong and all(g["first_step"] is not None for g in wrong.values())
    failing = [c for c in doc["comparisons"] if not c["passed"] and c["parameter"] == param[1:]]
    assert failing and failing[0]["worst_index"] is not None
    if doc["style"] == "cs231n-lstm":  # a stacked element is named with its gate and ours
        (c,) = [c for c in doc["comparisons"] if c["parameter"] == "Wx" and c["b"] == "reference"]
        assert c["ours"]["gate"] in "figo" and c["ours"]["parameter"] in ("Wf", "Wi", "Wc", "Wo")
    if name != "bug_layer_lstm_tanh_prime":  # the text report, once
        return
    text = _run(run_cli, CORPUS / f"{name}.py")
    assert text.exit_code == 1
    assert any(line.startswith("Gate ") and "first" in line for line in text.stdout.splitlines())
    if doc["style"] == "cs231n-lstm":  # each failure line names a stacked element's gate
        (line,) = [s for s in text.stdout.splitlines() if s.startswith("Wx yours↔reference")]
        assert re.search(r"worst Wx\[\d+, \d+\] \(gate [figo], our W[fico]\[\d+, \d+\]\):",
                         line)


def _variant_file(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = (CORPUS / f"{name}.py").read_text(encoding="utf-8")
    assert text.count(old) == 1
    out = tmp_path / f"{name}_variant.py"
    out.write_text(text.replace(old, new), encoding="utf-8")
    return out


def test_wrong_forward_is_a_finding(run_cli: Callable[..., Result], tmp_path: Path) -> None:
    """The output gate on c instead of tanh(c), in the forward: a finding, not a pass."""
    path = _variant_file(tmp_path, "ok_layer_lstm_cs231n", "    next_h = o * tc\n",
                         "    next_h = o * next_c\n")
    result = _run(run_cli, path)
    assert result.exit_code == 1, result.output
    last = result.stdout.strip().splitlines()[-1]
    assert "the forward pass differs from c_t = f * c_(t-1) + i * g, h_t = o * tanh(c_t)" in last


def test_extra_keys_are_noted(run_cli: Callable[..., Result], tmp_path: Path) -> None:
    path = _variant_file(tmp_path, "ok_layer_lstm_coursera", "    total[\"da0\"] = da_prevt\n",
                         "    total[\"da0\"] = da_prevt\n    total[\"dc_prev\"] = dc_prevt\n")
    result = _run(run_cli, path)
    assert result.exit_code == 0, result.output
    assert "Note: its backward also returns dc_prev, which the check does not use" \
        in result.stdout


def test_missing_gradient_is_a_usage_error(run_cli: Callable[..., Result],
                                           tmp_path: Path) -> None:
    path = _variant_file(tmp_path, "ok_layer_lstm_coursera", "    total[\"dx\"] = dx\n", "")
    result = _run(run_cli, path)
    assert result.exit_code == 2
    assert "its gradients dict has no dx" in result.stderr and "Traceback" not in result.stderr


def test_point_for_picks_the_cell() -> None:
    sizes = {"N": 1, "T": 2, "D": 3, "H": 2}
    assert "Wf" in point_for(CS231N_LSTM, sizes, 0)[0]
    assert "Wxh" in point_for(CS231N, sizes, 0)[0]


def test_pytorch_gate_order_is_read_from_the_forward(run_cli: Callable[..., Result],
                                                     tmp_path: Path) -> None:
    """A forward that stacks i, f, g, o (PyTorch's order) is checked in its own order."""
    text = (CORPUS / "ok_layer_lstm_cs231n.py").read_text(encoding="utf-8")
    swaps = [("o = sigmoid(a[:, 2 * H:3 * H])", "o = sigmoid(a[:, 3 * H:4 * H])"),
             ("g = np.tanh(a[:, 3 * H:4 * H])", "g = np.tanh(a[:, 2 * H:3 * H])"),
             ("do * o * (1 - o), dg * (1 - g * g)", "dg * (1 - g * g), do * o * (1 - o)")]
    for old, new in swaps:
        assert text.count(old) == 1
        text = text.replace(old, new)
    path = tmp_path / "ifgo.py"
    path.write_text(text, encoding="utf-8")
    result = _run(run_cli, path)
    assert result.exit_code == 0, result.output
    assert "reads the stacked gates in the order i, f, g, o" in result.stdout
    bug = tmp_path / "ifgo_bug.py"  # and a bug in that order is still named in it
    bug.write_text(text.replace("dc = dnext_c + dnext_h * o * (1 - tc * tc)",
                                "dc = dnext_c + dnext_h * o"), encoding="utf-8")
    doc = json.loads(_run(run_cli, bug, "--format", "json").stdout)
    assert doc["exit_code"] == 1 and doc["causes"][0]["kind"] == "lstm-no-tanh-prime"
    assert "Wx" in doc["names"] and doc["names"]["Wx"] == "Wi|Wf|Wc|Wo"


def test_coursera_without_da0_checks_the_rest(run_cli: Callable[..., Result],
                                              tmp_path: Path) -> None:
    """Some versions of Coursera's lstm_backward return no da0: a0 is then held fixed."""
    path = _variant_file(tmp_path, "ok_layer_lstm_coursera", "    total[\"da0\"] = da_prevt\n",
                         "")
    result = _run(run_cli, path, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert "a0" not in {c["parameter"] for c in doc["comparisons"]}
    assert any("does not return da0: a0 is held fixed" in n for n in doc["notes"])
    bug = _variant_file(tmp_path, "bug_layer_lstm_no_c_carry", "    total[\"da0\"] = da_prevt\n",
                        "")
    doc = json.loads(_run(run_cli, bug, "--format", "json").stdout)
    assert doc["exit_code"] == 1 and doc["causes"][0]["kind"] == "lstm-no-c-carry"


# ----------------------------------------------------------------- the GRU layer (cs231n-like)


def _autograd_gru(P: dict[str, Any], G: Any) -> Any:
    """<G, h> of the GRU layer, from the issue's equations, with autograd.numpy."""
    x, h = P["x"], P["h0"]
    total = 0.0
    for t in range(x.shape[1]):
        zx = anp.concatenate([h, x[:, t]], axis=1)
        u = 1 / (1 + anp.exp(-(anp.dot(zx, P["Wz"].T) + P["bz"])))
        r = 1 / (1 + anp.exp(-(anp.dot(zx, P["Wr"].T) + P["br"])))
        n = anp.tanh(anp.dot(anp.concatenate([r * h, x[:, t]], axis=1), P["Wn"].T) + P["bn"])
        h = u * h + (1 - u) * n
        total = total + anp.sum(G[:, t] * h)
    return total


@settings(max_examples=6, deadline=None)
@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 3), st.integers(1, 4),
       st.integers(0, 10**6))
def test_gru_reference_matches_autograd(N: int, T: int, D: int, H: int, seed: int) -> None:
    ours, G, _ = gru.point({"N": N, "T": T, "D": D, "H": H}, seed)
    truth = autograd.grad(_autograd_gru)(ours, G)
    mine, per = gru.gradients(ours, G, steps=True)
    assert per is not None
    for n in gru.OURS:
        np.testing.assert_allclose(mine[n], truth[n], rtol=1e-10, atol=1e-13, err_msg=n)
        np.testing.assert_allclose(per[n].sum(axis=0), mine[n], rtol=1e-12, atol=1e-14)


def test_gru_variants_change_the_gradient_and_elements_are_placed() -> None:
    ours, G, _ = gru.point(SMALL, seed=6)
    exact, _ = gru.gradients(ours, G)
    for variant, cause in gated_variants(CS231N_GRU, SMALL["T"]):
        got, _ = gru.gradients(ours, G, variant=variant)
        assert any(not np.allclose(got[n], exact[n], rtol=1e-6) for n in exact), cause.kind
    theirs = CS231N_GRU.to_theirs(ours)
    assert theirs["Wx"].shape == (SMALL["D"], 3 * SMALL["H"])
    for name, arr in theirs.items():
        for index in np.ndindex(arr.shape):
            where = CS231N_GRU.place(name, index, SMALL["H"])
            assert arr[index] == ours[where.ours][where.index]
    fwd, bwd = _pair("ok_layer_gru_cs231n", "gru_forward", "gru_backward")
    assert recognise(fwd, bwd, "x") is CS231N_GRU


@pytest.mark.parametrize(("name", "kind", "lead"), [
    ("ok_layer_gru_cs231n", "", ""),
    ("bug_layer_gru_flipped", "gru-flipped-update", "gates z (update), r (reset) and n"),
    ("bug_layer_gru_no_reset", "gru-no-reset-grad", "gate r (reset)"),
])
def test_gru_layers(run_cli: Callable[..., Result], name: str, kind: str, lead: str) -> None:
    result = run_cli("compare", "--impl", f"{CORPUS / name}.py:gru_backward", *SIZES,
                     "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["cell"] == "gru"
    if not kind:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1
    assert doc["causes"][0]["kind"] == kind
    assert f"{lead}" in doc["headline"] and "wrong first, at loss step" in doc["headline"]


def test_gru_in_the_coursera_form_is_refused_in_one_line() -> None:
    def gru_forward(x: Any, a0: Any, parameters: Any) -> Any:
        return x, None

    def gru_backward(da: Any, caches: Any) -> Any:
        return None

    with pytest.raises(ImplError, match="GRU layer is checked in the cs231n style only"):
        recognise(gru_forward, gru_backward, "x")


def test_gru_read_in_its_own_gate_order() -> None:
    text = (CORPUS / "ok_layer_gru_cs231n.py").read_text(encoding="utf-8")
    swaps = [("z = _sig(ax[:, :H] + prev_h @ Wh[:, :H])",
              "z = _sig(ax[:, H:2 * H] + prev_h @ Wh[:, H:2 * H])"),
             ("r = _sig(ax[:, H:2 * H] + prev_h @ Wh[:, H:2 * H])",
              "r = _sig(ax[:, :H] + prev_h @ Wh[:, :H])"),
             ("da = np.hstack([dz, dr, dn])", "da = np.hstack([dr, dz, dn])"),
             ("dz @ Wh[:, :H].T + dr @ Wh[:, H:2 * H].T",
              "dz @ Wh[:, H:2 * H].T + dr @ Wh[:, :H].T"),
             ("np.hstack([prev_h.T @ dz, prev_h.T @ dr,",
              "np.hstack([prev_h.T @ dr, prev_h.T @ dz,")]
    for old, new in swaps:
        assert text.count(old) == 1
        text = text.replace(old, new)
    space: dict[str, Any] = {}
    exec(compile(text, "gru_rzn", "exec"), space)
    spec = resolve(overrides={"hidden": 3, "vocab": 3, "seq": 4})
    report = bpttcheck.layers.check_layer(space["gru_forward"], space["gru_backward"], spec)
    assert report.passed and report.style.gate_order == ("r", "z", "n")
    assert any("in the order r, z, n (the usual is z, r, n)" in n for n in report.function.notes)


# ----------------------------------------------------------------- float32 layers (r-f32)

F32 = Path(__file__).parent / "forms" / "f32"
F32_SIZES = ("--hidden", "5", "--vocab", "4", "--seq", "6")


def _f32_layer(tmp_path: Path, name: str, target: str, *edits: tuple[str, str]) -> str:
    """A float32 layer fixture with each (old, new) edit applied once; returns PATH:target."""
    text = (F32 / name).read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return f"{path}:{target}"


@pytest.mark.parametrize(("name", "target", "edit"), [
    ("cs_f32_ok.py", "lstm_backward", None),
    ("van_layer_f32_ok.py", "rnn_backward", None),
    # computed in float32, every array returned as float64: found by the loss's resolution
    ("cs_f32_ok.py", "lstm_backward", (
        "    return dx, dnext_h, dWx, dWh, db",
        "    return tuple(np.asarray(v, dtype=np.float64) for v in (dx, dnext_h, dWx, dWh, db))")),
])
def test_correct_float32_layer_passes_with_error_bars(run_cli: Callable[..., Result],
                                                      tmp_path: Path, name: str, target: str,
                                                      edit: tuple[str, str] | None) -> None:
    """A correct layer that casts to float32 is judged with float32's measured error bars:
    its forward and gradient agree to rounding (it once failed on a 1e-9 forward check)."""
    result = run_cli("compare", "--impl", _f32_layer(tmp_path, name, target,
                                                     *([edit] if edit else [])), *F32_SIZES)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "computes in float32" in out and "error bars" in out
    if edit is not None:
        assert "resolves only relative changes" in out


@pytest.mark.parametrize(("name", "target", "edit", "wrong"), [
    ("cs_f32_ok.py", "lstm_backward",
     ("dc = dnext_c + dht * o * (1 - tc * tc)", "dc = dnext_c + dht * o"), "dWx"),
    ("cs_f32_ok.py", "lstm_backward", ("db += da.sum(0)", "db += 0.999 * da.sum(0)"), "db"),
    ("van_layer_f32_ok.py", "rnn_backward",
     ("rnn_step_backward(dh[:, t, :] + dprev, cache[t])",
      "rnn_step_backward(dh[:, t, :], cache[t])"), "dWh"),
])
def test_buggy_float32_layer_fails_on_its_gradient(run_cli: Callable[..., Result],
                                                   tmp_path: Path, name: str, target: str,
                                                   edit: tuple[str, str], wrong: str) -> None:
    """A real bug in a float32 layer still fails, on the gradient (not on its forward)."""
    result = run_cli("compare", "--impl", _f32_layer(tmp_path, name, target, edit),
                     *F32_SIZES, "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert not any("forward pass differs" in f for f in report["findings"])
    assert re.search(rf"\b{wrong}\b", report["headline"].partition("is wrong in")[2])
    assert any("float32" in n for n in report["notes"])


def test_wrong_gated_layer_with_the_fix_search_on_is_a_verdict_not_a_crash(
        run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI searches for a fix by default; a gated layer's is searched too (fix.trials).
    monkeypatch.delenv("BPTTCHECK_NO_FIX", raising=False)
    result = run_cli("compare", "--impl",
                     "bpttcheck/selftest/corpus/bug_layer_lstm_tanh_prime.py:lstm_backward",
                     "--hidden", "4", "--vocab", "3", "--seq", "4", "--fix-budget", "20")
    assert result.exit_code == 1, result.output
    assert "Fix found (verified" in result.stdout, result.stdout
