"""Exceptions raised by the core, and the exit codes the CLI maps them to.

The core never exits and never prints: it raises one of these with a message
that names the file, key, flag or value at fault. The CLI converts them to a
one-line message on stderr and an exit code, once, at the edge.

The exit-code table (README and ``--help`` show the same one):

====  ==============================================================================
code  meaning
====  ==============================================================================
0     every compared pair agrees
1     a gradient, or a user's loss, is wrong; or a user function's check is vacuous
2     usage or input error (bad flag, spec, file; a spec with nothing to check); a
      refusal by budget; a run stopped by ``--timeout`` or ``--time-budget``; user
      code that exits or crashes
3     bpttcheck's own self-check failed (for example the structured numeric witness
      against the literal one): please report it
130   interrupted (Ctrl-C)
141   stdout was closed early (a closed pipe); nothing more is printed
====  ==============================================================================
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Exit codes of every ``bpttcheck`` command (the table above; documented in README)."""

    AGREE = 0  # every compared pair is within tolerance
    MISMATCH = 1  # a gradient or a user's loss is wrong, or a user's check is vacuous
    USAGE = 2  # bad flag, spec, data file or user code; budget refusals; time-outs
    SELF_CHECK = 3  # bpttcheck's own cross-check failed: a bug in bpttcheck
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
    CLOSED_PIPE = 141  # stdout closed early (128 + SIGPIPE)


class BpttcheckError(Exception):
    """Base class: a problem with the user's input, reported without a traceback."""

    exit_code = ExitCode.USAGE


class SpecError(BpttcheckError):
    """The RNN spec (TOML file, flag or data file) is invalid."""


class ImplError(BpttcheckError):
    """A gradient engine (for example the user's own code) misbehaved."""


class SelfCheckError(BpttcheckError):
    """bpttcheck disagrees with itself (a verified fast path against its literal witness)."""

    exit_code = ExitCode.SELF_CHECK
