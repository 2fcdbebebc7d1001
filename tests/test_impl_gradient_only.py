"""--impl on a function without an initial state that returns its gradients alone, no loss.

The WildML RNN tutorial's ``RNNNumpy.bptt(self, x, y)`` (tests/forms/gradonly/wildml_rnn.py,
as published): no hprev (the state starts from zero), ``return [dLdU, dLdV, dLdW]`` with
no loss, and truncated BPTT (``bptt_truncate = 4``: each loss reaches 4 steps back, a
window of 5 steps). At T <= 5 the truncation drops nothing and the gradient is exact; at
T = 7 it is not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from click.testing import Result

from bpttcheck.errors import ImplError
from bpttcheck.impl.adapters import ImplOptions, prepare
from bpttcheck.impl.returns import return_order, returns_loss, unpack
from bpttcheck.model import build
from bpttcheck.spec import resolve

FORMS = Path(__file__).parent / "forms" / "gradonly"
SCHEMA = Path(__file__).resolve().parent.parent / "bpttcheck" / "schema" / "report-1.schema.json"
WILDML = f"{FORMS / 'wildml_rnn.py'}:RNNNumpy.bptt"
SMALL = ("--hidden", "6", "--vocab", "5", "--no-biases")
# Sentences about a loss of the function's own: a gradient-only function has none.
LOSS_CLAIMS = ("your loss", "its loss", "of its own loss", "loss it returns", "loss you return",
               "impl-numeric", "impl ↔ impl")

Run = Callable[..., Result]


def impl_text(stdout: str) -> str:
    """The report's own lines, joined (Rich wraps them at the terminal width)."""
    return " ".join(stdout.split())


def assert_no_loss_claims(stdout: str) -> None:
    text = impl_text(stdout)
    for claim in LOSS_CLAIMS:
        assert claim not in text, claim
    assert text.count("it returns no loss, so its gradient was checked against the model's") \
        == 1


# -- the tutorial's class, end to end --------------------------------------------------------

def test_wildml_exact_when_truncation_drops_nothing(run_cli: Run) -> None:
    """T = 5 = bptt_truncate + 1: the truncated sum is the full sum; it passes."""
    result = run_cli("compare", "--impl", WILDML, *SMALL, "--seq", "5")
    assert result.exit_code == 0, result.output
    text = impl_text(result.stdout)
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("✓ RNNNumpy.bptt in wildml_rnn.py computes this RNN's gradient")
    assert "zero hprev" in text  # the second point, for a function that takes no state
    assert "takes no initial state (no hprev argument), so hprev was taken as zero" in text
    assert "return statement names them: U, V, W" in text
    assert_no_loss_claims(result.stdout)


def test_wildml_truncated_at_seq_7_json(run_cli: Run) -> None:
    """T = 7 > 5: the truncated gradient is wrong; the cause names truncation and its window;
    the JSON validates and claims no loss."""
    result = run_cli("compare", "--impl", WILDML, *SMALL, "--seq", "7", "--format", "json")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    impl = doc["impl"]
    assert impl["passed"] is False and impl["returns_loss"] is False and impl["stateless"]
    assert impl["loss"] is None and impl["loss_match"] is None
    assert all(p["loss"] is None and p["loss_ok"] is None and p["own_gradient_ok"] is None
               for p in impl["points"])
    assert [p["gradient_ok"] for p in impl["points"]] == [False, False]
    cause = impl["causes"][0]
    assert cause["kind"] == "truncated" and cause["value"] == 5  # bptt_truncate = 4: 5 steps
    assert set(cause["params"]) == {"Wxh", "Whh"}
    assert "window of 5 steps" in cause["message"]
    assert impl["verdict"] == ("No: the gradient it returns is not the gradient of the "
                               "model's summed loss.")
    assert "impl-numeric" not in doc["engines"]


def test_wildml_with_a_bug_names_parameter_and_element(run_cli: Run, tmp_path: Path) -> None:
    """One edit (s[bptt_step] for s[bptt_step-1] in dLdW) at T = 5, where truncation is
    exact: Whh (their W) is wrong, with its worst element; nothing else is. The JUnit case
    does not say a loss was checked."""
    junit = tmp_path / "junit.xml"
    result = run_cli("compare", "--impl", f"{FORMS / 'wildml_bug.py'}:RNNNumpy.bptt", *SMALL,
                     "--seq", "5", "--junit", str(junit))
    assert 'name="RNNNumpy.bptt: gradient and returned values"' in junit.read_text()
    assert result.exit_code == 1, result.output
    text = impl_text(result.stdout)
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("✗ RNNNumpy.bptt in wildml_bug.py is wrong in Whh (your W);")
    assert "h_t where h_{t-1} belongs" in last
    assert "Whh impl↔tutorial:" in text and "worst Whh[" in text
    assert "Wxh impl↔" not in text and "Why impl↔" not in text
    # localised in time from calls on prefixes, which have no loss to compare either
    assert "In time: its per-step gradient dL_t/dθ differs from the reference at loss steps" \
        in text
    assert_no_loss_claims(result.stdout)


def test_globals_variant_and_the_fix_search_on_it(run_cli: Run,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """bptt(x, y) reading module globals U, V, W: the correct one passes; one that carries
    nothing back in time fails with that cause, and the fix search runs on it (no loss to
    screen, only the gradient)."""
    monkeypatch.delenv("BPTTCHECK_NO_FIX", raising=False)  # the search is asked for here
    ok = run_cli("compare", "--impl", f"{FORMS / 'globals_full.py'}:bptt", *SMALL, "--seq", "6")
    assert ok.exit_code == 0, ok.output
    assert "computes this RNN's gradient" in ok.stdout.strip().splitlines()[-1]
    bad = run_cli("compare", "--impl", f"{FORMS / 'globals_nocarry.py'}:bptt", *SMALL,
                  "--seq", "6")
    assert bad.exit_code == 1, bad.output
    text = impl_text(bad.stdout)
    assert "dhnext is missing" in bad.stdout.strip().splitlines()[-1]
    # the fix search runs on gradients alone (screened without a loss), and says what it tried
    assert "No fix searched" not in text
    assert "No verified one-line fix: tried" in text or "Fix found" in text
    assert_no_loss_claims(bad.stdout)


def test_a_gradient_only_stateless_bug_gets_a_verified_fix(run_cli: Run, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """The WildML class with one wrong index: no loss and no initial state, yet the search
    screens its edits (gradients only, zero initial states at both points) and the fix it
    proposes, applied as the JSON says, gives a file the check passes."""
    from bpttcheck import fix

    monkeypatch.delenv("BPTTCHECK_NO_FIX", raising=False)
    path = tmp_path / "wildml_bug.py"
    path.write_text((FORMS / "wildml_bug.py").read_text())
    target = f"{path}:RNNNumpy.bptt"
    bad = run_cli("compare", "--impl", target, *SMALL, "--seq", "5", "--fix-budget", "30",
                  "--format", "json")
    assert bad.exit_code == 1, bad.output
    found = json.loads(bad.stdout)["impl"]["fix"]
    assert found is not None and found["verified"] and not found["partial"]
    fixed = tmp_path / "wildml_fixed.py"
    fixed.write_text(fix.apply(path.read_text(), [fix.Edit(**e) for e in found["edits"]]))
    ok = run_cli("compare", "--impl", f"{fixed}:RNNNumpy.bptt", *SMALL, "--seq", "5", "--no-fix")
    assert ok.exit_code == 0, ok.output
    # the sentence above the diff claims no loss for a function that returns none
    spec = resolve(overrides={"hidden": 6, "vocab": 5, "seq": 5, "biases": False})
    out = fix.search(target, ImplOptions(), spec, 30.0, stateless=True, returns_loss=False)
    assert out.fix is not None and out.fix.verified
    heading = fix.heading(out.fix)
    assert "gradient elements" in heading and "loss" not in heading


@pytest.mark.slow
def test_arguments_with_biases_and_a_dict(run_cli: Run) -> None:
    """lossFun(inputs, targets, Wxh, ..., by): weights as arguments, no hprev, a dict of
    the five gradients: passes at the spec's point and at a second point with biases."""
    result = run_cli("compare", "--impl", f"{FORMS / 'args_biases.py'}:lossFun",
                     "--hidden", "5", "--vocab", "4", "--seq", "6")
    assert result.exit_code == 0, result.output
    assert_no_loss_claims(result.stdout)


# -- bad input: one line, exit 2 ---------------------------------------------------------------

def test_wrong_number_of_arrays_is_one_line(run_cli: Run, tmp_path: Path) -> None:
    src = (FORMS / "globals_full.py").read_text().replace("return [dU, dV, dW]",
                                                          "return [dU, dV]")
    (tmp_path / "two.py").write_text(src)
    result = run_cli("compare", "--impl", f"{tmp_path / 'two.py'}:bptt", *SMALL, "--seq", "4")
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0] == ("bpttcheck: error: bptt returned 2 arrays and no loss; gradients "
                        "alone are 3 arrays (dWxh, dWhh, dWhy, in another order with "
                        "--impl-order) or a dict of them")


def code_for(name: str, target: str, **spec: object) -> tuple[object, object]:
    """The user's code in process (no child) and the problem, at a small spec."""
    problem = build(resolve(overrides={"hidden": 4, "vocab": 3, "seq": 4, **spec}))
    sizes = {"hidden": 4, "vocab": 3, "seq": 4, **({"biases": 0} if spec.get("biases") is
                                                  False else {})}
    return prepare(f"{FORMS / name}:{target}", ImplOptions(), sizes), problem


def test_non_zero_hprev_is_refused() -> None:
    code, problem = code_for("wildml_rnn.py", "RNNNumpy.bptt", biases=False, hprev="random")
    with pytest.raises(ImplError, match=r"takes no initial state \(no hprev argument\), so it "
                       r"starts from zero .* --hprev zeros"):
        code.call(problem.params, problem.batch)  # type: ignore[attr-defined]


def test_own_loss_cannot_be_declared(run_cli: Run) -> None:
    result = run_cli("compare", "--impl", WILDML, *SMALL, "--seq", "4", "--impl-loss", "own")
    assert result.exit_code == 2
    assert "--impl-loss own: RNNNumpy.bptt returns no loss" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_one_argument_is_still_a_wrong_signature(tmp_path: Path) -> None:
    (tmp_path / "one.py").write_text("def f(x):\n    return 0\n")
    with pytest.raises(ImplError, match=r"wrong signature: f\(x\) takes 1 required argument; "
                       r".*may leave out the initial state"):
        prepare(f"{tmp_path / 'one.py'}:f", ImplOptions(), {"hidden": 4, "vocab": 3, "seq": 4})


# -- the forms: how a function without a state is recognised and called ----------------------

FORMS_SRC = '''import numpy as np
U = W = V = None


def glob(x, y):
    return [np.ones_like(U) * len(x), np.ones_like(W), np.ones_like(V)]


def args(x, y, U, W, V):
    return {"dU": U * 0 + len(y), "dW": W * 0, "dV": V * 0}


def explicit(params, x, y):
    return [params["U"] * 0, params["W"] * 0, params["V"] * 0]


def with_state(x, y, h):
    return 1.0, U * 0, W * 0, V * 0


class Net:
    def __init__(self, word_dim, hidden_dim=100):
        self.U = np.zeros((hidden_dim, word_dim))
        self.W = np.zeros((hidden_dim, hidden_dim))
        self.V = np.zeros((word_dim, hidden_dim))

    def bptt(self, x, y):
        return (self.U + 1, self.W, self.V)
'''


@pytest.mark.parametrize(("target", "form", "stateless"), [
    ("glob", "globals", True), ("args", "arguments", True), ("explicit", "explicit", True),
    ("with_state", "globals", False), ("Net.bptt", "method", True)])
def test_forms_without_a_state(tmp_path: Path, target: str, form: str,
                               stateless: bool) -> None:
    (tmp_path / "forms.py").write_text(FORMS_SRC)
    sizes = {"hidden": 4, "vocab": 3, "seq": 4, "biases": 0}
    code = prepare(f"{tmp_path / 'forms.py'}:{target}", ImplOptions(), sizes)
    assert (code.form, code.stateless) == (form, stateless)
    problem = build(resolve(overrides={"hidden": 4, "vocab": 3, "seq": 4, "biases": False}))
    r = code.call(problem.params, problem.batch)
    assert r.returns_loss is not stateless  # here, exactly the stateless ones return no loss
    assert set(r.grads) == {"Wxh", "Whh", "Why"}
    if target == "glob":
        assert np.all(r.grads["Wxh"] == 4)  # called with the inputs: len(x) = T = 4
    if target == "Net.bptt":
        assert np.all(r.grads["Wxh"] == problem.params["Wxh"] + 1)  # attributes were set


# -- returns: gradients alone --------------------------------------------------------------------

def test_returns_loss_tells_gradients_alone_from_a_loss_and_gradients() -> None:
    a, b, c = np.zeros((4, 3)), np.zeros((4, 4)), np.zeros((3, 4))
    assert not returns_loss([a, b, c], 3)
    assert not returns_loss({"dU": a, "dW": b, "dV": c}, 3)
    assert returns_loss({"loss": 1.0, "dU": a, "dW": b, "dV": c}, 3)
    assert returns_loss((1.0, a, b, c), 3)
    assert returns_loss((np.float64(1.0), a, b), 3)  # a number first: a (wrong) loss return


def test_unpack_reads_the_order_its_return_statement_names() -> None:
    def bptt(x: object, y: object) -> list[np.ndarray]:
        dLdU, dLdV, dLdW = np.zeros((4, 3)), np.ones((3, 4)), 2 * np.ones((4, 4))
        return [dLdU, dLdV, dLdW]

    names = {"U": "Wxh", "W": "Whh", "V": "Why"}
    params = build(resolve(overrides={"hidden": 4, "vocab": 3, "seq": 4,
                                      "biases": False})).params
    order = return_order(bptt, names, tuple(params))
    assert order == ("Wxh", "Why", "Whh")
    loss, grads, hlast, notes = unpack(bptt(0, 0), params, "bptt", names, None,
                                       lambda: order)
    assert np.isnan(loss) and hlast is None
    assert np.all(grads["Why"] == 1) and np.all(grads["Whh"] == 2)
    assert "return statement names them: U, V, W" in notes[0]
    # --impl-order wins over the return statement
    asked: list[bool] = []

    def read() -> tuple[str, ...] | None:
        asked.append(True)
        return order

    _, grads, _, notes = unpack([np.zeros((4, 3)), np.ones((4, 4)), np.ones((3, 4))], params,
                                "bptt", names, ("Wxh", "Whh", "Why"), read)
    assert np.all(grads["Whh"] == 1) and notes == ()
    assert not asked  # the source is read only when its order is needed
    # a return with its loss needs no order: the source is not read either
    unpack((1.0, *[np.zeros_like(v) for v in params.values()]), params, "bptt", names, None,
           read)
    assert not asked


def test_return_order_reads_through_astype_and_copy() -> None:
    def f32(x: object) -> list[np.ndarray]:
        dU = dV = dW = np.zeros(1)
        return [dU.astype(np.float32), dV.copy(), dW]

    names = {"U": "Wxh", "W": "Whh", "V": "Why"}
    assert return_order(f32, names, ("Wxh", "Whh", "Why")) == ("Wxh", "Why", "Whh")


def test_return_order_is_none_when_the_names_do_not_tell() -> None:
    def ambiguous(x: object) -> list[np.ndarray]:
        a = b = c = np.zeros(1)
        return [a, b, c]

    assert return_order(ambiguous, {}, ("Wxh", "Whh", "Why")) is None
    assert return_order(len, {}, ("Wxh", "Whh", "Why")) is None  # no Python source


def test_a_dict_without_one_gradient_names_it() -> None:
    params = build(resolve(overrides={"hidden": 4, "vocab": 3, "seq": 4,
                                      "biases": False})).params
    with pytest.raises(ImplError, match=r"a dict without a loss and without dW \(dWhh\); "
                       "its keys: dU, dV"):
        unpack({"dU": np.zeros((4, 3)), "dV": np.zeros((3, 4))}, params, "f",
               {"U": "Wxh", "W": "Whh", "V": "Why"}, None)


# -- no initial state, with a loss: the full check, at zero states ------------------------------

def test_no_state_with_a_loss_gets_the_full_check(run_cli: Run, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The tutorial's class returning its loss too: its loss is checked as well, at the
    zero-hprev second point; truncated at T = 7, and the fix search says why it did not run."""
    monkeypatch.delenv("BPTTCHECK_NO_FIX", raising=False)
    src = (FORMS / "wildml_rnn.py").read_text()
    src = src.replace("        dLdU = np.zeros(self.U.shape)\n",
                      "        loss = -np.sum(np.log(o[np.arange(T), y]))\n"
                      "        dLdU = np.zeros(self.U.shape)\n")
    src = src.replace("return [dLdU, dLdV, dLdW]", "return [loss, dLdU, dLdV, dLdW]")
    (tmp_path / "with_loss.py").write_text(src)
    target = f"{tmp_path / 'with_loss.py'}:RNNNumpy.bptt"
    ok = run_cli("compare", "--impl", target, *SMALL, "--seq", "5", "--impl-order", "dU,dV,dW")
    assert ok.exit_code == 0, ok.output
    text = impl_text(ok.stdout)
    assert "Yes: its loss and its gradient are those of the model's summed loss" in text
    assert "zero hprev" in text and "so hprev was taken as zero at both points" in text
    bad = run_cli("compare", "--impl", target, *SMALL, "--seq", "7", "--impl-order", "dU,dV,dW")
    assert bad.exit_code == 1, bad.output
    text = impl_text(bad.stdout)
    assert "window of 5 steps" in bad.stdout.strip().splitlines()[-1]
    assert "No fix searched" not in text  # its points have zero initial states, as the check's
    assert "No verified one-line fix: tried" in text or "Fix found" in text


@pytest.mark.slow
@pytest.mark.parametrize("seq", range(2, 10))
def test_wildml_passes_exactly_when_truncation_drops_nothing(run_cli: Run, seq: int) -> None:
    """bptt_truncate = 4: exact for T <= 5, truncated (and named so) for T >= 6."""
    result = run_cli("compare", "--impl", WILDML, *SMALL, "--seq", str(seq), "--init-scale",
                     "0.5", "--format", "json")
    impl = json.loads(result.stdout)["impl"]
    if seq <= 5:
        assert result.exit_code == 0, impl["verdict"]
    else:
        assert result.exit_code == 1
        assert impl["causes"][0]["kind"] == "truncated" and impl["causes"][0]["value"] == 5
