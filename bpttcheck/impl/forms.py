"""The four calling conventions (forms) behind one ``call(params, batch) -> Result``.

- **globals** (min-char-rnn): ``NAME(inputs, targets, hprev)`` reads module
  globals ``Wxh, Whh, Why, bh, by`` (and ``vocab_size``, ``hidden_size``,
  ``seq_length``); bpttcheck sets them before every call.
- **method**: ``Class.method(inputs, targets, hprev)`` on an instance whose
  attributes hold the weights. The instance is built by calling the class with
  the sizes it asks for by name (``hidden_size``, ``vocab_size``, ``H``, ...) or
  by a factory the user names; bpttcheck then sets the weight attributes.
- **explicit**: ``NAME(params, inputs, targets, hprev)`` with a dict of weights,
  keyed as the function indexes it (``params['U']``), else by our names.
- **arguments**: weights as parameters, bound by name
  (``lossFun(inputs, targets, hprev, Wxh, Whh, Why, bh, by)``, ``bptt(U, W, V,
  b, c, x, y, h0)``): each parameter named as a weight, a size or an
  ``--impl-set`` constant gets that value; the others, in order, get inputs,
  targets and hprev.

**Without an initial state** (the vanilla cell; a gated cell's function takes its
states): each form may take the inputs and targets only
(``bptt(self, x, y)``, ``bptt(x, y)``, ``bptt(x, y, U, V, W)``, and
``NAME(params, x, y)`` when its first parameter is named ``params``,
``parameters``, ``weights`` or ``theta``). Its initial state is zero, so it is
called only where hprev (and cprev) is zero: bpttcheck's second point is then
built with zero states, and a non-zero hprev in the spec is refused (exit 2).
Such a function may also return its gradients alone, without a loss
(:mod:`.returns`).

Weight names: ``--impl-names``, else, weight by weight, the name the code reads
among ours and U/W/V/b/c (so a file reading ``U, W, V`` and ``bh, by`` gets
those five); a longer name before a one-letter one (a GRU reading ``Why`` and a
local ``V`` gets ``Why``), and for a method the instance's array attributes.
Sizes under other names (``--impl-names M=vocab``) and constants
(``--impl-set TEMP=2.0``) are set as globals before every call and passed to
constructors and functions that take them by name; so is a size's usual name
(``H``, ``T``, ... in :data:`SIZE_ALIASES`) that the code reads as a global
holding a whole number or nothing (``H = 100`` becomes the spec's hidden size).

Every call gets fresh copies of the weights, the inputs and ``hprev``;
afterwards :mod:`.hygiene` compares them with the originals, and
:mod:`.returns` unpacks what came back. In-process (the Python API), a per-call
time limit stops an endless loop (``signal.setitimer``, main thread; a timer
the caller had set is restored). File and module targets run in a child
process instead (:mod:`.runner`), where the parent enforces the limit.
"""

from __future__ import annotations

import ast
import inspect
import signal
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImplError
from ..model import Batch, Params
from ..prose import join_names, plural
from .declared import CONVENTIONS as CELL_CONVENTIONS
from .declared import cell_params
from .hygiene import mutations
from .loader import Loaded, from_callable, load
from .options import ImplOptions, Result, size_names, weight_names
from .returns import dtypes, extras, return_order, returns_loss, unpack
from .source import place, where

TIMER_REPEAT = 0.5  # seconds between further alarms once the time limit has passed
# Conventions recognised without --impl-names (their name -> ours): the vanilla cell's;
# each cell's are in :data:`bpttcheck.impl.declared.CONVENTIONS`.
CONVENTIONS: tuple[dict[str, str], ...] = CELL_CONVENTIONS["vanilla"]
# Sizes a constructor or a script may ask for, by name.
SIZE_ALIASES: dict[str, tuple[str, ...]] = {
    "hidden": ("hidden_size", "hidden", "n_hidden", "num_hidden", "hidden_dim", "H", "n_h"),
    "vocab": ("vocab_size", "vocab", "n_vocab", "V", "word_dim", "input_size", "input_dim",
              "output_size", "output_dim", "n_in"),
    "seq": ("seq_length", "seq_len", "seq", "T", "sequence_length"),
    "learning_rate": ("learning_rate", "lr"),
}
DATA_SLOTS = ("inputs", "targets", "hprev")  # the arguments that are not weights, in order
STATELESS = 2  # inputs and targets only: no initial state (it is zero)
# The first parameter of ``NAME(params, inputs, targets)``, an explicit form without a state
# (three arguments are otherwise ``NAME(inputs, targets, hprev)``).
DICT_NAMES = ("params", "parameters", "weights", "theta")
# The LSTM's loss function also takes its initial cell state, after hprev.
# A NameError on a name like these is a size the script sets from argparse or elsewhere.
SIZE_WORDS = ("size", "dim", "len", "num", "count")
LEARNING_RATE = 0.1  # passed to constructors that require one; never used by a gradient check


class _Timeout(BaseException):
    """Raised by the alarm inside the user's code; a BaseException so ``except
    Exception`` in their code does not swallow it."""


class UserCode:
    """The user's function, callable with bpttcheck's weights: ``call(params, batch)``."""

    def __init__(self, loaded: Loaded, options: ImplOptions, sizes: Mapping[str, int]) -> None:
        self.loaded = loaded
        self.options = options
        self.sizes = dict(sizes)  # hidden, vocab, seq (and batch, for a batch)
        # Our parameters the model has: all five, or a bias-free model's three (sizes
        # carries "biases": 0 for it, from bpttcheck.impl.check.prepare_request).
        biases = self.sizes.pop("biases", 1)
        self.label = f"{loaded.name} in {loaded.path.name}"
        self.instance: Any = None
        self.slots: dict[str, str] = {}  # arguments form: parameter -> what it receives
        self.cell = options.cell
        self.params = cell_params(options.cell)
        if not biases:  # checker.py allows --no-biases for the vanilla cell only
            self.params = self.params[:3]
        self.conventions = CELL_CONVENTIONS[options.cell]
        self.data_slots = DATA_SLOTS + (("cprev",) if options.cell == "lstm" else ())
        self.stateless = False  # takes inputs and targets only: its initial state is zero
        self._returned: tuple[tuple[str, ...] | None] | None = None  # return_order, once
        method = "." in loaded.name
        self.names = self._names(loaded.reads)
        if method:
            self.form = "method"
            self.instance = self._instance()
            self.func = getattr(self.instance, loaded.name.split(".")[1])
        else:
            self.func = loaded.obj
        if not method and self._bind_by_name():
            self.form = "arguments"
            return
        n = self._arity()
        d = len(self.data_slots)
        explicit_stateless = (n == STATELESS + 1 and self.cell == "vanilla"
                              and self._first_is_dict())
        self.stateless = n == STATELESS or explicit_stateless
        if not method:
            self.form = "explicit" if n == d + 1 or explicit_stateless else "globals"
            if self.form == "explicit":  # the dict's keys: those the function indexes
                self.names = self._names(frozenset(_string_constants(
                    self.func, self.loaded.namespace)))
        elif n not in (d, STATELESS):
            raise self._signature_error(n)

    # -- setting up ---------------------------------------------------------
    def _names(self, reads: frozenset[str]) -> dict[str, str]:
        """Their weight names -> ours: --impl-names, else per weight the name the code reads.

        Conventions whose names the code all reads come first, then those with the most of
        them read; among the names a weight may have that the code reads, a longer one
        before a one-letter one (``V`` or ``c`` is as often a size or a local as a weight,
        ``Why`` never). A name --impl-names or --impl-set gives another meaning (``V=vocab``),
        or that the module sets to a number, is never a weight. Never unset: a weight the code
        reads under no known name gets its first convention's name (and the error names
        it)."""
        given = weight_names(self.options.names)
        taken = set(self.options.names) - set(given) | set(self.options.values)
        # A module-level number (``V = 65``) is a size or a constant, not a weight: evaluated,
        # or left to the spec by the loader (its text then says so).
        taken |= {t for t, v in self.loaded.namespace.items()
                  if isinstance(v, int | float) and not isinstance(v, bool)}
        taken |= {t for st in self.loaded.statements if st.kind == "supplied"
                  for t in _number_assigned(st.text)}
        reads = reads - taken
        ranked = sorted(self.conventions, key=lambda c: (-all(t in reads for t in c),
                                                         -sum(t in reads for t in c)))
        names = {t: o for t, o in given.items() if o in self.params}
        for ours in self.params:
            if ours in given.values():
                continue
            candidates = [t for c in ranked for t, o in c.items() if o == ours
                          and t not in taken and t not in names]
            read = sorted((t for t in candidates if t in reads), key=lambda t: len(t) == 1)
            theirs = read[0] if read else (candidates or [ours])[0]
            names[theirs] = ours
        return names

    def _bind_by_name(self) -> bool:
        """Weights as parameters, bound by name: ``lossFun(inputs, targets, hprev, Wxh, ...)``.

        Each parameter named as a weight (ours, U/W/V/b/c or ``--impl-names``), a
        size or an ``--impl-set`` name gets that value; the others, in order,
        get inputs, targets and hprev.
        """
        try:
            sig = inspect.signature(self.func)
        except (TypeError, ValueError):
            return False
        params = [p for p in sig.parameters.values()
                  if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        given = weight_names(self.options.names)
        known = {t for c in self.conventions for t in c} | set(given)
        bound = [p.name for p in params if p.name in known]
        if not (len(bound) >= 3 or set(bound) & set(given)):
            return False
        self.names = self._names(frozenset(p.name for p in params))
        values = self._values()
        data = iter(self.data_slots)
        for p in params:
            if p.name in self.names:
                self.slots[p.name] = "weight"
            elif p.name in values:
                self.slots[p.name] = "value"
            elif p.default is p.empty:
                slot = next(data, None)
                if slot is None:
                    raise self._signature_error(len([q for q in params
                                                     if q.default is q.empty]))
                self.slots[p.name] = slot
        left = list(data)
        if left and left == list(self.data_slots[STATELESS:]) and self.cell == "vanilla":
            self.stateless = True
        elif left:
            raise self._signature_error(len(self.slots))
        unbound = [o for t, o in self.names.items() if t not in self.slots
                   and t not in self.loaded.reads]
        if unbound:
            theirs = {o: t for t, o in self.names.items()}
            raise ImplError(f"{self.loaded.path}: {self.loaded.name} takes some weights as "
                            f"arguments but neither takes nor reads "
                            f"{', '.join(theirs[o] for o in unbound)} (map names with "
                            "--impl-names)")
        return True

    def _values(self) -> dict[str, Any]:
        """Names the code may read for sizes and constants: ours, --impl-names', --impl-set's."""
        sizes = {**self.sizes}
        sizes.setdefault("batch", 1)  # unbatched: one sequence
        out: dict[str, Any] = {"vocab_size": sizes.get("vocab"), "hidden_size": sizes.get(
            "hidden"), "seq_length": sizes.get("seq")}
        out = {k: v for k, v in out.items() if v is not None}
        out.update({t: sizes[o] for t, o in size_names(self.options.names).items()
                    if o in sizes})
        out.update(self.options.values)
        return out

    def _size_globals(self, sizes: Mapping[str, int]) -> dict[str, int]:
        """Module globals the code reads under a size's usual name (``H = 100``, ``T``):
        the spec's size, unless the name is a weight, is named by --impl-names or
        --impl-set, or holds something other than a whole number."""
        ns = self.loaded.namespace
        out: dict[str, int] = {}
        for key, aliases in SIZE_ALIASES.items():
            for name in aliases:
                if (key not in sizes or name not in self.loaded.reads or name in self.names
                        or name in self.options.names or name in self.options.values):
                    continue
                now = ns.get(name)
                if now is None or (isinstance(now, int | np.integer)
                                   and not isinstance(now, bool)):
                    out[name] = sizes[key]
        return out

    def _arity(self) -> int:
        d = len(self.data_slots)  # 3: inputs, targets, hprev; the LSTM's 4 add cprev
        try:
            sig = inspect.signature(self.func)
        except (TypeError, ValueError):
            return d  # a builtin or C function: trust it
        params = [p for p in sig.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        required = [p for p in params if p.default is p.empty]
        if any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values()):
            return d if len(required) <= d else len(required)
        if self.cell == "vanilla" and (len(required) == len(params) == STATELESS or (
                len(required) == len(params) == STATELESS + 1 and self._first_is_dict())):
            return len(required)  # no initial state: (inputs, targets), (params, ...)
        if len(required) <= d <= len(params):
            return d
        if len(required) == d + 1:
            return d + 1
        raise self._signature_error(len(required))

    def _first_is_dict(self) -> bool:
        """Whether the first parameter is named as a dict of weights (``params``)."""
        try:
            first = next(iter(inspect.signature(self.func).parameters), None)
        except (TypeError, ValueError):
            return False
        return first in DICT_NAMES

    def _signature_error(self, n: int) -> ImplError:
        try:
            sig = str(inspect.signature(self.func))
        except (TypeError, ValueError):
            sig = "(...)"
        line = getattr(getattr(self.func, "__code__", None), "co_firstlineno", "?")
        data = ", ".join(self.data_slots)
        if self.cell == "vanilla":
            weights = "Wxh, Whh, Why, bh, by (or U, W, V, b, c; "
        else:
            weights = f"{', '.join(self.params)} (for --cell {self.cell}; "
        expected = (f"NAME({data}) with weights as module globals, "
                    f"NAME(params, {data}), or {join_names(list(self.data_slots))} "
                    f"with weights as arguments named {weights}"
                    "other names with --impl-names, other constants with --impl-set)"
                    + ("; each may leave out the initial state (NAME(inputs, targets): it "
                       "is then zero)" if self.cell == "vanilla" else ""))
        if self.instance is not None:
            expected = (f"method(self, {data}) with weights as attributes"
                        if self.cell != "vanilla" else
                        f"method(self, {data}) or method(self, inputs, targets) (no initial "
                        "state: it is then zero) with weights as attributes")
        return ImplError(f"{where(self.loaded.path, line)}: wrong signature: "
                         f"{self.loaded.name}{sig} "
                         f"takes {plural(n, 'required argument')}; expected {expected}")

    def _size_kwargs(self, func: Callable[..., Any], what: str) -> dict[str, Any]:
        """Keyword arguments for a constructor or factory, matched to sizes by name."""
        try:
            sig = inspect.signature(func)
        except (TypeError, ValueError):
            return {}
        values = {**self.sizes, "learning_rate": LEARNING_RATE}
        named = self._values()
        kwargs: dict[str, Any] = {}
        missing = []
        for p in sig.parameters.values():
            if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            key = next((k for k, aliases in SIZE_ALIASES.items() if p.name in aliases), None)
            if p.name in named:
                kwargs[p.name] = named[p.name]
            elif key is not None and key in values:
                kwargs[p.name] = values[key]
            elif p.default is p.empty:
                missing.append(p.name)
        if missing:
            raise ImplError(f"{self.loaded.path}: cannot call {what}: no spec value for "
                            f"{', '.join(missing)} (sizes are recognised by name: "
                            "hidden_size, vocab_size, seq_length, ...; others with --impl-names "
                            "NAME=hidden|vocab|seq or --impl-set NAME=VALUE); or name a "
                            "factory with --impl-factory NAME")
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
        self.names = self._on_instance(instance)
        present = [t for t in self.names if hasattr(instance, t)]
        if len(present) < len(self.names):
            arrays = sorted(k for k, v in vars(instance).items() if isinstance(v, np.ndarray))
            missing = [t for t in self.names if t not in present]
            biases = self.cell == "vanilla" and all(self.names[t] in ("bh", "by")
                                                    for t in missing)
            hint = ("; a model without biases (U, W, V only) is checked with --no-biases"
                    if biases else " (map names with --impl-names)")
            raise ImplError(f"{self.loaded.path}: {cls.__name__} instance has no weight "
                            f"attribute {', '.join(missing)}; its array attributes: "
                            f"{', '.join(arrays) or 'none'}{hint}")
        return instance

    def _on_instance(self, instance: Any) -> dict[str, str]:
        """The weight names for the method form: each weight's name among the instance's
        array attributes where it has one (a method's locals are no weights), else the
        name guessed from what the class reads."""
        arrays = frozenset(k for k, v in vars(instance).items() if isinstance(v, np.ndarray)) \
            if hasattr(instance, "__dict__") else frozenset()
        found = {o: t for t, o in self._names(arrays).items() if t in arrays}
        guessed = {o: t for t, o in self.names.items()}
        return {found.get(o, guessed[o]): o for o in self.params if o in guessed}

    def output_notes(self) -> tuple[str, ...]:
        """In-process code prints where the caller's program prints: nothing to report."""
        return ()

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

        theirs = (0.0, 0.0)  # a timer the calling program had set: restored afterwards
        started = time.monotonic()
        if use_alarm:
            previous = signal.signal(signal.SIGALRM, expire)
            # Fires again every TIMER_REPEAT s in case their code swallows the first one.
            theirs = signal.setitimer(signal.ITIMER_REAL, seconds, TIMER_REPEAT)
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
                if theirs[0] > 0:  # due during the call: fire it now, else when it was due
                    left = max(theirs[0] - (time.monotonic() - started), 1e-6)
                    signal.setitimer(signal.ITIMER_REAL, left, theirs[1])
        if failure is not None:
            raise failure

    def _exception_message(self, what: str, exc: BaseException) -> str:
        """``lossFun raised ValueError: ...; traceback: f.py:40 in lossFun: hs[t] = ...``."""
        path = str(self.loaded.path)
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
        at = " <- ".join(f"{place(Path(f.filename), f.lineno)} in {f.name}: "
                            f"{(f.line or '').strip()}" for f in reversed(frames))
        text = f"{what} raised {type(exc).__name__}: {exc}"
        return text + (f" (at {at})" if at else "") + _name_hint(exc)

    def call(self, params: Params, batch: Batch) -> Result:
        """Call the user's code once with copies of ``params`` and ``batch``."""
        theirs = {t: np.array(params[o], dtype=np.float64) for t, o in self.names.items()}
        hprev = np.array(batch.hprev, dtype=np.float64)
        cprev = None if batch.cprev is None else np.array(batch.cprev, dtype=np.float64)
        states: tuple[Any, ...] = (hprev,) if cprev is None or self.cell != "lstm" else (
            hprev, cprev)
        if self.stateless:
            self._refuse_state(batch)
            states = ()
        inputs, targets = batch.given()  # lists of ints; a batch: (T, B) int arrays
        ns = self.loaded.namespace
        values = self._values()
        values.update(vocab_size=int(params["Why"].shape[0]), hidden_size=int(
            batch.hprev.shape[0]), seq_length=batch.seq)
        ns.update(self._size_globals({"hidden": values["hidden_size"],
                                      "vocab": values["vocab_size"], "seq": batch.seq}))
        ns.update(values)
        kwargs: dict[str, Any] = {}
        if self.form == "globals":
            ns.update(theirs)
            args: tuple[Any, ...] = (inputs, targets, *states)
        elif self.form == "arguments":
            ns.update({t: v for t, v in theirs.items() if t not in self.slots})
            data = {"inputs": inputs, "targets": targets, "hprev": hprev, "cprev": cprev}
            args = ()
            for p, slot in self.slots.items():
                kwargs[p] = theirs[p] if slot == "weight" else (
                    values[p] if slot == "value" else data[slot])
        elif self.form == "method":
            for t, value in theirs.items():
                setattr(self.instance, t, value)
            args = (inputs, targets, *states)
        else:
            args = (dict(theirs), inputs, targets, *states)
        with self.guard(self.loaded.name):
            out = self.func(*args, **kwargs)
        if self.form == "globals":
            now = {t: ns.get(t) for t in self.names}
        elif self.form == "method":
            now = {t: getattr(self.instance, t, None) for t in self.names}
        else:
            now = dict(theirs)
        findings = mutations(self.loaded.name, self.form, self.names, params, batch, theirs,
                             hprev, now, cprev if self.cell == "lstm" else None)
        loss, grads, hlast, notes = unpack(out, params, self.loaded.name, self.names,
                                           self.options.order, self._return_order)
        return Result(loss, grads, hlast, findings, notes, dtypes(out, len(self.params)),
                      extras(out, self.names, self.params),
                      returns_loss=returns_loss(out, len(self.params)))

    def _return_order(self) -> tuple[str, ...] | None:
        """The order its return statement names gradients in (read once, when needed)."""
        if self._returned is None:
            self._returned = (return_order(self.func, self.names, self.params),)
        return self._returned[0]

    def _refuse_state(self, batch: Batch) -> None:
        """A function without an initial state starts from zero: refuse any other."""
        given = {"hprev": batch.hprev, "cprev": batch.cprev if self.cell == "lstm" else None}
        nonzero = [s for s, v in given.items() if v is not None and np.any(v != 0)]
        if nonzero:
            states = " and ".join(nonzero)
            raise ImplError(f"{self.label} takes no initial state (no {states} argument), so "
                            f"it starts from zero and cannot be checked at a non-zero "
                            f"{states}: check it with --hprev zeros (the default)")


def prepare(target: str | Callable[..., Any], options: ImplOptions,
            sizes: Mapping[str, int]) -> UserCode:
    """Load ``target`` (a ``PATH.py:NAME`` string, or a function from the Python API)
    and wrap it (see module docstring)."""
    if callable(target):
        return UserCode(from_callable(target), options, sizes)
    supplied = frozenset(options.names) | frozenset(
        t for c in CELL_CONVENTIONS[options.cell] for t in c) | {"vocab_size", "hidden_size",
                                                                 "seq_length"}
    # the sizes under their min-char-rnn names, bound before the file's definitions are
    # made: a default argument that reads one (n=vocab_size) gets the spec's value
    preset = {ours: sizes[key] for key, ours in (("vocab", "vocab_size"),
                                                 ("hidden", "hidden_size"),
                                                 ("seq", "seq_length")) if key in sizes}
    loaded = load(target, supplied, preset)
    return UserCode(loaded, options, sizes)


def _number_assigned(text: str) -> set[str]:
    """The names ``text`` (one statement, ``V = 65``) assigns a plain number to."""
    try:
        node = ast.parse(text).body[0]
    except (SyntaxError, IndexError):
        return set()
    if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            and type(node.value.value) in (int, float)):
        return set()
    return {t.id for t in node.targets if isinstance(t, ast.Name)}


def _string_constants(func: Any, namespace: Mapping[str, Any] | None = None) -> set[str]:
    """String constants in ``func``'s code (the keys it indexes a params dict with), and in
    the code of the functions of ``namespace`` (its module's) that it calls by name, as a
    course's ``lstm_cell_forward(xt, a, c, parameters)`` reads ``parameters["Wc"]``."""
    out: set[str] = set()
    stack = [getattr(func, "__code__", None)]
    seen: set[int] = set()
    while stack:
        code = stack.pop()
        if code is None or id(code) in seen:
            continue
        seen.add(id(code))
        for const in code.co_consts:
            if isinstance(const, str):
                out.add(const)
            elif isinstance(const, types.CodeType):
                stack.append(const)
        for name in code.co_names:
            helper = namespace.get(name) if namespace is not None else None
            if isinstance(helper, types.FunctionType):
                stack.append(helper.__code__)
    return out


def _name_hint(exc: BaseException) -> str:
    """For a NameError: the flag that sets the missing name."""
    name = getattr(exc, "name", None) if isinstance(exc, NameError) else None
    if not name:
        return ""
    low = name.lower()
    if (len(name) == 1 and name.isupper()) or low.startswith(("n_", "num_")) or any(
            w in low for w in SIZE_WORDS):
        return (f"; {name} looks like a size: name it with --impl-names {name}=vocab (or "
                f"hidden, seq, batch), or give its value with --impl-set {name}=VALUE")
    return (f"; if {name} is one of your weights, map it to ours with --impl-names "
            f"{name}=Why (or Wxh, Whh, bh, by; a gated cell's names for --cell); if it is a "
            f"constant, give it a value with --impl-set {name}=VALUE")
