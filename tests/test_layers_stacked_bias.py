"""The efficient batched LSTM (--impl FILE.py:LSTM.backward): a class of static methods, one
stacked matrix WLSTM (1 + D + H, 4H) with a bias row, time-major inputs, c0 and h0 passed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import autograd
import autograd.numpy as anp
import jsonschema
import numpy as np
import pytest
from click.testing import Result
from hypothesis import given, settings
from hypothesis import strategies as st

import bpttcheck
from bpttcheck.errors import ImplError
from bpttcheck.layers import is_layer_target, load_pair, partner_name
from bpttcheck.layers import lstm_reference as ref
from bpttcheck.layers.check import point_for
from bpttcheck.layers.gates import gated_variants, their_index
from bpttcheck.layers.styles import CS231N_LSTM, STACKED_LSTM, Stacked, recognise
from bpttcheck.spec import resolve

FIXTURE = Path(__file__).parent / "fixtures" / "layers" / "stacked_lstm_ok.py"
SCHEMA = Path(__file__).parent.parent / "bpttcheck" / "schema" / "report-1.schema.json"
SIZES = ("--hidden", "4", "--vocab", "3", "--seq", "5")
SMALL = {"N": 2, "T": 4, "D": 3, "H": 3}


def _edited(tmp_path: Path, old: str, new: str, name: str = "lstm_bug.py") -> Path:
    """The fixture with one line's text replaced (exactly one occurrence)."""
    text = FIXTURE.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    out = tmp_path / name
    out.write_text(text.replace(old, new), encoding="utf-8")
    return out


def _run(run_cli: Callable[..., Result], path: Path, *extra: str) -> Result:
    return run_cli("compare", "--impl", f"{path}:LSTM.backward", *SIZES, *extra)


def _live(path: Path = FIXTURE) -> tuple[Any, Any]:
    """The class's forward and backward, loaded as the CLI loads them (in this process)."""
    pair = load_pair(f"{path}:LSTM.backward", None)
    assert pair is not None
    return pair[0], pair[1]


# ----------------------------------------------------------------- the layout


def test_every_element_of_wlstm_is_one_of_ours_with_its_gate() -> None:
    ours, _, _ = point_for(STACKED_LSTM, SMALL, seed=4)
    theirs = STACKED_LSTM.to_theirs(ours)
    N, T, D, H = SMALL["N"], SMALL["T"], SMALL["D"], SMALL["H"]
    assert theirs["WLSTM"].shape == (1 + D + H, 4 * H) and theirs["X"].shape == (T, N, D)
    back = STACKED_LSTM.to_ours(theirs)
    for n in (*ref.OURS, "c0"):
        np.testing.assert_array_equal(back[n], ours[n])
    for name, arr in theirs.items():
        for index in np.ndindex(arr.shape):
            where = STACKED_LSTM.place(name, index, H, D)
            assert arr[index] == ours[where.ours][where.index]
            assert their_index(STACKED_LSTM, ours, where.ours, where.index) == (name, index)


def test_rows_bias_then_x_then_h_and_columns_i_f_o_g() -> None:
    H, D = 8, 6
    place = STACKED_LSTM.place
    assert place("WLSTM", (0, 9), H, D) == place("WLSTM", (0, 9), H, D)
    assert (place("WLSTM", (0, 9), H, D).ours, place("WLSTM", (0, 9), H, D).index) == ("bf", (1,))
    x_row = place("WLSTM", (3, 17), H, D)  # row 3: x row 2; column 17: block 2 (o), unit 1
    assert (x_row.ours, x_row.index, x_row.gate) == ("Wo", (1, H + 2), "o")
    h_row = place("WLSTM", (1 + D + 4, 9), H, D)  # h row 4 of gate f, unit 1
    assert (h_row.ours, h_row.index, h_row.gate) == ("Wf", (1, 4), "f")
    assert place("WLSTM", (1 + D, 3 * H), H, D).gate == "g"
    assert STACKED_LSTM.names_text.startswith(
        "X = our x (time-major), WLSTM = [i: Wi, bi | f: Wf, bf")


def test_row_blocks_in_any_order_are_the_same_idea() -> None:
    """A stacked matrix's row blocks in another order (or without the bias row) map the same
    way: every element is one of ours, and the matrix converts back."""
    ours, _, _ = ref.point(SMALL, seed=5)
    H = SMALL["H"]
    for part in ("bxh", "hxb", "xhb", "xh", "hx"):
        a = Stacked("W", part)
        W = a.theirs_from(ours)
        assert W.shape == (part.count("b") + SMALL["D"] + H, 4 * H)
        blocks = a.blocks_to_ours(W)
        assert set(blocks) == set(part)
        for index in np.ndindex(W.shape):
            where = a.place_in(index, H, SMALL["D"])
            assert W[index] == ours[where.ours][where.index], (part, index)
    assert Stacked("Wx", "x").place_in((1, 2), H) == CS231N_LSTM.place("Wx", (1, 2), H)


# ----------------------------------------------------------------- the reference with c0


def _autograd_layer(P: dict[str, Any], G: Any) -> Any:
    """<G, h> of the LSTM layer started from (h0, c0), from the equations, with autograd."""
    x, h, c = P["x"], P["h0"], P["c0"]
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


@settings(max_examples=5, deadline=None)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 10**6))
def test_reference_with_c0_matches_autograd(N: int, T: int, D: int, H: int, seed: int) -> None:
    sizes = {"N": N, "T": T, "D": D, "H": H}
    ours, G, _ = point_for(STACKED_LSTM, sizes, seed)
    assert np.any(ours["c0"] != 0)
    truth = autograd.grad(_autograd_layer)(ours, G)
    mine, per = ref.gradients(ours, G, steps=True)
    assert per is not None
    for n in (*ref.OURS, "c0"):
        np.testing.assert_allclose(mine[n], truth[n], rtol=1e-10, atol=1e-13, err_msg=n)
        np.testing.assert_allclose(per[n].sum(axis=0), mine[n], rtol=1e-12, atol=1e-14)


def test_without_c0_the_reference_is_unchanged() -> None:
    ours, G, _ = ref.point(SMALL, seed=6)
    with_zero = {**ours, "c0": np.zeros((SMALL["N"], SMALL["H"]))}
    a, _ = ref.gradients(ours, G)
    b, _ = ref.gradients(with_zero, G)
    assert "c0" not in a and "c0" in b
    for n in ref.OURS:
        np.testing.assert_allclose(a[n], b[n], rtol=1e-13, atol=1e-15)


def test_every_named_variant_changes_the_gradient_with_c0() -> None:
    ours, G, _ = point_for(STACKED_LSTM, SMALL, seed=7)
    exact, _ = ref.gradients(ours, G)
    for variant, cause in gated_variants(STACKED_LSTM, SMALL["T"]):
        got, _ = ref.gradients(ours, G, variant=variant)
        assert any(not np.allclose(got[n], exact[n], rtol=1e-6) for n in exact), cause.kind


# ----------------------------------------------------------------- finding the pair


def test_class_methods_pair_by_name() -> None:
    assert partner_name("LSTM.backward") == "LSTM.forward"
    assert partner_name("Layer.lstm_backward") == "Layer.lstm_forward"
    assert partner_name("LSTM.lossFun") is None
    assert is_layer_target("f.py:LSTM.backward", None)
    assert not is_layer_target("f.py:Model.lossFun", None)
    fwd, bwd = _live()
    assert recognise(fwd, bwd, "x") is STACKED_LSTM


def test_a_class_named_otherwise_is_recognised_by_probing(tmp_path: Path) -> None:
    path = _edited(tmp_path, "class LSTM:", "class Recurrent:", "renamed.py")
    pair = load_pair(f"{path}:Recurrent.backward", None)
    assert pair is not None and pair[2] == "Recurrent.backward (with Recurrent.forward)"
    assert recognise(pair[0], pair[1], "x") is STACKED_LSTM


def test_instance_method_named_backward_is_not_a_layer(tmp_path: Path) -> None:
    """A model class whose backward takes (self, inputs, targets): a loss function, as before."""
    f = tmp_path / "m.py"
    f.write_text("class RNN:\n"
                 "    def forward(self, inputs):\n        return inputs\n"
                 "    def backward(self, inputs, targets):\n        return 0\n")
    assert load_pair(f"{f}:RNN.backward", None) is None
    g = tmp_path / "n.py"  # a static backward without a forward in its class: not a layer
    g.write_text("class RNN:\n    @staticmethod\n    def backward(dh, cache):\n        return 0\n")
    assert load_pair(f"{g}:RNN.backward", None) is None


# ----------------------------------------------------------------- the check


def test_api_checks_the_live_class() -> None:
    fwd, bwd = _live()
    spec = resolve(overrides={"hidden": 3, "vocab": 3, "seq": 4})
    report = bpttcheck.layers.check_layer(fwd, bwd, spec)
    assert report.passed and report.style is STACKED_LSTM
    assert {c.parameter for c in report.reference} == {"X", "WLSTM", "c0", "h0"}


def test_correct_file_passes_and_its_json_validates(run_cli: Callable[..., Result]) -> None:
    result = _run(run_cli, FIXTURE, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert doc["style"] == "stacked-lstm" and doc["cell"] == "lstm"
    assert doc["names"]["WLSTM"] == "Wi|Wf|Wo|Wc|bi|bf|bo|bc"
    assert doc["headline"].startswith("✓ LSTM.backward (with LSTM.forward) is the gradient of "
                                      "<G, Hout>")
    elements = sum(c["compared"] for c in doc["comparisons"] if c["b"] == "reference")
    N, T, D, H = 2, 5, 3, 4
    assert elements == T * N * D + (1 + D + H) * 4 * H + 2 * N * H  # X, WLSTM, c0, h0


# Each a one-line bug of the file: (old text, new text, the cause it is measured to be or "",
# the first wrong loss step). Causes are named only when the whole gradient equals a known
# bug's sum; the others must still fail, naming parameter, element, gate and steps.
BUGS = {
    "forget carry dropped": ("        dC[t-1] += IFOGf[t,:,d:2*d] * dC[t]\n", "",
                             "lstm-no-c-carry", 1),
    "tanh' as 1 - tanh": ("dC[t] += (1-tanhCt**2) *", "dC[t] += (1-tanhCt) *", "", 0),
    "wrong slice of dHin": ("dHout[t-1,:] += dHin[t,:,input_size+1:]",
                            "dHout[t-1,:] += dHin[t,:,input_size:-1]", "", 1),
    "sigmoid' as 1 - y": ("dIFOG[t,:,:3*d] = (y*(1.0-y)) *", "dIFOG[t,:,:3*d] = (1.0-y) *", "",
                          0),
    "forget gate against C[t]": ("dIFOGf[t,:,d:2*d] = C[t-1] * dC[t]",
                                 "dIFOGf[t,:,d:2*d] = C[t] * dC[t]",
                                 "lstm-forget-against-c-t", 1),
}


@pytest.mark.parametrize("bug", list(BUGS))
def test_one_line_bugs_fail_naming_element_gate_and_step(
        run_cli: Callable[..., Result], tmp_path: Path, bug: str) -> None:
    old, new, kind, first = BUGS[bug]
    result = _run(run_cli, _edited(tmp_path, old, new), "--format", "json")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert [c["kind"] for c in doc["causes"][:1]] == ([kind] if kind else [])
    (w,) = [c for c in doc["comparisons"] if c["parameter"] == "WLSTM" and c["b"] == "reference"]
    assert not w["passed"] and w["ours"]["gate"] in tuple("ifog")
    assert w["ours"]["parameter"] in ("Wi", "Wf", "Wo", "Wc", "bi", "bf", "bo", "bc")
    assert w["loss_steps"] and w["loss_steps"][0] == first
    wrong = [g for g in doc["gates"] if g["wrong"]]
    assert wrong and min(g["first_step"] for g in wrong) == first
    assert all(re.fullmatch(r"dWLSTM\[\d+, \d+\]", g["worst"]) for g in wrong)
    assert all(re.fullmatch(r"d[Wb][fico]\[[\d, ]+\]", g["worst_ours"]) for g in wrong)
    headline = doc["headline"]
    assert headline.startswith("✗ LSTM.backward (with LSTM.forward) is wrong in ")
    assert "dWLSTM" in headline and f"wrong first, at loss step {first}" in headline


def test_text_report_names_their_element_ours_and_the_gate(run_cli: Callable[..., Result],
                                                          tmp_path: Path) -> None:
    old, new, _, _ = BUGS["sigmoid' as 1 - y"]
    result = _run(run_cli, _edited(tmp_path, old, new))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    (line,) = [s for s in lines if s.startswith("WLSTM yours↔reference")]
    m = re.search(r"worst WLSTM\[(\d+), (\d+)\] \(gate ([ifog]), our ([Wb][fico])\[([\d, ]+)\]\)",
                  line)
    assert m is not None, line
    row, col, gate, ours, index = m.groups()
    H, D = 4, 3
    assert gate == "ifog"[int(col) // H]
    assert ours[1] == {"i": "i", "f": "f", "o": "o", "g": "c"}[gate]
    if int(row) == 0:
        assert ours[0] == "b" and index == str(int(col) % H)
    else:
        j, k = (int(v) for v in index.split(", "))
        assert j == int(col) % H and k == (H + int(row) - 1 if int(row) <= D else int(row) - 1 - D)
    assert any(s.startswith("Gate f (forget; our Wf and bf): wrong") for s in lines)
    assert any(s.startswith("In time: dWLSTM is wrong for the loss at steps t = 0") for s in lines)


def test_a_wrong_forward_return_is_one_line_exit_2(run_cli: Callable[..., Result],
                                                   tmp_path: Path) -> None:
    path = _edited(tmp_path, "    return Hout, C[t], Hout[t], cache\n",
                   "    return Hout, Hout[t], cache\n")
    result = _run(run_cli, path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "bpttcheck: error: LSTM.backward (with LSTM.forward): expected its forward to return "
        "(Hout, C[T-1], Hout[T-1], cache), got a tuple of 3"]
    doc = json.loads(_run(run_cli, path, "--format", "json").stdout)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert doc["error"]["exit_code"] == 2


def test_wrong_backward_return_is_one_line_exit_2(run_cli: Callable[..., Result],
                                                  tmp_path: Path) -> None:
    path = _edited(tmp_path, "    return dX, dWLSTM, dc0, dh0\n", "    return dX, dWLSTM, dh0\n")
    result = _run(run_cli, path)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "expected (dX, dWLSTM, dc0, dh0), got a tuple of 3" in result.stderr


def test_forward_reading_other_gate_order_is_checked_in_its_order() -> None:
    """A class that stacks the columns i, f, g, o (sigmoid on i, f, o wherever they are)."""
    fwd, bwd = _live()
    order = (0, 1, 3, 2)  # their blocks i, f, g, o hold ours i, f, o, g

    def perm(W: np.ndarray) -> np.ndarray:
        H = W.shape[-1] // 4
        return np.concatenate([W[..., q * H:(q + 1) * H] for q in order], axis=-1)

    def forward(X: Any, WLSTM: Any, c0: Any = None, h0: Any = None) -> Any:
        return fwd(X, perm(WLSTM), c0, h0)

    def backward(dHout: Any, cache: Any) -> Any:
        dX, dW, dc0, dh0 = bwd(dHout, cache)
        return dX, perm(dW), dc0, dh0  # perm is its own inverse

    forward.__qualname__, backward.__qualname__ = "LSTM.forward", "LSTM.backward"
    spec = resolve(overrides={"hidden": 3, "vocab": 3, "seq": 4})
    report = bpttcheck.layers.check_layer(forward, backward, spec)
    assert report.passed and report.style.gate_order == ("i", "f", "g", "o")
    assert any("in the order i, f, g, o" in n for n in report.function.notes)


def test_the_fix_search_reaches_this_style_and_its_fix_is_exact(
        run_cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The search runs on the check's own reading of the pair (c0 passed, the stacked
    rows and gates in their order): a verified fix, and the file it patches passes."""
    from bpttcheck import fix

    monkeypatch.delenv("BPTTCHECK_NO_FIX", raising=False)
    old, new, _, _ = BUGS["tanh' as 1 - tanh"]
    path = _edited(tmp_path, old, new)
    result = _run(run_cli, path, "--fix-budget", "30", "--format", "json")
    assert result.exit_code == 1
    found = json.loads(result.stdout)["fix"]
    assert found["verified"] and not found["partial"]
    edits = [fix.Edit(**e) for e in found["edits"]]
    fixed = tmp_path / "lstm_fixed.py"
    fixed.write_text(fix.apply(path.read_text(), edits))
    assert _run(run_cli, fixed, "--no-fix").exit_code == 0


def test_probe_failure_names_what_the_forward_said() -> None:
    def forward(X: Any, W: Any, c0: Any = None, h0: Any = None) -> Any:
        return X, None  # two values, where four belong

    def backward(dHout: Any, cache: Any) -> Any:
        return None

    with pytest.raises(ImplError, match=r"lstm: expected its forward to return \(Hout, "):
        recognise(forward, backward, "x")


# ----------------------------------------------------------------- other row blocks

# The fixture rewritten to apply WLSTM to [1, h_(t-1), x_t], and to [x_t, h_(t-1)] (no bias row).
H_FIRST = [("Hin[t,:,1:input_size+1] = X[t]", "Hin[t,:,1+d:] = X[t]"),
           ("Hin[t,:,input_size+1:] = prevh", "Hin[t,:,1:1+d] = prevh"),
           ("dX[t] = dHin[t,:,1:input_size+1]", "dX[t] = dHin[t,:,1+d:]"),
           ("dHout[t-1,:] += dHin[t,:,input_size+1:]", "dHout[t-1,:] += dHin[t,:,1:1+d]"),
           ("dh0 += dHin[t,:,input_size+1:]", "dh0 += dHin[t,:,1:1+d]")]
NO_BIAS = [("      Hin[t,:,0] = 1\n", ""),
           ("Hin[t,:,1:input_size+1] = X[t]", "Hin[t,:,:input_size] = X[t]"),
           ("Hin[t,:,input_size+1:] = prevh", "Hin[t,:,input_size:] = prevh"),
           ("input_size = WLSTM.shape[0] - d - 1", "input_size = WLSTM.shape[0] - d"),
           ("dX[t] = dHin[t,:,1:input_size+1]", "dX[t] = dHin[t,:,:input_size]"),
           ("dHout[t-1,:] += dHin[t,:,input_size+1:]", "dHout[t-1,:] += dHin[t,:,input_size:]"),
           ("dh0 += dHin[t,:,input_size+1:]", "dh0 += dHin[t,:,input_size:]")]


def _rewritten(tmp_path: Path, edits: list[tuple[str, str]], name: str) -> Path:
    text = FIXTURE.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    out = tmp_path / name
    out.write_text(text, encoding="utf-8")
    return out


@pytest.mark.parametrize(("edits", "style", "rows", "note"), [
    (H_FIRST, "stacked-lstm", 1 + 4 + 3,
     "your forward applies the stacked matrix to [1, h_(t-1), x_t] (the usual is "
     "[1, x_t, h_(t-1)])"),
    (NO_BIAS, "stacked-lstm-no-bias", 3 + 4, ""),
])
def test_other_row_blocks_are_read_from_the_forward(
        run_cli: Callable[..., Result], tmp_path: Path, edits: list[tuple[str, str]],
        style: str, rows: int, note: str) -> None:
    ok = _rewritten(tmp_path, edits, "rows_ok.py")
    doc = json.loads(_run(run_cli, ok, "--format", "json").stdout)
    assert doc["exit_code"] == 0 and doc["style"] == style, doc["headline"]
    (w,) = [c for c in doc["comparisons"] if c["parameter"] == "WLSTM" and c["b"] == "reference"]
    assert w["compared"] == rows * 4 * 4
    assert (note in " ".join(doc["notes"])) if note else not any("applies" in n
                                                                 for n in doc["notes"])
    old, new, _, _ = BUGS["sigmoid' as 1 - y"]
    bug = _rewritten(tmp_path, [*edits, (old, new)], "rows_bug.py")
    result = _run(run_cli, bug, "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    wrong = {g["gate"]: g for g in doc["gates"] if g["wrong"]}
    assert set(wrong) == set("figo") and wrong["f"]["first_step"] == 0
    if style == "stacked-lstm-no-bias":  # no bias of ours is theirs: the gates name Wq only
        assert all(g["params"] == [g["params"][0]] for g in doc["gates"])


def test_impl_forward_names_a_method_of_the_class(tmp_path: Path) -> None:
    path = _edited(tmp_path, "  def forward(X, WLSTM", "  def run(X, WLSTM", "run.py")
    assert load_pair(f"{path}:LSTM.backward", None) is None  # no LSTM.forward: not a pair
    pair = load_pair(f"{path}:LSTM.backward", "run")
    assert pair is not None and pair[2] == "LSTM.backward (with LSTM.run)"
    assert recognise(pair[0], pair[1], "x") is STACKED_LSTM
    with pytest.raises(ImplError, match="its forward partner 'nothing' could not be loaded"):
        load_pair(f"{path}:LSTM.backward", "nothing")
