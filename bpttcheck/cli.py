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
from .spec import ALL_PARAM_NAMES, FIELDS, Field

PROGRESS_DELAY = 1.0  # seconds of work before a progress bar appears


def _option(field: Field) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    kind: click.ParamType[Any]
    if field.kind == "int":
        kind = click.INT
    elif field.kind == "choice":
        kind = click.Choice(field.choices)
    elif field.kind == "float" and not field.optional:
        kind = click.FLOAT
    else:  # paths, and floats that may be 'off': validated by spec.resolve
        kind = click.STRING
    default = field.default
    if default is None:
        default = "embedded sonnets" if field.kind == "path" else "off"
    help_text = f"{field.help} [spec: {field.name}; default: {default}]"
    return click.option(field.flag, field.name, type=kind, default=None, help=help_text,
                        metavar=field.kind.upper() if field.kind != "choice" else None)


def spec_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--config`` and one flag per spec field; flags override the file."""
    for field in reversed(FIELDS):
        func = _option(field)(func)
    return click.option("--config", "config", type=click.STRING, default=None, metavar="FILE",
                        help="RNN spec in TOML (see configs/). Flags override its values.")(func)


def format_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--format table|json``, ``--json`` and ``--debug``: every command has them."""
    func = click.option("--debug", is_flag=True, help="Show a Python traceback on errors.")(func)
    func = click.option("--json", "as_json", is_flag=True, help="Same as --format json.")(func)
    return click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
                        show_default=True, help="table for people, json for programs.")(func)


def _pop_format(kwargs: dict[str, Any]) -> str:
    """Take the format flags out of ``kwargs`` (--json wins) and drop --debug, which
    :class:`_Group` has already read from the command line."""
    kwargs.pop("debug")
    fmt, as_json = kwargs.pop("fmt"), kwargs.pop("as_json")
    return "json" if as_json else str(fmt)


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Flags of ``compare`` and ``numeric``: format, files, quiet, coverage."""
    func = format_options(func)
    func = click.option("--quiet", "-q", is_flag=True,
                        help="Print nothing on success; on failure, only what failed.")(func)
    func = click.option("--save", type=click.STRING, metavar="FILE.npz",
                        help="Write the arrays and every engine's gradient to an .npz file.")(func)
    func = click.option("--junit", type=click.STRING, metavar="FILE.xml",
                        help="Write JUnit XML: one test case per parameter and engine pair.")(func)
    func = click.option("--directions", type=click.IntRange(min=1), metavar="K",
                        help="Pre-screen each parameter with K random projections (seeded); "
                             "check element by element only where one disagrees.")(func)
    return click.option("--sample", type=click.IntRange(min=1), metavar="K",
                        help="Check K random elements per parameter numerically (seeded) "
                             "instead of all of them.")(func)


def impl_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--impl TARGET`` and how to call it: the user's own code as one more engine."""
    opts = [
        click.option("--impl", "impl", metavar="TARGET",
                     help="Also check your own code: PATH.py:NAME, PATH.py:Class.method or "
                          "module:NAME (loaded without running the script)."),
        click.option("--impl-names", metavar="THEIRS=OURS,...",
                     help="Your weight names, e.g. U=Wxh,W=Whh,V=Why,b=bh,c=by "
                          "(U/W/V/b/c are recognised without it)."),
        click.option("--impl-order", metavar="dWxh,dWhh,...",
                     help="Order of the gradients in your returned tuple "
                          "[default: dWxh,dWhh,dWhy,dbh,dby]."),
        click.option("--impl-factory", metavar="NAME",
                     help="Function in your file that builds the instance for Class.method "
                          "(called with the sizes it asks for by name)."),
        click.option("--impl-sample", type=click.IntRange(min=0), default=20, show_default=True,
                     metavar="K", help="Elements per parameter for numerical differentiation of "
                                       "your loss through your function (0: all)."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0,
                     show_default=True, metavar="SECONDS",
                     help="Stop your function if one call takes longer (exit 2)."),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


def _impl_request(kwargs: dict[str, Any]) -> Any:
    """Pop the --impl* flags; an ImplRequest, or None without --impl."""
    target = kwargs.pop("impl")
    names, order, factory = (kwargs.pop(k) for k in ("impl_names", "impl_order", "impl_factory"))
    sample, timeout = kwargs.pop("impl_sample"), kwargs.pop("timeout")
    if target is None:
        return None
    from .impl import ImplOptions, ImplRequest, parse_names, parse_order

    mapping = parse_names(names)
    options = ImplOptions(names=mapping, order=parse_order(order, mapping), factory=factory,
                          timeout=timeout, sample=sample or None)
    return ImplRequest(target, options)


class _Group(click.Group):
    """The command group, converting every error to one line and an exit code.

    Overriding ``main`` (which console scripts and ``click.testing.CliRunner``
    both call) keeps the conversion in one place for both.
    """

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        args = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in args or bool(os.environ.get("BPTTCHECK_DEBUG"))
        try:
            code = super().main(args=args, prog_name=prog_name or "bpttcheck",
                                complete_var=complete_var, standalone_mode=False, **extra)
        except click.exceptions.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            _fail(f"{exc.format_message()}{hint}", ExitCode.USAGE)
        except (click.exceptions.Abort, KeyboardInterrupt):
            _fail("interrupted", ExitCode.INTERRUPTED)
        except BpttcheckError as exc:
            if debug:
                raise
            _fail(str(exc), exc.exit_code)
        except Exception as exc:  # a bug in bpttcheck: say so in one line, unless --debug
            if debug:
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for a "
                  "traceback, and please report it)", ExitCode.USAGE)
        sys.exit(int(code) if isinstance(code, int) else 0)


def _fail(message: str, code: int) -> None:
    one_line = " ".join(message.splitlines())  # a file name may hold a line break too
    click.echo(f"bpttcheck: error: {one_line}", err=True)
    sys.exit(int(code))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
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
@impl_options
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
@impl_options
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


@cli.command()
@format_options
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=20.0,
              show_default=True, metavar="SECONDS", help="Time limit per call of a case.")
def selftest(timeout: float, **kwargs: Any) -> int:
    """Check bpttcheck itself on a corpus of wrong and right backward passes.

    Each file shipped in bpttcheck/selftest/corpus is checked exactly as
    `compare --impl` would check it: every deliberately wrong one must be
    caught, with the intended cause named, and every correct one must pass.
    Exit codes: 0 all as intended, 1 a bug missed, a false alarm or a wrong
    cause.

    Example:

        bpttcheck selftest
    """

    from . import selftest as corpus

    fmt = _pop_format(kwargs)
    result = corpus.run(timeout=timeout)
    if fmt == "json":
        import json

        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        from .render_selftest import render

        render(result, _console())
    return result.exit_code


def _run(engines: Sequence[str], kwargs: dict[str, Any]) -> int:

    from . import checker
    from .spec import resolve

    config = kwargs.pop("config")
    fmt = _pop_format(kwargs)
    save, quiet, sample = kwargs.pop("save"), kwargs.pop("quiet"), kwargs.pop("sample")
    junit = kwargs.pop("junit")
    directions = kwargs.pop("directions")
    impl = _impl_request(kwargs)
    spec = resolve(config, kwargs)
    console = _console()
    err_console = _console(stderr=True)
    interactive = console.is_terminal and err_console.is_terminal and not console.no_color
    progress = _Progress(err_console) if interactive and not quiet else None
    try:
        report = checker.run(spec, engines, sample=sample, directions=directions,
                             progress=progress.update if progress else None, impl=impl,
                             announce=None if quiet else _announcer(err_console))
    finally:
        if progress:
            progress.close()
    if save:
        report.save(save)
    if junit:
        from .junit import write

        write(report, junit)
    if fmt == "json":
        click.echo(report.to_json())
    elif quiet:
        from .report import describe_failure

        for c in report.comparisons:
            if not c.passed:
                click.echo(describe_failure(c))
        if report.impl is not None:  # --impl: findings and the likely cause, one a line
            for line in (*report.impl.findings,
                         *(f"likely cause: {c.message}" for c in report.impl.causes)):
                click.echo(line)
    else:
        from .render import render

        render(report, console)
    return int(report.exit_code)


def _announcer(console: Any) -> Callable[[str], None]:
    """Print a sentence on stderr (diagnostics never go to stdout)."""
    def announce(message: str) -> None:
        console.print(message, style="dim", highlight=False, soft_wrap=True)

    return announce


def _console(stderr: bool = False) -> Any:
    """A Rich console for the terminal: no escape codes at all under NO_COLOR (not even
    bold), none when the stream is not a terminal (Rich's own rule)."""
    from rich.console import Console

    plain = bool(os.environ.get("NO_COLOR"))
    return Console(stderr=stderr, no_color=plain or None,
                   color_system=None if plain else "auto")


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


def main() -> None:
    """Console-script entry point: run the CLI and exit with its code."""
    cli.main()


EXPORT_WIDTH = 100  # columns of the --save-svg/--save-html page: a 40-bin map and its labels


@cli.command()
@spec_options
@click.option("--param", "parameter", type=click.Choice(ALL_PARAM_NAMES), default=None,
              help="Parameter whose gradient is taken apart [default: Whh; Wf for --cell lstm, "
                   "Wz for --cell gru].")
@click.option("--truncate", type=click.IntRange(min=1), metavar="K",
              help="Show what truncated BPTT keeping K steps per loss step (terms with "
                   "t-k >= K dropped; WildML's bptt_truncate=K-1) discards.")
@format_options
@click.option("--save", type=click.STRING, metavar="FILE.npz",
              help="Write the arrays (compare --save's keys plus explain.*) to an .npz file.")
@click.option("--save-svg", type=click.STRING, metavar="FILE",
              help="Also write the rendered output as an SVG picture.")
@click.option("--save-html", type=click.STRING, metavar="FILE",
              help="Also write the rendered output as an HTML page.")
def explain(parameter: str | None, truncate: int | None, save: str | None, save_svg: str | None,
            save_html: str | None, config: str | None, **kwargs: Any) -> int:
    """See the sum: the (t, k) terms of one parameter's gradient.

    Draws the size of every term of the lecture's double sum over loss steps t
    and steps k <= t, shows that its row sums (by t) and column sums (by k,
    the tutorial's dhraw at step k, fed by dhnext) both add up to the
    gradient, how far back the gradient reaches (vanishing or exploding),
    what truncated BPTT and chunking discard, and what clipping changes.
    Exit codes: 0 the sums reproduce the gradient, 1 they do not, 2 bad input.

    Example:

        bpttcheck explain --param Whh --seq 25 --truncate 5 --save-svg map.svg
    """
    import io

    from rich.console import Console

    from .explain import explain as take_apart
    from .render_explain import render
    from .spec import resolve

    fmt = _pop_format(kwargs)
    spec = resolve(config, kwargs)
    result: Any
    if spec.cell != "vanilla":  # a gated cell: the map, the LSTM's c/h paths, reach vs vanilla
        from .cells.explain import explain as take_apart_gated
        from .errors import SpecError
        from .render_gated import render as render_gated

        if truncate is not None:
            raise SpecError(f"--truncate: not available for --cell {spec.cell} yet (vanilla only)")
        result = take_apart_gated(spec, parameter, with_reference=bool(save))
        render = render_gated  # type: ignore[assignment]
    else:
        result = take_apart(spec, parameter or "Whh", truncate, with_reference=bool(save))
    if save:
        result.save(save)
    if fmt == "json":
        click.echo(result.to_json())
    else:
        render(result, _console())
    if save_svg or save_html:
        page = Console(record=True, file=io.StringIO(), width=EXPORT_WIDTH,
                       force_terminal=True, color_system="truecolor")
        render(result, page)
        if save_svg:
            title = f"bpttcheck explain --param {result.parameter}"
            _write_text("--save-svg", save_svg, page.export_svg(title=title, clear=False))
        if save_html:
            _write_text("--save-html", save_html, page.export_html(clear=False))
    return int(ExitCode.AGREE if result.passed else ExitCode.MISMATCH)


def _write_text(flag: str, path: str, text: str) -> None:
    from .errors import SpecError

    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise SpecError(f"{flag} {path}: cannot write ({exc.strerror})") from None
