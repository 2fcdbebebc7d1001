"""Batches (--batch B): (T, B) inputs and targets, hprev (H, B), the loss summed over the batch."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from click.testing import Result
from hypothesis import given, settings
from hypothesis import strategies as st

from bpttcheck import checker
from bpttcheck.engines import ENGINES, Options, batched, numeric, reference, tutorial
from bpttcheck.errors import SelfCheckError
from bpttcheck.impl import ImplOptions, ImplRequest
from bpttcheck.impl.check import parse_loss
from bpttcheck.model import Batch, batch_of, build, forward, forward_batch
from bpttcheck.selftest import SPEC
from bpttcheck.spec import Spec, resolve

CORPUS = Path(__file__).parent.parent / "bpttcheck" / "selftest" / "corpus"
SCHEMA = Path(__file__).parent.parent / "bpttcheck" / "schema" / "report-1.schema.json"
SIZES = ("--hidden", "6", "--vocab", "4", "--seq", "5", "--hprev", "random", "--init-scale", "0.5")
BATCHED = dataclasses.replace(SPEC, batch=3)


def spec(**kw: object) -> Spec:
    return resolve(overrides={"hidden": 5, "seq": 4, "vocab": 3, "seed": 2, "init_scale": 0.7,
                              "hprev": "random", **kw})


def test_build_gives_t_by_b_tokens_and_h_by_b_hprev() -> None:
    p = build(spec(batch=3))
    X, Y = p.batch.given()
    assert X.shape == Y.shape == (4, 3) and X.dtype.kind == "i"
    assert p.batch.hprev.shape == (5, 3) and p.batch.width == 3
    cols = p.batch.columns()
    assert [c.inputs for c in cols] == [tuple(int(x) for x in X[:, b]) for b in range(3)]
    again = batch_of(cols)
    assert again.inputs == p.batch.inputs and again.targets == p.batch.targets
    assert np.array_equal(again.hprev, p.batch.hprev)
    # the columns differ (each is its own sequence) and targets follow inputs by one step
    assert len({c.inputs for c in cols}) > 1
    assert all(c.targets[:-1] == c.inputs[1:] for c in cols)


def test_without_batch_functions_get_todays_lists() -> None:
    p = build(spec())
    inputs, targets = p.batch.given()
    assert isinstance(inputs, list) and all(isinstance(i, int) for i in inputs)
    assert p.batch.width is None and p.batch.hprev.shape == (5, 1)


def test_text_batch_takes_consecutive_windows() -> None:
    p = build(resolve(overrides={"hidden": 3, "seq": 7, "batch": 2}))
    a, b = p.batch.columns()
    assert a.targets[-1] == b.inputs[0]  # column 1 starts where column 0's targets end


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(0, 1000))
def test_batched_forward_is_the_sum_of_the_columns(width: int, seq: int, seed: int) -> None:
    """forward_batch (all columns at once) against forward on each column alone."""
    p = build(spec(batch=width, seq=seq, seed=seed))
    fw = forward_batch(p.params, p.batch)
    cols = [forward(p.params, c) for c in p.batch.columns()]
    assert np.isclose(fw.loss, sum(c.loss for c in cols), rtol=1e-13)
    assert np.allclose(fw.losses, np.sum([c.losses for c in cols], axis=0), rtol=1e-13)
    assert np.allclose(fw.hlast, np.hstack([c.hlast for c in cols]), rtol=0, atol=1e-15)


@pytest.mark.parametrize("engine", ["tutorial", "reference"])
def test_analytic_engines_give_the_gradient_of_the_summed_loss(engine: str) -> None:
    """Against central differences of forward_batch's summed loss, an oracle written apart."""
    p = build(spec(batch=3))
    g = ENGINES[engine](p.params, p.batch, Options())
    assert g.dhprev is not None and g.dhprev.shape == (5, 3)
    h = 1e-6
    rng = np.random.default_rng(0)
    for name, w in p.params.items():
        for i in rng.choice(w.size, size=min(4, w.size), replace=False):
            up = {k: v.copy() for k, v in p.params.items()}
            down = {k: v.copy() for k, v in p.params.items()}
            up[name].reshape(-1)[i] += h
            down[name].reshape(-1)[i] -= h
            fd = (forward_batch(up, p.batch).loss - forward_batch(down, p.batch).loss) / (2 * h)
            assert abs(g.grads[name].reshape(-1)[i] - fd) <= 1e-7 * max(1.0, abs(fd)), name
    assert np.isclose(g.loss, forward_batch(p.params, p.batch).loss, rtol=1e-13)


def test_numeric_engine_sums_columns_and_their_error_bars() -> None:
    p = build(spec(batch=2))
    g = ENGINES["numeric"](p.params, p.batch, Options())
    parts = [numeric.gradients(p.params, c, Options()) for c in p.batch.columns()]
    for n in p.params:
        assert np.array_equal(g.grads[n], parts[0].grads[n] + parts[1].grads[n])
        assert g.noise is not None and parts[0].noise is not None and parts[1].noise is not None
        assert np.array_equal(g.noise[n], parts[0].noise[n] + parts[1].noise[n])
    ref = reference.gradients(p.params, p.batch, Options())
    assert all(np.allclose(g.grads[n], ref.grads[n], rtol=1e-9, atol=1e-12) for n in p.params)


def test_clipping_applies_to_the_summed_gradient() -> None:
    p = build(spec(batch=3, init_scale=2.0))
    free = tutorial.gradients(p.params, p.batch, Options())
    bound = 0.5 * max(float(np.abs(v).max()) for v in free.grads.values())
    clipped = tutorial.gradients(p.params, p.batch, Options(clip=bound))
    assert clipped.clipped is not None
    for n, v in free.grads.items():
        assert np.array_equal(clipped.grads[n], np.clip(v, -bound, bound))
        assert np.array_equal(clipped.clipped[n], np.abs(v) > bound)
    assert any(m.any() for m in clipped.clipped.values())


def test_witness_differentiates_the_summed_loss_and_catches_a_wrong_sum() -> None:
    p = build(spec(batch=3))
    results = {e: ENGINES[e](p.params, p.batch, Options()) for e in ENGINES}
    ok = batched.confirm(p, results, 1e-6, 1e-4, None)
    assert any("summed loss" in note for note in ok["numeric"].notes)
    # A numeric answer that summed only two of the three columns must not be vouched for:
    # the tutorial still agrees with the truth, so the literal step of the summed loss sees it.
    cols = p.batch.columns()
    two = batched.per_column(numeric.gradients, p.params, batch_of(cols[:2]), Options())
    bad = dict(results, numeric=dataclasses.replace(results["numeric"], grads=two.grads))
    with pytest.raises(SelfCheckError, match="summed loss"):
        batched.confirm(p, bad, 1e-6, 1e-4, None)


def test_time_plan_counts_every_column() -> None:
    p = build(spec(batch=4))
    one = numeric.plan(p.params, p.batch.columns()[0], Options())
    four = batched.plan_seconds(p.params, p.batch, Options())
    assert four.seconds == pytest.approx(4 * one.seconds)
    with pytest.raises(Exception, match="batch of 4"):
        batched.plan_seconds(p.params, p.batch, Options(time_budget=one.seconds * 2))


def test_compare_and_numeric_with_batch(run_cli: Callable[..., Result]) -> None:
    result = run_cli("compare", *SIZES, "--batch", "3")
    assert result.exit_code == 0, result.output
    assert "batch 3 (loss summed)" in result.stdout and "summed loss" in result.stdout
    result = run_cli("numeric", *SIZES, "--batch", "3", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["problem"]["batch"] == 3
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    plain = json.loads(run_cli("numeric", *SIZES, "--format", "json").stdout)
    assert plain["problem"]["batch"] is None


@pytest.mark.parametrize(("args", "flag"), [
    (("explain", "--batch", "2"), "--batch"),
    (("compare", "--batch", "2", "--directions", "2"), "--directions"),
    (("compare", "--batch", "2", "--cell", "lstm"), "--batch"),
])
def test_refused_with_one_line(run_cli: Callable[..., Result], args: tuple[str, ...],
                               flag: str) -> None:
    result = run_cli(*args[:1], *SIZES, *args[1:])
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0]


def _impl(name: str, loss: str | None = None, spec: Spec = BATCHED) -> checker.Report:
    request = ImplRequest(f"{CORPUS / name}.py:lossFun", ImplOptions(sample=10),
                          loss=parse_loss(loss))
    return checker.run(spec, ("reference",), impl=request)


def test_batched_loss_function_passes_and_its_hlast_is_compared() -> None:
    report = _impl("ok_batched")
    assert report.passed and report.impl is not None and report.impl.passed
    assert not any("no hidden state" in n for n in report.impl.notes)  # hlast (H, B) compared


def test_batched_mean_is_named_and_declared_with_mean_b() -> None:
    report = _impl("bug_batched_mean")
    assert not report.passed and report.impl is not None
    assert report.impl.relation is not None and report.impl.relation.kind == "mean-B"
    assert "--impl-loss mean=B" in str(report.impl.findings[0])
    declared = _impl("bug_batched_mean", "mean=B")
    assert declared.passed, declared.impl and declared.impl.failures
    assert _impl("ok_batched", "mean=B").passed is False  # a summed loss is not the mean


@pytest.mark.slow  # the selftest corpus test checks these causes' kinds in the default run
@pytest.mark.parametrize(("name", "kind", "words"), [
    ("bug_batched_early_sum", "batch-mixing", "each sequence alone"),
    ("bug_batched_no_dhnext", "no-dhnext", "for one sequence alone"),
])
def test_batched_bugs_get_a_cause(name: str, kind: str, words: str) -> None:
    report = _impl(name)
    assert report.exit_code == 1 and report.impl is not None
    assert report.impl.causes and report.impl.causes[0].kind == kind
    assert words in report.impl.causes[0].message


def test_batched_function_on_an_unbatched_spec_is_an_input_error() -> None:
    with pytest.raises(Exception, match="shape"):
        _impl("ok_batched", spec=SPEC)


def test_save_keeps_t_by_b_inputs(run_cli: Callable[..., Result], tmp_path: Path) -> None:
    out = tmp_path / "run.npz"
    result = run_cli("compare", *SIZES, "--batch", "2", "--save", str(out))
    assert result.exit_code == 0, result.output
    with np.load(out) as saved:
        assert saved["inputs"].shape == (5, 2) and saved["hprev"].shape == (6, 2)
        assert saved["tutorial.dhprev"].shape == (6, 2)


def test_a_batch_of_one_is_the_sequence_itself() -> None:
    one = build(spec(batch=1))
    plain = build(spec())
    col = one.batch.columns()[0]
    assert col.inputs == plain.batch.inputs and np.array_equal(col.hprev, plain.batch.hprev)
    a = reference.gradients(one.params, one.batch, Options())
    b = reference.gradients(plain.params, plain.batch, Options())
    assert all(np.array_equal(a.grads[n], b.grads[n]) for n in a.grads)
    assert isinstance(one.batch, Batch) and one.batch.width == 1


def test_a_wrong_batched_hlast_is_a_finding(tmp_path: Path) -> None:
    """hlast (H, B) is compared with the model's last states, column by column."""
    src = (CORPUS / "ok_batched.py").read_text().replace("hs[T - 1]\n", "hs[T - 1][:, ::-1]\n")
    path = tmp_path / "hlast.py"
    path.write_text(src)
    report = checker.run(BATCHED, ("reference",), impl=ImplRequest(
        f"{path}:lossFun", ImplOptions(sample=5)))
    assert report.exit_code == 1 and report.impl is not None
    assert any(f.kind == "hlast" for f in report.impl.findings), report.impl.findings
