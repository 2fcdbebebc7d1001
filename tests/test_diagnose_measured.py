"""Causes measured from the error itself, on bugs described in words (issue 9, item 7).

Each bug is written here from its description, as a user would write it, in a
small min-char-rnn style backward pass of this file's own (not bpttcheck's).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest

from bpttcheck import checker
from bpttcheck.diagnose import Cause, decompose, diagnose
from bpttcheck.engines import reference
from bpttcheck.engines.base import Options
from bpttcheck.impl import ImplOptions, ImplRequest
from bpttcheck.model import PARAM_NAMES, Batch, Params, Problem, build, forward
from bpttcheck.spec import Spec

SPEC = Spec(hidden=9, seq=10, vocab=5, seed=11, init_scale=0.7, hprev="random")
Hook = Callable[[int, np.ndarray], np.ndarray]


@pytest.fixture(scope="module")
def problem() -> Problem:
    return build(SPEC)


@pytest.fixture(scope="module")
def truth(problem: Problem) -> dict[str, np.ndarray]:
    return reference.gradients(problem.params, problem.batch, Options()).grads


def hand_written(params: Params, batch: Batch, *, forwards: bool = False,
                 dy_hook: Hook | None = None,
                 derivative: Callable[[int, dict[int, np.ndarray]], np.ndarray] | None = None,
                 ) -> dict[str, np.ndarray]:
    """A user's backward pass; the keyword arguments plant one bug each."""
    Wxh, Whh, Why, bh, by = (params[n] for n in PARAM_NAMES)
    T = batch.seq
    xs, hs, ps = {}, {-1: batch.hprev.copy()}, {}
    for t in range(T):
        xs[t] = np.zeros((Why.shape[0], 1))
        xs[t][batch.inputs[t]] = 1
        hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
        y = Why @ hs[t] + by
        ps[t] = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
    d = {n: np.zeros_like(p) for n, p in params.items()}
    dhnext = np.zeros_like(hs[0])
    for t in (range(T) if forwards else reversed(range(T))):
        dy = ps[t].copy()
        dy[batch.targets[t]] -= 1
        if dy_hook is not None:
            dy = dy_hook(t, dy)
        d["Why"] += dy @ hs[t].T
        d["by"] += dy
        dh = Why.T @ dy + dhnext
        deriv = derivative(t, hs) if derivative is not None else 1 - hs[t] * hs[t]
        dhraw = deriv * dh
        d["bh"] += dhraw
        d["Wxh"] += dhraw @ xs[t].T
        d["Whh"] += dhraw @ hs[t - 1].T
        dhnext = Whh.T @ dhraw
    return d


def first(g: dict[str, np.ndarray], truth: dict[str, np.ndarray], problem: Problem) -> Cause:
    causes = diagnose(g, truth, problem.params, problem.batch)
    assert causes, "a wrong gradient must get a cause"
    return causes[0]


def test_the_hand_written_pass_is_right(problem: Problem, truth: dict[str, np.ndarray]) -> None:
    g = hand_written(problem.params, problem.batch)
    assert diagnose(g, truth, problem.params, problem.batch) == []


def test_every_element_minus_five_is_a_constant(problem: Problem,
                                                truth: dict[str, np.ndarray]) -> None:
    g = {n: np.clip(v, -5, -5) for n, v in truth.items()}  # a clip with equal bounds
    cause = first(g, truth, problem)
    assert cause.kind == "constant" and cause.value == -5.0
    assert set(cause.params) == set(PARAM_NAMES) and "-5" in cause.message


def test_a_zero_gradient_for_one_parameter(problem: Problem,
                                           truth: dict[str, np.ndarray]) -> None:
    g = dict(truth, Wxh=np.zeros_like(truth["Wxh"]))
    cause = first(g, truth, problem)
    assert (cause.kind, cause.params) == ("zero", ("Wxh",))


def test_a_backward_loop_run_forwards(problem: Problem, truth: dict[str, np.ndarray]) -> None:
    g = hand_written(problem.params, problem.batch, forwards=True)
    cause = first(g, truth, problem)
    assert cause.kind == "loop-direction"
    assert set(cause.params) == {"Wxh", "Whh", "bh"}  # the output layer is right


def test_one_class_weighted_four_times_only_in_dy(problem: Problem,
                                                  truth: dict[str, np.ndarray]) -> None:
    targets = problem.batch.targets
    cls, count = Counter(targets).most_common(1)[0]
    assert count >= 2  # the class must recur for the pattern to be seen as the class's
    g = hand_written(problem.params, problem.batch,
                     dy_hook=lambda t, dy: dy * (4.0 if targets[t] == cls else 1.0))
    cause = first(g, truth, problem)
    assert cause.kind == "target-weighted" and cause.value == pytest.approx(4.0)
    assert cause.steps == tuple(t for t in range(len(targets)) if targets[t] == cls)
    assert f"target {cls}: x4" in cause.message


def test_a_stale_tanh_derivative_at_the_last_step(problem: Problem,
                                                  truth: dict[str, np.ndarray]) -> None:
    T = problem.batch.seq

    def stale(t: int, hs: dict[int, np.ndarray]) -> np.ndarray:
        # The derivative is computed at the end of each iteration for the next one,
        # so the first iteration (t = T-1) uses the one left over from step T-2.
        h = hs[T - 2] if t == T - 1 else hs[t]
        return 1 - h * h

    g = hand_written(problem.params, problem.batch, derivative=stale)
    cause = first(g, truth, problem)
    assert cause.kind == "single-step" and cause.steps == (T - 1,)
    assert f"step {T - 2}'s" in cause.message and "stale" in cause.message


def test_step_zero_skipped_names_the_step(problem: Problem, truth: dict[str, np.ndarray]) -> None:
    """A backward loop that stops before t = 0: every parameter misses step 0's term."""
    fw = forward(problem.params, problem.batch)
    g = hand_written(problem.params, problem.batch, dy_hook=lambda t, dy: dy * (t > 0))
    # dy zero at t = 0 is not the same as skipping the step (dhnext still flows);
    # the pattern is one step's dy wrong.
    cause = first(g, truth, problem)
    assert cause.steps == (0,) and cause.kind in ("single-step", "step-weight")
    assert fw.hs.shape[0] == problem.batch.seq


def test_dy_index_that_follows_the_targets(problem: Problem,
                                           truth: dict[str, np.ndarray]) -> None:
    targets = problem.batch.targets
    T = len(targets)

    def shifted(t: int, dy: np.ndarray) -> np.ndarray:
        dy = dy.copy()
        dy[targets[t]] += 1  # undo the right one
        dy[targets[(t - 1) % T]] -= 1  # targets[t-1], as an index slip would
        return dy

    g = hand_written(problem.params, problem.batch, dy_hook=shifted)
    cause = first(g, truth, problem)
    assert cause.kind == "target-shift" and "targets[t-1]" in cause.message


def test_one_line_wrong_names_that_line(problem: Problem, truth: dict[str, np.ndarray]) -> None:
    """dWxh wrong, dbh right: dhraw is right, so the dWxh line is the one to read."""
    g = dict(truth, Wxh=truth["Wxh"] + np.outer(np.arange(SPEC.hidden), np.ones(5)) * 0.01)
    cause = first(g, truth, problem)
    assert (cause.kind, cause.params) == ("param-line", ("Wxh",))
    assert "dbh is right" in cause.message


def test_decomposition_recovers_a_planted_dy_error(problem: Problem,
                                                   truth: dict[str, np.ndarray]) -> None:
    """An independent check of the measurement: plant dy errors, read them back."""
    fw = forward(problem.params, problem.batch)
    planted = np.zeros_like(fw.ps)
    planted[3] = np.linspace(-0.2, 0.3, planted.shape[1])
    g = hand_written(problem.params, problem.batch,
                     dy_hook=lambda t, dy: dy + planted[t][:, None])
    dec = decompose(g, truth, problem.params, problem.batch, fw)
    assert dec.dy_error is not None and dec.source is not None
    np.testing.assert_allclose(dec.dy_error, planted, atol=1e-9)
    np.testing.assert_allclose(dec.source, 0, atol=1e-9)  # all hidden error comes via dy


def _no_by(params: dict[str, np.ndarray], inputs: list[int], targets: list[int],
           hprev: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """A forward pass without ``by`` that still returns the textbook dby."""
    Wxh, Whh, Why = params["Wxh"], params["Whh"], params["Why"]
    h, hs, loss = hprev, {-1: hprev}, 0.0
    ps = {}
    for t, i in enumerate(inputs):
        h = hs[t] = np.tanh(Wxh[:, [i]] + Whh @ h + params["bh"])
        y = Why @ h  # BUG: by left out
        ps[t] = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
        loss -= float(np.log(ps[t][targets[t], 0]))
    d = {n: np.zeros_like(p) for n, p in params.items()}
    dhnext = np.zeros_like(hprev)
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        d["Why"] += dy @ hs[t].T
        d["by"] += dy
        dhraw = (1 - hs[t] ** 2) * (Why.T @ dy + dhnext)
        d["bh"] += dhraw
        d["Wxh"][:, [inputs[t]]] += dhraw
        d["Whh"] += dhraw @ hs[t - 1].T
        dhnext = Whh.T @ dhraw
    return loss, d


def test_by_missing_from_the_forward_pass() -> None:
    report = checker.run(SPEC, ("reference",),
                         impl=ImplRequest(_no_by, ImplOptions(timeout=0)))
    assert not report.passed
    assert report.impl is not None
    kinds = [(c.kind, c.params) for c in report.impl.causes]
    assert kinds[0] == ("ignored-param", ("by",))
    assert "does not depend on by" in report.impl.causes[0].message


def test_tanh_derivative_taken_one_step_early(problem: Problem,
                                              truth: dict[str, np.ndarray]) -> None:
    g = hand_written(problem.params, problem.batch,
                     derivative=lambda t, hs: 1 - hs[t - 1] * hs[t - 1])
    cause = first(g, truth, problem)
    assert cause.kind == "derivative-index" and cause.value == -1.0
    assert "hs[t-1]" in cause.message


def test_one_factor_on_the_whole_hidden_layer_is_one_cause(
        problem: Problem, truth: dict[str, np.ndarray]) -> None:
    """dh halved (before dhnext is added or after): every hidden gradient x0.5."""
    g = dict(truth, **{n: 0.5 * truth[n] for n in ("Wxh", "Whh", "bh")})
    causes = diagnose(g, truth, problem.params, problem.batch)
    assert [(c.kind, set(c.params), c.value) for c in causes] == [
        ("ratio", {"Wxh", "Whh", "bh"}, pytest.approx(0.5))]
    assert "hidden layer" in causes[0].message


def test_per_step_values_stored_one_step_off(problem: Problem,
                                             truth: dict[str, np.ndarray]) -> None:
    """A vectorised pass that writes step t's dhraw into row t-1 (row -1 at t = 0)."""
    p, b = problem.params, problem.batch
    fw = forward(p, b)
    T, H = fw.hs.shape
    dY = fw.ps.copy()
    dY[np.arange(T), list(b.targets)] -= 1
    dA = np.zeros((T, H))
    carry = np.zeros(H)
    for t in range(T - 1, -1, -1):
        dA[t - 1] = (dY[t] @ p["Why"] + carry) * (1 - fw.hs[t] ** 2)  # BUG: row t-1
        carry = dA[t - 1] @ p["Whh"]
    X = np.eye(p["Why"].shape[0])[list(b.inputs)]
    g = dict(truth, Wxh=dA.T @ X, Whh=dA.T @ fw.hs_before, bh=dA.sum(axis=0)[:, None])
    cause = first(g, truth, problem)
    assert cause.kind == "step-shift" and cause.value == 1.0
    assert "step t+1" in cause.message


def test_a_small_error_at_the_tutorials_init_scale_still_gets_its_cause() -> None:
    """At init 0.01 a last-step slip changes the gradient by ~1e-7 of its size; the fit
    tolerance follows the size of the error, so the cause is still measured."""
    problem = build(Spec(hidden=9, seq=10, vocab=5, seed=11, init_scale=0.01, hprev="random"))
    truth = reference.gradients(problem.params, problem.batch, Options()).grads
    T = problem.batch.seq

    def stale(t: int, hs: dict[int, np.ndarray]) -> np.ndarray:
        h = hs[T - 2] if t == T - 1 else hs[t]
        return 1 - h * h

    g = hand_written(problem.params, problem.batch, derivative=stale)
    cause = first(g, truth, problem)
    assert cause.kind == "single-step" and cause.steps == (T - 1,)


def test_dh_reads_dy_of_the_step_before(problem: Problem,
                                        truth: dict[str, np.ndarray]) -> None:
    """A vectorised pass whose loop reads dH[t-1] (wrapping to the last row at t = 0)."""
    p, b = problem.params, problem.batch
    fw = forward(p, b)
    T, H = fw.hs.shape
    dY = fw.ps.copy()
    dY[np.arange(T), list(b.targets)] -= 1
    dH = dY @ p["Why"]
    dA = np.zeros((T, H))
    carry = np.zeros(H)
    for t in range(T - 1, -1, -1):
        dA[t] = (dH[t - 1] + carry) * (1 - fw.hs[t] ** 2)  # BUG: dH[t-1]
        carry = dA[t] @ p["Whh"]
    X = np.eye(p["Why"].shape[0])[list(b.inputs)]
    g = dict(truth, Wxh=dA.T @ X, Whh=dA.T @ fw.hs_before, bh=dA.sum(axis=0)[:, None])
    cause = first(g, truth, problem)
    assert cause.kind == "step-shift" and cause.value == -1.0 and "dy[t-1]" in cause.message


@pytest.mark.parametrize("wrap", [False, True])
def test_derivative_one_step_early_in_either_indexing(problem: Problem,
                                                      truth: dict[str, np.ndarray],
                                                      wrap: bool) -> None:
    """hs[t-1] at t = 0 is hprev in a dict keyed -1, the last state in a Python list."""
    T = problem.batch.seq

    def early(t: int, hs: dict[int, np.ndarray]) -> np.ndarray:
        h = hs[T - 1] if (t == 0 and wrap) else hs[t - 1]
        return 1 - h * h

    g = hand_written(problem.params, problem.batch, derivative=early)
    cause = first(g, truth, problem)
    assert cause.kind == "derivative-index" and "hs[t-1]**2" in cause.message


def _stale_last(params: dict[str, np.ndarray], inputs: list[int], targets: list[int],
                hprev: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """A user's function whose first backward iteration uses the previous step's h."""
    batch = Batch(tuple(inputs), tuple(targets), hprev)
    T = len(inputs)

    def stale(t: int, hs: dict[int, np.ndarray]) -> np.ndarray:
        h = hs[T - 2] if t == T - 1 else hs[t]
        return 1 - h * h

    return forward(params, batch).loss, hand_written(params, batch, derivative=stale)


def test_the_report_names_the_step_once() -> None:
    """Through --impl: the cause names t = T-1, and no prefix localisation contradicts it
    (on prefixes the last step moves, so every prefix would differ)."""
    report = checker.run(SPEC, ("reference",),
                         impl=ImplRequest(_stale_last, ImplOptions(timeout=0)))
    assert report.impl is not None and not report.passed
    cause = report.impl.causes[0]
    assert cause.kind == "single-step" and cause.steps == (SPEC.seq - 1,)
    assert report.impl.steps == ()
    assert cause.to_dict()["steps"] == [SPEC.seq - 1]


def test_dy_from_the_previous_steps_softmax(problem: Problem,
                                            truth: dict[str, np.ndarray]) -> None:
    """dy = ps[t-1].copy(); dy[targets[t]] -= 1 (ps[-1] wraps to the last step)."""
    ps = forward(problem.params, problem.batch).ps
    targets = problem.batch.targets

    def previous(t: int, dy: np.ndarray) -> np.ndarray:
        out = ps[t - 1].copy()[:, None]
        out[targets[t]] -= 1
        return out

    g = hand_written(problem.params, problem.batch, dy_hook=previous)
    cause = first(g, truth, problem)
    assert cause.kind == "dy-index" and "ps[t-1]" in cause.message


def test_dwhy_with_the_previous_state_is_that_line(problem: Problem,
                                                   truth: dict[str, np.ndarray]) -> None:
    """dWhy += dy @ hs[t-1].T in a list (hs[-1] wraps): dy could be read as shifted in
    dWhy alone, but dh is right, so the cause is dWhy's own line, not dy."""
    fw = forward(problem.params, problem.batch)
    T = problem.batch.seq
    dY = fw.ps.copy()
    dY[np.arange(T), list(problem.batch.targets)] -= 1
    g = dict(truth, Why=sum(np.outer(dY[t], fw.hs[t - 1]) for t in range(T)))
    cause = first(g, truth, problem)
    assert (cause.kind, cause.params) == ("param-line", ("Why",))


@pytest.mark.parametrize(("derivative", "words"), [
    (lambda h: 1 + h * h, "is 1 + h^2, not 1 - h^2"),
    (lambda h: 1 - h, "is 1 - h, not 1 - h^2"),
    (lambda h: 2 * (1 - h * h), "dhraw is 2 times what it should be"),
])
def test_the_form_of_a_wrong_tanh_derivative(problem: Problem, truth: dict[str, np.ndarray],
                                             derivative: Callable[[np.ndarray], np.ndarray],
                                             words: str) -> None:
    g = hand_written(problem.params, problem.batch,
                     derivative=lambda t, hs: derivative(hs[t]))
    cause = first(g, truth, problem)
    assert cause.kind == "tanh-derivative" and words in cause.message
