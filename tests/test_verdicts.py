"""Issue 9: verdicts on user code that hold: no false pass, no false alarm, the right part named.

Each user file is generated here from one template (a min-char-rnn-style
``lossFun`` reading module globals) with one line changed, as the issue
describes the case; none is copied from a real file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpttcheck import checker
from bpttcheck.errors import ImplError, SpecError
from bpttcheck.impl import ImplRequest, parse_loss
from bpttcheck.impl.check import DeclaredLoss
from bpttcheck.model import build, second_point
from bpttcheck.precision import for_dtype, lowest
from bpttcheck.spec import Spec

Run = Callable[..., Result]
TINY = ["--hidden", "6", "--seq", "5", "--vocab", "4", "--seed", "2", "--init-scale", "0.5",
        "--hprev", "random"]
SPEC = Spec(hidden=6, seq=5, vocab=4, seed=2, init_scale=0.5, hprev="random")
# Large enough weights that the tutorial's clipping at 5 changes elements.
CLIPPING = Spec(hidden=8, seq=12, vocab=4, seed=1, init_scale=1.0, hprev="random")

TEMPLATE = '''import numpy as np

FLOAT = np.float64


def lossFun(inputs, targets, hprev):
    U, W, V, b, c = (np.asarray(a, dtype=FLOAT) for a in (Wxh, Whh, Why, bh, by))
    h = {-1: np.asarray(hprev, dtype=FLOAT)}
    p, total = {}, 0.0
    steps = range(len(inputs))  # STEPS
    for t in steps:
        x = np.zeros((U.shape[1], 1), dtype=FLOAT)
        x[inputs[t]] = 1
        h[t] = np.tanh(U @ x + W @ h[t - 1] + b)
        y = V @ h[t] + c  # LOGITS
        e = np.exp(y - y.max())
        p[t] = e / e.sum()
        total = total - np.log(p[t][targets[t], 0])
    grads = [np.zeros_like(a) for a in (U, W, V, b, c)]
    dU, dW, dV, db, dc = grads
    carry = np.zeros_like(h[-1])
    for t in reversed(steps):
        dy = p[t].copy()
        dy[targets[t]] -= 1
        dV += dy @ h[t].T
        dc += dy
        dh = V.T @ dy + carry  # DH
        da = (1 - h[t] ** 2) * dh
        db += da
        dU[:, [inputs[t]]] += da
        dW += da @ h[t - 1].T
        carry = W.T @ da
    # AFTER
    return total, dU, dW, dV, db, dc, h[len(inputs) - 1]  # RETURN
'''


def user_file(tmp_path: Path, *edits: tuple[str, str], name: str = "user.py") -> str:
    """The template with each (old, new) edit applied once; returns PATH:lossFun."""
    text = TEMPLATE
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return f"{path}:lossFun"


def check(target: str, spec: Spec = SPEC, loss: DeclaredLoss | None = None,
          engines: tuple[str, ...] = ("reference",)) -> checker.Report:
    request = ImplRequest(target, loss=loss or DeclaredLoss())
    return checker.run(spec, engines, impl=request)


def text_of(report: checker.Report) -> str:
    return " ".join(" ".join(report.verdict()).split())


MEAN_LOSS = ("    # AFTER\n", "    total = total / len(inputs)\n")
MEAN_GRADS = ("    # AFTER\n", "    total = total / len(inputs)\n"
                                "    for g in grads:\n        g /= len(inputs)\n")


# -- false passes that used to exit 0 ---------------------------------------------------------

def test_correct_template_passes_at_both_points(tmp_path: Path) -> None:
    report = check(user_file(tmp_path))
    assert report.exit_code == 0, report.verdict()
    assert [p.name for p in report.impl.points] == ["spec", "second"]
    assert report.impl.relation.kind == "equal"
    assert text_of(report).startswith("Yes: its loss and its gradient are those of the model's")


def test_constant_loss_with_zero_gradient_fails(run_cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "constant.py"
    path.write_text("import numpy as np\n"
                    "def lossFun(inputs, targets, hprev):\n"
                    "    zeros = [np.zeros_like(a) for a in (Wxh, Whh, Why, bh, by)]\n"
                    "    return (1.0, *zeros, hprev)\n", encoding="utf-8")
    for declared in ("sum", "own"):  # never a pass, whatever is declared
        result = run_cli("compare", *TINY, "--impl", f"{path}:lossFun", "--impl-loss",
                         declared, "--json")
        assert result.exit_code == 1, result.output
        data = json.loads(result.stdout)["impl"]
        assert data["relation"]["kind"] == "constant"
        assert any("your loss is a constant" in f for f in data["findings"])


def test_half_sequence_loss_fails_and_names_the_steps(tmp_path: Path) -> None:
    report = check(user_file(tmp_path, ("range(len(inputs))  # STEPS",
                                        "range(len(inputs) // 2)  # STEPS"),
                             ("h[len(inputs) - 1]  # RETURN", "h[len(inputs) // 2 - 1]")))
    assert report.exit_code == 1
    relation = report.impl.relation
    assert relation.kind == "prefix" and relation.value == SPEC.seq // 2 - 1
    text = text_of(report)
    assert "No: neither the loss it returns nor its gradient" in text
    assert "over steps 0..1 only (of 0..4)" in text
    assert "your gradient is the gradient of that loss" in text


@pytest.mark.parametrize("command", ["compare", "numeric", "explain"])
def test_one_symbol_text_is_refused_for_every_command(run_cli: Run, tmp_path: Path,
                                                      command: str) -> None:
    data = tmp_path / "one.txt"
    data.write_text("z" * 40, encoding="utf-8")
    result = run_cli(command, "--data", str(data), "--hidden", "4", "--seq", "5")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "nothing to check" in result.stderr and str(data) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_one_symbol_text_is_refused_by_the_core(tmp_path: Path) -> None:
    data = tmp_path / "one.txt"
    data.write_text("z" * 40, encoding="utf-8")
    with pytest.raises(SpecError, match="nothing to check"):
        build(Spec(hidden=4, seq=5, data=str(data)))
    with pytest.raises(SpecError, match="--vocab: 1 distinct symbol: every gradient"):
        build(Spec(hidden=4, seq=5, vocab=1))  # bypassing the flag's own check


# -- the loss and the gradient, each named -------------------------------------------------

def test_mean_loss_with_the_summed_gradient_names_exactly_that(tmp_path: Path) -> None:
    report = check(user_file(tmp_path, MEAN_LOSS))
    assert report.exit_code == 1
    text = text_of(report)
    assert "No: the loss it returns is not the model's summed loss." in text
    assert "your gradient is the summed loss's; the loss you return is its mean" in text
    assert all(p.gradient_ok for p in report.impl.points)  # the gradient part is right
    assert not report.impl.points[0].loss_ok


def test_declared_mean_loss_is_accepted_and_said(run_cli: Run, tmp_path: Path) -> None:
    target = user_file(tmp_path, MEAN_GRADS)
    declared = run_cli("compare", *TINY, "--impl", target, "--impl-loss", "mean=T")
    assert declared.exit_code == 0, declared.output
    out = " ".join(declared.stdout.split())
    assert "the loss you declared with --impl-loss mean=T" in out
    # Undeclared, the same function fails, and the report names the flag that would declare it.
    undeclared = check(target)
    assert undeclared.exit_code == 1
    assert "--impl-loss mean=T" in text_of(undeclared)
    # own: the gradient is that of its own loss, so it passes too
    assert check(target, loss=parse_loss("own")).exit_code == 0


def test_a_scaled_loss_declared_as_another_scale_fails_on_the_loss(tmp_path: Path) -> None:
    report = check(user_file(tmp_path, MEAN_GRADS), loss=parse_loss("scale=0.5"))
    assert report.exit_code == 1
    assert "declared with --impl-loss scale=0.5" in text_of(report)


def test_wrong_gradient_with_the_right_loss(tmp_path: Path) -> None:
    report = check(user_file(tmp_path, ("dh = V.T @ dy + carry  # DH", "dh = V.T @ dy")))
    assert report.exit_code == 1
    text = text_of(report)
    assert "No: the gradient it returns is not the gradient of the model's summed loss." in text
    assert report.impl.causes[0].kind == "no-dhnext"


def test_temperature_is_measured(tmp_path: Path) -> None:
    report = check(user_file(tmp_path, ("y = V @ h[t] + c  # LOGITS", "y = (V @ h[t] + c) / 3")))
    assert report.exit_code == 1
    relation = report.impl.relation
    assert relation.kind == "temperature"
    assert relation.value == pytest.approx(3.0, rel=1e-6)


def test_offset_is_measured(tmp_path: Path) -> None:
    report = check(user_file(tmp_path, ("    # AFTER\n", "    total = total + 0.25\n")))
    assert report.exit_code == 1
    assert report.impl.relation.kind == "offset"
    assert report.impl.relation.value == pytest.approx(0.25, rel=1e-9)
    assert "your gradient is the summed loss's" in text_of(report)


# -- see every term ------------------------------------------------------------------------

def test_by_unused_in_the_forward_pass(tmp_path: Path) -> None:
    report = check(user_file(tmp_path, ("y = V @ h[t] + c  # LOGITS", "y = V @ h[t]")))
    assert report.exit_code == 1
    text = text_of(report)
    assert "your loss does not depend on by, but the dby you return is not zero" in text
    assert report.impl.relation.kind == "without"
    # The spec's biases are zero, so only the second point can see it in the loss.
    first, second = report.impl.points
    assert first.loss_ok and not second.loss_ok


def test_a_forward_pass_that_ignores_hprev(tmp_path: Path) -> None:
    report = check(user_file(tmp_path, ("h = {-1: np.asarray(hprev, dtype=FLOAT)}",
                                        "h = {-1: np.zeros_like(hprev, dtype=FLOAT)}")),
                   spec=Spec(hidden=6, seq=5, vocab=4, seed=2, init_scale=0.5))  # hprev zeros
    assert report.exit_code == 1
    assert report.impl.relation.kind == "no-hprev"
    assert "it ignores the hprev it is given" in text_of(report)


def test_second_point_has_another_seed_biases_and_hprev() -> None:
    other = second_point(Spec(hidden=5, seq=4, vocab=3))
    assert other.seed != 0 and other.hprev == "random" and other.bias_scale > 0
    problem = build(other)
    assert np.abs(problem.params["by"]).min() > 0 and np.abs(problem.batch.hprev).min() > 0


def test_bias_scale_zero_reproduces_the_tutorial_point() -> None:
    base = build(Spec(hidden=5, seq=4, vocab=3, hprev="random"))
    same = build(Spec(hidden=5, seq=4, vocab=3, hprev="random", bias_scale=0.0))
    biased = build(Spec(hidden=5, seq=4, vocab=3, hprev="random", bias_scale=0.3))
    for n in ("Wxh", "Whh", "Why"):
        assert np.array_equal(base.params[n], same.params[n])
        assert np.array_equal(base.params[n], biased.params[n])
    assert np.array_equal(base.batch.hprev, biased.batch.hprev)
    assert not base.params["bh"].any() and biased.params["bh"].std() > 0


# -- precision -----------------------------------------------------------------------------

def test_correct_float32_passes(tmp_path: Path) -> None:
    report = check(user_file(tmp_path, ("FLOAT = np.float64", "FLOAT = np.float32")))
    assert report.exit_code == 0, report.verdict()
    assert report.impl.precision == "float32"
    assert "float32" in text_of(report) and "error bars" in text_of(report)


def test_float32_computed_but_returned_as_float64_is_detected(tmp_path: Path) -> None:
    report = check(user_file(
        tmp_path, ("FLOAT = np.float64", "FLOAT = np.float32"),
        ("return total, dU,", "return float(total), *(g.astype(np.float64) for g in grads), "
                              "h[len(inputs) - 1]  # "), ))
    assert report.exit_code == 0, report.verdict()
    assert report.impl.precision == "float32"
    assert "its loss resolves only relative changes" in text_of(report)


@pytest.mark.parametrize(("old", "new"), [
    ("dh = V.T @ dy + carry  # DH", "dh = V.T @ dy"),  # dhnext missing
    ("dW += da @ h[t - 1].T", "dW += da @ h[t].T"),  # h_t where h_{t-1} belongs
    ("dc += dy", "dc += 1.001 * dy"),  # a small slip in one bias
])
def test_buggy_float32_still_fails(tmp_path: Path, old: str, new: str) -> None:
    report = check(user_file(tmp_path, ("FLOAT = np.float64", "FLOAT = np.float32"), (old, new)))
    assert report.exit_code == 1
    assert report.impl.precision == "float32"


F32 = ("FLOAT = np.float64", "FLOAT = np.float32")
F32_SCALE2 = ("    # AFTER\n", "    total = 2 * total\n    for g in grads:\n        g *= 2\n")


@pytest.mark.parametrize(("edit", "declared"), [(MEAN_GRADS, "mean=T"),
                                                (F32_SCALE2, "scale=2")])
def test_correct_float32_with_a_declared_factor_passes(tmp_path: Path, edit: tuple[str, str],
                                                       declared: str) -> None:
    """The float32 witness behind the error bars is scaled by the declared factor as the
    truth is (it once compared the declared loss's gradient with the sum's in float32)."""
    report = check(user_file(tmp_path, F32, edit), loss=parse_loss(declared))
    assert report.exit_code == 0, report.verdict()
    assert report.impl.precision == "float32"
    assert not any(f.startswith("precision:") for f in report.impl.findings)


def test_buggy_float32_with_a_declared_mean_fails_on_the_gradient(tmp_path: Path) -> None:
    edits = (F32, MEAN_GRADS, ("dh = V.T @ dy + carry  # DH", "dh = V.T @ dy"))
    report = check(user_file(tmp_path, *edits), loss=parse_loss("mean=T"))
    assert report.exit_code == 1
    assert all(p.loss_ok for p in report.impl.points)
    assert report.impl.points[0].gradient_ok is False  # the bug, not the precision
    assert not any(f.startswith("precision:") for f in report.impl.findings)


def test_float32_summed_code_declared_as_mean_is_not_said_to_have_its_gradient(
        tmp_path: Path) -> None:
    """The gradient is T times the declared loss's: exit 1, and never "your gradient is the
    loss you declared ...'s"."""
    report = check(user_file(tmp_path, F32), loss=parse_loss("mean=T"))
    assert report.exit_code == 1
    assert not any(p.gradient_ok for p in report.impl.points)
    assert "your gradient is the loss you declared" not in text_of(report)


def test_float32_bug_gets_the_cause_its_float64_twin_gets(tmp_path: Path) -> None:
    """Causes are fitted to what float32 rounding allows, not to float64's 1e-6."""
    edit = ("dh = V.T @ dy + carry  # DH", "dh = V.T @ dy")
    twin = check(user_file(tmp_path, edit, name="f64.py"))
    report = check(user_file(tmp_path, ("FLOAT = np.float64", "FLOAT = np.float32"), edit))
    assert twin.impl.causes[0].kind == "no-dhnext"
    assert report.impl.precision == "float32"
    assert [c.kind for c in report.impl.causes][:1] == ["no-dhnext"]


@pytest.mark.parametrize(("edit", "exit_code"), [
    (None, 0), (("dh = V.T @ dy + carry  # DH", "dh = V.T @ dy"), 1)])
def test_float32_against_its_own_loss(tmp_path: Path, edit: tuple[str, str] | None,
                                      exit_code: int) -> None:
    """--impl-loss own in float32: its loss differentiated with float32's step."""
    edits = [("FLOAT = np.float64", "FLOAT = np.float32"), *([edit] if edit else [])]
    report = check(user_file(tmp_path, *edits), loss=parse_loss("own"))
    assert report.exit_code == exit_code, report.verdict()
    assert "step of 4.9e-03" in text_of(report)


def test_float32_where_rounding_swamps_the_gradient_is_not_a_pass(tmp_path: Path) -> None:
    """A chaotic network: float32 cannot resolve the gradient, so the check is vacuous there;
    neither "Yes" nor a bug claim, but exit 1 with the reason."""
    chaotic = Spec(hidden=20, seq=30, vocab=6, init_scale=1.5)
    report = check(user_file(tmp_path, ("FLOAT = np.float64", "FLOAT = np.float32")),
                   spec=chaotic)
    assert report.exit_code == 1
    assert any(f.startswith("precision: at this spec float32 rounding alone")
               for f in report.impl.findings)
    assert report.verdict()[0].startswith("No: its loss and gradient agree where compared")


def test_float64_code_on_a_chaotic_network_is_not_taken_for_float32(tmp_path: Path) -> None:
    chaotic = Spec(hidden=20, seq=30, vocab=6, init_scale=1.5)
    report = check(user_file(tmp_path), spec=chaotic)
    assert report.impl.precision == "float64"


def test_precision_table() -> None:
    assert lowest(["float64"]).dtype == "float64"
    assert lowest(["float64", "float32"]).dtype == "float32"
    assert lowest(["float64"], measured_eps=3e-8).dtype == "float32"
    assert lowest(["float64"], measured_eps=1e-13).dtype == "float64"  # float64 noise
    assert for_dtype("float32").step == pytest.approx(np.finfo(np.float32).eps ** (1 / 3))


# -- everything returned is checked --------------------------------------------------------

def test_a_wrong_hlast_fails(tmp_path: Path) -> None:
    report = check(user_file(tmp_path, ("h[len(inputs) - 1]  # RETURN", "h[len(inputs) - 2]")))
    assert report.exit_code == 1
    assert any(f.startswith("hlast: at the spec's point") for f in report.impl.findings)
    assert report.verdict()[0].startswith("No:")  # loss and gradient right, still never "Yes"
    assert "the model's last hidden state" in text_of(report)


DICT_RETURN = ("return total, dU, dW, dV, db, dc, h[len(inputs) - 1]  # RETURN",
               "return total, dict(Wxh=dU, Whh=dW, Why=dV, bh=db, by=dc, dhprev=W.T @ da "
               "EXTRA)")


@pytest.mark.parametrize(("extra", "passes"), [("* 1.0", True), ("* 1.5", False)])
def test_dict_dhprev_is_checked(tmp_path: Path, extra: str, passes: bool) -> None:
    old, new = DICT_RETURN
    report = check(user_file(tmp_path, (old, new.replace("EXTRA", extra))))
    assert report.passed is passes, report.verdict()
    assert any(f.startswith("dhprev:") for f in report.impl.findings) is not passes


def test_dict_unknown_keys_are_named(tmp_path: Path) -> None:
    old, new = DICT_RETURN
    report = check(user_file(tmp_path, (old, new.replace("EXTRA", ", note=3"))))
    assert "returned keys bpttcheck does not know how to check: note" in text_of(report)


# -- clipping ------------------------------------------------------------------------------

CLIP = ("    # AFTER\n", "    for g in grads:\n        np.clip(g, -5, 5, out=g)\n")


def test_undeclared_clip_is_named_with_the_flag_that_accepts_it(tmp_path: Path) -> None:
    report = check(user_file(tmp_path, CLIP), spec=CLIPPING)
    assert report.exit_code == 1
    cause = report.impl.causes[0]
    assert cause.kind == "clip" and cause.value == 5.0
    assert "--clip 5 accepts it" in text_of(report)


def test_declared_clip_is_accepted(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("compare", "--impl", user_file(tmp_path, CLIP), "--hidden", "8", "--seq",
                     "12", "--vocab", "4", "--seed", "1", "--init-scale", "1", "--hprev",
                     "random", "--clip", "5")
    assert result.exit_code == 0, result.output


# -- the flag ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["mean", "mean=X", "scale=0", "scale=abc", "bitz"])
def test_impl_loss_bad_values(text: str) -> None:
    with pytest.raises(ImplError, match="--impl-loss"):
        parse_loss(text)


def test_impl_loss_bad_value_on_the_command_line(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("compare", *TINY, "--impl", user_file(tmp_path), "--impl-loss", "avg")
    assert result.exit_code == 2
    assert "--impl-loss: expected sum, mean=T" in result.stderr


def test_declared_factors() -> None:
    assert parse_loss("mean=T").factor(5) == pytest.approx(0.2)
    assert parse_loss("mean=TB").factor(5, 2) == pytest.approx(0.1)
    assert parse_loss("bits").factor(5) == pytest.approx(1 / np.log(2))
    assert parse_loss("scale=3").factor(5) == 3.0
    assert parse_loss("own").factor(5) is None
    assert parse_loss(None).flag is None


# -- JSON ----------------------------------------------------------------------------------

def test_json_impl_block_names_the_parts(run_cli: Run, tmp_path: Path) -> None:
    from importlib import resources

    import jsonschema

    result = run_cli("numeric", *TINY, "--impl", user_file(tmp_path, MEAN_LOSS), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    schema = json.loads(resources.files("bpttcheck").joinpath(
        "schema/report-1.schema.json").read_text())
    jsonschema.validate(data, schema)
    impl = data["impl"]
    assert impl["declared_loss"] == "sum" and impl["precision"] == "float64"
    assert impl["relation"]["kind"] == "mean-T" and impl["relation"]["hint"] == "mean=T"
    assert [p["point"] for p in impl["points"]] == ["spec", "second"]
    assert all(p["gradient_ok"] and not p["loss_ok"] for p in impl["points"])
    assert impl["verdict"] == data["verdict"][0]
    # The generic sentence about built-in engines never speaks for the user's pairs.
    assert not any("which agree with each other" in line for line in data["verdict"])


def test_junit_has_a_case_for_the_user_code_verdict(run_cli: Run, tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    out = tmp_path / "junit.xml"
    target = user_file(tmp_path, ("h[len(inputs) - 1]  # RETURN", "h[len(inputs) - 2]"))
    result = run_cli("numeric", *TINY, "--impl", target, "--junit", str(out), "--quiet")
    assert result.exit_code == 1
    root = ET.parse(out).getroot()
    assert root.get("failures") == "1"  # every gradient pair agrees; the hlast does not
    case = root.find(".//testcase[@classname='bpttcheck.impl']")
    assert case is not None and "hlast" in case.find("failure").get("message")


# -- properties: no false pass, no false alarm, over sizes and seeds --------------------------

VARIANT_EDITS = {
    "f64": (),
    "f32": (("FLOAT = np.float64", "FLOAT = np.float32"),),
    "no-dhnext": (("dh = V.T @ dy + carry  # DH", "dh = V.T @ dy"),),
    "f32-no-dhnext": (("FLOAT = np.float64", "FLOAT = np.float32"),
                      ("dh = V.T @ dy + carry  # DH", "dh = V.T @ dy")),
    "mean-loss": (MEAN_LOSS,),
    "no-by": (("y = V @ h[t] + c  # LOGITS", "y = V @ h[t]"),),
}


def _property(tmp_path: Path, hidden: int, seq: int, vocab: int, seed: int, init: float,
              hprev: str) -> None:
    spec = Spec(hidden=hidden, seq=seq, vocab=vocab, seed=seed, init_scale=init, hprev=hprev)
    for name, edits in VARIANT_EDITS.items():
        report = check(user_file(tmp_path, *edits, name=f"{name.replace('-', '_')}.py"), spec)
        vacuous = any(f.startswith("precision:") for f in report.impl.findings)
        if name in ("f64", "f32"):
            assert report.exit_code == 0 or (name == "f32" and vacuous), (name, report.verdict())
        else:  # a bug is never passed (seq >= 2, so dhnext matters)
            assert report.exit_code == 1, (name, report.verdict())


# Each example checks six files; tmp_path is reused (the files are rewritten each time).
PROFILE: dict[str, Any] = dict(deadline=None,
                               suppress_health_check=[HealthCheck.function_scoped_fixture])
SIZES = dict(hidden=st.integers(2, 8), seq=st.integers(2, 8), vocab=st.integers(2, 5),
             seed=st.integers(0, 10_000), init=st.sampled_from([0.01, 0.1, 0.5]),
             hprev=st.sampled_from(["zeros", "random"]))


@settings(max_examples=2, **PROFILE)
@given(**SIZES)
def test_property_no_false_pass_no_false_alarm(tmp_path: Path, hidden: int, seq: int,
                                               vocab: int, seed: int, init: float,
                                               hprev: str) -> None:
    _property(tmp_path, hidden, seq, vocab, seed, init, hprev)


@pytest.mark.slow
@settings(max_examples=60, **PROFILE)
@given(**SIZES)
def test_property_no_false_pass_no_false_alarm_many(tmp_path: Path, hidden: int, seq: int,
                                                    vocab: int, seed: int, init: float,
                                                    hprev: str) -> None:
    _property(tmp_path, hidden, seq, vocab, seed, init, hprev)


def test_the_scale_hint_declares_the_loss_it_names(tmp_path: Path) -> None:
    """A consistent function with a scaled loss: the hinted --impl-loss value accepts it."""
    edit = ("    # AFTER\n", "    total = total * 0.37\n    for g in grads:\n        g *= 0.37\n")
    target = user_file(tmp_path, edit)
    relation = check(target).impl.relation
    assert relation.kind == "scale" and relation.hint is not None
    assert check(target, loss=parse_loss(relation.hint)).exit_code == 0


# -- false alarms on chaotic networks (finite differences of the user's own loss) --------------

CHAOTIC = Spec(hidden=20, seq=30, vocab=8, seed=0, init_scale=1.0)


def test_correct_code_on_a_chaotic_network_passes_with_the_reason(tmp_path: Path) -> None:
    """Richardson differences of the user's loss break down here (gradients near 1e10); the
    same differences of the model's loss break down identically, so that is no finding."""
    report = check(user_file(tmp_path), CHAOTIC)
    assert report.exit_code == 0, report.verdict()
    assert any("limits of finite differences" in n for n in report.impl.notes)


def test_a_real_bug_on_a_chaotic_network_still_fails(tmp_path: Path) -> None:
    """Certification needs the gradient to match the exact engines first: a dropped carry is
    still a failure there, with no finite-difference limit claimed."""
    report = check(user_file(tmp_path, ("carry = W.T @ da", "carry = 0 * da")), CHAOTIC)
    assert report.exit_code == 1
    assert not any("limits of finite differences" in n for n in report.impl.notes)


def test_findings_are_structured_with_their_kind(tmp_path: Path) -> None:
    """Findings carry a kind set where they are found; nothing parses "kind: text" back."""
    from bpttcheck.findings import Finding

    hlast = ("return total, dU, dW, dV, db, dc, h[len(inputs) - 1]  # RETURN",
             "return total, dU, dW, dV, db, dc, 2 * h[len(inputs) - 1]  # RETURN")
    report = check(user_file(tmp_path, MEAN_LOSS, hlast))
    kinds = {f.kind for f in report.impl.findings}
    assert all(isinstance(f, Finding) for f in report.impl.findings)
    assert {"loss", "hlast"} <= kinds, report.impl.findings
    assert all(str(f) == f"{f.kind}: {f.text}" for f in report.impl.findings)


# -- a float32 loss with float64 gradients: the gradients are judged as float64 ---------------

TRUNCATED_F32_LOSS = '''import numpy as np


def lossFun(inputs, targets, hprev):
    xs, hs, ps, loss = {}, {-1: np.copy(hprev)}, {}, 0.0
    for t in range(len(inputs)):
        xs[t] = np.zeros((Wxh.shape[1], 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
        y = Why @ hs[t] + by
        ps[t] = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += dy @ hs[t].T
        dby += dy
        dh = Why.T @ dy
        for k in range(t, max(-1, t - WINDOW), -1):  # BPTT truncated to WINDOW steps
            dhraw = (1 - hs[k] * hs[k]) * dh
            dbh += dhraw
            dWxh += dhraw @ xs[k].T
            dWhh += dhraw @ hs[k - 1].T
            dh = Whh.T @ dhraw
    return np.float32(loss), dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]
'''


@pytest.mark.parametrize(("window", "exit_code"), [(5, 1), (100, 0)])
def test_a_float32_loss_does_not_loosen_float64_gradients(tmp_path: Path, window: int,
                                                          exit_code: int) -> None:
    """Truncation to 5 of 6 steps changes the gradient by about 1e-6 of its scale: inside
    float32 error bars, far outside float64's. The gradients here are float64 arrays."""
    path = tmp_path / "user.py"
    path.write_text(TRUNCATED_F32_LOSS.replace("WINDOW", str(window)), encoding="utf-8")
    spec = Spec(hidden=8, seq=6, vocab=5, seed=0)
    report = check(f"{path}:lossFun", spec)
    assert report.exit_code == exit_code, report.verdict()
    assert report.impl.precision == "float64"
    assert any("resolves only relative changes" in n for n in report.impl.notes)


# -- the headline and the cause say which part is wrong, wherever it is seen -------------------

def test_a_wrong_loss_with_the_right_gradient_is_blamed_on_the_loss(tmp_path: Path) -> None:
    report = check(user_file(tmp_path, MEAN_LOSS))
    assert report.exit_code == 1
    head = report.headline()
    assert "is wrong: loss:" in head and "mean" in head, head
    assert not report.impl.causes  # the gradient is right: no cause for it


def test_a_bug_seen_only_at_the_second_point_is_named_and_diagnosed(tmp_path: Path) -> None:
    """dhnext started from hprev instead of zeros: invisible while hprev is zero (the spec's
    point), wrong at the second point (random hprev)."""
    spec = Spec(hidden=6, seq=5, vocab=4, seed=2, init_scale=0.5)  # hprev zeros here
    report = check(user_file(tmp_path, ("    carry = np.zeros_like(h[-1])\n",
                                        "    carry = np.copy(h[-1])\n")), spec)
    assert report.exit_code == 1
    assert report.impl.points[0].gradient_ok and not report.impl.points[1].gradient_ok
    assert "is wrong in" in report.headline() and report.impl.causes, report.headline()


def test_no_cause_is_named_for_a_function_whose_calls_differ(tmp_path: Path) -> None:
    """Gradients accumulated in module state across calls: nondeterminism is the finding."""
    edits = (("FLOAT = np.float64\n", "FLOAT = np.float64\nSTATE = []\n"),
             ("    # AFTER\n", "    STATE.append(1)\n    for g in grads:\n"
                             "        g *= len(STATE)\n"))
    report = check(user_file(tmp_path, *edits))
    assert report.exit_code == 1
    assert any(f.kind == "nondeterminism" for f in report.impl.findings)
    assert not report.impl.causes


def test_float32_user_pairs_do_not_make_the_builtin_summary_approximate(tmp_path: Path) -> None:
    report = check(user_file(tmp_path, ("FLOAT = np.float64", "FLOAT = np.float32")),
                   engines=("tutorial", "reference", "numeric"))
    assert report.exit_code == 0
    summary = [line for line in report.verdict() if line.startswith("The built-in engines")]
    assert summary and "approximately" not in summary[0], summary


def test_gradients_returned_swapped_are_named_with_the_order_that_accepts_them(
        tmp_path: Path) -> None:
    """dbh and dby have one shape when hidden equals vocab: returned in each other's place
    they raise no shape error; the cause says so and names the --impl-order to give."""
    spec = Spec(hidden=5, seq=6, vocab=5, seed=3, init_scale=0.5, hprev="random")
    swapped = ("return total, dU, dW, dV, db, dc, h[len(inputs) - 1]  # RETURN",
               "return total, dU, dW, dV, dc, db, h[len(inputs) - 1]  # RETURN")
    report = check(user_file(tmp_path, swapped), spec)
    assert report.exit_code == 1
    cause = report.impl.causes[0]
    assert cause.kind == "order" and set(cause.params) == {"bh", "by"}
    assert "--impl-order dWxh,dWhh,dWhy,dby,dbh" in cause.message


def test_permuted_gradients_get_the_whole_order_and_it_converges(tmp_path: Path) -> None:
    """Two swaps at once (dWxh/dWhy and dbh/dby, hidden = vocab): the order suggested reads
    them all right; given a partly right order, the suggestion builds on it (pasting the
    hint is never a loop)."""
    from bpttcheck.impl import ImplOptions, parse_order

    spec = Spec(hidden=4, seq=6, vocab=4, seed=3, init_scale=0.5, hprev="random")
    permuted = ("return total, dU, dW, dV, db, dc, h[len(inputs) - 1]  # RETURN",
                "return total, dV, dW, dU, dc, db, h[len(inputs) - 1]  # RETURN")
    target = user_file(tmp_path, permuted)
    answer = "dWhy,dWhh,dWxh,dby,dbh"
    for stated in (None, "dWhy,dWhh,dWxh,dbh,dby"):
        options = ImplOptions(order=parse_order(stated, {}))
        report = checker.run(spec, ("reference",), impl=ImplRequest(target, options))
        assert report.exit_code == 1
        assert report.impl.causes[0].kind == "order"
        assert report.impl.causes[0].message.endswith(f"--impl-order {answer}")
    options = ImplOptions(order=parse_order(answer, {}))
    assert checker.run(spec, ("reference",), impl=ImplRequest(target, options)).exit_code == 0
    # The fix is the flag: no edit of right code is searched (a "partial fix" would break it).
    report = checker.run(spec, ("reference",), impl=ImplRequest(target, fix=True))
    assert report.impl.fix is None
    assert "--impl-order" in (report.impl.fix_reason or "")


@pytest.mark.parametrize(("scaled", "kind"), [((), "equal"), ((MEAN_GRADS,), "mean-T")])
def test_own_loss_that_is_the_models_is_judged_on_every_element(
        tmp_path: Path, scaled: tuple[tuple[str, str], ...], kind: str) -> None:
    """--impl-loss own differentiates a sample; once its loss is measured to be the
    model's (or its mean), every element is judged against that loss's gradient, so one
    wrong element outside the sample cannot pass."""
    from bpttcheck.impl import ImplOptions

    spec = Spec(hidden=10, seq=5, vocab=4, seed=2, init_scale=0.5, hprev="random")
    options = ImplOptions(sample=3)  # 3 of Whh's 100 elements differentiated
    bug = ("    return total, dU, dW", "    dW[7, 3] *= 2.0\n    return total, dU, dW")
    for edits, exit_code in ((scaled, 0), ((*scaled, bug), 1)):
        target = user_file(tmp_path, *edits)
        report = checker.run(spec, ("reference",), impl=ImplRequest(
            target, options, loss=parse_loss("own")))
        assert report.exit_code == exit_code, text_of(report)
        assert report.impl.relation.kind == kind
    assert "Whh" in report.headline() and "every element" in report.impl.checked


def test_own_loss_of_another_model_says_its_elements_were_sampled(tmp_path: Path) -> None:
    """An own loss unrelated to the model's is only known where it is differentiated: the
    headline says how many elements that was, never "all"."""
    from bpttcheck.impl import ImplOptions

    spec = Spec(hidden=10, seq=5, vocab=4, seed=2, init_scale=0.5, hprev="random")
    reg = ("    # AFTER\n", "    total = total + 0.5 * float((W * W).sum())\n"
                            "    dW += W\n")
    report = checker.run(spec, ("reference",), impl=ImplRequest(
        user_file(tmp_path, reg), ImplOptions(sample=3), loss=parse_loss("own")))
    assert report.exit_code == 0, text_of(report)
    assert "elements sampled: --impl-sample 0 checks all" in report.headline()
    assert "which is not this RNN's loss" in report.headline()


def test_forward_bug_invisible_at_zero_biases_is_not_blamed_on_one_gradient(
        tmp_path: Path) -> None:
    """The forward drops by (and dby is 0, its own loss's gradient): at the spec's point
    (biases zero) only dby differs, at the second point everything does. The cause is the
    loss, not "dby is zero; the rest is right"."""
    report = check(user_file(tmp_path, ("y = V @ h[t] + c  # LOGITS", "y = V @ h[t]  # LOGITS"),
                             ("dc += dy", "dc += 0 * dy")))
    assert report.exit_code == 1
    assert report.impl.relation.kind == "without"
    assert not any("right" in c.message for c in report.impl.causes)
    assert "without by" in report.headline(), report.headline()
