"""A pytest helper: fail a test, with a useful message, when a gradient is wrong.

    from bpttcheck.testing import assert_gradients_match

    def test_my_backward_pass():
        assert_gradients_match(my_rnn.lossFun, hidden=10, seq=8, vocab=5)

The assertion message names the parameter, the element, both values and the
error, and the likely cause when bpttcheck recognises one. Plain ``assert``
semantics: nothing is printed when the gradients agree.
"""

from __future__ import annotations

from typing import Any

from .report import Report


def assert_gradients_match(impl: Any = None, *, config: str | None = None,
                           engines: tuple[str, ...] = ("tutorial", "reference", "numeric"),
                           sample: int | None = None, directions: int | None = None,
                           **overrides: Any) -> Report:
    """Run :func:`bpttcheck.check` and raise ``AssertionError`` unless everything agrees.

    Takes the same arguments as :func:`bpttcheck.check`; returns the report when
    the check passes, for further assertions.
    """
    from . import check

    report = check(config, impl, engines=engines, sample=sample, directions=directions,
                   **overrides)
    if not report.passed:
        raise AssertionError(failure_message(report))
    return report


def failure_message(report: Report) -> str:
    """The verdict in plain words: what is wrong, where, both values, the likely cause."""
    return "\n".join(["bpttcheck: gradients do not match", *report.verdict()])
