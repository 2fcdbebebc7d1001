"""Gated cells (--cell lstm / gru): three engines that agree, and everything downstream."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import Result
from hypothesis import example, given, settings
from hypothesis import strategies as st

import bpttcheck
from bpttcheck import cells, checker
from bpttcheck.cells import numeric, splitcomplex
from bpttcheck.engines.base import Gradients, Options
from bpttcheck.model import Batch, Params, build
from bpttcheck.probes import ElementProbes, ScalarLoss
from bpttcheck.spec import CELL_PARAM_NAMES, Spec, resolve

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
TINY = {"hidden": 5, "seq": 6, "vocab": 4, "seed": 2, "init_scale": 0.5, "hprev": "random"}


def _random_biases(problem_params: Params, names: tuple[str, ...], seed: int) -> dict[str,
                                                                                      np.ndarray]:
    """Non-zero biases, so that every term of every gate is exercised."""
    rng = np.random.default_rng(seed)
    out = dict(problem_params)
    for n in names:
        out[n] = rng.standard_normal(out[n].shape) * 0.5
    return out


@settings(max_examples=12, deadline=None)
@given(
    cell=st.sampled_from(["lstm", "gru"]),
    hidden=st.integers(1, 12),
    seq=st.integers(1, 12),
    vocab=st.integers(2, 10),
    seed=st.integers(0, 2**32 - 1),
    hprev=st.sampled_from(["zeros", "random"]),
    init_scale=st.sampled_from([0.01, 0.5, 2.0]),
)
@example(cell="lstm", hidden=1, seq=1, vocab=2, seed=0, hprev="zeros", init_scale=0.01)
@example(cell="gru", hidden=12, seq=12, vocab=10, seed=1, hprev="random", init_scale=2.0)
def test_three_engines_agree(cell: str, hidden: int, seq: int, vocab: int, seed: int,
                             hprev: str, init_scale: float) -> None:
    spec = resolve(overrides={"cell": cell, "hidden": hidden, "seq": seq, "vocab": vocab,
                              "seed": seed, "hprev": hprev, "init_scale": init_scale})
    report = checker.run(spec)
    assert list(report.problem.params) == list(CELL_PARAM_NAMES[cell])
    failed = [c for c in report.comparisons if not c.passed]
    assert not failed, [(c.parameter, c.pair, c.max_rel_error) for c in failed]
    for c in report.comparisons:
        assert c.compared == report.problem.params[c.parameter].size
        if (c.a, c.b) == ("tutorial", "reference"):
            assert c.max_rel_error <= 1e-10
        else:
            assert c.norm_rel_error <= 1e-6


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_engines_agree_with_nonzero_biases_and_report_dhprev(cell: str) -> None:
    problem = build(resolve(overrides={"cell": cell, **TINY}))
    c = cells.get(cell)
    params = _random_biases(problem.params, c.model.BIASES, 5)
    tut = c.tutorial(params, problem.batch, Options())
    ref = c.reference(params, problem.batch, Options())
    num = c.engines["numeric"](params, problem.batch, Options())
    for name in params:
        scale = np.abs(ref.grads[name]).max()
        assert np.abs(tut.grads[name] - ref.grads[name]).max() <= 1e-12 * scale, name
        assert np.abs(num.grads[name] - ref.grads[name]).max() <= 1e-12 * scale, name
    assert tut.dhprev is not None and ref.dhprev is not None
    assert np.allclose(tut.dhprev, ref.dhprev, rtol=1e-10, atol=1e-14)
    assert abs(tut.loss - ref.loss) <= 1e-12 * abs(ref.loss)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_dhprev_matches_the_complex_step_on_hprev(cell: str) -> None:
    problem = build(resolve(overrides={"cell": cell, **TINY}))
    c = cells.get(cell)
    tut = c.tutorial(problem.params, problem.batch, Options())
    assert tut.dhprev is not None
    params = {n: p.astype(np.complex128) for n, p in problem.params.items()}
    for j in range(problem.hidden):
        hprev = problem.batch.hprev.astype(np.complex128)
        hprev[j, 0] += 1e-20j
        moved = Batch(problem.batch.inputs, problem.batch.targets, hprev, problem.batch.cprev)
        value = c.complex_loss(params, moved).imag / 1e-20  # type: ignore[arg-type]
        assert value == pytest.approx(tut.dhprev[j, 0], rel=1e-10, abs=1e-15)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("step", [1e-20j, 1e-3 + 2e-3j, 1e-4])
def test_batched_forward_equals_one_point_at_a_time(cell: str, step: complex) -> None:
    """The split-complex batched forward against NumPy complex128, point by point."""
    problem = build(resolve(overrides={"cell": cell, **TINY}))
    c = cells.get(cell)
    params = _random_biases(problem.params, c.model.BIASES, 9)
    batched = numeric.CellLoss(c, params, problem.batch)
    is_complex = isinstance(step, complex)

    def one(p: dict[str, np.ndarray]) -> complex | float:
        value = c.complex_loss(p, problem.batch)
        return value if is_complex else value.real

    slow = ScalarLoss(one, params, accepts_complex=True)
    for name, p in params.items():
        idx = np.arange(p.size)
        steps = np.full(p.size, step, dtype=np.complex128 if isinstance(step, complex)
                        else np.float64)
        probes = ElementProbes(name, idx, steps)
        a, b = batched.elements(probes), slow.elements(probes)
        assert np.allclose(a.real, b.real, rtol=1e-13, atol=0), name
        if isinstance(step, complex):
            assert np.allclose(a.imag, b.imag, rtol=1e-9, atol=1e-13 * abs(step)), name


def _complex_sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-z) for Re z >= 0, e^z / (1 + e^z) otherwise: NumPy's complex exp."""
    e = np.exp(-np.abs(z.real) + 1j * np.where(z.real >= 0, -z.imag, z.imag))
    out: np.ndarray = np.where(z.real >= 0, 1 / (1 + e), e / (1 + e))
    return out


def test_split_complex_functions_match_numpy() -> None:
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.standard_normal(200) * 3, [0.0, -0.0, 40.0, -40.0, 400.0, -800.0]])
    for b in (rng.standard_normal(a.size) * 1e-20, rng.standard_normal(a.size) * 0.3):
        z = a + 1j * b
        for ours, theirs in ((splitcomplex.tanh, np.tanh),
                             (splitcomplex.sigmoid, _complex_sigmoid)):
            re, im = ours((a, b))
            want = theirs(z)
            assert np.allclose(re, want.real, rtol=1e-14, atol=1e-300)
            assert np.allclose(im, want.imag, rtol=1e-12, atol=1e-300)
        re, im = splitcomplex.cross_entropy(a[None, :8], b[None, :8], 3)
        y = z[:8]
        want = np.log(np.exp(y - y.real.max()).sum()) + y.real.max() - y[3]
        assert re[0] == pytest.approx(want.real, rel=1e-14)
        assert im[0] == pytest.approx(want.imag, rel=1e-10, abs=1e-300)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_wrong_tutorial_is_named_with_its_element(cell: str) -> None:
    spec = resolve(overrides={"cell": cell, **TINY})
    c = cells.get(cell)
    wrong_param = c.params[1]

    def broken(params: Params, batch: Batch, options: Options) -> Gradients:
        g = c.tutorial(params, batch, options)
        grads = {n: v.copy() for n, v in g.grads.items()}
        grads[wrong_param][2, 3] *= 1.001
        return Gradients("tutorial", g.loss, grads, steps=g.steps)

    registry = {**c.engines, "tutorial": broken}
    report = checker.run(spec, registry=registry)
    assert not report.passed and int(report.exit_code) == 1
    assert report.odd_one_out(wrong_param) == "tutorial"
    bad = [x for x in report.comparisons if not x.passed]
    assert {x.parameter for x in bad} == {wrong_param}
    assert all(x.worst is not None and x.worst.index == (2, 3) for x in bad)
    assert any(wrong_param in line and "[2, 3]" in line for line in report.verdict())


def test_vanilla_is_the_default_cell() -> None:
    assert Spec().cell == "vanilla" and resolve().cell == "vanilla"
    assert list(build(resolve(overrides={"hidden": 3, "seq": 2, "vocab": 3})).params) == [
        "Wxh", "Whh", "Why", "bh", "by"]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_shipped_config(cell: str) -> None:
    spec = resolve(CONFIGS / f"{cell}.toml")
    assert spec.cell == cell and spec.hidden == 100 and spec.seq == 25


def test_build_initialises_gated_weights_and_states() -> None:
    lstm = build(resolve(overrides={"cell": "lstm", "hidden": 4, "seq": 3, "vocab": 5}))
    assert lstm.batch.cprev is not None and not lstm.batch.cprev.any()
    assert all(not lstm.params[b].any() for b in ("bf", "bi", "bc", "bo", "by"))
    assert lstm.params["Wf"].shape == (4, 9) and lstm.params["Why"].shape == (5, 4)
    assert 0 < np.abs(lstm.params["Wf"]).max() < 0.1  # 0.01 * randn
    rand = build(resolve(overrides={"cell": "lstm", "hidden": 4, "seq": 3, "vocab": 5,
                                    "hprev": "random"}))
    assert rand.batch.cprev is not None and rand.batch.cprev.any() and rand.batch.hprev.any()
    gru = build(resolve(overrides={"cell": "gru", "hidden": 4, "seq": 3, "vocab": 5}))
    assert gru.batch.cprev is None and gru.n_params == cells.get("gru").n_params(4, 5)


def test_python_api() -> None:
    report = bpttcheck.check(cell="gru", hidden=4, seq=4, vocab=3)
    assert report.passed and list(report.problem.params) == list(CELL_PARAM_NAMES["gru"])


def _cli(run_cli: Callable[..., Result], *args: str) -> Result:
    return run_cli("compare", "--cell", "lstm", "--hidden", "4", "--seq", "4", "--vocab", "3",
                   *args)


def test_cli_json_junit_save(run_cli: Callable[..., Result], tmp_path: Path) -> None:
    junit, save = tmp_path / "r.xml", tmp_path / "r.npz"
    result = _cli(run_cli, "--json", "--junit", str(junit), "--save", str(save))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["spec"]["cell"] == "lstm"
    assert {c["parameter"] for c in doc["comparisons"]} == set(CELL_PARAM_NAMES["lstm"])
    assert "Wf tutorial↔reference" in junit.read_text()
    with np.load(save) as z:
        keys = set(z.files)
    assert {"Wf", "bo", "hprev", "cprev", "inputs", "targets", "loss", "tutorial.dWf",
            "reference.dbo", "numeric.dWhy"} <= keys


def test_cli_sample_and_directions(run_cli: Callable[..., Result]) -> None:
    sampled = _cli(run_cli, "--sample", "3", "--json")
    assert sampled.exit_code == 0, sampled.output
    doc = json.loads(sampled.stdout)
    assert all(len(v) == 3 for v in doc["sampled"].values())
    screened = _cli(run_cli, "--directions", "2", "--json")
    assert screened.exit_code == 0, screened.output
    doc = json.loads(screened.stdout)
    assert doc["directions"]["drilled_down"] == []
    assert len(doc["directions"]["projections"]) == 2 * len(CELL_PARAM_NAMES["lstm"])


@pytest.mark.parametrize(("args", "words"), [
    (("--method", "central"), "--method central"),
    (("--impl", "x.py:f"), "--impl"),
    (("--time-budget", "1e-9"), "--time-budget"),
    (("--cell", "rnn"), "--cell"),
])
def test_cli_refusals_are_one_line(run_cli: Callable[..., Result], args: tuple[str, ...],
                                   words: str) -> None:
    result = _cli(run_cli, *args)
    assert result.exit_code == 2
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_memory_estimate_refuses_a_huge_cell() -> None:
    from bpttcheck.errors import SpecError

    with pytest.raises(SpecError, match="--cell lstm"):
        cells.check_memory(cells.get("lstm"), 100_000, 65, 25, limit=2**30)
    with pytest.raises(SpecError, match="reference engine"):
        cells.check_reference_time(cells.get("gru"), 100, 100_000)


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_tutorial_size_full_check(cell: str) -> None:
    report = checker.run(resolve(overrides={"cell": cell}))
    assert report.passed
    assert report.worst("tutorial", "reference") <= 1e-10
    assert report.worst_norm("tutorial", "numeric") <= 1e-6
    assert report.worst_norm("reference", "numeric") <= 1e-6


# ---------------------------------------------------------------------------------------------
# explain --cell lstm|gru


@pytest.mark.parametrize(("cell", "param"), [("lstm", "Wf"), ("lstm", "Wo"), ("lstm", "bi"),
                                             ("lstm", "Why"), ("gru", "Wn"), ("gru", "br")])
def test_explain_map_rows_and_columns_reproduce_the_gradient(cell: str, param: str) -> None:
    from bpttcheck.cells.explain import explain

    ex = explain(resolve(overrides={"cell": cell, **TINY}), param)
    assert ex.passed
    ref = cells.get(cell).reference(ex.problem.params, ex.problem.batch, Options())
    T = ex.seq
    assert np.allclose(ex.row_sums.sum(axis=0), ref.grads[param], rtol=1e-10, atol=1e-15)
    assert np.allclose(ex.column_sums.sum(axis=0), ref.grads[param], rtol=1e-10, atol=1e-15)
    assert not np.triu(ex.contribution_norms, 1).any()  # only k <= t
    if param == "Why":
        assert not (ex.contribution_norms - np.diag(np.diag(ex.contribution_norms))).any()
    else:
        assert np.tril(ex.contribution_norms, -1)[1:].any()  # terms reach back
    if ex.paths is not None:  # through c plus through h is the whole term
        total = ex.paths.total_c + ex.paths.total_h
        assert np.allclose(total, ref.grads[param], rtol=1e-10, atol=1e-15)
        assert not np.diag(ex.paths.via_c).any()  # at k = t nothing has come through c_t yet
        if param == "Wo":
            assert not ex.paths.via_c.any()  # the output gate does not act on c
    assert ex.reach.cell_profile[0] == 1.0 and len(ex.reach.vanilla_profile) == T


def test_explain_lstm_reaches_further_back_than_vanilla() -> None:
    from bpttcheck.cells.explain import explain

    ex = explain(resolve(overrides={"cell": "lstm", "hidden": 20, "seq": 30}))
    assert ex.parameter == "Wf"
    assert ex.reach.cell_reach > ex.reach.vanilla_reach
    profile = ex.reach.cell_profile
    assert profile[ex.reach.cell_reach] >= 0.01 > profile[ex.reach.cell_reach + 1]


def test_explain_cli_for_gated_cells(run_cli: Callable[..., Result], tmp_path: Path) -> None:
    flags = ["--cell", "lstm", "--hidden", "4", "--seq", "5", "--vocab", "3"]
    shown = run_cli("explain", *flags, "--param", "Wc")
    assert shown.exit_code == 0, shown.output
    assert "through c" in shown.stdout and "vanilla cell" in shown.stdout
    out = tmp_path / "e.npz"
    doc = run_cli("explain", *flags, "--json", "--save", str(out))
    assert doc.exit_code == 0
    data = json.loads(doc.stdout)
    assert data["cell"] == "lstm" and data["parameter"] == "Wf" and data["passed"]
    assert {"lstm_reach", "vanilla_reach"} <= set(data["reach"])
    with np.load(out) as z:
        assert {"explain.via_c", "reference.dWf", "cprev"} <= set(z.files)
    wrong = run_cli("explain", "--cell", "gru", "--param", "Wf")
    assert wrong.exit_code == 2 and "--param" in wrong.stderr
    gru = run_cli("explain", "--cell", "gru", "--hidden", "3", "--seq", "4", "--vocab", "3")
    assert gru.exit_code == 0 and "through c" not in gru.stdout
    truncated = run_cli("explain", *flags, "--truncate", "2")
    assert truncated.exit_code == 2 and "--truncate" in truncated.stderr


def test_tiny_angle_shortcuts_give_the_full_formulas_bit_for_bit() -> None:
    rng = np.random.default_rng(4)
    a = np.concatenate([rng.standard_normal(3000) * 6, [0.0, -0.0, 30.0, -30.0, 700.0, -700.0]])
    for scale in (1e-20, 1e-12, 5e-9):
        b = rng.standard_normal(a.size) * scale
        b = np.clip(b, -0.9 * splitcomplex.TINY_ANGLE, 0.9 * splitcomplex.TINY_ANGLE)
        for f in (splitcomplex.sigmoid, splitcomplex.tanh):
            fast, full = f((a, b)), f((a, b), exact=True)
            assert np.array_equal(fast[0], full[0]) and np.array_equal(fast[1], full[1])


def test_directions_drill_down_into_a_wrong_gated_parameter() -> None:
    spec = resolve(overrides={"cell": "gru", **TINY})
    c = cells.get("gru")

    def broken(params: Params, batch: Batch, options: Options) -> Gradients:
        g = c.tutorial(params, batch, options)
        grads = {n: v.copy() for n, v in g.grads.items()}
        grads["Wr"] *= 1.01  # every element of the reset gate's weights is 1% off
        return Gradients("tutorial", g.loss, grads, steps=g.steps)

    report = checker.run(spec, engines=("tutorial", "numeric"), directions=3,
                         registry={**c.engines, "tutorial": broken})
    assert report.directions is not None and report.directions.drilled == ("Wr",)
    bad = [x for x in report.comparisons if not x.passed]
    assert {x.parameter for x in bad} == {"Wr"} and bad[0].compared == spec_size(spec, "Wr")


def spec_size(spec: Spec, name: str) -> int:
    return int(build(spec).params[name].size)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_along_directions_batched_equals_one_direction_at_a_time(cell: str) -> None:
    from bpttcheck.probes import DirectionProbes

    problem = build(resolve(overrides={"cell": cell, **TINY}))
    c = cells.get(cell)
    assert c.params == CELL_PARAM_NAMES[cell]
    loss = numeric.CellLoss(c, problem.params, problem.batch)
    rng = np.random.default_rng(7)
    K = numeric.ALONG_CHUNK + 3  # more than one chunk
    dirs = {n: rng.standard_normal((K, *p.shape)) for n, p in problem.params.items()}
    steps = (1e-20j + rng.standard_normal(K) * 1e-3).astype(np.complex128)
    together = loss.along(DirectionProbes(dirs, steps))
    for k in range(K):
        point = {n: p + steps[k] * dirs[n][k] for n, p in problem.params.items()}
        assert together[k] == pytest.approx(c.complex_loss(point, problem.batch), rel=1e-13)
    real = loss.along(DirectionProbes(dirs, steps.real.copy()))
    assert real.dtype == np.float64 and np.allclose(real, together.real, rtol=1e-13)


@pytest.mark.parametrize(("cell", "seq"), [
    ("gru", 40), pytest.param("lstm", 60, marks=pytest.mark.slow)])
def test_exploding_gradients_are_no_false_alarm(cell: str, seq: int) -> None:
    """Weights at scale 1.5 make gradients explode (up to 1e10 at seq 60): rounding in the
    forward pass is amplified so much that two correct computations differ beyond 1e-6. The
    numeric engine measures that and says so instead of failing the analytic engines."""
    spec = resolve(overrides={"cell": cell, "hidden": 30, "seq": seq, "init_scale": 1.5,
                              "hprev": "random"})
    report = checker.run(spec)
    assert report.passed
    assert report.worst("tutorial", "reference") <= 1e-10
    assert any("rounding in the forward pass" in n for n in report.notes())
    assert any(c.precision_limited for c in report.comparisons)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_bias_scale_draws_every_gated_bias_and_the_check_passes(cell: str) -> None:
    plain = build(resolve(overrides={"cell": cell, **TINY}))
    biased = build(resolve(overrides={"cell": cell, **TINY, "bias_scale": 0.4}))
    for name in CELL_PARAM_NAMES[cell]:
        if name.startswith("b"):
            assert not plain.params[name].any() and biased.params[name].any(), name
        else:
            assert np.array_equal(plain.params[name], biased.params[name]), name
    assert checker.run(resolve(overrides={"cell": cell, **TINY, "bias_scale": 0.4})).passed


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_explain_ends_with_the_answer(run_cli: Any, cell: str) -> None:
    """Like every command: details first, then one ✓/✗ line, the last line of stdout."""
    result = run_cli("explain", "--cell", cell, "--hidden", "4", "--seq", "4", "--vocab", "5")
    assert result.exit_code == 0, result.output
    last = result.stdout.rstrip("\n").splitlines()[-1]
    assert last.startswith("✓ the row sums (lecture) and the column sums (tutorial)"), last
