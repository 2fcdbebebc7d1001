"""The ``bpttcheck`` command line: parse flags, call the core, render, exit.

Nothing here computes or decides: :func:`bpttcheck.checker.run` does the work
and the report carries the verdict. This module converts the core's
exceptions to one-line messages and exit codes (see :class:`ExitCode`), and
imports NumPy and Rich only inside commands, so ``--help`` starts fast.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import click

from . import __version__
from .errors import BpttcheckError, ExitCode
from .spec import FIELDS, Field

PROGRESS_DELAY = 1.0  # seconds of work before a progress bar appears


def _option(field: Field) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    kind: click.ParamType
    if field.kind == "int":
        kind = click.INT
    elif field.kind == "choice":
        kind = click.Choice(field.choices)
    elif field.kind == "float" and not field.optional:
        kind = click.FLOAT
    else:  # paths, and floats that may be 'off': validated by spec.resolve
        kind = click.STRING
    default = "off" if field.optional and field.default is None else field.default
    help_text = f"{field.help} [spec: {field.name}; default: {default}]"
    return click.option(field.flag, field.name, type=kind, default=None, help=help_text,
                        metavar=field.kind.upper() if field.kind != "choice" else None)


def spec_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--config`` and one flag per spec field; flags override the file."""
    for field in reversed(FIELDS):
        func = _option(field)(func)
    return click.option("--config", "config", type=click.STRING, default=None, metavar="FILE",
                        help="RNN spec in TOML (see configs/). Flags override its values.")(func)


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--debug", is_flag=True, help="Show a Python traceback on errors.")(func)
    func = click.option("--quiet", "-q", is_flag=True,
                        help="Print nothing on success; on failure, only what failed.")(func)
    func = click.option("--save", type=click.STRING, metavar="FILE.npz",
                        help="Write the arrays and every engine's gradient to an .npz file.")(func)
    func = click.option("--json", "as_json", is_flag=True, help="Same as --format json.")(func)
    func = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
                        show_default=True, help="table for people, json for programs.")(func)
    return click.option("--sample", type=click.IntRange(min=1), metavar="K",
                        help="Check K random elements per parameter numerically (seeded) "
                             "instead of all of them.")(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bpttcheck")
def cli() -> None:
    """Is my RNN gradient actually correct?

    bpttcheck computes the gradient of a vanilla RNN's loss three independent
    ways (the min-char-rnn tutorial's backward pass, the lecture's explicit
    double sum over k <= t, and numerical differentiation) and reports, per
    parameter, how far they disagree. Exit codes: 0 agree, 1 mismatch,
    2 usage or input error.

    Example:

        bpttcheck compare --hidden 100 --seq 25
    """


@cli.command()
@spec_options
@output_options
def compare(**kwargs: Any) -> int:
    """Run all three engines and compare every pair.

    Prints a table of the largest elementwise relative error per parameter
    (Wxh, Whh, Why, bh, by) and engine pair, and a verdict in plain words.

    Example:

        bpttcheck compare --hidden 100 --seq 25 --clip 5
    """
    return _run(("tutorial", "reference", "numeric"), kwargs)


@cli.command()
@spec_options
@output_options
@click.option("--engine", type=click.Choice(["tutorial", "reference"]), default="tutorial",
              show_default=True, help="Analytic engine to check.")
def numeric(engine: str, **kwargs: Any) -> int:
    """Check one analytic engine against numerical differentiation alone.

    The trustworthy version of the cs231n / min-char-rnn gradCheck: every
    element by default, or --sample K seeded random elements per parameter.

    Example:

        bpttcheck numeric --engine tutorial --sample 20
    """
    return _run((engine, "numeric"), kwargs)


def _run(engines: Sequence[str], kwargs: dict[str, Any]) -> int:
    from rich.console import Console

    from . import checker
    from .spec import resolve

    config = kwargs.pop("config")
    fmt = "json" if kwargs.pop("as_json") else kwargs.pop("fmt")
    kwargs.pop("fmt", None)
    save, quiet, sample = kwargs.pop("save"), kwargs.pop("quiet"), kwargs.pop("sample")
    kwargs.pop("debug")
    spec = resolve(config, kwargs)
    console = Console()
    err_console = Console(stderr=True)
    progress = _Progress(err_console) if not quiet and err_console.is_terminal else None
    try:
        report = checker.run(spec, engines, sample=sample,
                             progress=progress.update if progress else None)
    finally:
        if progress:
            progress.close()
    if save:
        report.save(save)
    if fmt == "json":
        click.echo(report.to_json())
    elif quiet:
        from .report import describe_failure

        for c in report.comparisons:
            if not c.passed:
                click.echo(describe_failure(c))
    else:
        from .render import render

        render(report, console)
    return int(report.exit_code)


class _Progress:
    """A Rich progress bar on stderr that appears only once work takes a while."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self.started = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def update(self, done: int, total: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < PROGRESS_DELAY or done >= total:
                return
            from rich.progress import Progress

            self.bar = Progress(console=self.console, transient=True)
            self.bar.start()
            self.task = self.bar.add_task("numerical differentiation", total=total)
        self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: run the CLI and exit with its code, never with a traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or bool(os.environ.get("BPTTCHECK_DEBUG"))
    try:
        code = cli.main(args=args, prog_name="bpttcheck", standalone_mode=False)
    except click.exceptions.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        _fail(f"{exc.format_message()}{hint}", ExitCode.USAGE)
    except click.exceptions.Abort:
        _fail("interrupted", ExitCode.INTERRUPTED)
    except KeyboardInterrupt:
        _fail("interrupted", ExitCode.INTERRUPTED)
    except BpttcheckError as exc:
        if debug:
            raise
        _fail(str(exc), exc.exit_code)
    except Exception as exc:  # a bug in bpttcheck: say so, in one line, unless --debug
        if debug:
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for a "
              "traceback, and please report it)", ExitCode.USAGE)
    sys.exit(int(code) if isinstance(code, int) else 0)


def _fail(message: str, code: int) -> None:
    click.echo(f"bpttcheck: error: {message}".replace("\n", " "), err=True)
    sys.exit(int(code))
