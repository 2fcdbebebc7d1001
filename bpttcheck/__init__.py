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
    from .function import FunctionReport
    from .layers import LayerReport
    from .report import Report


def check(config: str | None = None, impl: Any = None, *,
          engines: tuple[str, ...] = ("tutorial", "reference", "numeric"),
          sample: int | None = None, directions: int | None = None,
          fix: bool = False, fix_budget: float | None = None, **overrides: Any) -> Report:
    """Run the three-way check and return its :class:`~bpttcheck.report.Report`.

    ``config`` is an optional TOML spec; keyword arguments override its fields,
    for example ``bpttcheck.check(hidden=12, seq=9).passed``. ``impl`` adds your
    own backward pass as one more engine: a ``"PATH.py:NAME"`` string as for
    ``--impl``, a function (``lossFun(inputs, targets, hprev)`` reading its
    weights from module globals, ``f(params, inputs, targets, hprev)``, or one taking
    its weights as arguments by name), an unbound method ``MyRNN.loss_and_grads``
    (in a notebook: the live function, its helpers included; the report shows
    inline), or a
    :class:`bpttcheck.impl.ImplRequest` carrying name mapping and options.
    ``sample`` and ``directions`` are ``--sample`` and ``--directions``. With
    ``fix=True`` (and ``impl`` a file target), a wrong function gets a search for a
    verified one-line fix (``report.impl.fix``; see :mod:`bpttcheck.fix`), for up to
    ``fix_budget`` seconds (by default 3, or 6 for a gated cell); it never runs unless
    asked.
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


def check_function(loss_fn: Any, grad_fn: Any, params: Any, **options: Any) -> FunctionReport:
    """Is ``grad_fn`` the gradient of ``loss_fn`` at ``params``? Any function pair, no spec.

    The adjoint pre-screen, numerical differentiation of every element, the
    comparison and a likely cause, as a report with ``.passed``, ``.exit_code``
    and ``.headline()``; see :func:`bpttcheck.function.check_function` for the options.
    Example: ``bpttcheck.check_function(f, df, {"W": W, "x": x}).passed``.
    """
    from .function import check_function as run

    return run(loss_fn, grad_fn, params, **options)


def check_layer(forward: Any, backward: Any, config: str | None = None, *,
                batch: int | None = None, **overrides: Any) -> LayerReport:
    """Check a vanilla RNN layer's backward pass (cs231n or Coursera style) with its forward.

    ``config`` and keyword arguments give the sizes as for :func:`check`
    (``hidden``, ``vocab`` -> D, ``seq``); ``batch`` is N (default 2). A
    :class:`~bpttcheck.spec.Spec` may be passed as ``config`` too.
    Example: ``bpttcheck.check_layer(rnn_forward, rnn_backward, hidden=5, vocab=4).passed``.
    """
    from .layers import check_layer as run
    from .spec import Spec, resolve

    spec = config if isinstance(config, Spec) else resolve(config, overrides)
    return run(forward, backward, spec, batch=batch)


__all__ = ["__version__", "check", "check_function", "check_layer"]
