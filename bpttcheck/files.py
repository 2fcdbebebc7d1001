"""Bounded reading of the files a user names (``--config``, ``--data``, ``--impl``).

Every input is read by :func:`read_regular`: it must be a regular file, and at
most ``limit`` bytes are read from it. The size is counted while reading, never
taken from ``st_size`` (``/dev/zero`` and ``/proc`` files report 0). The file is
opened with ``O_NONBLOCK`` so that naming a FIFO refuses it at once instead of
waiting for a writer; the type is then checked on the open descriptor
(``fstat``), so the file checked is the file read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .errors import BpttcheckError

CHUNK = 1 << 20  # bytes per read() call


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def read_regular(path: str | Path, flag: str, limit: int, error: type[BpttcheckError],
                 expected: str = "a regular file", missing: str = "file not found") -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    Anything else raises ``error`` with one line naming ``flag`` and ``path``:
    a missing file, a directory, a FIFO, a device, a socket, an unreadable file,
    or more than ``limit`` bytes.
    """
    where = f"{flag} {path}"
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise error(f"{where}: {missing}") from None
    except IsADirectoryError:
        raise error(f"{where}: is a directory; expected {expected}") from None
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket or a FIFO that cannot be opened
            raise error(f"{where}: not a regular file; expected {expected}") from None
        raise error(f"{where}: cannot read ({exc.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise error(f"{where}: is {_kind(mode)}; expected {expected}")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise error(f"{where}: more than the {limit} bytes bpttcheck reads; "
                            "pass a smaller file")
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"{where}: cannot read ({exc.strerror})") from None
    finally:
        os.close(fd)
