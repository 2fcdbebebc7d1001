"""Gradient engines, by name. Each is ``engine(params, batch, options) -> Gradients``."""

from __future__ import annotations

from . import batched, numeric, reference, tutorial
from .base import Engine, Gradients, Options

ENGINES: dict[str, Engine] = {
    "tutorial": tutorial.gradients,
    "reference": reference.gradients,
    "numeric": batched.numeric_gradients,  # per column for a batch
}
ANALYTIC = ("tutorial", "reference")  # engines that differentiate by hand, exactly

__all__ = ["ANALYTIC", "ENGINES", "Engine", "Gradients", "Options", "batched", "numeric"]
