"""The user's function as an engine: the public names of the impl package, in one place.

The pieces live in their own modules: :mod:`.options` (the ``--impl-*`` flags,
one call's :class:`Result`), :mod:`.forms` (the three calling conventions,
:class:`UserCode`), :mod:`.returns` (return unpacking), :mod:`.hygiene`
(mutations, nondeterminism, non-finite values) and :mod:`.runner` (the child
process). This module re-exports them and turns a call into the ``impl``
engine's :class:`~bpttcheck.engines.base.Gradients`.
"""

from __future__ import annotations

import numpy as np

from ..engines.base import Gradients, Options
from .forms import CONVENTIONS, LEARNING_RATE, SIZE_ALIASES, UserCode, prepare
from .hygiene import Finding, nonfinite, same
from .options import DEFAULT_TIMEOUT, SAMPLE, ImplOptions, Result, parse_names, parse_order
from .returns import RETURN_HELP

__all__ = ["CONVENTIONS", "DEFAULT_TIMEOUT", "LEARNING_RATE", "RETURN_HELP", "SAMPLE",
           "SIZE_ALIASES", "Finding", "ImplOptions", "Result", "UserCode", "engine_gradients",
           "nonfinite", "parse_names", "parse_order", "prepare", "same"]


def engine_gradients(result: Result, options: Options) -> Gradients:
    """A call's result as the ``impl`` engine's :class:`Gradients`."""
    clipped = None
    if options.clip is not None:  # elements exactly at the bound: the user's own clipping
        clipped = {n: np.abs(g) == options.clip for n, g in result.grads.items()}
    return Gradients("impl", result.loss, result.grads, clipped=clipped, clip=options.clip,
                     notes=result.notes)
