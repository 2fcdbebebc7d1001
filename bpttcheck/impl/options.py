"""How to call the user's code (the ``--impl-*`` flags) and what one call returns."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ImplError
from ..findings import Finding
from ..model import PARAM_NAMES
from ..spec import ALL_PARAM_NAMES, CELL_PARAM_NAMES
from .returns import our_name

DEFAULT_TIMEOUT = 60.0  # seconds per call: min-char-rnn at H=100, T=25 takes milliseconds
# Elements per parameter differentiated through the user's function: four calls
# each, and one call of min-char-rnn at H=100, T=25 takes milliseconds, so 20
# keeps the default check to a few seconds. When the loss matches the spec's,
# every element is compared with the reference BPTT as well.
SAMPLE = 20
# Sizes --impl-names may map a name of the user's to (``M=vocab,B=batch``).
SIZE_KEYS = ("hidden", "vocab", "seq", "batch")


@dataclasses.dataclass(frozen=True)
class ImplOptions:
    """How to call the user's code (the ``--impl-*`` flags)."""

    names: Mapping[str, str] = dataclasses.field(default_factory=dict)  # theirs -> ours
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # --impl-set NAME=VALUE
    order: tuple[str, ...] | None = None  # our names, in the order their tuple returns them
    factory: str | None = None  # NAME of a function in the same file that builds the instance
    timeout: float = DEFAULT_TIMEOUT
    sample: int | None = SAMPLE  # elements per parameter for the numeric check (None: all)
    cell: str = "vanilla"  # the declared model's cell (set from the spec by the check)


@dataclasses.dataclass(frozen=True)
class Result:
    """One call: the loss and the gradients under bpttcheck's names."""

    loss: float
    grads: dict[str, np.ndarray]
    hlast: Any
    findings: tuple[Finding, ...] = ()  # mutations of the arguments seen in this call
    notes: tuple[str, ...] = ()
    dtypes: tuple[str, ...] = ()  # floating dtypes of the returned gradients
    extras: dict[str, Any] = dataclasses.field(default_factory=dict)  # a dict's other keys
    returns_loss: bool = True  # False: gradients alone (the loss is then NaN; .gradient_only)


def parse_names(text: str | None) -> dict[str, str]:
    """``U=Wxh,M=vocab`` -> {"U": "Wxh", "M": "vocab"} (their name = a weight or a size)."""
    out: dict[str, str] = {}
    if not text:
        return out
    for part in text.split(","):
        theirs, sep, ours = (s.strip() for s in part.partition("="))
        if not sep or not theirs.isidentifier() or ours not in (*ALL_PARAM_NAMES, *SIZE_KEYS):
            raise ImplError(f"--impl-names: expected THEIRS=OURS pairs with OURS a weight "
                            f"({', '.join(PARAM_NAMES)}; gated cells: "
                            f"{', '.join(n for n in ALL_PARAM_NAMES if n not in PARAM_NAMES)}) "
                            f"or a size ({', '.join(SIZE_KEYS)}), got {part.strip()!r}")
        out[theirs] = ours
    return out


def weight_names(names: Mapping[str, str]) -> dict[str, str]:
    """The weight pairs of ``--impl-names`` (theirs -> ours)."""
    return {t: o for t, o in names.items() if o in ALL_PARAM_NAMES}


def size_names(names: Mapping[str, str]) -> dict[str, str]:
    """The size pairs of ``--impl-names`` (theirs -> hidden, vocab, seq or batch)."""
    return {t: o for t, o in names.items() if o in SIZE_KEYS}


def parse_values(pairs: Sequence[str] | None) -> dict[str, Any]:
    """``--impl-set NAME=VALUE`` (repeatable): a Python literal, or else the text as a string."""
    out: dict[str, Any] = {}
    for pair in pairs or ():
        name, sep, raw = (s.strip() for s in pair.partition("="))
        if not sep or not name.isidentifier() or not raw:
            raise ImplError(f"--impl-set: expected NAME=VALUE, got {pair!r}")
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = raw
        out[name] = value
    return out


def parse_order(text: str | None, names: Mapping[str, str],
                cell: str | None = None) -> tuple[str, ...] | None:
    """``dWhh,dWxh,...`` (ours or theirs, with or without ``d``) -> our names.

    ``cell`` None: the cell whose parameters the list names (vanilla if none fits, for the
    message); the check refuses an order that is not its cell's (:func:`check_order`).
    """
    if not text:
        return None
    raws = [s.strip() for s in text.split(",")]
    if cell is None:
        cell = next((c for c, ps in CELL_PARAM_NAMES.items()
                     if all(our_name(r, _spellings(c, names), ps) is not None for r in raws)),
                    "vanilla")
    params = CELL_PARAM_NAMES[cell]
    out = []
    names = _spellings(cell, names)
    for raw in raws:
        ours = our_name(raw, names, params)
        if ours is None:
            raise ImplError(f"--impl-order: unknown gradient {raw!r}; expected each of "
                            f"{', '.join('d' + n for n in params)} once")
        out.append(ours)
    if cell == "vanilla" and len(out) == 3 and sorted(out) == sorted(params[:3]):
        return tuple(out)  # a bias-free model's three (--no-biases)
    check_order(tuple(out), params, text)
    return tuple(out)


def _spellings(cell: str, names: Mapping[str, str]) -> dict[str, str]:
    """Every name --impl-order may use for ``cell``'s weights (theirs -> ours): those of
    the cell's recognised conventions (``Wg``, ``Wy`` for the LSTM; U/W/V/b/c for the
    vanilla cell), then the weights of --impl-names, which take precedence."""
    from .declared import CONVENTIONS

    out = {t: o for convention in CONVENTIONS[cell] for t, o in convention.items()}
    return {**out, **weight_names(names)}


def check_order(order: tuple[str, ...], params: tuple[str, ...], text: str | None = None
                ) -> None:
    """Refuse an --impl-order that does not name each of ``params`` exactly once."""
    if sorted(order) != sorted(params):
        given = text if text is not None else ",".join("d" + n for n in order)
        raise ImplError(f"--impl-order: expected each of {', '.join('d' + n for n in params)}"
                        f" exactly once, got {given!r}")


