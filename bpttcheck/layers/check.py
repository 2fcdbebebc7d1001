"""Check a layer's backward function: ``--impl FILE.py:rnn_backward``.

The forward partner is found by name (``X_backward`` -> ``X_forward``,
``backward`` -> ``forward``, or ``--impl-forward NAME``), the style
(:mod:`.styles`) from the pair's parameters. Then, at one seeded point with the
spec's sizes (``hidden`` -> H, ``vocab`` -> D, ``batch`` -> N, default 2,
``seq`` -> T), dense inputs and a random upstream gradient G:

- the loss is L = <G, h> (:mod:`.reference`), so their backward called with
  G is dL/dtheta for every input: x, h0 and the weights;
- **yours ↔ numeric**: :func:`bpttcheck.function.check_function` on their
  arrays, differentiating L through *their* forward (the adjoint screen first);
- **yours ↔ reference**: the explicit double sum over k <= t, in our layout,
  brought to theirs;
- **reference ↔ numeric**: the witness and the reference must agree whenever
  their forward computes our h (checked too: a wrong forward is a finding);
- a wrong parameter is localised in time: their backward called with G kept at
  one loss step t only gives their dL_t/dtheta, compared with the reference's;
- for a gated layer (LSTM, GRU: :mod:`.gates`), the same gate by gate in our
  names (which gate's parameters are wrong, first and last wrong loss step),
  and a cause when their gradient equals a known bug's sum exactly; a cs231n
  forward that reads the stacked gates in another order is checked in its order.

Every element is named in *their* layout and names (cs231n's dWx[i, j] is our
dWxh[j, i]); the JSON gives our name alongside.

From the command line their functions run in the child process that runs
every file target (:mod:`.remote`); from the API (:func:`check_layer` on live
functions) in this process, as for ``bpttcheck.check(impl=f)``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import prose
from ..compare import PairResult, compare, rel_error
from ..diagnose import DIAG_RTOL, Cause, close
from ..engines.base import Gradients
from ..errors import ExitCode, ImplError, SpecError
from ..function import SCREEN_DIRECTIONS, FunctionReport, check_function, generic_causes
from ..precision import Precision, bars, lowest, resolution
from ..probes import BatchedLoss
from ..spec import Spec
from . import gru_reference, lstm_reference, reference
from .gates import GateVerdict, gate_verdicts, gated_variants
from .styles import (
    COURSERA,
    STYLES,
    Place,
    Style,
    call_backward,
    call_forward,
    recognise,
    row_blocks,
)

LAYER_STREAM = 11  # seed word of the layer's point and upstream gradient
DEFAULT_N = 2  # sequences in the batch when the spec sets none
FORWARD_RTOL = 1e-9  # their h against ours: the same sums in another order
ROUNDING_ULPS = 4.0  # a reduced-precision loss <G, h>: this many eps of sum |G h| per value
UNRESOLVED = 0.1  # a float32 bar wider than this fraction of the parameter's scale: vacuous


@dataclasses.dataclass(frozen=True)
class LayerReport:
    """What was found about a layer's backward pass."""

    target: str
    label: str  # "rnn_backward (with rnn_forward)"
    style: Style
    sizes: dict[str, int]  # N, T, D, H
    function: FunctionReport  # yours ↔ numeric, adjoint screen, causes
    reference: tuple[PairResult, ...]  # yours ↔ reference
    witness: tuple[PairResult, ...]  # reference ↔ numeric
    findings: tuple[str, ...] = ()
    steps: dict[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)
    gates: tuple[GateVerdict, ...] = ()  # a gated layer: each gate's parameters, in ours

    @property
    def comparisons(self) -> tuple[PairResult, ...]:
        return (*self.function.comparisons, *self.reference, *self.witness)

    @property
    def passed(self) -> bool:
        return self.function.passed and all(c.passed for c in self.comparisons) \
            and not self.findings

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.AGREE if self.passed else ExitCode.MISMATCH

    @property
    def wrong(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.parameter for c in (*self.function.comparisons,
                                                          *self.reference) if not c.passed))

    def place(self, name: str, index: tuple[int, ...]) -> Place:
        """Their element among ours (our parameter, index and, for a gated layer, gate)."""
        return self.style.place(name, index, self.sizes["H"], self.sizes["D"])

    def ours(self, name: str, index: tuple[int, ...]) -> str:
        """Their element as ours: ``Wxh[2, 0]`` for cs231n's ``Wx[0, 2]``."""
        where = self.place(name, index)
        return prose.format_index(where.ours, where.index)

    @property
    def wrong_gates(self) -> tuple[str, ...]:
        return tuple(g.gate for g in self.gates if g.wrong)

    def headline(self) -> str:
        return prose.layer_headline(self)

    def lines(self) -> list[str]:
        return prose.layer_lines(self)

    def to_dict(self) -> dict[str, Any]:
        def pair(c: PairResult) -> dict[str, Any]:
            from ..report import _pair_dict as pair_dict

            out: dict[str, Any] = pair_dict(c)
            worst = self.place(c.parameter, c.worst.index) if c.worst else None
            failures = [self.place(c.parameter, e.index) for e in c.failures]
            out["ours"] = {"parameter": worst.ours if worst else
                           self.style.arg(c.parameter).sources[0],
                           "worst_index": list(worst.index) if worst else None,
                           "failures": [list(f.index) for f in failures]}
            if self.style.cell != "rnn":  # a stacked array's elements are in several of ours
                out["ours"]["gate"] = worst.gate if worst else None
                out["ours"]["failure_parameters"] = [f.ours for f in failures]
                out["ours"]["failure_gates"] = [f.gate for f in failures]
            out["loss_steps"] = list(self.steps.get(c.parameter, ()))
            return out

        from ..report import header

        return {
            **header(), "command": "compare --impl (layer)",
            "passed": self.passed, "exit_code": int(self.exit_code), "target": self.target,
            "label": self.label, "style": self.style.name, "cell": self.style.cell,
            "sizes": self.sizes,
            "names": {a.name: "|".join(a.sources) for a in self.style.args},
            "gates": [g.to_dict() for g in self.gates],
            "screen": self.function.screen.to_dict() if self.function.screen else None,
            "method": self.function.method,
            "comparisons": [pair(c) for c in self.comparisons],
            "causes": [c.to_dict() for c in self.function.causes],
            "findings": list(self.findings), "notes": list(self.function.notes),
            "headline": self.headline(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def partner_name(backward: str) -> str | None:
    """``rnn_backward`` -> ``rnn_forward``; ``backward`` -> ``forward``; a method's partner
    in its class (``LSTM.backward`` -> ``LSTM.forward``); else None."""
    owner, dot, method = backward.rpartition(".")
    if dot:
        partner = partner_name(method)
        return f"{owner}.{partner}" if partner is not None else None
    if backward == "backward":
        return "forward"
    if backward.endswith("_backward"):
        return backward[: -len("backward")] + "forward"
    return None


def is_layer_target(target: str, forward: str | None) -> bool:
    """Whether ``--impl`` may name a layer's backward: a top-level X_backward (or
    ``backward``), or any function with ``--impl-forward``; a method only when named so
    (``LSTM.backward``: static methods of a class, the efficient batched LSTM's)."""
    name = target.rpartition(":")[2]
    if "." in name:
        return partner_name(name) is not None
    return forward is not None or partner_name(name) is not None


def load_pair(target: str, forward: str | None) -> tuple[Callable[..., Any],
                                                         Callable[..., Any], str] | None:
    """Their forward and backward functions, loaded without running the script.

    Without ``--impl-forward``, None (not a layer: the target is checked as a loss
    function) unless the backward takes exactly (upstream gradient, cache) and its
    partner X_forward is defined in the same file (for ``Class.backward``, the
    class's ``forward``; with ``--impl-forward NAME``, the class's NAME if it has
    one, else the file's).
    """
    from ..impl.loader import load, split_target
    from .styles import _positional

    where, name = split_target(target)
    fwd_name = forward or partner_name(name)
    if fwd_name is None:
        raise ImplError(f"--impl {target}: a layer backward is named X_backward (its partner "
                        "X_forward); give --impl-forward NAME for another name")
    backward = _member(load(target).obj, name)
    if "." in name and "." not in fwd_name:
        owner = name.partition(".")[0]
        if _member(load(target).obj, f"{owner}.{fwd_name}") is not None:
            fwd_name = f"{owner}.{fwd_name}"
    if forward is None and (not callable(backward) or len(_positional(backward)) != 2):
        return None
    try:
        fwd = _member(load(f"{where}:{fwd_name}").obj, fwd_name)
    except ImplError as exc:
        if forward is None and ("no function or class named" in str(exc)
                                or " has no method " in str(exc)):
            return None
        raise ImplError(f"--impl {target}: its forward partner {fwd_name!r} could not be "
                        f"loaded ({exc})") from None
    for fn, what in ((backward, name), (fwd, fwd_name)):
        if not callable(fn):
            raise ImplError(f"--impl {target}: {what} is not a function")
    return fwd, backward, f"{name} (with {fwd_name})"


def _member(obj: Any, name: str) -> Any:
    """``Class.method`` of a loaded class (a static method as its function), else ``obj``."""
    if "." not in name:
        return obj
    return getattr(obj, name.rpartition(".")[2], None)


def sizes_of(spec: Spec, batch: int | None = None) -> dict[str, int]:
    """N, T, D, H from the spec: batch, seq, vocab (or the text's), hidden."""
    vocab = spec.vocab
    if vocab is None:
        from ..model import build

        vocab = build(dataclasses.replace(spec, batch=None)).vocab  # the text's symbols
    return {"N": batch or spec.batch or DEFAULT_N, "T": spec.seq, "D": vocab, "H": spec.hidden}


def point(sizes: dict[str, int], seed: int) -> tuple[dict[str, np.ndarray], np.ndarray,
                                                     dict[str, np.ndarray]]:
    """Our parameters, the upstream gradient G and an output layer (for Coursera's y_pred).

    Inputs are standard normals, weights scaled by 1/sqrt(D + H) so that
    pre-activations are of order 1 (tanh' matters everywhere, nothing saturates),
    biases 0.1 randn, h0 squashed by tanh.
    """
    N, T, D, H = sizes["N"], sizes["T"], sizes["D"], sizes["H"]
    rng = np.random.default_rng([seed, LAYER_STREAM])
    scale = 1.0 / math.sqrt(D + H)
    ours = {"x": rng.standard_normal((N, T, D)), "h0": np.tanh(rng.standard_normal((N, H))),
            "Wxh": rng.standard_normal((H, D)) * scale, "Whh": rng.standard_normal((H, H)) * scale,
            "bh": rng.standard_normal(H) * 0.1}
    G = rng.standard_normal((N, T, H))
    out_layer = {"Wya": rng.standard_normal((D, H)) * scale, "by": np.zeros((D, 1))}
    return ours, G, out_layer


MODELS: dict[str, Any] = {"rnn": reference, "lstm": lstm_reference, "gru": gru_reference}


def point_for(style: Style, sizes: dict[str, int], seed: int
              ) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    """The point of a style's cell: our parameters, G and the output layer."""
    if style.cell == "rnn":
        return point(sizes, seed)
    out: tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]] = \
        MODELS[style.cell].point(sizes, seed)
    if any(a.sources == ("c0",) for a in style.args):  # a style that takes the first cell state
        out[0]["c0"] = lstm_reference.initial_cell(sizes, seed)
    if not style.biased:  # no biases in their arrays: ours are 0
        model = MODELS[style.cell]
        out[0].update({model.BIAS[q]: np.zeros_like(out[0][model.BIAS[q]]) for q in model.GATES})
    return out


def check_layer(forward: Callable[..., Any], backward: Callable[..., Any], spec: Spec, *,
                batch: int | None = None, target: str = "", label: str | None = None,
                style: str | None = None, batched: Callable[..., BatchedLoss] | None = None,
                sample: int | None = None) -> LayerReport:
    """Check a forward/backward pair of a vanilla, LSTM or GRU layer (see the module docstring).

    ``style`` (a name in :data:`.styles.STYLES`) when the pair's signatures are
    not at hand (functions running in a child process); else it is recognised.
    ``batched(base, G, out_layer, accepts_complex)`` answers numerical
    differentiation's points in batches (:meth:`.remote.RemoteLayer.batched_loss`);
    ``sample`` K differentiates K seeded elements per parameter (the reference
    is compared on all of them either way).
    """
    label = label or f"{getattr(backward, '__name__', 'backward')} (with " \
        f"{getattr(forward, '__name__', 'forward')})"
    found = recognise(forward, backward, label) if style is None else \
        next(s for s in STYLES if s.name == style)
    _refuse_flags(spec, found, label)
    return _check(forward, backward, spec, found, batch, target, label, batched, sample)


# A layer style's cell (Style.cell) under --cell's name for it.
CELL_FLAG = {"rnn": "vanilla", "lstm": "lstm", "gru": "gru"}
CELL_TITLE = {"rnn": "a vanilla RNN", "lstm": "an LSTM", "gru": "a GRU"}


def _refuse_flags(spec: Spec, style: Style, label: str) -> None:
    """A layer's cell and its biases come from its functions: refuse a --cell that says
    otherwise, and --no-biases, rather than check something other than what was asked.
    (--cell vanilla is the default, so an LSTM or GRU layer cannot be told from one.)"""
    cell = CELL_FLAG[style.cell]
    if spec.cell != "vanilla" and spec.cell != cell:
        raise SpecError(f"--cell {spec.cell}: {label} is {CELL_TITLE[style.cell]} layer "
                        "(a layer's cell comes from its functions); drop --cell")
    if not spec.biases:
        raise SpecError(f"--no-biases: not available for a layer function ({label}); its "
                        "biases come from its functions")


def _check(forward: Callable[..., Any], backward: Callable[..., Any], spec: Spec, style: Style,
           batch: int | None, target: str, label: str,
           batched: Callable[..., BatchedLoss] | None, sample: int | None) -> LayerReport:
    sizes = sizes_of(spec, batch)
    ours, G, out_layer = point_for(style, sizes, spec.seed)
    G_theirs = style.states_to_theirs(G)
    model = MODELS[style.cell]
    extra: set[str] = set()
    fixed: dict[str, np.ndarray] = {}  # their arrays whose gradient they leave out

    def run_forward(theirs: dict[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        h, cache = _guard(lambda: call_forward(style, forward, theirs, out_layer, label),
                          label, "forward")
        return h, cache

    def loss(theirs: dict[str, np.ndarray]) -> Any:
        h, _ = run_forward({**fixed, **theirs})
        if h.shape != G_theirs.shape:
            raise ImplError(f"{label}: its forward returned {style.state_name} of shape "
                            f"{h.shape}; expected {G_theirs.shape}")
        return np.sum(G_theirs * h)

    def grad(theirs: dict[str, np.ndarray], upstream: np.ndarray = G_theirs) -> Any:
        _, cache = run_forward({**fixed, **theirs})
        return _guard(lambda: call_backward(style, backward, upstream.copy(), cache, label,
                                            extra), label, "backward")

    theirs = style.to_theirs(ours)
    def smooth(p: Mapping[str, np.ndarray]) -> float:  # our float64 layer: no rounding steps
        return float(np.sum(G * model.forward({**ours, **style.to_ours(p)})))

    prec, measured, dtypes = _precision(theirs, run_forward, grad, loss, smooth, spec.seed)
    low = _witness(model, ours, G, prec) if prec.reduced else None

    def forward_bad(h_ours: np.ndarray, h_ref: np.ndarray) -> np.ndarray:
        """Entries of their h (in our layout) that are not ours: to the same sums in another
        order in float64, to measured error bars in a lower precision."""
        if low is None:
            out: np.ndarray = rel_error(h_ours, h_ref, spec.floor) > FORWARD_RTOL
            return out
        wrong: np.ndarray = ~(np.abs(h_ours - h_ref) <= bars(h_ref, low[0], prec, spec.floor))
        return wrong

    order_notes: tuple[str, ...] = ()
    if style.gate_order:
        found = _stack_order(style, ours, model.forward(ours), run_forward, forward_bad)
        if found is not None and found is not style:
            if found.gate_order != style.gate_order:
                order_notes = (prose.layer_gate_order(found.gate_order, style.gate_order,
                                                      style.cell),)
            if found.row_order != style.row_order:
                order_notes += (prose.layer_row_order(row_blocks(found.row_order),
                                                      row_blocks(style.row_order)),)
            style = found
            theirs = style.to_theirs(ours)
    if style.optional:  # which gradients they return decides what is differentiated
        answer = grad({n: v.copy() for n, v in theirs.items()})
        fixed = {n: theirs.pop(n) for n in style.optional if n not in answer}
        if fixed:
            order_notes += (prose.layer_left_out([style.arg(n).grad for n in fixed],
                                                 list(fixed)),)
    if spec.method == "difference":
        raise ImplError("--method difference: needs a loss in difference form, which a layer "
                        "function is not; use complex, central, forward or richardson")
    # complex (the default): the literal complex step when their forward accepts complex
    # arrays, else central differences; any other method as asked.
    method = None if spec.method in ("complex", "complex-literal") else spec.method
    step = spec.step
    if prec.reduced:  # their loss rounds: central differences at a step that suits it
        method = "central" if method is None else method
        step = step if step is not None else prec.step
    many = None
    if batched is not None:
        def many(base: dict[str, np.ndarray], accepts_complex: bool) -> BatchedLoss:
            return batched({**fixed, **base}, G_theirs, out_layer, accepts_complex)
    fn = check_function(loss, grad, theirs, method=method, step=step,
                        rtol=spec.rtol_numeric, floor=spec.floor, label=label, batched=many,
                        sample=sample, seed=spec.seed, screen=0 if prec.reduced else
                        SCREEN_DIRECTIONS)
    findings = []
    h_theirs, _ = run_forward({n: v.copy() for n, v in {**fixed, **theirs}.items()})
    h_ours = style.states_to_ours(np.asarray(h_theirs, dtype=np.float64))
    h_ref = model.forward(ours)
    bad = forward_bad(h_ours, h_ref)
    if bad.any():
        i = int(np.argmax(np.where(bad, np.abs(h_ours - h_ref), -1.0)))
        n, t, j = (int(v) for v in np.unravel_index(i, h_ref.shape))
        where = style.states_to_theirs(np.arange(h_ref.size).reshape(h_ref.shape))
        their_index = tuple(int(v) for v in np.argwhere(where == i)[0])
        findings.append(prose.layer_forward_differs(
            style.state_name, their_index, t, int(bad.sum()), h_ref.size,
            float(h_ours[n, t, j]), float(h_ref[n, t, j]),
            **({"equation": model.EQUATION} if style.cell != "rnn" else {})))
    ref_ours, per = model.gradients(ours, G, steps=True)
    ref = Gradients("reference", float(np.sum(G * h_ref)),
                    {n: v for n, v in style.to_theirs(ref_ours).items() if n in theirs})
    yours = fn.yours
    assert yours is not None  # check_function always evaluates their gradient
    checked = [a for a in style.args if a.name in theirs]
    if low is not None:
        ref, fn = _reduced(style, ref, fn, low[1], prec, spec, theirs, h_theirs, G_theirs,
                           step)
    compared = tuple(compare(a.name, yours, ref, spec.rtol_analytic, spec.floor)
                     for a in checked)
    witness = fn.witness
    checks: tuple[PairResult, ...] = ()
    if witness is not None:
        checks = tuple(compare(a.name, ref, witness, spec.rtol_numeric, spec.floor)
                       for a in checked)
    wrong = [c.parameter for c in (*fn.comparisons, *compared) if not c.passed]
    if wrong and yours is not None:
        # With our forward computed, the reference is the truth on every element (the
        # numeric witness may have sampled): causes are measured against it.
        named = _variant(style, ours, G, yours.grads) if style.cell == "rnn" else \
            _gated_variant(style, model, ours, G, yours.grads)
        causes = tuple(generic_causes(yours.grads, ref.grads)) if not findings else fn.causes
        if low is not None:  # in float32 a pattern fitted to 1e-10 names the right ones too
            right = {c.parameter for c in (*fn.comparisons, *compared) if c.passed} - set(wrong)
            causes = tuple(c for c in causes if not set(c.params) & right)
        fn = dataclasses.replace(fn, causes=(named, *causes) if named is not None else causes)
    if extra:
        order_notes += (prose.layer_extra_keys(sorted(extra)),)
    if order_notes:
        fn = dataclasses.replace(fn, notes=(*order_notes, *fn.notes))
    steps: dict[str, tuple[int, ...]] = {}
    gates: tuple[GateVerdict, ...] = ()
    if low is not None:
        how = (f"its arrays come back in {prec.dtype}" if prec.dtype in dtypes else
               f"its arrays come back in {', '.join(sorted(set(dtypes)))}, but its loss "
               f"<G, h> resolves only relative changes of {measured:.0e}")
        widest = _widest(ref)
        fn = dataclasses.replace(fn, notes=(prose.impl_precision(
            prec.describe(), how, max(widest.values(), default=0.0)), *fn.notes))
        blurred = [n for n, w in widest.items() if w > UNRESOLVED]
        if blurred:  # a comparison that cannot fail there is vacuous: never a pass
            findings.append(
                f"precision: at this point {prec.dtype} rounding alone changes the gradient "
                f"of {prose.join_names(blurred)} by more than {UNRESOLVED:.0%} of its scale, "
                f"so a layer in {prec.dtype} cannot be verified here (this is not a bug found "
                "in your code); use a smaller --seq")
        if wrong:
            fn = dataclasses.replace(fn, notes=(*fn.notes, (
                f"not localised in time: per-step gradients in {prec.dtype} are too coarse to "
                "compare step by step")))
    if wrong and per is not None and low is None:
        at_step = _per_step(style, theirs, G, grad)
        steps = _localise(style, at_step, per, list(dict.fromkeys(wrong)), spec)
        if style.cell != "rnn":
            gates = gate_verdicts(style, model, yours.grads, ref_ours, at_step, per, spec)
    return LayerReport(target or label, label, style, sizes, fn, compared, checks,
                       tuple(findings), steps, gates)


def _stack_order(style: Style, ours: dict[str, np.ndarray], h_ref: np.ndarray,
                 run_forward: Callable[[dict[str, np.ndarray]], tuple[np.ndarray, Any]],
                 forward_bad: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Style | None:
    """The order in which their forward reads the stacked gates: ``style`` when it computes
    our h in cs231n's order, else the first other order in which it does (PyTorch stacks
    i, f, g, o), else None (their forward differs in every order: a finding)."""
    def computes(s: Style) -> bool:
        h, _ = run_forward(s.to_theirs(ours))
        h = np.asarray(h)
        if h.shape != s.states_to_theirs(h_ref).shape:
            return False
        got = s.states_to_ours(h.astype(np.float64))
        return not bool(np.any(forward_bad(got, h_ref)))

    if computes(style):
        return style
    for other in style.alternatives():  # each other gate order (and row-block order)
        if computes(other):
            return other
    return None


def _precision(theirs: dict[str, np.ndarray],
               run_forward: Callable[[dict[str, np.ndarray]], tuple[np.ndarray, Any]],
               grad: Callable[..., Any], loss: Callable[[dict[str, np.ndarray]], Any],
               smooth: Callable[[Mapping[str, np.ndarray]], float], seed: int
               ) -> tuple[Precision, float, list[str]]:
    """The least precise of the floating dtypes their forward (h) and backward (every
    gradient) return and of the measured resolution of their loss <G, h>
    (:func:`bpttcheck.precision.resolution`: float32 arithmetic returned as float64 still
    rounds in float32's steps). float32 code is judged with float32's error bars."""
    h, _ = run_forward({n: v.copy() for n, v in theirs.items()})
    got = grad({n: v.copy() for n, v in theirs.items()})
    arrays = [np.asarray(h), *(np.asarray(v) for v in got.values())]
    rng = np.random.default_rng([seed, LAYER_STREAM, 1])
    measured = resolution(lambda p: float(np.real(loss(dict(p)))), theirs, rng, smooth)
    dtypes = [a.dtype.name for a in arrays if a.dtype.kind == "f"]
    return lowest(dtypes, measured), measured, dtypes


def _witness(model: Any, ours: dict[str, np.ndarray], G: np.ndarray, prec: Precision
             ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The rounding witness: our layer's h and gradient computed from inputs, weights and G
    in ``prec`` (returned as float64), as a correct layer in that dtype computes them."""
    kind = np.dtype(prec.dtype).type
    low = {n: np.asarray(v, dtype=kind) for n, v in ours.items()}
    with np.errstate(all="ignore"):  # overflow in a low precision is what bars measure
        h = np.asarray(model.forward(low), dtype=np.float64)
        grads, _ = model.gradients(low, np.asarray(G, dtype=kind))
    return h, {n: np.asarray(v, dtype=np.float64) for n, v in grads.items()}


def _reduced(style: Style, ref: Gradients, fn: FunctionReport, low_ours: dict[str, np.ndarray],
             prec: Precision, spec: Spec, theirs: dict[str, np.ndarray], h_theirs: np.ndarray,
             G_theirs: np.ndarray, step: float | None) -> tuple[Gradients, FunctionReport]:
    """A layer in a reduced precision: the reference gets per-element error bars from the
    witness (:func:`bpttcheck.precision.bars`); the numeric witness's bars are widened by
    the rounding of their loss <G, h> over the step, and yours ↔ numeric compared again."""
    low = style.to_theirs(low_ours)
    noise = {n: bars(g, low[n], prec, spec.floor) for n, g in ref.grads.items()}
    ref = dataclasses.replace(ref, noise=noise)
    witness, yours = fn.witness, fn.yours
    if witness is None or yours is None or step is None:
        return ref, fn
    l1 = float(np.sum(np.abs(G_theirs * np.asarray(h_theirs, dtype=np.float64))))
    rounding = ROUNDING_ULPS * prec.eps * max(1.0, l1)
    # each central difference subtracts two rounded losses, h = step x max(1, |theta|) apart
    widened = {n: np.asarray((witness.noise or {}).get(n, np.zeros_like(g)))
               + rounding / (step * np.maximum(1.0, np.abs(theirs[n])))
               for n, g in witness.grads.items()}
    witness = dataclasses.replace(witness, noise=widened)
    comparisons = tuple(compare(n, yours, witness, spec.rtol_numeric, spec.floor)
                        for n in witness.grads)
    causes = fn.causes if not all(c.passed for c in comparisons) else ()
    return ref, dataclasses.replace(fn, witness=witness, comparisons=comparisons, causes=causes)


def _widest(ref: Gradients) -> dict[str, float]:
    """Per parameter, its widest error bar over its largest gradient (inf: all zero)."""
    out = {}
    for n, g in ref.grads.items():
        top = float(np.abs(g).max(initial=0.0))
        b = (ref.noise or {}).get(n)
        if b is not None:
            widest = float(np.max(b, initial=0.0))
            out[n] = widest / top if top else (float("inf") if widest else 0.0)
    return out


def _per_step(style: Style, theirs: dict[str, np.ndarray], G: np.ndarray,
              grad: Callable[..., Any]) -> list[dict[str, np.ndarray]]:
    """Their dL_t/dtheta for every loss step t: their backward with G kept at step t only."""
    out = []
    for t in range(G.shape[1]):
        only = np.zeros_like(G)
        only[:, t] = G[:, t]
        mine = grad({n: v.copy() for n, v in theirs.items()}, style.states_to_theirs(only))
        out.append({n: np.asarray(v, dtype=np.float64) for n, v in mine.items()})
    return out


def _localise(style: Style, at_step: list[dict[str, np.ndarray]], per: dict[str, np.ndarray],
              wrong: list[str], spec: Spec) -> dict[str, tuple[int, ...]]:
    """Loss steps t whose dL_t/dtheta (their backward with G at step t only) is wrong."""
    out: dict[str, list[int]] = {n: [] for n in wrong}
    for t, mine in enumerate(at_step):
        truth_t = style.to_theirs({n: v[t] for n, v in per.items()})
        for n in wrong:
            truth = truth_t[n]
            got = mine[n]
            if got.shape != truth.shape or np.any(rel_error(got, truth, spec.floor)
                                                  > spec.rtol_analytic):
                out[n].append(t)
    return {n: tuple(v) for n, v in out.items() if v}


def _variant(style: Style, ours: dict[str, np.ndarray], G: np.ndarray,
             theirs: dict[str, np.ndarray]) -> Cause | None:
    """A named bug that reproduces their whole gradient exactly, or None.

    Tried: nothing carried back in time (window 1), truncated BPTT (window w),
    the carried error taken through the recurrent matrix untransposed.
    """
    T = G.shape[1]
    carried = style.args[1].name  # h0 or a0: what a carried error reaches last
    recurrent = style.args[3].name
    tries: list[tuple[dict[str, Any], Cause]] = [
        ({"window": 1}, Cause("no-carry", f"the gradient carried back in time is dropped: each "
                              f"step's error sees only its own upstream gradient (d{carried} "
                              "gets nothing from later steps)", value=1.0))]
    tries += [({"window": w}, Cause("truncated", f"truncated BPTT with a window of {w} steps: "
                                    f"each loss step reaches only {w - 1} steps back",
                                    value=float(w))) for w in range(2, T)]
    tries.append(({"carry_transposed": True}, Cause(
        "carry-transpose", f"the error carried to the previous step goes through {recurrent} "
        f"untransposed ({recurrent} where {recurrent}.T belongs, or the reverse)")))
    for flags, cause in tries:
        v, _ = reference.gradients(ours, G, **flags)
        as_theirs = style.to_theirs(v)
        if all(close(np.asarray(theirs[n], dtype=np.float64), as_theirs[n], DIAG_RTOL)
               for n in as_theirs):
            wrong = tuple(n for n in as_theirs if not close(as_theirs[n], style.to_theirs(
                reference.gradients(ours, G)[0])[n], 1e-10))
            return dataclasses.replace(cause, params=wrong)
    return None


def _gated_variant(style: Style, model: Any, ours: dict[str, np.ndarray], G: np.ndarray,
                    theirs: dict[str, np.ndarray]) -> Cause | None:
    """A named gated bug (:func:`.gates.gated_variants`) that reproduces their whole
    gradient exactly, or None."""
    exact = style.to_theirs(model.gradients(ours, G)[0])
    for variant, cause in gated_variants(style, G.shape[1]):
        v, _ = model.gradients(ours, G, variant=variant)
        as_theirs = style.to_theirs(v)
        if all(close(np.asarray(theirs[n], dtype=np.float64), as_theirs[n], DIAG_RTOL)
               for n in theirs):
            wrong = tuple(n for n in theirs if not close(as_theirs[n], exact[n], 1e-10))
            return dataclasses.replace(cause, params=wrong)
    return None


def _guard(call: Callable[[], Any], label: str, what: str) -> Any:
    try:
        return call()
    except ImplError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's code may raise anything
        raise ImplError(f"{label}: its {what} raised {type(exc).__name__}: {exc}") from None


__all__ = ["COURSERA", "LayerReport", "check_layer", "is_layer_target", "load_pair",
           "partner_name"]
