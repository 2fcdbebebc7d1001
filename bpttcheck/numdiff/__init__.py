"""Numerical differentiation of any loss: methods as objects, one differentiator.

:mod:`.methods` defines each method once (step, copies, combination, error
bars); :mod:`.differentiate` applies one to any
:class:`~bpttcheck.probes.BatchedLoss`. The model (engines/numeric.py), a user's
function (impl/numeric.py) and ``--directions`` (directions.py) all use them.
:mod:`.splitcomplex` is complex arithmetic on (real, imaginary) pairs, for the
batched complex steps of the vanilla and gated cells.
"""

from __future__ import annotations

from .differentiate import MeasuredLoss, Result, along, check_step, differentiate
from .methods import METHODS, Method, by_name

__all__ = ["METHODS", "MeasuredLoss", "Method", "Result", "along", "by_name", "check_step",
           "differentiate"]
