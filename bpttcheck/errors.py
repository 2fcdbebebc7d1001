"""Exceptions raised by the core, and the exit codes the CLI maps them to.

The core never exits and never prints: it raises one of these with a message
that names the file, key, flag or value at fault. The CLI converts them to a
one-line message on stderr and an exit code, once, at the edge.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Exit codes of every ``bpttcheck`` command (documented in README)."""

    AGREE = 0  # every compared pair is within tolerance
    MISMATCH = 1  # at least one gradient disagrees
    USAGE = 2  # bad flag, spec, data file or user code
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


class BpttcheckError(Exception):
    """Base class: a problem with the user's input, reported without a traceback."""

    exit_code = ExitCode.USAGE


class SpecError(BpttcheckError):
    """The RNN spec (TOML file, flag or data file) is invalid."""


class ImplError(BpttcheckError):
    """A gradient engine (for example the user's own code) misbehaved."""
