"""bpttcheck.check_function: any loss/gradient pair, correct and buggy, with the adjoint screen."""

from __future__ import annotations

import json

import numpy as np
import pytest

import bpttcheck
from bpttcheck.errors import ExitCode, ImplError


def _point(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"W": rng.standard_normal((3, 4)), "x": rng.standard_normal(4),
            "b": rng.standard_normal(3)}


def loss(p: dict[str, np.ndarray]) -> object:
    return np.sum(np.tanh(p["W"] @ p["x"] + p["b"]) ** 2)


def grad(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    a = np.tanh(p["W"] @ p["x"] + p["b"])
    d = 2 * a * (1 - a * a)
    return {"W": np.outer(d, p["x"]), "x": p["W"].T @ d, "b": d}


def test_correct_pair_passes_with_complex_step() -> None:
    r = bpttcheck.check_function(loss, grad, _point())
    assert r.passed and r.exit_code == ExitCode.AGREE
    assert r.method == "complex-literal"
    assert r.screen is not None and r.screen.passed and r.screen.method == "complex"
    assert r.headline().startswith("✓ grad is the gradient")
    assert sum(c.compared for c in r.comparisons) == 12 + 4 + 3


def test_sign_flip_is_named_with_element() -> None:
    def wrong(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        g = grad(p)
        return {**g, "b": -g["b"]}

    r = bpttcheck.check_function(loss, wrong, _point())
    assert not r.passed and r.exit_code == ExitCode.MISMATCH
    assert r.wrong == ("b",)
    assert r.causes[0].kind == "sign" and r.causes[0].params == ("b",)
    assert "b[" in "\n".join(r.lines())
    assert r.screen is not None and not r.screen.passed


def test_one_wrong_element_is_caught_by_the_screen_and_located() -> None:
    def wrong(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        g = grad(p)
        g["W"] = g["W"].copy()
        g["W"][2, 1] *= 1.001
        return g

    r = bpttcheck.check_function(loss, wrong, _point(), full=False)
    assert not r.passed
    assert r.screen is not None and not r.screen.passed
    (bad,) = [c for c in r.comparisons if not c.passed]  # full comparison ran to name it
    assert bad.parameter == "W" and bad.worst is not None and bad.worst.index == (2, 1)


def test_screen_only_when_it_passes() -> None:
    r = bpttcheck.check_function(loss, grad, _point(), full=False)
    assert r.passed and r.comparisons == ()
    assert "adjoint screen" in r.headline()


def test_loss_without_complex_falls_back_to_central() -> None:
    def abs_loss(p: dict[str, np.ndarray]) -> float:
        return float(np.sum(np.abs(p["W"] @ p["x"] + p["b"])))

    def abs_grad(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        s = np.sign(p["W"] @ p["x"] + p["b"])
        return {"W": np.outer(s, p["x"]), "x": p["W"].T @ s, "b": s}

    r = bpttcheck.check_function(abs_loss, abs_grad, _point(1))
    assert r.passed and r.method == "central"
    assert any("complex" in n for n in r.notes)

    def halved(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {n: 0.5 * v for n, v in abs_grad(p).items()}

    bad = bpttcheck.check_function(abs_loss, halved, _point(1))
    assert not bad.passed and bad.causes[0].kind == "ratio" and bad.causes[0].value == \
        pytest.approx(0.5)


def test_loss_that_drops_the_imaginary_part_is_not_trusted_with_complex() -> None:
    def sneaky(p: dict[str, np.ndarray]) -> object:  # abs() keeps complex but is not analytic
        return np.sum(np.abs(p["W"] @ p["x"] + p["b"]) ** 3)

    def sneaky_grad(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        z = p["W"] @ p["x"] + p["b"]
        d = 3 * z * np.abs(z)
        return {"W": np.outer(d, p["x"]), "x": p["W"].T @ d, "b": d}

    r = bpttcheck.check_function(sneaky, sneaky_grad, _point(2))
    assert r.method == "central" and r.passed


def test_single_array_and_loss_and_grad_together() -> None:
    A = np.random.default_rng(3).standard_normal((4, 4))
    A = A + A.T

    def both(x: np.ndarray) -> tuple[object, np.ndarray]:
        return 0.5 * x @ A @ x, A @ x

    x = np.arange(4.0)
    assert bpttcheck.check_function(both, None, x).passed
    r = bpttcheck.check_function(lambda x: 0.5 * x @ A @ x, lambda x: A.T @ x * 2, x)
    assert not r.passed and r.causes[0].kind == "ratio"


def test_transposed_gradient_shape_is_an_input_error_with_a_hint() -> None:
    def transposed(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        g = grad(p)
        return {**g, "W": g["W"].T}

    with pytest.raises(ImplError, match=r"gradient of W has shape \(4, 3\).*transpose"):
        bpttcheck.check_function(loss, transposed, _point())


def test_square_transpose_is_diagnosed() -> None:
    rng = np.random.default_rng(4)
    p = {"M": rng.standard_normal((3, 3)), "v": rng.standard_normal(3)}

    def f(q: dict[str, np.ndarray]) -> object:
        return np.sum(np.sin(q["M"] @ q["v"]))

    def df_wrong(q: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        c = np.cos(q["M"] @ q["v"])
        return {"M": np.outer(c, q["v"]).T, "v": q["M"].T @ c}

    r = bpttcheck.check_function(f, df_wrong, p)
    assert r.wrong == ("M",) and r.causes[0].kind == "transpose"
    assert json.loads(r.to_json())["comparisons"][0]["parameter"] == "M"


def test_user_exception_is_one_line() -> None:
    def broken(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        raise KeyError("Wxh")

    with pytest.raises(ImplError, match="broken raised KeyError"):
        bpttcheck.check_function(loss, broken, _point())


def test_scalar_loss_moves_elements_of_a_transposed_array() -> None:
    """A Fortran-ordered parameter (a transposed view) is perturbed, not a copy of it."""
    from bpttcheck.probes import ElementProbes, ScalarLoss

    W = np.arange(6.0).reshape(2, 3).T  # F-ordered (3, 2)
    probe = ScalarLoss(lambda p: float(np.sum(p["W"] ** 2)), {"W": W})
    moved = probe.elements(ElementProbes("W", np.array([1]), np.array([1e-3])))
    assert moved[0] != probe.base
