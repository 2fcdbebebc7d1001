"""Gated cells (LSTM, GRU): their parameters, forward passes and gradient engines, by name.

Each cell module (:mod:`.lstm`, :mod:`.gru`) holds the equations and forward
passes; ``<cell>_tutorial`` and ``<cell>_reference`` hold its two hand-written
backward passes; :mod:`.numeric` differentiates its forward pass by complex
step. :data:`CELLS` maps ``--cell`` to a :class:`Cell` holding all of them, so
the checker dispatches on one name. The vanilla cell is not here: it is
:mod:`bpttcheck.model` and :mod:`bpttcheck.engines`, unchanged.
"""

from __future__ import annotations

import dataclasses
from types import ModuleType
from typing import Any, cast

import numpy as np

from ..budget import BYTES, MAX_SECONDS, PARAM_COPIES, _duration, available_bytes, human
from ..budget import reference_seconds as _vanilla_reference_seconds
from ..engines.base import Engine
from ..errors import SpecError
from . import gru, gru_reference, gru_tutorial, lstm, lstm_reference, lstm_tutorial, numeric


@dataclasses.dataclass(frozen=True)
class Cell:
    """One gated cell: its names, its model module and its three engines."""

    name: str
    model: ModuleType  # init_params, forward, complex_losses, perturbed_losses, start_steps
    tutorial: Engine
    reference: Engine
    gates: int  # weight matrices H x (H + V)

    @property
    def params(self) -> tuple[str, ...]:
        names: tuple[str, ...] = self.model.PARAMS
        return names

    @property
    def states(self) -> tuple[str, ...]:
        names: tuple[str, ...] = self.model.STATES
        return names

    def forward(self, params: Any, batch: Any) -> Any:
        return self.model.forward(params, batch)

    def complex_loss(self, params: Any, batch: Any) -> complex:
        value: complex = self.model.complex_loss(params, batch)
        return value

    def complex_losses(self, params: Any, batch: Any) -> np.ndarray:
        out: np.ndarray = self.model.complex_losses(params, batch)
        return out

    def perturbed_losses(self, *args: Any) -> tuple[np.ndarray, np.ndarray]:
        out: tuple[np.ndarray, np.ndarray] = self.model.perturbed_losses(*args)
        return out

    def start_steps(self, *args: Any) -> np.ndarray:
        out: np.ndarray = self.model.start_steps(*args)
        return out

    def init_params(self, hidden: int, vocab: int, scale: float,
                    rng: np.random.Generator) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = self.model.init_params(hidden, vocab, scale, rng)
        return out

    def n_params(self, hidden: int, vocab: int) -> int:
        return self.gates * hidden * (hidden + vocab + 1) + vocab * hidden + vocab

    @property
    def engines(self) -> dict[str, Engine]:
        engines = {"tutorial": numeric.single_threaded(self.tutorial),
                   "reference": numeric.single_threaded(self.reference),
                   "numeric": numeric.engine(self)}
        return cast(dict[str, Engine], engines)


CELLS: dict[str, Cell] = {
    "lstm": Cell("lstm", lstm, lstm_tutorial.gradients, lstm_reference.gradients, gates=4),
    "gru": Cell("gru", gru, gru_tutorial.gradients, gru_reference.gradients, gates=3),
}


def get(name: str) -> Cell:
    try:
        return CELLS[name]
    except KeyError:
        raise SpecError(f"--cell: expected one of vanilla, {', '.join(CELLS)}, got {name!r}"
                        ) from None


def check_memory(cell: Cell, hidden: int, vocab: int, seq: int,
                 limit: int | None = None) -> None:
    """Refuse a gated check that would not fit in memory (as budget.check_memory for vanilla).

    Besides the parameter copies, the reference engine holds one state Jacobian per
    step: T (2H)^2 numbers for the LSTM, T H^2 for the GRU.
    """
    n = cell.n_params(hidden, vocab)
    side = hidden * len(cell.states)
    need = BYTES * (PARAM_COPIES * n + seq * side * side + 2 * seq * (8 * hidden + 3 * vocab))
    limit = available_bytes() if limit is None else limit
    if need > limit:
        raise SpecError(
            f"--cell {cell.name}, hidden {hidden}, vocab {vocab}, seq {seq}: a check needs about "
            f"{human(need)} of memory ({n} parameters), more than the {human(limit)} "
            "bpttcheck allows itself here; use a smaller --hidden, --vocab or --seq")


def reference_seconds(cell: Cell, hidden: int, seq: int) -> float:
    """Rough seconds of the gated reference engine's double loop.

    Each (t, k) term costs about what a vanilla term of twice the hidden size does
    (a 2H state for the LSTM; the GRU's full H x H reset-gate block), times the
    gate count over two for the outer products into every gate's weights.
    """
    return _vanilla_reference_seconds(2 * hidden, seq) * max(1.0, cell.gates / 2)


def check_reference_time(cell: Cell, hidden: int, seq: int,
                         limit: float = MAX_SECONDS) -> None:
    """Refuse (SpecError) a reference double sum expected to take longer than ``limit``."""
    seconds = reference_seconds(cell, hidden, seq)
    if seconds > limit:
        terms = seq * (seq + 1) // 2
        raise SpecError(
            f"--cell {cell.name}, seq {seq}, hidden {hidden}: the reference engine's double sum "
            f"has {terms:.2g} (t, k) terms, about {_duration(seconds)} here, more than the "
            f"{_duration(limit)} bpttcheck allows; use a smaller --seq, or `bpttcheck numeric`, "
            "which skips the reference engine")


__all__ = ["CELLS", "Cell", "check_memory", "check_reference_time", "get"]
