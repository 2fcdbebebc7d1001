"""Which of the user's names are weights, sizes and gradients (an adversarial review's cases).

The fixtures in tests/forms/names are correct gated scripts that bpttcheck refused:
a weight name guessed from a local or a size (``V``, ``c``), a hidden size set at
module level (``H = 100``), an --impl-order hint that did not work when pasted back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from bpttcheck.errors import ImplError
from bpttcheck.impl import parse_names, parse_order

NAMES = Path(__file__).parent / "forms" / "names"  # users' code: not linted
CORPUS = Path(__file__).parent.parent / "bpttcheck" / "selftest" / "corpus"
SIZES = ("--hidden", "5", "--vocab", "4", "--seq", "5", "--impl-sample", "3")

Run = Callable[..., Result]


def _compare(run_cli: Run, cell: str, target: str, *more: str) -> Result:
    return run_cli("compare", "--cell", cell, *SIZES, "--impl", target, *more)


@pytest.mark.parametrize("name", ["gru_class_localV_ok", "gru_class_localc_ok"])
def test_a_class_local_named_like_a_weight_is_not_taken_for_one(run_cli: Run,
                                                                  name: str) -> None:
    # GRU.lossFun reads the instance's Wu/bu/Wc/bc/Why/by and has a local V (or c); the
    # U/W/V/b/c-style convention once bound V (c) to Why (by) and refused the class.
    result = _compare(run_cli, "gru", f"{NAMES / name}.py:GRU.lossFun")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("more", [(), ("--impl-names", "V=vocab")], ids=["guessed", "named"])
def test_a_global_size_named_v_is_not_a_weight(run_cli: Run, more: tuple[str, ...]) -> None:
    result = _compare(run_cli, "gru", f"{NAMES / 'gru_globals_V_ok.py'}:lossFun", *more)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("cell,name", [("lstm", "lstm_globals_H_ok"),
                                       ("gru", "gru_globals_H_ok")])
def test_a_module_level_hidden_size_is_the_specs(run_cli: Run, cell: str, name: str) -> None:
    # The file says H = 100; checked at --hidden 5, its H must be 5 (dz[:H] slices with it).
    result = _compare(run_cli, cell, f"{NAMES / name}.py:lossFun")
    assert result.exit_code == 0, result.output


def test_impl_order_hint_works_when_pasted_back(run_cli: Run) -> None:
    target = f"{NAMES / 'lstm_tuple_interleaved_ok.py'}:loss_and_grads"
    first = _compare(run_cli, "lstm", target)
    assert first.exit_code == 2
    hint = re.search(r"--impl-order (\S+)\)", " ".join(first.output.split()))
    assert hint is not None, first.output
    assert "dWg" in hint.group(1) and "dWy" in hint.group(1)  # the user's own spellings
    again = _compare(run_cli, "lstm", target, "--impl-order", hint.group(1))
    assert again.exit_code == 0, again.output


def test_impl_order_uses_the_cell_and_the_users_names() -> None:
    with pytest.raises(ImplError, match="exactly once"):  # known names, but two of ten
        parse_order("dWg,dWy", {}, "lstm")
    lstm = "dWf,dbf,dWi,dbi,dWg,dbg,dWo,dbo,dWy,dby"
    assert parse_order(lstm, {}, "lstm") == ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo",
                                             "Why", "by")
    gru = "dWu,dWr,dWc,dbu,dbr,dbc,dWhy,dby"
    assert parse_order(gru, {}, "gru") == ("Wz", "Wr", "Wn", "bz", "br", "bn", "Why", "by")
    assert parse_order("dA,dWr,dWc,dbu,dbr,dbc,dWhy,dby", parse_names("A=Wz"), "gru")[0] == "Wz"
    with pytest.raises(ImplError, match="dWhy"):  # vanilla names are not the LSTM's
        parse_order("dWxh,dWhh,dWhy,dbh,dby", {}, "lstm")


@pytest.mark.parametrize("flags,named", [(("--cell", "gru"), "--cell gru"),
                                         (("--no-biases",), "--no-biases")])
def test_a_layer_refuses_a_contradicting_cell_and_no_biases(run_cli: Run, flags: tuple[str, ...],
                                                            named: str) -> None:
    result = run_cli("compare", *flags, "--hidden", "5", "--vocab", "4", "--seq", "5",
                     "--impl", f"{CORPUS / 'ok_layer_lstm_coursera.py'}:lstm_backward")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and named in lines[0], result.stderr


def test_a_layer_accepts_its_own_cell(run_cli: Run) -> None:
    result = run_cli("compare", "--cell", "lstm", "--hidden", "5", "--vocab", "4", "--seq",
                     "5", "--impl", f"{CORPUS / 'ok_layer_lstm_coursera.py'}:lstm_backward")
    assert result.exit_code == 0, result.output


SIZE_V = '''import numpy as np

H = 100
V = 65
U = np.random.randn(H, V) * 0.01
W = np.random.randn(H, H) * 0.01
Vout = np.random.randn(V, H) * 0.01
b, c = np.zeros((H, 1)), np.zeros((V, 1))


def lossFun(inputs, targets, hprev):
    h, loss = {-1: hprev}, 0.0
    ps = {}
    for t in range(len(inputs)):
        x = np.zeros((V, 1))
        x[inputs[t]] = 1
        h[t] = np.tanh(U @ x + W @ h[t - 1] + b)
        y = Vout @ h[t] + c
        ps[t] = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
        loss -= np.log(ps[t][targets[t], 0])
    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(Vout)
    db, dc, carry = np.zeros_like(b), np.zeros_like(c), np.zeros_like(hprev)
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        dV += dy @ h[t].T
        dc += dy
        da = (1 - h[t] ** 2) * (Vout.T @ dy + carry)
        db += da
        dU[:, [inputs[t]]] += da
        dW += da @ h[t - 1].T
        carry = W.T @ da
    return loss, dU, dW, dV, db, dc, h[len(inputs) - 1]
'''


def test_a_module_level_number_is_a_size_not_a_weight(run_cli: Run, tmp_path: Path) -> None:
    """``V = 65`` is the vocabulary here; the output weight has a name of its own. V is never
    bound as a weight; the error names the flag that maps the unknown weight."""
    path = tmp_path / "sizes_v.py"
    path.write_text(SIZE_V, encoding="utf-8")
    first = _compare(run_cli, "vanilla", f"{path}:lossFun")
    assert first.exit_code == 2
    assert "--impl-names Vout=Why" in first.stderr and "TypeError" not in first.stderr
    second = _compare(run_cli, "vanilla", f"{path}:lossFun", "--impl-names", "Vout=Why")
    assert second.exit_code == 0, second.output
