"""Output files (``--save``, ``--junit``, ``--save-svg``, ``--save-html``) and stdout.

- :func:`check_writable` runs before any computation: the folder must exist and
  be writable, and an existing path must be a regular file (never a directory,
  a device or a FIFO, which a rename would replace).
- :func:`write_atomic` writes to a temporary file in the same folder, flushes
  it to disk and renames it over the target with :func:`os.replace`. A reader
  (or a concurrent run writing the same path) sees either the old file or a
  complete new one, never a mix; a failure part-way leaves the old file as it was.
- :class:`GuardedStream` wraps stdout so that a failing write (``> /dev/full``,
  a disk full) is told apart from any other ``OSError`` and becomes one line
  (:class:`StdoutError`); a closed pipe is left to the caller (its own exit code).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from .errors import SpecError


def check_writable(flag: str, path: str | os.PathLike[str] | None) -> None:
    """Refuse, in one line naming ``flag``, an output path that cannot be written."""
    if path is None or str(path) == "":
        if path is not None:
            raise SpecError(f"{flag}: expected a file name, got an empty string")
        return
    target = Path(path)
    where = f"{flag} {path}"
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise SpecError(f"{where}: cannot write ({exc.strerror})") from None
    if mode is not None and not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise SpecError(f"{where}: is {kind}; expected a file path to write")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise SpecError(f"{where}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SpecError(f"{where}: folder {folder} is not writable")


def write_atomic(flag: str, path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]
                 ) -> None:
    """Call ``write(fh)`` on a temporary file next to ``path``, then rename it over ``path``."""
    check_writable(flag, path)
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        existing = target.stat().st_mode & 0o7777
    except OSError:
        existing = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise SpecError(f"{flag} {path}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, existing if existing is not None else 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise SpecError(f"{flag} {path}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(flag: str, path: str | os.PathLike[str], text: str) -> None:
    """:func:`write_atomic` for UTF-8 text."""
    write_atomic(flag, path, lambda fh: fh.write(text.encode("utf-8")))


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


class StdoutError(Exception):
    """Writing the report to stdout failed (not a closed pipe)."""


class GuardedStream:
    """A text stream proxy: an ``OSError`` from write or flush becomes :class:`StdoutError`."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def _failed(self, exc: OSError) -> StdoutError:
        return StdoutError(f"cannot write the report to stdout ({exc.strerror or exc})")

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise
            raise self._failed(exc) from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise
            raise self._failed(exc) from None

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


def silence(stream: IO[str]) -> None:
    """Point ``stream``'s file descriptor at /dev/null: the exit-time flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        fd = stream.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
