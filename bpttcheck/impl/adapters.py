"""The user's function as an engine: three calling conventions, one signature.

A loaded function or method is wrapped so that bpttcheck can call it as
``call(params, batch) -> Result`` with its own weights, whatever the form:

- **globals** (min-char-rnn): ``NAME(inputs, targets, hprev)`` reads module
  globals ``Wxh, Whh, Why, bh, by`` (and ``vocab_size``, ``hidden_size``,
  ``seq_length``); bpttcheck sets them before every call.
- **method**: ``Class.method(inputs, targets, hprev)`` on an instance whose
  attributes hold the weights. The instance is built by calling the class with
  the sizes it asks for by name (``hidden_size``, ``vocab_size``, ``H``, ...) or
  by a factory the user names; bpttcheck then sets the weight attributes.
- **explicit**: ``NAME(params, inputs, targets, hprev)`` with a dict of weights.

The function returns ``(loss, dWxh, dWhh, dWhy, dbh, dby, hlast)`` (another
order with ``--impl-order``), ``(loss, grads)`` or ``(loss, grads, hlast)`` with
``grads`` a dict keyed ``Wxh`` or ``dWxh`` (or the user's names).

Every call gets fresh copies of the weights, the inputs and ``hprev``, so the
check never depends on what the function does to them; afterwards the copies
are compared with the originals and any change is recorded as a finding.
A per-call time limit stops an endless loop (``signal.setitimer``, main thread).
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import signal
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..engines.base import Gradients, Options
from ..errors import ImplError
from ..model import PARAM_NAMES, Batch, Params
from ..prose import plural
from .loader import Loaded, from_callable, load

DEFAULT_TIMEOUT = 60.0  # seconds per call: min-char-rnn at H=100, T=25 takes milliseconds
TIMER_REPEAT = 0.5  # seconds between further alarms once the time limit has passed
# Conventions recognised without --impl-names (their name -> ours).
CONVENTIONS: tuple[dict[str, str], ...] = (
    {"Wxh": "Wxh", "Whh": "Whh", "Why": "Why", "bh": "bh", "by": "by"},
    {"U": "Wxh", "W": "Whh", "V": "Why", "b": "bh", "c": "by"},  # Goodfellow et al., ch. 10
)
# Sizes a constructor or a script may ask for, by name.
SIZE_ALIASES: dict[str, tuple[str, ...]] = {
    "hidden": ("hidden_size", "hidden", "n_hidden", "num_hidden", "hidden_dim", "H", "n_h"),
    "vocab": ("vocab_size", "vocab", "n_vocab", "V", "word_dim", "input_size", "input_dim",
              "output_size", "output_dim", "n_in"),
    "seq": ("seq_length", "seq_len", "seq", "T", "sequence_length"),
    "learning_rate": ("learning_rate", "lr"),
}
# Elements per parameter differentiated through the user's function: four calls
# each, and one call of min-char-rnn at H=100, T=25 takes milliseconds, so 20
# keeps the default check to a few seconds. When the loss matches the spec's,
# every element is compared with the reference BPTT as well.
SAMPLE = 20
LEARNING_RATE = 0.1  # passed to constructors that require one; never used by a gradient check
RETURN_HELP = ("(loss, dWxh, dWhh, dWhy, dbh, dby, hlast), (loss, grads) or "
               "(loss, grads, hlast) with grads a dict")


class _Timeout(BaseException):
    """Raised by the alarm inside the user's code; a BaseException so ``except
    Exception`` in their code does not swallow it."""


@dataclasses.dataclass(frozen=True)
class ImplOptions:
    """How to call the user's code (the ``--impl-*`` flags)."""

    names: Mapping[str, str] = dataclasses.field(default_factory=dict)  # theirs -> ours
    order: tuple[str, ...] | None = None  # our names, in the order their tuple returns them
    factory: str | None = None  # NAME of a function in the same file that builds the instance
    timeout: float = DEFAULT_TIMEOUT
    sample: int | None = SAMPLE  # elements per parameter for the numeric check (None: all)


@dataclasses.dataclass(frozen=True)
class Result:
    """One call: the loss and the gradients under bpttcheck's names."""

    loss: float
    grads: dict[str, np.ndarray]
    hlast: Any
    findings: tuple[str, ...] = ()  # mutations of the arguments seen in this call
    notes: tuple[str, ...] = ()
    dtypes: tuple[str, ...] = ()  # floating dtypes of the returned loss and gradients
    extras: dict[str, Any] = dataclasses.field(default_factory=dict)  # a dict's other keys


def parse_names(text: str | None) -> dict[str, str]:
    """``U=Wxh,W=Whh`` -> {"U": "Wxh", "W": "Whh"} (their name = bpttcheck's)."""
    out: dict[str, str] = {}
    if not text:
        return out
    for part in text.split(","):
        theirs, sep, ours = (s.strip() for s in part.partition("="))
        if not sep or not theirs.isidentifier() or ours not in PARAM_NAMES:
            raise ImplError(f"--impl-names: expected THEIRS=OURS pairs with OURS one of "
                            f"{', '.join(PARAM_NAMES)}, got {part.strip()!r}")
        out[theirs] = ours
    return out


def parse_order(text: str | None, names: Mapping[str, str]) -> tuple[str, ...] | None:
    """``dWhh,dWxh,...`` (ours or theirs, with or without ``d``) -> our names."""
    if not text:
        return None
    out = []
    for raw in (s.strip() for s in text.split(",")):
        ours = _our_name(raw, names)
        if ours is None:
            raise ImplError(f"--impl-order: unknown gradient {raw!r}; expected each of "
                            f"{', '.join('d' + n for n in PARAM_NAMES)} once")
        out.append(ours)
    if sorted(out) != sorted(PARAM_NAMES):
        raise ImplError(f"--impl-order: expected each of {', '.join('d' + n for n in PARAM_NAMES)}"
                        f" exactly once, got {text!r}")
    return tuple(out)


def _our_name(key: str, names: Mapping[str, str]) -> str | None:
    for candidate in (key, key[1:] if key.startswith("d") else None,
                      key[4:] if key.startswith("dLd") else None):
        if candidate is None:
            continue
        if candidate in names:
            return names[candidate]
        if candidate in PARAM_NAMES:
            return candidate
    return None


class UserCode:
    """The user's function, callable with bpttcheck's weights: ``call(params, batch)``."""

    def __init__(self, loaded: Loaded, options: ImplOptions, sizes: Mapping[str, int]) -> None:
        self.loaded = loaded
        self.options = options
        self.sizes = dict(sizes)  # hidden, vocab, seq
        self.label = f"{loaded.name} in {loaded.path.name}"
        self.instance: Any = None
        method = "." in loaded.name
        self.names = self._names(method)
        if method:
            self.form = "method"
            self.instance = self._instance()
            self.func = getattr(self.instance, loaded.name.split(".")[1])
        else:
            self.func = loaded.obj
        n = self._arity()
        if not method:
            self.form = "explicit" if n == 4 else "globals"
        elif n != 3:
            raise self._signature_error(n)

    # -- setting up ---------------------------------------------------------
    def _names(self, method: bool) -> dict[str, str]:
        """Their weight names -> ours: --impl-names over a recognised convention."""
        given = dict(self.options.names)
        reads = self.loaded.reads
        for convention in CONVENTIONS:
            if sum(theirs in reads for theirs in convention) >= 3:
                base = dict(convention)
                break
        else:
            base = dict(CONVENTIONS[0])
        taken = set(given.values())
        names = {t: o for t, o in base.items() if o not in taken}
        names.update(given)
        return names

    def _arity(self) -> int:
        try:
            sig = inspect.signature(self.func)
        except (TypeError, ValueError):
            return 3  # a builtin or C function: trust it
        params = [p for p in sig.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        required = [p for p in params if p.default is p.empty]
        if any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values()):
            return 3 if len(required) <= 3 else len(required)
        if len(required) <= 3 <= len(params):
            return 3
        if len(required) == 4:
            return 4
        raise self._signature_error(len(required))

    def _signature_error(self, n: int) -> ImplError:
        try:
            sig = str(inspect.signature(self.func))
        except (TypeError, ValueError):
            sig = "(...)"
        line = getattr(getattr(self.func, "__code__", None), "co_firstlineno", "?")
        expected = ("NAME(inputs, targets, hprev) with weights as module globals, or "
                    "NAME(params, inputs, targets, hprev)")
        if self.instance is not None:
            expected = "method(self, inputs, targets, hprev) with weights as attributes"
        return ImplError(f"{self.loaded.path}:{line}: wrong signature: {self.loaded.name}{sig} "
                         f"takes {plural(n, 'required argument')}; expected {expected}")

    def _size_kwargs(self, func: Callable[..., Any], what: str) -> dict[str, Any]:
        """Keyword arguments for a constructor or factory, matched to sizes by name."""
        try:
            sig = inspect.signature(func)
        except (TypeError, ValueError):
            return {}
        values = {**self.sizes, "learning_rate": LEARNING_RATE}
        kwargs: dict[str, Any] = {}
        missing = []
        for p in sig.parameters.values():
            if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            key = next((k for k, aliases in SIZE_ALIASES.items() if p.name in aliases), None)
            if key is not None and key in values:
                kwargs[p.name] = values[key]
            elif p.default is p.empty:
                missing.append(p.name)
        if missing:
            raise ImplError(f"{self.loaded.path}: cannot call {what}: no spec value for "
                            f"{', '.join(missing)} (sizes are recognised by name: "
                            "hidden_size, vocab_size, seq_length, ...); name a factory with "
                            "--impl-factory NAME")
        return kwargs

    def _instance(self) -> Any:
        cls = self.loaded.obj
        if self.options.factory:
            factory = self.loaded.namespace.get(self.options.factory)
            if not callable(factory):
                raise ImplError(f"--impl-factory {self.options.factory}: no such function in "
                                f"{self.loaded.path}")
            make, what = factory, f"factory {self.options.factory}"
        else:
            make, what = cls, f"{cls.__name__}()"
        kwargs = self._size_kwargs(make, what)
        with self.guard(what):
            instance = make(**kwargs)
        if not isinstance(instance, cls):
            raise ImplError(f"--impl-factory {self.options.factory} returned a "
                            f"{type(instance).__name__}, not a {cls.__name__}")
        present = [t for t in self.names if hasattr(instance, t)]
        if len(present) < len(PARAM_NAMES):
            arrays = sorted(k for k, v in vars(instance).items() if isinstance(v, np.ndarray))
            missing = [t for t in self.names if t not in present]
            raise ImplError(f"{self.loaded.path}: {cls.__name__} instance has no weight "
                            f"attribute {', '.join(missing)}; its array attributes: "
                            f"{', '.join(arrays) or 'none'} (map names with --impl-names)")
        return instance

    # -- calling ------------------------------------------------------------
    @contextmanager
    def guard(self, what: str) -> Iterator[None]:
        """Time limit, and the user's exceptions turned into one-line ImplErrors."""
        seconds = self.options.timeout
        use_alarm = (seconds > 0 and threading.current_thread() is threading.main_thread()
                     and hasattr(signal, "setitimer"))
        previous: Any = None

        def expire(signum: int, frame: Any) -> None:
            raise _Timeout

        if use_alarm:
            previous = signal.signal(signal.SIGALRM, expire)
            # Fires again every TIMER_REPEAT s in case their code swallows the first one.
            signal.setitimer(signal.ITIMER_REAL, seconds, TIMER_REPEAT)
        failure: ImplError | None = None
        try:
            yield
        except _Timeout:
            failure = ImplError(f"--timeout: {what} did not return within {seconds:g} s "
                                "(an endless loop?); stopped it")
        except ImplError:
            raise
        except Exception as exc:
            failure = ImplError(self._exception_message(what, exc))
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
        if failure is not None:
            raise failure

    def _exception_message(self, what: str, exc: BaseException) -> str:
        """``lossFun raised ValueError: ...; traceback: f.py:40 in lossFun: hs[t] = ...``."""
        path = str(self.loaded.path)
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
        where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}: "
                            f"{(f.line or '').strip()}" for f in reversed(frames))
        text = f"{what} raised {type(exc).__name__}: {exc}"
        return text + (f" (at {where})" if where else "")

    def call(self, params: Params, batch: Batch) -> Result:
        """Call the user's code once with copies of ``params`` and ``batch``."""
        theirs = {t: np.array(params[o], dtype=np.float64) for t, o in self.names.items()}
        hprev = np.array(batch.hprev, dtype=np.float64)
        inputs, targets = list(batch.inputs), list(batch.targets)
        ns = self.loaded.namespace
        if self.form == "globals":
            ns.update(theirs)
            ns.update(vocab_size=int(params["Why"].shape[0]), hidden_size=int(
                params["Whh"].shape[0]), seq_length=batch.seq)
            args: tuple[Any, ...] = (inputs, targets, hprev)
        elif self.form == "method":
            for t, value in theirs.items():
                setattr(self.instance, t, value)
            args = (inputs, targets, hprev)
        else:
            args = (dict(theirs), inputs, targets, hprev)
        with self.guard(self.loaded.name):
            out = self.func(*args)
        findings = self._mutations(params, batch, theirs, hprev)
        loss, grads, hlast, notes = self._unpack(out, params)
        return Result(loss, grads, hlast, findings, notes, _dtypes(out), _extras(out, self.names))

    def _mutations(self, params: Params, batch: Batch, given: dict[str, np.ndarray],
                   hprev: np.ndarray) -> tuple[str, ...]:
        """What the call did to its arguments: weights changed in place or rebound, hprev."""
        where = {"globals": "global ", "method": "attribute self.", "explicit": "params key "}
        in_place, rebound = [], []
        for t, o in self.names.items():
            if self.form == "globals":
                now = self.loaded.namespace.get(t)
            elif self.form == "method":
                now = getattr(self.instance, t, None)
            else:
                now = given[t]
            if not np.array_equal(given[t], params[o]):
                in_place.append(t)
            elif now is not given[t]:
                rebound.append(t)
        out = []
        for how, names in (("changes the weights in place", in_place),
                           ("rebinds the weights", rebound)):
            if names:
                prefix = where[self.form]
                listed = ", ".join(f"{prefix}{t}".replace(". ", ".") for t in names)
                out.append(f"mutation: {self.loaded.name} {how} ({listed}); a loss-and-gradient "
                           "function must leave them alone")
        if not np.array_equal(hprev, batch.hprev):
            out.append(f"mutation: {self.loaded.name} changes hprev in place")
        return tuple(out)

    def _unpack(self, out: Any, params: Params) -> tuple[float, dict[str, np.ndarray], Any,
                                                        tuple[str, ...]]:
        name = self.loaded.name
        if not isinstance(out, tuple | list):
            raise ImplError(f"{name} returned a value of type {type(out).__name__}; expected "
                            f"{RETURN_HELP}")
        if len(out) in (2, 3) and isinstance(out[1], Mapping):
            loss, raw, hlast = out[0], dict(out[1]), out[2] if len(out) == 3 else None
            grads: dict[str, Any] = {}
            for key, value in raw.items():
                ours = _our_name(str(key), self.names)
                if ours is not None:
                    grads[ours] = value
            missing = [n for n in PARAM_NAMES if n not in grads]
            if missing:
                raise ImplError(f"{name} returned a gradient dict without "
                                f"{', '.join('d' + m for m in missing)}; its keys: "
                                f"{', '.join(map(str, raw)) or 'none'} (map names with "
                                "--impl-names)")
        elif len(out) in (6, 7):
            order = self.options.order or PARAM_NAMES
            loss, hlast = out[0], out[6] if len(out) == 7 else None
            grads = dict(zip(order, out[1:6], strict=True))
        else:
            raise ImplError(f"{name} returned {len(out)} values; expected 7: {RETURN_HELP}")
        return (self._loss(loss), {n: self._grad(n, grads[n], params[n]) for n in PARAM_NAMES},
                hlast, self._dtype_notes(grads))

    def _loss(self, loss: Any) -> float:
        arr = np.asarray(loss)
        if arr.size != 1 or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
            raise ImplError(f"{self.loaded.name} returned a loss of type {type(loss).__name__}"
                            f"{' and shape ' + str(arr.shape) if arr.size != 1 else ''}; "
                            "expected one real number")
        return float(arr.reshape(-1)[0])

    def _grad(self, ours: str, value: Any, param: np.ndarray) -> np.ndarray:
        theirs = next((t for t, o in self.names.items() if o == ours), ours)
        label = f"d{theirs}" if theirs == ours else f"d{theirs} (d{ours})"
        arr = np.asarray(value)
        if arr.shape != param.shape:
            raise ImplError(f"{self.loaded.name} returned {label} of shape {arr.shape}; the "
                            f"parameter has shape {param.shape}")
        if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
            raise ImplError(f"{self.loaded.name} returned {label} of dtype {arr.dtype}; "
                            "expected float64")
        return np.array(arr, dtype=np.float64)

    def _dtype_notes(self, grads: Mapping[str, Any]) -> tuple[str, ...]:
        odd = [f"d{n} is {np.asarray(g).dtype}" for n, g in grads.items()
               if np.asarray(g).dtype != np.float64]
        return (f"{self.loaded.name} returns lower-precision gradients ({', '.join(odd)}); "
                "compared as float64",) if odd else ()


def _dtypes(out: Any) -> tuple[str, ...]:
    """Floating dtypes among the returned loss and gradients (a dict's values included)."""
    values = list(out[:6]) if len(out) >= 6 else [out[0], *dict(out[1]).values()]
    found = {np.asarray(v).dtype for v in values if hasattr(v, "dtype")}
    return tuple(sorted(d.name for d in found if np.issubdtype(d, np.floating)))


def _extras(out: Any, names: Mapping[str, str]) -> dict[str, Any]:
    """Keys of a returned gradient dict that are not one of the five parameters."""
    if len(out) in (2, 3) and isinstance(out[1], Mapping):
        return {str(k): v for k, v in out[1].items() if _our_name(str(k), names) is None}
    return {}


def prepare(target: str | Callable[..., Any], options: ImplOptions,
            sizes: Mapping[str, int]) -> UserCode:
    """Load ``target`` (a ``PATH.py:NAME`` string, or a function from the Python API)
    and wrap it (see module docstring)."""
    if callable(target):
        return UserCode(from_callable(target), options, sizes)
    supplied = frozenset(options.names) | frozenset(
        t for c in CONVENTIONS for t in c) | {"vocab_size", "hidden_size", "seq_length"}
    loaded = load(target, supplied)
    return UserCode(loaded, options, sizes)


def same(a: Result, b: Result) -> list[str]:
    """What differs between two calls with the same arguments (bit for bit)."""
    out = []
    if not (a.loss == b.loss or (math.isnan(a.loss) and math.isnan(b.loss))):
        out.append(f"loss ({a.loss!r} then {b.loss!r})")
    for n in PARAM_NAMES:
        if not np.array_equal(a.grads[n], b.grads[n], equal_nan=True):
            with np.errstate(invalid="ignore"):
                diff = float(np.nanmax(np.abs(a.grads[n] - b.grads[n]), initial=0.0))
            out.append(f"d{n} (largest difference {diff:.2e})")
    return out


def nonfinite(result: Result) -> list[str]:
    """Where the returned values are NaN or inf."""
    out = []
    if not math.isfinite(result.loss):
        out.append(f"the loss is {result.loss}")
    for n, g in result.grads.items():
        bad = ~np.isfinite(g)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            out.append(f"d{n} has {int(bad.sum())} non-finite values (first at {n}{list(first)})")
    return out


def engine_gradients(result: Result, options: Options) -> Gradients:
    """A call's result as the ``impl`` engine's :class:`Gradients`."""
    clipped = None
    if options.clip is not None:  # elements exactly at the bound: the user's own clipping
        clipped = {n: np.abs(g) == options.clip for n, g in result.grads.items()}
    return Gradients("impl", result.loss, result.grads, clipped=clipped, clip=options.clip,
                     notes=result.notes)
