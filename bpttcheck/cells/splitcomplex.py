"""Complex arithmetic on (real, imaginary) pairs: moved to :mod:`bpttcheck.numdiff.splitcomplex`.

The vanilla cell's literal complex step uses it too, and importing it from here
would load every gated cell; the gated cells keep importing it by this name.
"""

from __future__ import annotations

from ..numdiff.splitcomplex import (
    TINY_ANGLE,
    Pair,
    cos_sin,
    cross_entropy,
    mul,
    sigmoid,
    tan,
    tanh,
)

__all__ = ["TINY_ANGLE", "Pair", "cos_sin", "cross_entropy", "mul", "sigmoid", "tan", "tanh"]
