"""The RNN spec: what network, which data, which tolerances.

A spec is built from three layers, later ones winning: the built-in defaults
(the tutorial's own setting), an optional TOML file (``--config``), and
command-line flags. Every value is validated here, once, and every problem is
raised as a :class:`SpecError` whose message names where the value came from
(``configs/x.toml: key 'hidden'`` or ``--hidden``) and what was expected.

This module is plain Python: it imports neither NumPy, Click nor Rich, so the
CLI can build its flags from :data:`FIELDS` without slowing ``--help``.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .errors import SpecError
from .files import read_regular

# Default tolerances. Analytic engines compute the same sum in a different
# order, so they agree to a few ulps of the largest term: 1e-9 leaves room for
# hundreds of rounding steps. Numerical differentiation is judged more loosely
# and, in addition, per element against its own error estimate (compare.py).
RTOL_ANALYTIC = 1e-9
RTOL_NUMERIC = 1e-6
# Entries smaller than FLOOR x (the parameter's largest |gradient|) are judged
# on that absolute scale instead of their own: such an entry is the result of
# cancellation in a sum of much larger terms, so its relative error says
# nothing about the code. 1e-4 keeps the floor far below any entry that matters.
FLOOR = 1e-4

# The model's parameters, in the tutorial's order. Defined here, in plain Python, so that the
# CLI can offer them as choices without importing NumPy; model.py re-exports it.
PARAM_NAMES = ("Wxh", "Whh", "Why", "bh", "by")
# Each cell's parameters (bpttcheck.cells holds the gated ones' equations).
CELL_CHOICES = ("vanilla", "lstm", "gru")
CELL_PARAM_NAMES: dict[str, tuple[str, ...]] = {
    "vanilla": PARAM_NAMES,
    "lstm": ("Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo", "Why", "by"),
    "gru": ("Wz", "Wr", "Wn", "bz", "br", "bn", "Why", "by"),
}
ALL_PARAM_NAMES = tuple(dict.fromkeys(n for names in CELL_PARAM_NAMES.values() for n in names))
HPREV_CHOICES = ("zeros", "random")
# Numerical differentiation methods, complex step (structured) first, the default. Defined
# here NumPy-free for the CLI; bpttcheck.numdiff.methods.METHODS must list the same names.
METHOD_CHOICES = ("complex", "central", "forward", "richardson", "difference", "complex-literal")
# Work arrays of the numeric engine, in MB: far below the 500 MB a check may take in all.
MAX_MEMORY_MB = 256.0
# Refuse numerical differentiation estimated to take longer than this many seconds: a full
# check of hidden 256 / seq 100 (99 k elements) is estimated at about 60 s on 2 cores.
TIME_BUDGET = 300.0


@dataclasses.dataclass(frozen=True)
class Field:
    """One spec key: its type, default, check and help text (also the flag's)."""

    name: str
    kind: str  # "int", "float", "str", "choice", "path", "bool"
    default: Any
    help: str
    check: Callable[[Any], str | None] = lambda value: None  # returns what was expected
    optional: bool = False  # may be unset (None); "off" disables floats
    choices: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _positive(value: Any) -> str | None:
    return None if value > 0 else "a positive number"


def _non_negative(value: Any) -> str | None:
    return None if value >= 0 else "a number >= 0"


def _at_least_two(value: Any) -> str | None:
    return None if value >= 2 else "an integer >= 2 (a vocabulary needs two symbols)"


def _tolerance(value: Any) -> str | None:
    return None if 0 < value < 1 else "a number between 0 and 1 (exclusive)"


MAX_CONFIG_BYTES = 1 << 20  # a spec is a few lines; more is a mistake (or /dev/zero)
MAX_SIZE = 1_000_000  # a sanity bound; memory is checked separately when a run is planned

FIELDS: tuple[Field, ...] = (
    Field("hidden", "int", 100, "Hidden units (the tutorial uses 100).", _positive),
    Field("seq", "int", 25, "Sequence length T: time steps unrolled (tutorial: 25).", _positive),
    Field(
        "vocab",
        "int",
        None,
        "Vocabulary size; setting it uses random tokens instead of a text.",
        _at_least_two,
        optional=True,
    ),
    Field(
        "data",
        "path",
        None,
        "Text file whose sorted unique characters form the vocabulary "
        "(default: sonnets shipped with bpttcheck).",
        optional=True,
    ),
    Field("offset", "int", 0, "Character offset of the sequence in the text.", _non_negative),
    Field("seed", "int", 0, "Seed of the one random generator used for weights and tokens.",
          _non_negative),
    Field("init_scale", "float", 0.01, "Weights are init_scale * randn (tutorial: 0.01).",
          _positive),
    Field("hprev", "choice", "zeros", "Initial hidden state.", choices=HPREV_CHOICES),
    Field("batch", "int", None,
          "Sequences per batch B: inputs and targets (T, B), hprev (H, B), the loss summed "
          "over the batch (layer functions: N); unset: one sequence, as the tutorial.",
          _positive, optional=True),
    Field("biases", "bool", True,
          "Whether the model has the biases bh and by (false: a bias-free model, such as the "
          "U/V/W tutorial RNN; bh and by are not parameters at all)."),
    Field("bias_scale", "float", 0.0,
          "Biases are bias_scale * randn (tutorial: 0, zero biases).", _non_negative),
    Field(
        "clip",
        "float",
        None,
        "Clip gradients to [-clip, clip] as the tutorial does (5); 'off' to disable.",
        _positive,
        optional=True,
    ),
    Field("rtol_analytic", "float", RTOL_ANALYTIC,
          "Largest relative error allowed between two analytic engines.", _tolerance),
    Field("rtol_numeric", "float", RTOL_NUMERIC,
          "Largest relative error allowed against numerical differentiation.", _tolerance),
    Field("floor", "float", FLOOR,
          "Relative-error floor, as a fraction of the parameter's largest |gradient|.",
          _tolerance),
    Field("method", "choice", "complex",
          "Numerical differentiation: complex step (structured, verified literally on a "
          "sample; exact to rounding), central, forward, richardson, difference (central, in "
          "difference form), or complex-literal (complex step on the forward pass, every "
          "element).",
          choices=METHOD_CHOICES),
    Field("step", "float", None,
          "Step of --method, relative to max(1, |θ|) (default: chosen by the method).",
          _positive, optional=True),
    Field("max_memory", "float", MAX_MEMORY_MB,
          "Memory for work arrays, in MB: numerical differentiation's chunks are sized to "
          "fit; explain refuses a map that would not fit.",
          _positive),
    Field("time_budget", "float", TIME_BUDGET,
          "Refuse numerical differentiation estimated to take longer (seconds); 'off' to "
          "never refuse.", _positive, optional=True),
    Field("cell", "choice", "vanilla",
          "Recurrent cell: the tutorial's vanilla tanh RNN, an LSTM or a GRU.",
          choices=CELL_CHOICES),
)

FIELD_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}


@dataclasses.dataclass(frozen=True)
class Spec:
    """A resolved, validated RNN spec. See :data:`FIELDS` for the meaning of each."""

    hidden: int = 100
    seq: int = 25
    vocab: int | None = None
    data: str | None = None
    offset: int = 0
    seed: int = 0
    init_scale: float = 0.01
    hprev: str = "zeros"
    batch: int | None = None
    biases: bool = True
    bias_scale: float = 0.0
    clip: float | None = None
    rtol_analytic: float = RTOL_ANALYTIC
    rtol_numeric: float = RTOL_NUMERIC
    floor: float = FLOOR
    method: str = "complex"
    step: float | None = None
    max_memory: float = MAX_MEMORY_MB
    time_budget: float | None = TIME_BUDGET
    cell: str = "vanilla"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _convert(field: Field, value: Any, where: str) -> Any:
    """Check one raw value (from TOML or a flag) and return it in its Python type."""

    def fail(expected: str) -> SpecError:
        return SpecError(f"{where}: expected {expected}, got {value!r}")

    if field.optional and (value is None or value is False or value in ("off", "none")):
        return None
    kind = field.kind
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail("an integer")
        if abs(value) > MAX_SIZE and field.name in ("hidden", "seq", "vocab", "batch"):
            raise fail(f"an integer no larger than {MAX_SIZE}")
    elif kind == "float":
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise fail("a number" + (" or 'off'" if field.optional else "")) from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail("a number" + (" or 'off'" if field.optional else ""))
        value = float(value)
        if not math.isfinite(value):
            raise fail("a finite number")
    elif kind == "bool":
        if not isinstance(value, bool):
            raise fail("true or false")
    elif kind == "choice" and value not in field.choices:
        raise fail("one of " + ", ".join(repr(c) for c in field.choices))
    elif kind in ("str", "path") and (not isinstance(value, str) or not value):
        raise fail("a non-empty string")
    expected = field.check(value)
    if expected is not None:
        raise fail(expected)
    return value


def _unknown_key(key: str, where: str) -> SpecError:
    close = difflib.get_close_matches(key, FIELD_BY_NAME, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    known = ", ".join(FIELD_BY_NAME)
    return SpecError(f"{where}: unknown key '{key}'{hint}; known keys: {known}")


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a spec file and return its validated values (unset keys are absent)."""
    path = Path(path)
    raw = read_regular(path, "--config", MAX_CONFIG_BYTES, SpecError, expected="a TOML file",
                       missing="config file not found")
    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SpecError(f"{path}: config file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses once per nested table or array
        raise SpecError(f"{path}: invalid TOML: nested too deeply for a spec") from None
    values: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{path}: key '{key}'"
        if key not in FIELD_BY_NAME:
            raise _unknown_key(key, str(path))
        field = FIELD_BY_NAME[key]
        values[key] = _convert(field, value, where)
        if field.kind == "path" and values[key] is not None:
            # A relative data path in a config file is relative to that file.
            values[key] = str(path.parent / values[key])
    return values


def resolve(
    config: str | Path | None = None, overrides: Mapping[str, Any] | None = None
) -> Spec:
    """Build a :class:`Spec` from defaults, an optional TOML file and overrides.

    ``overrides`` are flag values by field name (``{"hidden": 12}``); ``None``
    values are ignored, as a flag not given. They are validated like file values
    and reported under their flag name (``--hidden``).
    """
    file_values = load_toml(config) if config is not None else {}
    flag_values: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if key not in FIELD_BY_NAME:
            raise _unknown_key(key, "overrides")
        if value is None:
            continue
        field = FIELD_BY_NAME[key]
        flag_values[key] = _convert(field, value, field.flag)
    # vocab (random tokens) and data (a text) are two answers to one question: a flag for
    # one replaces the file's choice of the other; both in one layer is an error.
    for layer, where in ((flag_values, "--vocab and --data"),
                         (file_values, f"{config}: keys 'vocab' and 'data'")):
        if layer.get("vocab") is not None and layer.get("data") is not None:
            raise SpecError(f"{where}: give one (vocab means random tokens, data a text)")
    if flag_values.get("vocab") is not None:
        file_values.pop("data", None)
    if flag_values.get("data") is not None:
        file_values.pop("vocab", None)
    return Spec(**{**file_values, **flag_values})
