"""The tutorial's vanilla RNN: parameters, one batch, forward pass and loss.

For t = 0 .. T-1, with x_t the one-hot input and h_{-1} = hprev::

    h_t = tanh(Wxh x_t + Whh h_{t-1} + bh)
    y_t = Why h_t + by
    p_t = softmax(y_t)
    L   = sum_t L_t,   L_t = -log p_t[target_t]

Shapes follow min-char-rnn: Wxh (H, V), Whh (H, H), Why (V, H), bh (H, 1),
by (V, 1), hprev (H, 1). Everything is float64.

The softmax here is shifted by max(y_t), so it never overflows. The tutorial's
``np.exp(ys[t]) / np.sum(np.exp(ys[t]))`` does overflow once a logit passes
about 709 (exp's limit in float64); :attr:`Forward.softmax_overflow` records
when it would have.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .budget import check_memory
from .errors import SpecError
from .prose import plural
from .spec import PARAM_NAMES as PARAM_NAMES  # re-exported: defined NumPy-free in spec
from .spec import Spec
from .tokens import Tokens, from_text, random_tokens, read_text

HIDDEN_PARAMS = ("Wxh", "Whh", "bh")  # parameters that change the hidden states
EXP_LIMIT = math.log(np.finfo(np.float64).max)  # exp(y) overflows above this

Params = Mapping[str, np.ndarray]


@dataclasses.dataclass(frozen=True)
class Batch:
    """One training sequence, as the tutorial's ``lossFun`` takes it, or B of them.

    One sequence: ``inputs`` and ``targets`` are T ints and ``hprev`` is (H, 1).
    A batch of B sequences (spec key ``batch``): ``inputs[t]`` and ``targets[t]``
    are tuples of B ints (step t of every column) and ``hprev`` is (H, B); the
    loss is summed over the batch. Whether it is a batch is read from the data
    (:attr:`width`), so slicing the steps or replacing ``hprev`` keeps it one.
    """

    inputs: tuple[Any, ...]  # ints; a batch: one tuple of B ints per step
    targets: tuple[Any, ...]
    hprev: np.ndarray  # (H, 1); a batch: (H, B)
    cprev: np.ndarray | None = None  # (H, 1): the LSTM's initial cell state; None otherwise

    @property
    def seq(self) -> int:
        return len(self.inputs)

    @property
    def width(self) -> int | None:
        """B, the number of sequences of a batch; None for one sequence (today's lists)."""
        if self.inputs and isinstance(self.inputs[0], tuple):
            return len(self.inputs[0])
        return None

    def columns(self) -> list[Batch]:
        """Each sequence of a batch as a one-sequence Batch (itself when it is one)."""
        if self.width is None:
            return [self]
        return [Batch(tuple(int(x[b]) for x in self.inputs),
                      tuple(int(y[b]) for y in self.targets), self.hprev[:, b:b + 1].copy())
                for b in range(self.width)]

    def given(self) -> tuple[Any, Any]:
        """(inputs, targets) as the user's function gets them: lists of ints, or for a
        batch (T, B) int arrays."""
        if self.width is None:
            return list(self.inputs), list(self.targets)
        return (np.array(self.inputs, dtype=np.int64).reshape(self.seq, self.width),
                np.array(self.targets, dtype=np.int64).reshape(self.seq, self.width))


def batch_of(columns: Sequence[Batch]) -> Batch:
    """B one-sequence Batches (of one length) as one batch: their columns side by side."""
    return Batch(tuple(zip(*(c.inputs for c in columns), strict=True)),
                 tuple(zip(*(c.targets for c in columns), strict=True)),
                 np.hstack([c.hprev for c in columns]))


@dataclasses.dataclass(frozen=True)
class Problem:
    """Everything one gradient check needs: weights, one batch, where they came from."""

    params: dict[str, np.ndarray]
    batch: Batch
    tokens: Tokens
    spec: Spec

    @property
    def hidden(self) -> int:
        return int(self.batch.hprev.shape[0])

    @property
    def cell(self) -> str:
        return self.spec.cell

    @property
    def vocab(self) -> int:
        return int(self.params["Why"].shape[0])

    @property
    def n_params(self) -> int:
        return sum(int(p.size) for p in self.params.values())


@dataclasses.dataclass(frozen=True)
class Forward:
    """The forward pass, one row per time step (row t is step t).

    For a batch of B sequences (:func:`forward_batch`) every per-step array has
    the batch as its second axis, (T, B, H) and so on, ``hprev`` is (B, H), and
    ``losses[t]`` is L_t summed over the batch.
    """

    hs: np.ndarray  # (T, H) hidden states h_t
    pre: np.ndarray  # (T, H) pre-activations a_t, with h_t = tanh(a_t)
    hprev: np.ndarray  # (H,) h_{-1}
    ys: np.ndarray  # (T, V) logits
    ps: np.ndarray  # (T, V) probabilities
    losses: np.ndarray  # (T,) L_t
    softmax_overflow: bool  # the tutorial's unshifted softmax would overflow

    @property
    def loss(self) -> float:
        return float(self.losses.sum())

    @property
    def hlast(self) -> np.ndarray:
        """h_{T-1} as the user's function returns it: (H, 1), or (H, B) for a batch."""
        out: np.ndarray = self.hs[-1].T if self.hs.ndim == 3 else self.hs[-1][:, None]
        return out

    def h_before(self, t: int) -> np.ndarray:
        """h_{t-1}, which is hprev for t = 0."""
        return self.hprev if t == 0 else self.hs[t - 1]

    @property
    def hs_before(self) -> np.ndarray:
        """(T, H): row t is h_{t-1}, what Whh multiplies at step t."""
        before: np.ndarray = np.vstack([self.hprev[None, :], self.hs[:-1]])
        return before


def init_params(hidden: int, vocab: int, scale: float, rng: np.random.Generator) -> dict[
    str, np.ndarray
]:
    """Weights ``scale * randn`` drawn in the tutorial's order, biases zero."""
    return {
        "Wxh": rng.standard_normal((hidden, vocab)) * scale,  # input to hidden
        "Whh": rng.standard_normal((hidden, hidden)) * scale,  # hidden to hidden
        "Why": rng.standard_normal((vocab, hidden)) * scale,  # hidden to output
        "bh": np.zeros((hidden, 1)),
        "by": np.zeros((vocab, 1)),
    }


def build(spec: Spec) -> Problem:
    """Make the weights, the sequence and hprev that ``spec`` describes.

    Draw order from the one generator: tokens (random vocab), weights, hprev
    (when random), biases (when ``bias_scale`` > 0), so that a spec without
    biases gives the same numbers as before the key existed. A text with one
    distinct character is refused: the softmax over one symbol is 1, every
    gradient is exactly zero and no check could fail.
    """
    if spec.batch is not None and spec.cell != "vanilla":
        raise SpecError(f"--batch: batches are checked for the vanilla cell only (--cell "
                        f"{spec.cell} checks one sequence)")
    rng = np.random.default_rng(spec.seed)
    width = spec.batch or 1
    if spec.vocab is not None:
        columns = [random_tokens(spec.vocab, spec.seq, rng) for _ in range(width)]
    else:  # a batch: B consecutive windows of the text, column b at offset + b * seq
        text, label = read_text(spec.data)
        columns = [from_text(text, label, spec.seq, spec.offset + b * spec.seq)
                   for b in range(width)]
    tokens = columns[0]
    if tokens.vocab_size < 2:  # a softmax over one symbol is 1: every gradient is exactly 0
        where = f"--data {tokens.source}: the text has" if spec.vocab is None else "--vocab:"
        raise SpecError(f"{where} {plural(tokens.vocab_size, 'distinct symbol')}: every "
                        "gradient is exactly zero, nothing to check (use at least two distinct "
                        "symbols)")
    if not spec.biases and spec.cell != "vanilla":
        raise SpecError(f"biases = false: only the vanilla cell can be bias-free (--cell "
                        f"{spec.cell} has gate biases)")
    if not spec.biases and spec.bias_scale > 0:
        raise SpecError("bias_scale: a bias-free model (biases = false) has no biases to draw; "
                        "leave bias_scale at 0")
    if spec.cell != "vanilla":
        return _build_gated(spec, tokens, rng)
    check_memory(spec.hidden, tokens.vocab_size, spec.seq)  # per column: engines run each alone
    params = init_params(spec.hidden, tokens.vocab_size, spec.init_scale, rng)
    if spec.hprev == "random":
        # A plausible hidden state: standard normals squashed into (-1, 1) by tanh.
        hprev = np.tanh(rng.standard_normal((spec.hidden, width)))
    else:
        hprev = np.zeros((spec.hidden, width))
    if spec.bias_scale > 0:
        params["bh"] = rng.standard_normal((spec.hidden, 1)) * spec.bias_scale
        params["by"] = rng.standard_normal((tokens.vocab_size, 1)) * spec.bias_scale
    if not spec.biases:  # a bias-free model: bh and by are not parameters at all
        del params["bh"], params["by"]
    if spec.batch is None:
        batch = Batch(tokens.inputs, tokens.targets, hprev)
    else:  # the loss is summed over the B columns
        batch = batch_of([Batch(c.inputs, c.targets, hprev[:, b:b + 1])
                          for b, c in enumerate(columns)])
    return Problem(params, batch, tokens, spec)


BIAS_NAMES = ("bh", "by")


def with_biases(params: Params) -> dict[str, np.ndarray]:
    """``params`` with zero biases added where a bias-free model has none.

    A model without biases is the model with bh = by = 0 held fixed, so every
    engine runs on this and the gradients of bh and by are then dropped
    (:func:`bpttcheck.checker.run`).
    """
    out = dict(params)
    H, V = params["Whh"].shape[0], params["Why"].shape[0]
    out.setdefault("bh", np.zeros((H, 1)))
    out.setdefault("by", np.zeros((V, 1)))
    return out


def _build_gated(spec: Spec, tokens: Tokens, rng: np.random.Generator) -> Problem:
    """An LSTM's or GRU's weights (bpttcheck.cells), hprev and, for the LSTM, cprev.

    ``hprev = "random"`` makes both initial states random: hprev as for the
    vanilla cell, cprev standard normals (a cell state is not squashed).
    ``bias_scale`` > 0 draws every bias (bf bi bc bo by, or bz br bn by) after them.
    """
    from . import cells

    cell = cells.get(spec.cell)
    cells.check_memory(cell, spec.hidden, tokens.vocab_size, spec.seq)
    params = cell.init_params(spec.hidden, tokens.vocab_size, spec.init_scale, rng)
    shape = (spec.hidden, 1)
    random = spec.hprev == "random"
    hprev = np.tanh(rng.standard_normal(shape)) if random else np.zeros(shape)
    cprev = None
    if "cprev" in cell.states:
        cprev = rng.standard_normal(shape) if random else np.zeros(shape)
    if spec.bias_scale > 0:  # as for the vanilla cell: every bias, in the cell's order
        for name in cell.params:
            if name.startswith("b"):
                params[name] = rng.standard_normal(params[name].shape) * spec.bias_scale
    return Problem(params, Batch(tokens.inputs, tokens.targets, hprev, cprev), tokens, spec)


SECOND_SEED = 7919  # added to the spec's seed for the second point (any other seed would do)
SECOND_BIAS_SCALE = 0.1  # biases at the second point, unless the spec's are larger


def second_point(spec: Spec) -> Spec:
    """Another point at which to check user code: other weights, non-zero biases, random hprev.

    At the spec's own point the tutorial's biases are zero and hprev often is
    too, so a forward pass that drops ``+ by`` or ignores hprev computes the
    right loss and gradient there. Here every term of the model matters. (A
    model without biases would skip them; this one always has both.)
    """
    scale = max(spec.bias_scale, SECOND_BIAS_SCALE, spec.init_scale) if spec.biases else 0.0
    return dataclasses.replace(spec, seed=spec.seed + SECOND_SEED, hprev="random",
                               bias_scale=scale)


def logsumexp(ys: np.ndarray) -> np.ndarray:
    """log(sum(exp(y))) over the last axis, shifted by the max so it cannot overflow."""
    m = ys.max(axis=-1, keepdims=True)
    out: np.ndarray = np.log(np.exp(ys - m).sum(axis=-1)) + m[..., 0]
    return out


def softmax_would_overflow(y: np.ndarray) -> bool:
    """Would ``np.exp(y) / np.sum(np.exp(y))`` (the tutorial's softmax) overflow on logits y?

    exp overflows above EXP_LIMIT (about 709.78); the sum of V terms can overflow
    from EXP_LIMIT - log(V) on.
    """
    return y.size > 0 and float(np.max(y)) > EXP_LIMIT - math.log(y.size)


def forward(params: Params, batch: Batch) -> Forward:
    """Run the RNN over the sequence and return states, probabilities and losses."""
    if batch.width is not None:
        return forward_batch(params, batch)
    inputs, targets, hprev = batch.inputs, batch.targets, batch.hprev
    Wxh, Whh, Why = params["Wxh"], params["Whh"], params["Why"]
    bh = params["bh"][:, 0] if "bh" in params else 0.0  # a bias-free model: no bh, no by
    by = params["by"][:, 0] if "by" in params else 0.0
    T, H = len(inputs), Whh.shape[0]
    hs, pre = np.empty((T, H)), np.empty((T, H))
    h = hprev[:, 0]
    for t in range(T):
        pre[t] = Wxh[:, inputs[t]] + Whh @ h + bh  # W_xh x_t is column inputs[t]
        h = hs[t] = np.tanh(pre[t])
    ys = hs @ Why.T + by  # logits, all steps at once
    lse = logsumexp(ys)
    ps = np.exp(ys - lse[:, None])  # stable softmax
    losses = lse - ys[np.arange(T), list(targets)]  # -log p_t[target_t]
    overflow = any(softmax_would_overflow(y) for y in ys)
    return Forward(hs, pre, hprev[:, 0].copy(), ys, ps, losses, overflow)


def loss(params: Params, batch: Batch) -> float:
    """The summed cross-entropy loss L."""
    return forward(params, batch).loss


def forward_batch(params: Params, batch: Batch) -> Forward:
    """The forward pass of a batch, all B columns at once (written apart from :func:`forward`).

    Column b is its own sequence from hprev[:, b]; the loss is summed over the batch::

        h_t = tanh(Wxh x_t + Whh h_{t-1} + bh)      (H, B): column b is sequence b
        L   = sum_t sum_b -log softmax(Why h_t + by)[target_t[b], b]

    Arrays are stored (T, B, H) and (T, B, V). Works on complex parameters too
    (the literal complex step of :mod:`bpttcheck.engines.batched`): the softmax
    is shifted by the real part of the largest logit.
    """
    X, Y = batch.given()
    Wxh, Whh, Why = params["Wxh"], params["Whh"], params["Why"]
    bh = params["bh"][:, 0] if "bh" in params else 0.0  # a bias-free model: no bh, no by
    by = params["by"][:, 0] if "by" in params else 0.0
    T, B, H = X.shape[0], X.shape[1], Whh.shape[0]
    dtype = np.result_type(Wxh, Whh, Why, batch.hprev, *(p for p in (bh, by)
                                                          if isinstance(p, np.ndarray)))
    hs, pre = np.empty((T, B, H), dtype=dtype), np.empty((T, B, H), dtype=dtype)
    h = batch.hprev.T  # (B, H): row b is column b's h_{-1}
    for t in range(T):
        pre[t] = Wxh[:, X[t]].T + h @ Whh.T + bh  # W_xh x_t: column X[t, b] for row b
        h = hs[t] = np.tanh(pre[t])
    ys = hs @ Why.T + by  # (T, B, V) logits
    m = ys.real.max(axis=-1, keepdims=True)  # a real shift: exp cannot overflow
    lse = np.log(np.exp(ys - m).sum(axis=-1)) + m[..., 0]  # (T, B) log-sum-exp
    ps = np.exp(ys - lse[..., None])  # stable softmax
    picked = np.take_along_axis(ys, Y[..., None], axis=-1)[..., 0]  # y_t[target_t[b], b]
    losses = (lse - picked).sum(axis=1)  # (T,) L_t summed over the batch
    overflow = bool(np.isrealobj(ys)) and any(softmax_would_overflow(y) for y in ys.reshape(
        T * B, -1))
    return Forward(hs, pre, batch.hprev.T.copy(), ys, ps, losses, overflow)


def tempered_loss(fw: Forward, targets: tuple[Any, ...], tau: float) -> float:
    """The loss of logits ``fw.ys / tau`` (a softmax temperature), one sequence or a batch."""
    ys = fw.ys / tau
    picked = np.take_along_axis(ys, np.asarray(targets, dtype=np.intp).reshape(
        ys.shape[:-1])[..., None], axis=-1)[..., 0]
    return float((logsumexp(ys) - picked).sum())
