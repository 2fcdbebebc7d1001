"""bpttcheck explain: the (t, k) map, its regroupings, reach, truncation, clipping, output.

The oracles here are written independently of bpttcheck's backward passes:
each (t, k) term is built from explicit Jacobian products
dh_t/dh_k = prod_j diag(1 - h_j^2) Whh, and the truncated gradient from a
WildML-style loop that walks back at most K steps from every loss step.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from bpttcheck.cli import cli
from bpttcheck.compare import norm_rel_error, rel_error
from bpttcheck.engines import Options, tutorial
from bpttcheck.errors import SpecError
from bpttcheck.explain import MAX_CELLS, Explanation, explain
from bpttcheck.model import PARAM_NAMES, build
from bpttcheck.render_explain import GLYPHS, PALETTE, render
from bpttcheck.spec import Spec, resolve

# Weights large enough that far-back terms still matter (no vanishing to 1e-20).
BRUTE = {"hidden": 4, "seq": 6, "vocab": 3, "seed": 5, "init_scale": 0.6, "hprev": "random"}
CLIPPY = {"hidden": 8, "seq": 30, "vocab": 5, "seed": 1, "init_scale": 0.8, "hprev": "random"}


def _forward(params: dict[str, np.ndarray], spec: Spec) -> tuple[list[np.ndarray], list[int],
                                                                 list[int], np.ndarray]:
    """The RNN forward pass, written out again: hs[-1] is hprev, dys[t] = dL_t/dy_t."""
    problem = build(spec)
    inputs, targets = list(problem.batch.inputs), list(problem.batch.targets)
    Wxh, Whh, Why = params["Wxh"], params["Whh"], params["Why"]
    h = problem.batch.hprev[:, 0]
    hs = []
    dys = []
    for t in range(len(inputs)):
        h = np.tanh(Wxh[:, inputs[t]] + Whh @ h + params["bh"][:, 0])
        hs.append(h)
        y = Why @ h + params["by"][:, 0]
        p = np.exp(y - y.max())
        p /= p.sum()
        p[targets[t]] -= 1.0
        dys.append(p)
    return [*hs, problem.batch.hprev[:, 0]], inputs, targets, np.array(dys)


def _brute_terms(spec: Spec) -> tuple[dict[str, dict[tuple[int, int], np.ndarray]],
                                      np.ndarray, np.ndarray]:
    """Every (t, k) term of every parameter's gradient, by explicit Jacobian products.

    Returns terms[name][(t, k)], ||dL_t/dh_k|| as a (T, T) array, and dL/dhprev.
    """
    params = build(spec).params
    hs, inputs, _, dys = _forward(params, spec)  # hs[-1] is hprev, so hs[k - 1] works for k = 0
    Whh, Why = params["Whh"], params["Why"]
    T, H = len(inputs), Whh.shape[0]
    terms: dict[str, dict[tuple[int, int], np.ndarray]] = {n: {} for n in PARAM_NAMES}
    dh_norms = np.zeros((T, T))
    dhprev = np.zeros(H)
    for t in range(T):
        terms["Why"][(t, t)] = np.outer(dys[t], hs[t])
        terms["by"][(t, t)] = dys[t][:, None]
        dLt_dht = Why.T @ dys[t]
        jac = np.eye(H)  # dh_t/dh_k, built up as k decreases
        for k in range(t, -1, -1):
            if k < t:
                jac = jac @ (np.diag(1 - hs[k + 1] ** 2) @ Whh)  # times dh_{k+1}/dh_k
            g = jac.T @ dLt_dht  # dL_t/dh_k
            dh_norms[t, k] = np.linalg.norm(g)
            local = (1 - hs[k] ** 2) * g  # through step k's tanh
            terms["Whh"][(t, k)] = np.outer(local, hs[k - 1])
            wxh = np.zeros_like(params["Wxh"])
            wxh[:, inputs[k]] = local
            terms["Wxh"][(t, k)] = wxh
            terms["bh"][(t, k)] = local[:, None]
        dhprev += (jac @ np.diag(1 - hs[0] ** 2) @ Whh).T @ dLt_dht
    return terms, dh_norms, dhprev


def _wildml_truncated(spec: Spec, window: int) -> dict[str, np.ndarray]:
    """Truncated BPTT as the WildML tutorial loops it: k = t, t-1, ... (window steps)."""
    params = build(spec).params
    hs, inputs, _, dys = _forward(params, spec)
    Whh, Why = params["Whh"], params["Why"]
    grads = {n: np.zeros_like(p) for n, p in params.items()}
    for t in range(len(inputs)):
        grads["Why"] += np.outer(dys[t], hs[t])
        grads["by"][:, 0] += dys[t]
        delta = (Why.T @ dys[t]) * (1 - hs[t] ** 2)
        for k in range(t, max(0, t - window + 1) - 1, -1):
            grads["Whh"] += np.outer(delta, hs[k - 1])
            grads["Wxh"][:, inputs[k]] += delta
            grads["bh"][:, 0] += delta
            delta = (Whh.T @ delta) * (1 - hs[k - 1] ** 2)
    return grads


@pytest.fixture(scope="module")
def default_explained() -> Explanation:
    return explain(resolve(), "Whh", truncate=5, with_reference=True)


def test_default_spec_row_and_column_sums_equal_the_gradient(default_explained: Explanation
                                                             ) -> None:
    ex = default_explained
    spec = ex.spec
    tut = tutorial.gradients(ex.problem.params, ex.problem.batch, Options(record_steps=True))
    grad = tut.grads["Whh"]
    for total in (ex.row_sums.sum(axis=0), ex.column_sums.sum(axis=0)):
        assert norm_rel_error(total, grad) <= 1e-12
        # Elementwise, small entries of dWhh are cancellations of terms ~1e4 times larger, and
        # the tutorial's own float64 sum differs from the exact one by ~7e-13 of the floor on
        # them (measured): allow ten times the 1e-12 there.
        assert rel_error(total, grad, spec.floor).max() <= 1e-11
    assert ex.rows_vs_gradient.norm_rel_error <= 1e-12
    assert ex.columns_vs_gradient.norm_rel_error <= 1e-12
    assert tut.steps is not None
    assert norm_rel_error(ex.column_sums, tut.steps["Whh"]) <= 1e-12  # dhraw regrouping
    assert ex.passed
    # The reference's dWhh is the same double sum in t-outer order.
    assert norm_rel_error(ex.row_sums.sum(axis=0),
                          ex.results["reference"].grads["Whh"]) <= 1e-12


@pytest.mark.parametrize("name", PARAM_NAMES)
def test_contribution_norms_and_sums_match_brute_force(name: str) -> None:
    spec = resolve(overrides=BRUTE)
    ex = explain(spec, name)
    terms, _, _ = _brute_terms(spec)
    T = spec.seq
    expected = np.zeros((T, T))
    rows = np.zeros_like(ex.row_sums)
    cols = np.zeros_like(ex.column_sums)
    for (t, k), term in terms[name].items():
        expected[t, k] = np.linalg.norm(term)
        rows[t] += term
        cols[k] += term
    assert np.allclose(ex.contribution_norms, expected, rtol=1e-12, atol=0)
    assert np.all(np.triu(ex.contribution_norms, 1) == 0)
    assert np.allclose(ex.row_sums, rows, rtol=1e-12, atol=1e-15)
    assert np.allclose(ex.column_sums, cols, rtol=1e-12, atol=1e-15)
    assert ex.diagonal == (name in ("Why", "by"))
    # The brute force itself is tied to an independent engine: its terms add up to the gradient.
    assert norm_rel_error(rows.sum(axis=0), ex.gradient) <= 1e-13
    assert np.all(expected[np.tril_indices(T, -1)] > 0) != ex.diagonal


def test_reach_and_dhprev_match_brute_force() -> None:
    spec = resolve(overrides=BRUTE)
    ex = explain(spec)
    _, dh_norms, dhprev = _brute_terms(spec)
    assert np.allclose(ex.reach.dh_norms, dh_norms, rtol=1e-12, atol=0)
    assert np.allclose(ex.dhprev[:, 0], dhprev, rtol=1e-12, atol=1e-15)
    T = spec.seq
    for lag in range(T):
        along = [dh_norms[t, t - lag] for t in range(lag, T)]
        assert ex.reach.mean[lag] == pytest.approx(np.mean(along), rel=1e-12)
        assert ex.reach.max[lag] == pytest.approx(np.max(along), rel=1e-12)
    Whh = build(spec).params["Whh"]
    assert ex.reach.spectral_radius == pytest.approx(max(abs(np.linalg.eigvals(Whh))), rel=1e-12)
    hs, *_ = _forward(build(spec).params, spec)
    assert ex.reach.tanh_max == pytest.approx(max(float((1 - h**2).max()) for h in hs[:-1]))
    # Every step's Jacobian is bounded by step_bound, so the reach cannot grow faster.
    for t in range(T):
        for k in range(t):
            assert dh_norms[t, k] <= dh_norms[t, k + 1] * ex.reach.step_bound * (1 + 1e-12)


@pytest.mark.parametrize("window", [1, 2, 4, 6])
def test_truncation_fractions_match_a_wildml_style_truncated_gradient(window: int) -> None:
    spec = resolve(overrides=BRUTE)
    ex = explain(spec, truncate=window)
    assert ex.truncation is not None
    full = tutorial.gradients(ex.problem.params, ex.problem.batch, Options()).grads
    truncated = _wildml_truncated(spec, window)
    for name in PARAM_NAMES:
        expected = np.linalg.norm(full[name] - truncated[name]) / np.linalg.norm(full[name])
        assert ex.truncation.fractions[name] == pytest.approx(expected, rel=1e-9, abs=1e-14)
        assert np.allclose(ex.truncation.truncated[name], truncated[name], rtol=1e-12,
                           atol=1e-15)
    if window >= spec.seq:  # nothing is left out
        assert all(f == 0 for f in ex.truncation.fractions.values())
    else:
        assert all(ex.truncation.fractions[n] > 1e-3 for n in ("Wxh", "Whh", "bh"))
    assert ex.truncation.fractions["Why"] == ex.truncation.fractions["by"] == 0


def test_clipping_reports_exactly_the_elements_beyond_the_bound() -> None:
    for clip, bound in ((None, 5.0), (2.0, 2.0)):
        spec = resolve(overrides={**CLIPPY, "clip": clip})
        ex = explain(spec)
        assert ex.clip_bound == bound and ex.clip_applied == (clip is not None)
        full = tutorial.gradients(ex.problem.params, ex.problem.batch, Options()).grads
        assert sum(c.clipped for c in ex.clipping) > 0  # this spec's gradients exceed the bound
        for c in ex.clipping:
            g = full[c.parameter]
            assert c.clipped == int((np.abs(g) > bound).sum())
            after = np.clip(g, -bound, bound)
            assert c.change_fraction == pytest.approx(
                np.linalg.norm(g - after) / np.linalg.norm(g), rel=1e-12, abs=1e-15)
            for e in c.elements:
                assert e.value == g[e.index] and abs(e.value) > bound
                assert e.clipped == np.sign(e.value) * bound


def test_long_sequences_are_binned_to_a_legible_map() -> None:
    spec = resolve(overrides={"hidden": 3, "seq": 200, "vocab": 4, "seed": 2, "init_scale": 0.5})
    ex = explain(spec, "bh")
    m = ex.map
    assert len(m.starts) <= MAX_CELLS and m.size == 5
    T, s = spec.seq, m.size
    for i in range(len(m.starts)):
        for j in range(len(m.starts)):
            block = ex.contribution_norms[i * s : (i + 1) * s, j * s : (j + 1) * s]
            assert m.cells[i, j] == block.max()
            assert (m.cells[i, j] == 0) == (j > i)
        rows = ex.row_sums[i * s : (i + 1) * s].sum(axis=0)
        assert m.row_norms[i] == pytest.approx(np.linalg.norm(rows), rel=1e-12)
    assert len(ex.contribution_norms) == T
    text = _rendered(ex, width=100)
    body = [line for line in text.splitlines() if line[:7].strip().lstrip("t ").isdigit()]
    assert len(body) == len(m.starts)


def _rendered(ex: Explanation, width: int) -> str:
    buf = io.StringIO()
    render(ex, Console(file=buf, width=width, color_system=None))
    return buf.getvalue()


def test_plain_text_map_is_lower_triangular() -> None:
    ex = explain(resolve(overrides=BRUTE), "Wxh", truncate=2)
    text = _rendered(ex, width=100)
    rows = [line for line in text.splitlines() if line[:7].strip().lstrip("t ").isdigit()]
    assert len(rows) == ex.seq
    for t, line in enumerate(rows):
        cells = line[7 : 7 + 2 * ex.seq]
        drawn = [cells[2 * k : 2 * k + 2] for k in range(ex.seq)]
        assert all(c[0] in GLYPHS and c[0] == c[1] for c in drawn[: t + 1])
        assert all(c == "  " for c in drawn[t + 1 :])
    assert "Truncated BPTT, window 2" in text and "‖∂L/∂hprev‖" in text


@settings(max_examples=15, deadline=None)
@given(hidden=st.integers(1, 6), seq=st.integers(1, 9), vocab=st.integers(2, 5),
       seed=st.integers(0, 1000), name=st.sampled_from(PARAM_NAMES))
def test_rows_and_columns_regroup_the_same_sum(hidden: int, seq: int, vocab: int, seed: int,
                                               name: str) -> None:
    spec = resolve(overrides={"hidden": hidden, "seq": seq, "vocab": vocab, "seed": seed,
                              "init_scale": 0.5, "hprev": "random"})
    ex = explain(spec, name)
    # Float sums of the same terms in two orders differ by at most a few roundings of the
    # terms' sizes (not of the total, which may cancel): bound by eps * sum of term norms.
    rounding = 4 * (seq + hidden) * np.finfo(np.float64).eps * ex.contribution_norms.sum()
    rows, columns = ex.row_sums.sum(axis=0), ex.column_sums.sum(axis=0)
    assert np.linalg.norm(rows - columns) <= rounding
    assert np.linalg.norm(columns - ex.exact) <= rounding
    assert np.linalg.norm(ex.gradient - ex.exact) <= rounding
    # Row t holds the terms of loss step t only, so it is all the contribution norms can bound.
    bound = ex.contribution_norms.sum(axis=1)
    assert np.all(ex.row_norms <= bound * (1 + 1e-12) + 1e-300)


def test_bad_parameter_and_window_raise_spec_errors() -> None:
    with pytest.raises(SpecError, match="--param"):
        explain(resolve(overrides=BRUTE), "Wyy")
    with pytest.raises(SpecError, match="--truncate"):
        explain(resolve(overrides=BRUTE), truncate=0)


def test_cli_param_choices_are_the_model_parameters() -> None:
    option = next(p for p in cli.commands["explain"].params if p.name == "parameter")
    assert set(PARAM_NAMES) <= set(option.type.choices)  # and the gated cells' (test_cells)


def _flags(spec: dict[str, object]) -> list[str]:
    return [x for k, v in spec.items() for x in (f"--{k.replace('_', '-')}", str(v))]


def test_cli_json_document(run_cli: Callable[..., Result]) -> None:
    result = run_cli("explain", *_flags(BRUTE), "--param", "Wxh", "--truncate", "3",
                     "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["schema"] == 1 and doc["tool"] == "bpttcheck" and isinstance(doc["version"], str)
    assert doc["parameter"] == "Wxh"
    T = BRUTE["seq"]
    norms = np.array(doc["contribution_norms"])
    assert norms.shape == (T, T) and np.all(np.triu(norms, 1) == 0)
    ex = explain(resolve(overrides=BRUTE), "Wxh", truncate=3)
    assert np.array_equal(norms, ex.contribution_norms)
    for key, sums in (("row_sums", ex.row_sums), ("column_sums", ex.column_sums)):
        assert np.allclose(doc[key]["norms"], [np.linalg.norm(s) for s in sums], rtol=1e-15)
        assert doc[key]["norm_rel_error"] <= 1e-13 and doc[key]["rel_error"] <= 1e-9
    assert doc["truncation"]["window"] == 3
    assert set(doc["truncation"]["fractions"]) == set(PARAM_NAMES)
    assert doc["truncation"]["dhprev_norm"] == pytest.approx(ex.dhprev_norm)
    assert len(doc["reach"]["mean"]) == T and doc["clipping"]["bound"] == 5.0


def test_cli_writes_svg_html_and_npz(run_cli: Callable[..., Result], tmp_path: Path) -> None:
    svg, html, npz = tmp_path / "map.svg", tmp_path / "map.html", tmp_path / "arrays.npz"
    result = run_cli("explain", *_flags(BRUTE), "--save-svg", str(svg), "--save-html",
                     str(html), "--save", str(npz))
    assert result.exit_code == 0
    assert "Both groupings add up" in result.stdout
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    drawn = ET.tostring(root, encoding="unicode")
    assert "row\xa0sum" in drawn  # the map's header; Rich writes spaces as no-break spaces
    assert PALETTE[0] in drawn and PALETTE[-1] in drawn  # the coloured cells of the map
    page = html.read_text("utf-8")
    assert page.lstrip().lower().startswith("<!doctype html") and PALETTE[-1] in page
    assert "row sum" in page
    with np.load(npz) as data:
        keys = set(data.files)
        ex = explain(resolve(overrides=BRUTE), with_reference=True)
        for name in PARAM_NAMES:
            assert {name, f"tutorial.d{name}", f"reference.d{name}"} <= keys
            assert np.array_equal(data[name], ex.problem.params[name])
        assert {"hprev", "inputs", "targets", "loss", "tutorial.dhprev"} <= keys
        assert np.array_equal(data["explain.contribution_norms"], ex.contribution_norms)
        assert data["explain.row_sums"].shape == (BRUTE["seq"], *ex.gradient.shape)


def test_cli_json_with_svg_keeps_stdout_pure_json(run_cli: Callable[..., Result],
                                                  tmp_path: Path) -> None:
    svg = tmp_path / "map.svg"
    result = run_cli("explain", *_flags(BRUTE), "--json", "--save-svg", str(svg))
    assert result.exit_code == 0
    json.loads(result.stdout)
    assert ET.parse(svg).getroot().tag.endswith("svg")


@pytest.mark.parametrize("args", [["--param", "Wyy"], ["--truncate", "0"],
                                  ["--truncate", "x"], ["--hidden", "0"]])
def test_cli_bad_input_exits_2(run_cli: Callable[..., Result], args: list[str]) -> None:
    result = run_cli("explain", *_flags(BRUTE), *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_unwritable_picture_exits_2(run_cli: Callable[..., Result], tmp_path: Path) -> None:
    result = run_cli("explain", *_flags(BRUTE), "--save-svg", str(tmp_path / "no" / "x.svg"))
    assert result.exit_code == 2
    assert "--save-svg" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name", PARAM_NAMES)
def test_seq_200_regroupings_still_equal_the_gradient(name: str) -> None:
    ex = explain(resolve(overrides={"seq": 200}), name, truncate=25)
    assert ex.rows_vs_gradient.norm_rel_error <= 1e-12
    assert ex.columns_vs_gradient.norm_rel_error <= 1e-12
    assert ex.columns_vs_steps.norm_rel_error <= 1e-12
    assert len(ex.map.starts) == MAX_CELLS


def test_compensated_sum_matches_math_fsum() -> None:
    import math

    from bpttcheck.explain import CompensatedSum

    rng = np.random.default_rng(7)
    # Terms of wildly different sizes that cancel: plain summation loses most digits.
    terms = [rng.standard_normal((3, 4)) * 10.0 ** rng.integers(-8, 8) for _ in range(300)]
    terms += [-t for t in terms[:150]]
    acc = CompensatedSum((3, 4))
    for t in terms:
        acc.add(t)
    exact = np.array([[math.fsum(t[i, j] for t in terms) for j in range(4)] for i in range(3)])
    assert np.allclose(acc.total(), exact, rtol=1e-15, atol=0)


def test_default_spec_regroupings_equal_the_gradient_to_1e_12(
        default_explained: Explanation) -> None:
    """The issue's figure, elementwise, against every term summed with compensation."""
    ex = default_explained
    assert ex.rows_vs_gradient.rel_error <= 1e-12
    assert ex.columns_vs_gradient.rel_error <= 1e-12
    assert ex.tutorial_vs_exact.rel_error <= 1e-12
