"""A bounded per-process memo for work that depends on a piece of source text only.

The fix search loads hundreds of copies of one file, each a line away from the
others, in one child process: every top-level block that did not change parses,
reads the same names and compiles to the same code as before. Keys hold the text
itself (and whatever else the result depends on), so a hit is the same work.
What is kept must not be changed by whoever gets it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class Memo(Generic[T]):
    """``get(key, make)``: ``make()``'s result for ``key``, made once while it is kept
    (the ``size`` most recently used keys)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[Hashable, T] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        value = make()
        self._kept[key] = value
        if len(self._kept) > self.size:
            self._kept.popitem(last=False)
        return value

    def clear(self) -> None:
        self._kept.clear()
