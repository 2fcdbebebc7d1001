"""The Rich console the CLI prints through: pipe-friendly, NO_COLOR-aware.

Two differences from a plain :class:`rich.console.Console`: a closed pipe raises
``BrokenPipeError`` (Rich's own handler exits 1, the code for "gradients
disagree"; the CLI exits 141), and output that is not a terminal carries no
trailing spaces (Rich pads wrapped lines and table cells with them).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import IO, Any

from rich.console import Console
from rich.segment import Segment


class PlainConsole(Console):
    """A console whose piped output has no trailing spaces and whose closed pipe is an
    exception, not an exit."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        text = super()._render_buffer(buffer)
        if self.is_terminal and not self.no_color:  # with NO_COLOR no style needs the padding
            return text
        return "\n".join(line.rstrip(" ") for line in text.split("\n"))


def make_console(stderr: bool = False, file: IO[str] | None = None, width: int | None = None,
                 **options: Any) -> Console:
    """A console for the terminal: no escape codes at all under NO_COLOR (not even bold),
    none when the stream is not a terminal (Rich's own rule)."""
    plain = bool(os.environ.get("NO_COLOR"))
    options.setdefault("color_system", None if plain else "auto")
    return PlainConsole(stderr=stderr, file=file, width=width, no_color=plain or None,
                        **options)
