"""The token sequence a check runs on: a text's characters or random tokens.

As in the tutorial, the vocabulary of a text is its sorted unique characters,
``inputs`` are ``seq`` characters starting at ``offset`` and ``targets`` are the
same characters shifted by one.
"""

from __future__ import annotations

import dataclasses
from importlib import resources

import numpy as np

from .errors import SpecError
from .files import read_regular

DEFAULT_TEXT = "sonnets.txt"  # five Shakespeare sonnets (public domain), shipped in data/
MAX_TEXT_BYTES = 64 * 1024 * 1024  # a larger file is refused rather than read whole


@dataclasses.dataclass(frozen=True)
class Tokens:
    """Inputs and targets as integer ids, and the symbols they stand for."""

    inputs: tuple[int, ...]
    targets: tuple[int, ...]
    vocab_size: int
    symbols: tuple[str, ...] | None  # the characters, when tokens come from a text
    source: str  # where they came from, for reports


def read_text(path: str | None) -> tuple[str, str]:
    """Return (text, label) for a data file, or the embedded text for ``None``."""
    if path is None:
        text = resources.files("bpttcheck.data").joinpath(DEFAULT_TEXT).read_text("utf-8")
        return text, f"embedded {DEFAULT_TEXT}"
    where = f"--data {path}"
    raw = read_regular(path, "--data", MAX_TEXT_BYTES, SpecError, expected="a text file")
    if not raw:
        raise SpecError(f"{where}: is empty; expected some text")
    try:
        return raw.decode("utf-8"), str(path)
    except UnicodeDecodeError as exc:
        raise SpecError(f"{where}: not UTF-8 text (bad byte at offset {exc.start})") from None


def from_text(text: str, label: str, seq: int, offset: int) -> Tokens:
    """Take ``seq`` inputs at ``offset`` and their next characters as targets."""
    if len(text) < offset + seq + 1:
        raise SpecError(
            f"--data {label}: {len(text)} characters is too short for offset {offset} + seq {seq} "
            f"+ 1 (need at least {offset + seq + 1}); use a longer text or a smaller --seq/--offset"
        )
    symbols = sorted(set(text))
    char_to_ix = {ch: i for i, ch in enumerate(symbols)}
    window = text[offset : offset + seq + 1]
    ids = tuple(char_to_ix[ch] for ch in window)
    return Tokens(ids[:-1], ids[1:], len(symbols), tuple(symbols), label)


def random_tokens(vocab: int, seq: int, rng: np.random.Generator) -> Tokens:
    """``seq + 1`` uniform random ids; inputs and targets overlap as with a text."""
    ids = tuple(int(i) for i in rng.integers(0, vocab, size=seq + 1))
    return Tokens(ids[:-1], ids[1:], vocab, None, "random tokens")
