"""bpttcheck: is my RNN gradient actually correct?

Computes the gradient of a vanilla RNN's loss three independent ways (the
tutorial's backward pass, the lecture's explicit double sum over k <= t, and
numerical differentiation) and reports where they disagree.

Importing this package is cheap: NumPy is only imported when a check runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .report import Report


def check(config: str | None = None, *, engines: tuple[str, ...] = ("tutorial", "reference",
          "numeric"), sample: int | None = None, **overrides: Any) -> Report:
    """Run the three-way check and return its :class:`~bpttcheck.report.Report`.

    ``config`` is an optional TOML spec; keyword arguments override its fields,
    for example ``bpttcheck.check(hidden=12, seq=9).passed``.
    """
    from . import checker
    from .spec import resolve

    return checker.run(resolve(config, overrides), engines, sample=sample)


__all__ = ["__version__", "check"]
