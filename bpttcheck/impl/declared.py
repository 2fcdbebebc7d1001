"""The declared model a user's loss function is checked against, one per ``--cell``.

:func:`bpttcheck.impl.check.check_impl` never names a cell: it asks a
:class:`Declared` for the parameter names, the forward pass (the loss, the
per-step losses, the last states), the reference gradient, the tutorial's
gradient, each loss step's share of the gradient (for localising a wrong
gradient in time), the model computed in a lower precision (the rounding
witness) and the states a loss function takes. The vanilla cell's entry is
:mod:`bpttcheck.model` and :mod:`bpttcheck.engines`, exactly as before; the
gated cells' come from :mod:`bpttcheck.cells` and
:mod:`bpttcheck.gated_variants`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engines.base import Gradients, Options
from ..model import PARAM_NAMES, Batch, Params
from ..precision import Witness

# Spellings recognised without --impl-names (their name -> ours), per cell. The first is
# bpttcheck's own; for each weight the code's own spelling is found among these.
CONVENTIONS: dict[str, tuple[dict[str, str], ...]] = {
    "vanilla": (
        {"Wxh": "Wxh", "Whh": "Whh", "Why": "Why", "bh": "bh", "by": "by"},
        {"U": "Wxh", "W": "Whh", "V": "Why", "b": "bh", "c": "by"},  # Goodfellow et al., ch. 10
    ),
    "lstm": (
        {"Wf": "Wf", "Wi": "Wi", "Wc": "Wc", "Wo": "Wo", "bf": "bf", "bi": "bi", "bc": "bc",
         "bo": "bo", "Why": "Why", "by": "by"},
        {"Wg": "Wc", "bg": "bc", "Wy": "Why"},  # candidate as g; output Wy
        {"Wa": "Wc", "ba": "bc", "V": "Why", "c": "by"},
        {"W_f": "Wf", "W_i": "Wi", "W_c": "Wc", "W_o": "Wo", "b_f": "bf", "b_i": "bi",
         "b_c": "bc", "b_o": "bo", "W_y": "Why", "b_y": "by"},
    ),
    "gru": (
        {"Wz": "Wz", "Wr": "Wr", "Wn": "Wn", "bz": "bz", "br": "br", "bn": "bn", "Why": "Why",
         "by": "by"},
        {"Wh": "Wn", "bh": "bn", "Wy": "Why"},  # candidate as h~
        {"Wu": "Wz", "bu": "bz", "Wc": "Wn", "bc": "bn", "V": "Why", "c": "by"},
        {"W_z": "Wz", "W_r": "Wr", "W_h": "Wn", "b_z": "bz", "b_r": "br", "b_h": "bn",
         "W_y": "Why", "b_y": "by"},
    ),
}


@dataclasses.dataclass(frozen=True)
class Declared:
    """One cell as the check of user code sees it (see module docstring)."""

    cell: str
    params: tuple[str, ...]
    states: tuple[str, ...]  # the initial states a loss function takes: hprev (, cprev)
    forward: Callable[[Params, Batch], Any]  # .loss, .losses (T,), .ys (T, V), .hs (T, H)
    reference: Callable[[Params, Batch, Options], Gradients]
    tutorial: Callable[[Params, Batch, Options], Gradients]
    per_step: Callable[[Params, Batch], dict[str, np.ndarray]]  # [name][t] = dL_t/dtheta
    witness: Callable[[Params, Batch, str], Witness]  # the model computed in a dtype

    @property
    def conventions(self) -> tuple[dict[str, str], ...]:
        return CONVENTIONS[self.cell]

    def loss(self, params: Params, batch: Batch) -> float:
        return float(self.forward(params, batch).loss)

    def last_states(self, params: Params, batch: Batch) -> dict[str, np.ndarray]:
        """hlast (and clast): the (H, 1) states after the last step."""
        fw = self.forward(params, batch)
        out = {"hlast": np.asarray(fw.hs[-1])[:, None]}
        if "cprev" in self.states:
            out["clast"] = np.asarray(fw.cs[-1])[:, None]
        return out


def _vanilla() -> Declared:
    from ..diagnose import per_step
    from ..engines import reference, tutorial
    from ..model import forward
    from ..precision import model_in

    return Declared("vanilla", PARAM_NAMES, ("hprev",), forward, reference.gradients,
                    tutorial.gradients, per_step, model_in)


def _gated(name: str) -> Declared:
    from .. import cells
    from ..gated_variants import walk

    cell = cells.get(name)

    def per_step(params: Params, batch: Batch) -> dict[str, np.ndarray]:
        """dL_t/dtheta as the difference of the gradients over the first t+1 and t steps."""
        out = {n: np.zeros((batch.seq, *p.shape)) for n, p in params.items()}
        before = {n: np.zeros_like(p) for n, p in params.items()}
        for m in range(1, batch.seq + 1):
            part = dataclasses.replace(batch, inputs=batch.inputs[:m], targets=batch.targets[:m])
            now = cell.tutorial(params, part, Options()).grads
            for n in params:
                out[n][m - 1] = now[n] - before[n]
            before = now
        return out

    def witness(params: Params, batch: Batch, dtype: str) -> Witness:
        return walk(name, params, batch, dtype)

    return Declared(name, cell.params, cell.states, cell.forward, cell.reference,
                    cell.tutorial, per_step, witness)


def declared(cell: str = "vanilla") -> Declared:
    """The declared model for ``--cell`` (vanilla, lstm, gru)."""
    return _vanilla() if cell == "vanilla" else _gated(cell)


def cell_params(cell: str) -> tuple[str, ...]:
    """A cell's parameter names, without loading its engines."""
    from ..spec import CELL_PARAM_NAMES

    return CELL_PARAM_NAMES[cell]
