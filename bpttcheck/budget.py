"""How much memory a check needs, estimated before anything large is allocated.

A spec such as ``--hidden 1000000`` is well-formed but would ask NumPy for
terabytes; refusing it up front, with the estimate, beats a MemoryError (or
the machine swapping) half-way through.
"""

from __future__ import annotations

import os

from .errors import SpecError

BYTES = 8  # float64
# Copies of the parameters alive at once: the weights, one gradient per engine (three),
# the numeric engine's error bars and the comparison's temporaries (about four).
PARAM_COPIES = 9
MEMORY_FRACTION = 0.5  # never plan to use more than this share of physical memory
FALLBACK_MEMORY = 4 * 2**30  # if the machine will not say how much it has


def n_params(hidden: int, vocab: int) -> int:
    """Elements of Wxh, Whh, Why, bh and by together."""
    return 2 * hidden * vocab + hidden * hidden + hidden + vocab


def estimate_bytes(hidden: int, vocab: int, seq: int) -> int:
    """Bytes a full check holds at its peak, roughly: parameter copies plus per-step states."""
    states = seq * (4 * hidden + 3 * vocab)  # hs, pre-activations, logits, probabilities, ...
    return BYTES * (PARAM_COPIES * n_params(hidden, vocab) + 2 * states)


def available_bytes() -> int:
    """The share of this machine's physical memory a check may plan to use."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 2 * FALLBACK_MEMORY
    return int(total * MEMORY_FRACTION)


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def check_memory(hidden: int, vocab: int, seq: int, limit: int | None = None) -> None:
    """Raise :class:`SpecError` if a check of this size would not fit in memory."""
    need = estimate_bytes(hidden, vocab, seq)
    limit = available_bytes() if limit is None else limit
    if need > limit:
        raise SpecError(
            f"hidden {hidden}, vocab {vocab}, seq {seq}: a check needs about {human(need)} of "
            f"memory ({n_params(hidden, vocab)} parameters), more than the {human(limit)} "
            "bpttcheck allows itself here; use a smaller --hidden, --vocab or --seq"
        )


# The reference engine forms every (t, k) term of the double sum on its own: T(T+1)/2 terms,
# each a few O(H^2) products plus Python overhead. Measured here at about 6 us + 3 H^2 / 2e9 s
# a term (hidden 100: ~20 us), so seq 2000 takes under a minute and seq 1e6 would take weeks.
TERM_OVERHEAD = 6e-6  # seconds of Python per (t, k) term
FLOP_RATE = 2e9  # float64 operations per second for the small matrix-vector products
MAX_SECONDS = 600.0  # refuse a reference computation expected to take longer


def reference_seconds(hidden: int, seq: int) -> float:
    """Rough seconds for the reference engine's double loop."""
    terms = seq * (seq + 1) / 2
    return terms * (TERM_OVERHEAD + 3 * hidden * hidden / FLOP_RATE)


# explain forms every (t, k) term of one parameter's gradient (an outer product of its size),
# besides the reference engine's double sum. CPU time measured here (2026-11-29,
# bench/numeric.py, the parameter Whh) is about EXPLAIN_PER_TERM per element of each term:
# 0.6-1.4x at hidden 50-256, seq 25-200; plus EXPLAIN_FIXED for the rest (the forward pass,
# the tutorial engine with and without clipping, the reach): 0.13-0.43 s of CPU at the
# tutorial's size in three runs under load.
EXPLAIN_PER_TERM = 3.0e-8
EXPLAIN_FIXED = 0.1


def explain_seconds(hidden: int, seq: int, size: int) -> float:
    """Rough seconds of ``explain`` for a parameter of ``size`` elements."""
    terms = seq * (seq + 1) / 2
    return reference_seconds(hidden, seq) + terms * size * EXPLAIN_PER_TERM + EXPLAIN_FIXED


def check_reference_time(hidden: int, seq: int, limit: float = MAX_SECONDS) -> None:
    """Raise :class:`SpecError` if the double sum over (t, k) would take too long."""
    seconds = reference_seconds(hidden, seq)
    if seconds > limit:
        terms = seq * (seq + 1) // 2
        raise SpecError(
            f"seq {seq}, hidden {hidden}: the reference engine's double sum has {terms:.2g} "
            f"(t, k) terms, {_duration(seconds)} here, more than the "
            f"{_duration(limit, approx=False)} bpttcheck allows; use a smaller --seq, or "
            "`bpttcheck numeric`, which skips the reference engine"
        )


def _duration(seconds: float, approx: bool = True) -> str:
    from .prose import duration  # "1 hour", never "1 hours"

    return duration(seconds, approx)


def explain_bytes(n: int, hidden: int, vocab: int, seq: int, size: int) -> int:
    """Bytes of the arrays ``explain`` holds at its peak: ``n`` parameters in all, the one
    explained having ``size`` elements.

    Its row sums and column sums (T copies of the parameter each), the tutorial's per-step
    record of every parameter (T copies of all of them), the temporaries of comparing those,
    the (t, k) norm maps, the per-step vectors (dhraw, gates, multipliers, the forward pass),
    a gated cell's state Jacobians, and a few whole copies of the parameters (gradients with
    and without clipping, the compensated sums). Checked against tracemalloc's peak in
    tests/test_budgets.py.
    """
    per_step = seq * (4 * size + 3 * n)  # and the temporaries of the agreement checks
    jacobians = seq * (2 * hidden) ** 2  # a gated cell's state Jacobians (2H x 2H for the LSTM)
    maps = 4 * seq * seq
    vectors = seq * (16 * hidden + 4 * vocab)  # states, gates, multipliers, dhraw
    return BYTES * (per_step + jacobians + maps + vectors + 6 * n + 6 * size)


def check_explain_memory(n: int, hidden: int, vocab: int, seq: int, parameter: str, size: int,
                         limit_mb: float) -> None:
    """Raise :class:`SpecError` before ``explain`` allocates more than ``limit_mb`` MiB."""
    need = explain_bytes(n, hidden, vocab, seq, size)
    if need > limit_mb * 2**20:
        raise SpecError(
            f"explain --param {parameter} at hidden {hidden}, vocab {vocab}, seq {seq} needs "
            f"about {need / 2**20:,.0f} MB of arrays (T copies of the parameter and of the "
            f"per-step gradients), more than --max-memory {limit_mb:g} MB; use a smaller --seq "
            "or --hidden, or raise --max-memory"
        )
