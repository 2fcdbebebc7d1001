"""A gated layer's wrong gradient, gate by gate: which gate's parameters, where in time, why.

Their gradient is brought to our layout (:meth:`.styles.Style.to_ours`: a cs231n
stacked dWx is cut into our dWf, dWi, dWc, dWo by its own column offsets) and
compared, per gate q (f, i, g, o: our Wq and bq), with the explicit double sum
of :mod:`.lstm_reference`:

- **which gate**: the gates whose dWq or dbq differ beyond ``rtol_analytic``;
- **where in time**: the loss steps t whose own gradient dL_t/dtheta (their
  backward called with G kept at step t only) differs for that gate, and so the
  first and the last;
- **why**, when it can be measured: :func:`gated_variants` lists the sums that
  known bugs compute instead (``dnext_c`` not carried back, tanh'(c) forgotten,
  the forget gate's derivative against c_t, the output gate's against c, the
  stacked blocks in another order, a truncated or absent carry); a gradient
  that equals one of them exactly (to :data:`bpttcheck.diagnose.DIAG_RTOL`,
  norm-wise, on every parameter) is that bug, measured, not guessed.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import prose
from ..compare import rel_error
from ..diagnose import Cause
from ..spec import Spec
from . import gru_reference
from .lstm_reference import GATE_LABEL as LSTM_LABEL
from .lstm_reference import Variant
from .styles import CS231N_GATES, Stacked, Style


@dataclasses.dataclass(frozen=True)
class GateVerdict:
    """One gate of a gated layer: its parameters (ours), which are wrong, and when."""

    gate: str  # "f", "i", "g", "o"
    params: tuple[str, ...]  # ours: ("Wf", "bf")
    wrong: tuple[str, ...]  # those of params whose gradient differs
    steps: tuple[int, ...]  # loss steps t at which any of them differs
    worst: str = ""  # their worst element, as they name it: "dWx[3, 7]"
    worst_ours: str = ""  # the same element as ours: "dWf[7, 11]"
    worst_error: float = 0.0

    @property
    def label(self) -> str:
        return {**LSTM_LABEL, **gru_reference.GATE_LABEL}[self.gate]

    def to_dict(self) -> dict[str, Any]:
        return {"gate": self.gate, "label": self.label, "params": list(self.params),
                "wrong": list(self.wrong), "loss_steps": list(self.steps),
                "first_step": self.steps[0] if self.steps else None,
                "last_step": self.steps[-1] if self.steps else None,
                "worst": self.worst or None, "worst_ours": self.worst_ours or None,
                "worst_rel_error": self.worst_error}


def _differs(got: np.ndarray, truth: np.ndarray, spec: Spec) -> np.ndarray:
    if got.shape != truth.shape:
        return np.ones(truth.shape, dtype=bool)
    out: np.ndarray = rel_error(got, truth, spec.floor) > spec.rtol_analytic
    return out


def their_index(style: Style, ours: Mapping[str, np.ndarray], name: str,
                index: tuple[int, ...]) -> tuple[str, tuple[int, ...]]:
    """Our element ``name[index]`` as theirs: (their array, their index)."""
    ids: dict[str, np.ndarray] = {}
    start = 0
    for n, v in ours.items():
        ids[n] = np.arange(start, start + v.size, dtype=np.float64).reshape(v.shape)
        start += v.size
    wanted = ids[name][index]
    for a_name, arr in style.to_theirs(ids).items():
        hit = np.argwhere(arr == wanted)
        if len(hit):
            return a_name, tuple(int(i) for i in hit[0])
    raise KeyError(f"{name}{list(index)} is none of the style's arrays")  # pragma: no cover


def gate_verdicts(style: Style, model: Any, yours: Mapping[str, np.ndarray],
                  truth: Mapping[str, np.ndarray], at_step: list[dict[str, np.ndarray]],
                  per: Mapping[str, np.ndarray], spec: Spec) -> tuple[GateVerdict, ...]:
    """Each gate's verdict: ``yours`` and ``at_step`` in their layout, ``truth`` and ``per``
    (the reference's total and per-loss-step gradients) in ours; ``model`` the cell's
    reference module (its GATES, WEIGHT and BIAS)."""
    mine = style.to_ours(yours)
    mine_at = [style.to_ours(g) for g in at_step]
    out = []
    for q in model.GATES:
        params = tuple(n for n in (model.WEIGHT[q], model.BIAS[q]) if n in mine)  # no bq: 0
        bad = {n: _differs(mine[n], truth[n], spec) for n in params}
        wrong = tuple(n for n in params if bad[n].any())
        steps = tuple(t for t, g in enumerate(mine_at)
                      if any(_differs(g[n], per[n][t], spec).any() for n in params))
        worst = worst_ours = ""
        error = 0.0
        for n in wrong:
            errs = rel_error(mine[n], truth[n], spec.floor)
            i = tuple(int(v) for v in np.unravel_index(int(np.argmax(errs)), errs.shape))
            if float(errs[i]) > error:
                error = float(errs[i])
                a_name, a_index = their_index(style, truth, n, i)
                worst = "d" + prose.format_index(a_name, a_index)
                worst_ours = "d" + prose.format_index(n, i)
        out.append(GateVerdict(q, params, wrong, steps, worst, worst_ours, error))
    return tuple(out)


def gated_variants(style: Style, T: int) -> list[tuple[Any, Cause]]:
    """The sums known bugs compute, each with the cause it names, most common first."""
    if style.cell == "gru":
        return _gru_variants(style, T)
    tries: list[tuple[Any, Cause]] = [
        (Variant(carry_c=False), Cause("lstm-no-c-carry", prose.gated_cause_no_c_carry())),
        (Variant(carry_f=False), Cause("lstm-c-carry-without-f",
                                       prose.gated_cause_carry_without_f())),
        (Variant(tanh_prime=False), Cause("lstm-no-tanh-prime",
                                          prose.gated_cause_no_tanh_prime())),
        (Variant(forget_state="c_t"), Cause("lstm-forget-against-c-t",
                                            prose.gated_cause_forget_against_c_t())),
        (Variant(output_on_c=True), Cause("lstm-output-on-c", prose.gated_cause_output_on_c())),
        (Variant(window=1), Cause("no-carry", prose.gated_cause_no_carry(), value=1.0)),
    ]
    tries += [(Variant(window=w), Cause("truncated", prose.gated_cause_truncated(w),
                                        value=float(w))) for w in range(2, T)]
    stacked = [a for a in style.args if isinstance(a, Stacked)]
    if stacked:  # the blocks of a stacked gradient in another order than the forward's
        slots = stacked[0].gates
        for order in itertools.permutations(slots):
            if order == slots:
                continue
            # their backward puts gate order[s]'s gradient in the columns of gate slots[s]
            pair = tuple((q, s) for q, s in zip(order, slots, strict=True) if q != s)
            tries.append((Variant(pair=pair), Cause(
                "lstm-stack-order", prose.gated_cause_stack_order(order, slots, pair))))
    return tries


def _gru_variants(style: Style, T: int) -> list[tuple[Any, Cause]]:
    G = gru_reference.Variant
    tries: list[tuple[Any, Cause]] = [
        (G(flip_u=True), Cause("gru-flipped-update", prose.gated_cause_gru_flipped())),
        (G(reset_grad=False), Cause("gru-no-reset-grad", prose.gated_cause_gru_no_reset())),
        (G(window=1), Cause("no-carry", prose.gated_cause_no_carry_gru(), value=1.0)),
    ]
    tries += [(G(window=w), Cause("truncated", prose.gated_cause_truncated(w), value=float(w)))
              for w in range(2, T)]
    return tries


__all__ = ["CS231N_GATES", "GateVerdict", "gate_verdicts", "gated_variants", "their_index"]
