"""The ``bpttcheck`` command line: parse flags, call the core, render, exit.

Nothing here computes or decides: :func:`bpttcheck.checker.run` does the work
and the report carries the verdict. This module converts the core's
exceptions to one-line messages and exit codes (see :class:`ExitCode`), and
imports NumPy and Rich only inside commands, so ``--help`` starts fast.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys

try:  # Ctrl-C while the modules load (the first ~90 ms): exit 130, no traceback
    import time
    import warnings
    from collections.abc import Callable, Sequence
    from typing import Any

    import click

    from . import __version__
    from .errors import BpttcheckError, ExitCode
    from .outputs import GuardedStream, StdoutError, silence
    from .spec import ALL_PARAM_NAMES, FIELDS, Field
except KeyboardInterrupt:
    os._exit(130)  # not sys.exit: see main()

PROGRESS_DELAY = 1.0  # seconds of work before a progress bar appears


def _option(field: Field, hidden: bool = False
            ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    kind: click.ParamType[Any]
    if field.kind == "bool":
        return click.option(f"{field.flag}/--no-{field.flag[2:]}", field.name, default=None,
                            help=f"{field.help} [spec: {field.name}; default: "
                                 f"{str(field.default).lower()}]", hidden=hidden)
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
                        metavar=field.kind.upper() if field.kind != "choice" else None,
                        hidden=hidden)


def spec_options(func: Callable[..., Any], unused: tuple[str, ...] = ()) -> Callable[..., Any]:
    """Add ``--config`` and one flag per spec field; flags override the file.

    Fields in ``unused`` keep their flag, hidden from ``--help``, so that the command can
    refuse it by name (:func:`_refuse_unused`) instead of ignoring it silently.
    """
    for field in reversed(FIELDS):
        func = _option(field, hidden=field.name in unused)(func)
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
                     help="Also check your own code: PATH.py:NAME, PATH.py:Class.method, "
                          "PATH.ipynb:NAME or module:NAME (loaded without running the "
                          "script)."),
        click.option("--impl-names", metavar="THEIRS=OURS,...",
                     help="Your weight and size names, e.g. U=Wxh,W=Whh,V=Why,b=bh,c=by "
                          "(U/W/V/b/c are recognised without it) or M=vocab,B=batch "
                          "(sizes: hidden, vocab, seq, batch)."),
        click.option("--impl-set", multiple=True, metavar="NAME=VALUE",
                     help="A global constant your function needs, e.g. --impl-set "
                          "temperature=1.0 (a Python literal; repeatable)."),
        click.option("--impl-order", metavar="dWxh,dWhh,...",
                     help="Order of the gradients in your returned tuple "
                          "[default: dWxh,dWhh,dWhy,dbh,dby]."),
        click.option("--impl-forward", metavar="NAME",
                     help="The forward function of a layer's backward given to --impl "
                          "[default: X_forward for X_backward]."),
        click.option("--impl-factory", metavar="NAME",
                     help="Function in your file that builds the instance for Class.method "
                          "(called with the sizes it asks for by name)."),
        click.option("--impl-sample", type=click.IntRange(min=0), default=20, show_default=True,
                     metavar="K", help="Elements per parameter for numerical differentiation of "
                                       "your loss through your function (0: all)."),
        click.option("--impl-loss", metavar="LOSS", default="sum", show_default=True,
                     help="The loss your function returns: sum (the model's), mean=T, mean=B, "
                          "mean=TB, bits, scale=C, or own (judge the gradient against your "
                          "own loss only)."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0,
                     show_default=True, metavar="SECONDS",
                     help="Stop your function if one call takes longer (exit 2)."),
        click.option("--fix-budget", type=click.FloatRange(min=0, min_open=True), default=None,
                     metavar="SECONDS",
                     help="When your code is wrong, search this long for a one-line edit "
                          "that makes it exact (verified by the whole check at two points; "
                          "shown as a diff).  [default: 3; 6 for an LSTM or GRU]"),
        click.option("--no-fix", is_flag=True, envvar="BPTTCHECK_NO_FIX",
                     help="Do not search for a fix when your code is wrong (or set "
                          "BPTTCHECK_NO_FIX=1)."),
        click.option("--fix-out", metavar="PATH",
                     help="Write a copy of your file with the verified fix applied, to a "
                          "new file (never over an existing one; a notebook's copy is a "
                          "notebook, PATH.ipynb)."),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


IMPL_FLAGS = {"impl_names": "--impl-names", "impl_set": "--impl-set",
              "impl_order": "--impl-order", "impl_forward": "--impl-forward",
              "impl_factory": "--impl-factory", "impl_sample": "--impl-sample",
              "timeout": "--timeout", "fix_budget": "--fix-budget", "no_fix": "--no-fix",
              "fix_out": "--fix-out"}


def _impl_request(kwargs: dict[str, Any]) -> Any:
    """Pop the --impl* flags; an ImplRequest, or None without --impl (then any other
    --impl-* flag given is refused: it would be ignored). --impl-order is read later,
    once the spec's cell is known (:func:`_impl_order`)."""
    target = kwargs.pop("impl")
    names, factory = kwargs.pop("impl_names"), kwargs.pop("impl_factory")
    kwargs.pop("impl_order")
    sample, timeout = kwargs.pop("impl_sample"), kwargs.pop("timeout")
    values = kwargs.pop("impl_set")
    declared = kwargs.pop("impl_loss")
    budget, no_fix = kwargs.pop("fix_budget"), kwargs.pop("no_fix")
    if target is None:
        kwargs.pop("impl_forward", None)
        from click.core import ParameterSource

        from .errors import SpecError
        from .prose import join_names

        ctx = click.get_current_context()
        given = [flag for name, flag in IMPL_FLAGS.items()
                 if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE]
        if given:
            verb = "is" if len(given) == 1 else "are"
            raise SpecError(f"{join_names(given)} {verb} only used with --impl FILE.py:NAME, "
                            "which is not given")
        return None
    from .impl import ImplOptions, ImplRequest, parse_loss, parse_names
    from .impl.options import parse_values

    mapping = parse_names(names)
    options = ImplOptions(names=mapping, values=parse_values(values), factory=factory,
                          timeout=timeout, sample=sample or None)
    return ImplRequest(target, options, parse_loss(declared), fix=not no_fix, fix_budget=budget)


def _impl_order(impl: Any, order: str, cell: str) -> Any:
    """The request with ``--impl-order`` read for the spec's cell: the gated cells' own
    spellings (``dWg``, ``dWy``) and the --impl-names weights are its names too."""
    import dataclasses

    from .impl import parse_order

    options = dataclasses.replace(impl.options,
                                  order=parse_order(order, impl.options.names, cell))
    return dataclasses.replace(impl, options=options)


MAX_MESSAGE = 400  # characters of an error message (a RecursionError's can run to 82 KB)
INTERRUPT_GRACE = 0.5  # seconds Ctrl-C may take to unwind before the process is ended


class _Flag:
    """A set-once flag (threading.Event without importing threading before it is needed)."""

    def __init__(self) -> None:
        self.value = False

    def set(self) -> None:
        self.value = True


_EXITING = _Flag()


class _Group(click.Group):
    """The command group, converting every error to one line and an exit code.

    Overriding ``main`` (which console scripts and ``click.testing.CliRunner``
    both call) keeps the conversion in one place for both. It also makes the
    command a Unix citizen: no arguments print the help (exit 0), a closed pipe
    exits 141 silently, Ctrl-C exits 130 without a traceback, and with
    ``--format json`` stdout holds exactly one JSON document even on error.
    """

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        args = list(sys.argv[1:] if args is None else args)
        if not args:  # a bare `bpttcheck` asks what it can do: the help, on stdout
            args = ["--help"]
        debug = "--debug" in args or bool(os.environ.get("BPTTCHECK_DEBUG"))
        as_json = _wants_json(args)
        real_stdout = sys.stdout
        sys.stdout = GuardedStream(real_stdout)  # a full disk is one line, not a traceback
        try:
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", RuntimeWarning)
                    code = super().main(args=args, prog_name=prog_name or "bpttcheck",
                                        complete_var=complete_var, standalone_mode=False,
                                        **extra)
                    sys.stdout.flush()  # a full disk or /dev/full fails here, not at exit
                _leftover_warnings(caught)
            except click.exceptions.UsageError as exc:
                hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
                _fail(f"{exc.format_message()}{hint}", ExitCode.USAGE, as_json)
            except (click.exceptions.Abort, KeyboardInterrupt, _Interrupted):
                _fail("interrupted", ExitCode.INTERRUPTED, as_json)
            except (BrokenPipeError, _PipeClosed):
                _closed_pipe()
            except BpttcheckError as exc:
                if debug:
                    raise
                _fail(str(exc), exc.exit_code, as_json)
            except StdoutError as exc:  # > /dev/full, a full disk: one line on stderr
                silence(real_stdout)
                _fail(str(exc), ExitCode.USAGE, False)
            except Exception as exc:  # a bug in bpttcheck: say so in one line, unless --debug
                if debug:
                    raise
                _fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for a "
                      "traceback, and please report it)", ExitCode.USAGE, as_json)
        except KeyboardInterrupt:  # a second Ctrl-C while the first one's message is printed
            sys.exit(int(ExitCode.INTERRUPTED))
        except BrokenPipeError:  # the error message itself met a closed pipe
            _closed_pipe()
        finally:
            sys.stdout = real_stdout
        sys.exit(int(code) if isinstance(code, int) else 0)


    def invoke(self, ctx: click.Context) -> Any:
        # Click's own main() answers Ctrl-C with a blank line on stderr and a closed pipe
        # with exit 1; carry both past it in exceptions of our own.
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _Interrupted from None
        except BrokenPipeError:
            raise _PipeClosed from None


class _Interrupted(Exception):
    """Ctrl-C during a command (see :meth:`_Group.invoke`)."""


class _PipeClosed(Exception):
    """stdout closed during a command (see :meth:`_Group.invoke`)."""


def _wants_json(args: list[str]) -> bool:
    """Whether the command line asks for JSON (read before Click parses it, so that a
    usage error can be reported as a JSON document too)."""
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--json" or arg == "--format=json" or (
                arg == "--format" and i + 1 < len(args) and args[i + 1] == "json"):
            return True
    return False


def _closed_pipe() -> None:
    """stdout was closed early (``| head -1``): say nothing more and exit 141.

    stdout is pointed at /dev/null first, so that Python's own flush at exit
    does not complain about the pipe a second time.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (a test runner's buffer)
        pass
    sys.exit(int(ExitCode.CLOSED_PIPE))


def cap(message: str, limit: int = MAX_MESSAGE) -> str:
    """One line of at most ``limit`` characters: line breaks become spaces (a file name
    may hold one too) and the rest of a long message is counted, not printed."""
    one_line = " ".join(message.splitlines())
    if len(one_line) <= limit:
        return one_line
    from .prose import plural

    rest = len(one_line) - limit
    return f"{one_line[:limit]}… ({plural(rest, 'more character')}; --debug shows all)"


def _fail(message: str, code: int, as_json: bool = False) -> None:
    _EXITING.set()  # the orderly exit is under way: the interrupt watchdog stands down
    text = cap(message)
    if code == ExitCode.SELF_CHECK:
        from .prose import PLEASE_REPORT

        text += f" {PLEASE_REPORT}"
    click.echo(f"bpttcheck: error: {text}", err=True)
    if as_json:  # stdout still holds exactly one document: this error
        import json

        from .report import error_document

        click.echo(json.dumps(error_document(int(code), text), indent=2))
    sys.exit(int(code))


def _leftover_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Warnings no report took as notes: one line each on stderr, without our source."""
    from .prose import warning_notes

    for note in warning_notes(caught):
        click.echo(f"bpttcheck: note: {note}", err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bpttcheck")
def cli() -> None:
    """Is my RNN gradient actually correct?

    bpttcheck computes the gradient of an RNN's loss (a vanilla, LSTM or GRU
    cell) three independent ways (the tutorial's backward pass, the lecture's
    explicit double sum over k <= t, and numerical differentiation) and
    reports, per parameter, how far they disagree; --impl checks your own.
    The last line of every command is the answer.

    \b
    Exit codes:
      0    every compared pair agrees
      1    a gradient, or a user's loss, is wrong; or a user function's
           check is vacuous
      2    usage or input error (bad flag, spec, file; a spec with nothing
           to check); a refusal by budget; a run stopped by --timeout or
           --time-budget; user code that exits or crashes
      3    bpttcheck's own self-check failed: please report it
      130  interrupted (Ctrl-C)
      141  stdout was closed early (a closed pipe); nothing more is printed

    With --format json, stdout holds one JSON document: the report, or for
    exit codes 2, 3 and 130 an error document {"schema", "tool", "version",
    "error": {"exit_code", "message"}}.

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
    (Wxh, Whh, Why, bh, by) and engine pair, then what failed and why, and
    ends with one line: ✓ or ✗ and the answer in words. Cells: ✗ a failure,
    ≈ within numerical differentiation's own error bar, ✂ clipped, — not
    compared.

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


def _run_layer(target: str, layer: Any, spec: Any, fmt: str, refused: dict[str, Any],
               impl: Any = None, forward: str | None = None, fix_out: str | None = None) -> int:
    """``--impl FILE.py:rnn_backward``: a layer's backward pass (bpttcheck.layers), its
    functions running in a child process (``layer``, a RemoteLayer); when it is wrong, the
    fix search (``impl.fix``) on a copy of its file."""
    from .errors import SpecError
    from .layers import check_layer

    for flag, value in refused.items():
        if value:
            hint = " (--impl-sample K sets the elements differentiated)" \
                if flag == "--sample" else ""
            raise SpecError(f"{flag} is not available for a layer function (--impl "
                            f"{target}){hint}")
    report = check_layer(layer.forward, layer.backward, spec, target=target, label=layer.label,
                         style=layer.style, batched=layer.batched_loss,
                         sample=layer.options.sample)
    found, reason = None, None
    if impl is not None and impl.fix and not report.passed:
        from .fix import for_layer, patched

        layer.close()
        found, reason = for_layer(target, forward, impl, spec, report.style)
        if fix_out is not None and found is not None:
            from .outputs import write_text

            write_text("--fix-out", fix_out, patched(found))
    if fmt == "json":
        import json

        out = report.to_dict()
        if impl is not None and impl.fix:
            out.update(fix=found.to_dict() if found is not None else None, fix_reason=reason)
        click.echo(json.dumps(out, indent=2))
    else:
        from .fix import section

        console = _console()
        lines = report.lines()
        fix_lines = section(found, reason, fix_out if found is not None else None)
        for line in [*lines[:-1], *fix_lines, *lines[-1:]]:  # the fix just above the headline
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    return int(report.exit_code)


def _run(engines: Sequence[str], kwargs: dict[str, Any]) -> int:

    from . import checker
    from .spec import resolve

    config = kwargs.pop("config")
    fmt = _pop_format(kwargs)
    save, quiet, sample = kwargs.pop("save"), kwargs.pop("quiet"), kwargs.pop("sample")
    junit = kwargs.pop("junit")
    directions = kwargs.pop("directions")
    forward = kwargs.get("impl_forward")
    fix_out = kwargs.pop("fix_out")
    order = kwargs.get("impl_order")
    impl = _impl_request(kwargs)  # --impl-order: below, with the spec's cell
    kwargs.pop("impl_forward", None)
    if fix_out is not None:
        _check_fix_out(fix_out, impl)
    spec = resolve(config, kwargs)
    if impl is not None and isinstance(impl.target, str):
        from .layers import is_layer_target

        if is_layer_target(impl.target, forward):
            from .layers.remote import RemoteLayer

            layer = RemoteLayer(impl.target, forward, impl.options, spec.time_budget)
            try:
                if layer.found:
                    return _run_layer(impl.target, layer, spec, fmt,
                                      {"--save": save, "--junit": junit, "--sample": sample,
                                       "--directions": directions,
                                       "--impl-names": impl.options.names,
                                       "--impl-order": order,
                                       "--impl-factory": impl.options.factory,
                                       "--impl-loss": impl.loss.flag},
                                      impl, forward, fix_out)
            finally:
                layer.close()
    if impl is not None and order:
        impl = _impl_order(impl, order, spec.cell)
    from .outputs import check_writable

    check_writable("--save", save)  # before any work: a typo costs nothing
    check_writable("--junit", junit)
    console = _console()
    err_console = _console(stderr=True)
    interactive = console.is_terminal and err_console.is_terminal and not console.no_color
    progress = _Progress(err_console) if interactive and not quiet else None
    try:
        registry = None
        if progress is not None:  # every engine's phase on the bar, then the user's code
            from .engines import ENGINES

            last = [e for e in engines if e in ENGINES]
            registry = _phased({e: ENGINES[e] for e in last}, progress,
                               "your code: calling it, differentiating its loss"
                               if impl is not None else None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            report = checker.run(spec, engines, sample=sample, directions=directions,
                                 progress=progress.update if progress else None, impl=impl,
                                 announce=None if quiet else _announcer(err_console),
                                 registry=registry)
    finally:
        if progress:
            progress.close()
    report = _with_warnings(report, caught)
    if save:
        report.save(save)
    if junit:
        from .junit import write

        write(report, junit)
    fix = report.impl.fix if report.impl is not None else None
    if fix_out is not None and fix is not None:
        from .fix import patched
        from .outputs import write_text

        write_text("--fix-out", fix_out, patched(fix))
    if fmt == "json":
        click.echo(report.to_json())
    elif quiet:
        from .render import render_quiet

        render_quiet(report, console)
    else:
        from .render import fix_section, render

        render(report, console, fix=fix_section(report, fix_out))
    return int(report.exit_code)


def _check_fix_out(path: str, impl: Any) -> None:
    """--fix-out: a writable path, never the file being checked."""
    from .errors import SpecError
    from .outputs import check_writable

    if impl is None:
        raise SpecError("--fix-out is only used with --impl FILE.py:NAME, which is not given")
    if not impl.fix:
        raise SpecError("--fix-out writes the fix the search finds; it cannot be used with "
                        "--no-fix (or with BPTTCHECK_NO_FIX set)")
    check_writable("--fix-out", path)
    if isinstance(impl.target, str):
        where = impl.target.rpartition(":")[0]
        if where.lower().endswith(".ipynb") != path.lower().endswith(".ipynb"):
            notebook = where.lower().endswith(".ipynb")
            raise SpecError(f"--fix-out {path}: the fix is written as a patched copy of the "
                            f"{'notebook' if notebook else 'Python file'}, so give a path "
                            f"{'ending' if notebook else 'not ending'} in .ipynb")
        with contextlib.suppress(OSError):
            if os.path.exists(where) and os.path.samefile(where, path):
                raise SpecError(f"--fix-out {path}: that is the file being checked; bpttcheck "
                                "never writes over your code (give another path)")
    if os.path.lexists(path):  # a sibling module, an earlier copy, ...: never written over
        raise SpecError(f"--fix-out {path}: that file exists; bpttcheck writes the patched "
                        "copy only to a new path (remove it, or give another path)")


def _with_warnings(report: Any, caught: list[warnings.WarningMessage]) -> Any:
    """The report with the check's warnings as notes (not raw warnings quoting our source)."""
    import dataclasses

    from .prose import warning_notes

    notes = warning_notes(caught)
    return dataclasses.replace(report, warnings=(*report.warnings, *notes)) if notes else report


def _announcer(console: Any) -> Callable[[str], None]:
    """Print a sentence on stderr (diagnostics never go to stdout)."""
    def announce(message: str) -> None:
        console.print(message, style="dim", highlight=False, soft_wrap=True)

    return announce


def _console(stderr: bool = False) -> Any:
    """The console every command prints through (see :mod:`bpttcheck.terminal`)."""
    from .terminal import make_console

    return make_console(stderr=stderr)


PHASES = {"tutorial": "the tutorial's backward pass",
          "reference": "the explicit double sum over k ≤ t (reference)",
          "numeric": "numerical differentiation"}


class _Progress:
    """A Rich progress bar on stderr for every phase that takes longer than a second.

    ``phase(name)`` starts a phase; if it is still running after
    :data:`PROGRESS_DELAY` seconds, a transient bar appears (a timer thread shows it,
    since an engine such as the reference reports no progress of its own).
    ``update(done, total)`` turns it into a bar with a known total (numerical
    differentiation).
    """

    def __init__(self, console: Any) -> None:
        import threading

        self.console = console
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.name = "working"
        self.bar: Any = None
        self.task: Any = None
        self.timer: Any = None

    def phase(self, name: str) -> None:
        import threading

        with self.lock:
            self.name, self.started = name, time.monotonic()
            if self.timer is not None:
                self.timer.cancel()
            if self.bar is not None:
                self.bar.update(self.task, description=name, total=None, completed=0)
                return
            self.timer = threading.Timer(PROGRESS_DELAY, self._show)
            self.timer.daemon = True
            self.timer.start()

    def _show(self) -> None:
        with self.lock:
            self._start()

    def _start(self) -> None:
        if self.bar is not None:
            return
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                            TaskProgressColumn(), TimeElapsedColumn(), console=self.console,
                            transient=True)
        self.bar.start()
        self.task = self.bar.add_task(self.name, total=None)

    def update(self, done: int, total: int) -> None:
        with self.lock:
            if self.bar is None:
                if time.monotonic() - self.started < PROGRESS_DELAY or done >= total:
                    return
                self._start()
            self.bar.update(self.task, completed=done, total=total)

    def close(self) -> None:
        with self.lock:
            if self.timer is not None:
                self.timer.cancel()
            if self.bar is not None:
                self.bar.stop()
                self.bar = None


def _phased(registry: Any, progress: _Progress, after: str | None) -> dict[str, Any]:
    """The engines, each announcing its phase to ``progress``; after the last one,
    ``after`` (checking the user's code) becomes the phase."""
    names = list(registry)

    def wrap(name: str, engine: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            progress.phase(PHASES.get(name, name))
            result = engine(*args, **kwargs)
            if after is not None and name == names[-1]:
                progress.phase(after)
            return result

        return run

    return {name: wrap(name, engine) for name, engine in registry.items()}


def _watch_interrupts() -> None:
    """Ctrl-C raises KeyboardInterrupt as usual, and starts a watchdog: work that cannot
    stop at once (a thread pool finishing its queue) would otherwise delay the exit for
    as long as the work takes. After :data:`INTERRUPT_GRACE` seconds without an orderly
    exit, the watchdog reports the interruption and ends the process (exit 130)."""
    import signal
    import threading

    def force_exit() -> None:
        if _EXITING.value:
            return
        message = "bpttcheck: error: interrupted\n"
        if _wants_json(sys.argv[1:]):
            import json

            from .report import error_document

            doc = json.dumps(error_document(int(ExitCode.INTERRUPTED), "interrupted"), indent=2)
            with contextlib.suppress(OSError):
                os.write(1, (doc + "\n").encode())
        with contextlib.suppress(OSError):
            os.write(2, message.encode())
        os._exit(int(ExitCode.INTERRUPTED))

    def interrupted(signum: int, frame: Any) -> None:
        timer = threading.Timer(INTERRUPT_GRACE, force_exit)
        timer.daemon = True
        timer.start()
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, interrupted)


def main() -> None:
    """Console-script entry point: run the CLI and exit with its code.

    After Ctrl-C, the process ends with ``os._exit(130)`` once its output is flushed:
    CPython remembers a KeyboardInterrupt that passed through C code (an import, a
    NumPy call) and would otherwise turn ``sys.exit(130)`` into death by SIGINT.
    """
    try:
        _watch_interrupts()  # inside the try: Ctrl-C may come while it imports signal
        cli.main()
    except SystemExit as exc:
        if exc.code != ExitCode.INTERRUPTED:
            raise
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed or detached stream
                stream.flush()
        os._exit(int(ExitCode.INTERRUPTED))
    except KeyboardInterrupt:  # after the CLI's own handling ended
        os._exit(int(ExitCode.INTERRUPTED))


# Spec fields explain has no use for: it differentiates nothing numerically.
EXPLAIN_UNUSED = ("method", "step", "rtol_numeric", "time_budget")


def _refuse_unused(command: str, unused: tuple[str, ...], values: dict[str, Any]) -> None:
    """A flag the command would ignore is an error, named in one line (exit 2)."""
    from .errors import SpecError
    from .prose import join_names
    from .spec import FIELD_BY_NAME

    given = [FIELD_BY_NAME[name].flag for name in unused if values.get(name) is not None]
    if given:
        verb, it = ("is", "it") if len(given) == 1 else ("are", "them")
        raise SpecError(f"{join_names(given)} {verb} not used by {command} (it differentiates "
                        f"nothing numerically); drop {it}, or use compare or numeric")


EXPORT_WIDTH = 100  # columns of the --save-svg/--save-html page: a 40-bin map and its labels


@cli.command()
@functools.partial(spec_options, unused=EXPLAIN_UNUSED)
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
    _refuse_unused("explain", EXPLAIN_UNUSED, kwargs)
    spec = resolve(config, kwargs)
    from .outputs import check_writable

    for flag, path in (("--save", save), ("--save-svg", save_svg), ("--save-html", save_html)):
        check_writable(flag, path)  # before any work: a bad path must not cost a run
    console, err_console = _console(), _console(stderr=True)
    progress = (_Progress(err_console) if console.is_terminal and err_console.is_terminal
                else None)
    result: Any
    try:
        if spec.cell != "vanilla":  # a gated cell: the map, the LSTM's c/h paths, reach
            from .cells.explain import default_parameter
            from .cells.explain import explain as take_apart_gated
            from .errors import SpecError
            from .render_gated import render as render_gated

            if truncate is not None:
                raise SpecError(f"--truncate: not available for --cell {spec.cell} yet "
                                "(vanilla only)")
            parameter = parameter or default_parameter(spec.cell)
            if progress is not None:
                progress.phase(f"taking d{parameter} apart: every (t, k) term")
            result = take_apart_gated(spec, parameter, with_reference=bool(save))
            render = render_gated  # type: ignore[assignment]
        else:
            parameter = parameter or "Whh"
            if progress is not None:
                progress.phase(f"taking d{parameter} apart: every (t, k) term")
            result = take_apart(spec, parameter, truncate, with_reference=bool(save))
    finally:
        if progress is not None:
            progress.close()
    if save:
        result.save(save)
    if save_svg or save_html:  # files first: a file error must not follow a printed report
        page = Console(record=True, file=io.StringIO(), width=EXPORT_WIDTH,
                       force_terminal=True, color_system="truecolor")
        render(result, page)
        if save_svg:
            title = f"bpttcheck explain --param {result.parameter}"
            _write_text("--save-svg", save_svg, page.export_svg(title=title, clear=False))
        if save_html:
            _write_text("--save-html", save_html, page.export_html(clear=False))
    if fmt == "json":
        click.echo(result.to_json())
    else:
        render(result, console)
    return int(ExitCode.AGREE if result.passed else ExitCode.MISMATCH)


def _write_text(flag: str, path: str, text: str) -> None:
    from .outputs import write_text

    write_text(flag, path, text)
