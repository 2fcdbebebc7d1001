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


def check(config: str | None = None, impl: Any = None, *,
          engines: tuple[str, ...] = ("tutorial", "reference", "numeric"),
          sample: int | None = None, directions: int | None = None,
          fix: bool = False, fix_budget: float = 3.0, **overrides: Any) -> Report:
    """Run the three-way check and return its :class:`~bpttcheck.report.Report`.

    ``config`` is an optional TOML spec; keyword arguments override its fields,
    for example ``bpttcheck.check(hidden=12, seq=9).passed``. ``impl`` adds your
    own backward pass as one more engine: a ``"PATH.py:NAME"`` string as for
    ``--impl``, a function (``lossFun(inputs, targets, hprev)`` reading its
    weights from module globals, or ``f(params, inputs, targets, hprev)``), an
    unbound method ``MyRNN.loss_and_grads``, or a
    :class:`bpttcheck.impl.ImplRequest` carrying name mapping and options.
    ``sample`` and ``directions`` are ``--sample`` and ``--directions``. With
    ``fix=True`` (and ``impl`` a file target), a wrong function gets a search for a
    verified one-line fix (``report.impl.fix``; see :mod:`bpttcheck.fix`), for up to
    ``fix_budget`` seconds; it never runs unless asked.
    """
    from . import checker
    from .spec import resolve

    request = None
    if impl is not None:
        from .impl import ImplRequest

        request = impl if isinstance(impl, ImplRequest) else ImplRequest(impl)
        if fix:
            import dataclasses

            request = dataclasses.replace(request, fix=True, fix_budget=fix_budget)
    return checker.run(resolve(config, overrides), engines, sample=sample,
                       directions=directions, impl=request)


__all__ = ["__version__", "check"]
