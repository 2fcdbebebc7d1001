"""bpttcheck's own small interpreter for the values a user's script defines at top level.

The loader never hands a top-level expression to Python's ``exec`` or
``eval``. Module-level values (``hidden_size = 100``, ``SCALE = 1 / math.sqrt(H)``,
``bh = np.zeros((H, 1))``), default argument values and decorators are computed
here, node by node, and anything this module does not know is refused with a
reason (:class:`Refused`); the loader then skips the statement and says why.

What is evaluated
    literals; tuples, lists, sets, dicts; comprehensions over those; arithmetic,
    comparisons, ``and``/``or``/``not``, ``x if c else y``; names already
    evaluated (or defined, or imported); subscripts of plain containers and
    arrays; attributes of modules (read from the module's ``__dict__``, so a
    module ``__getattr__`` never runs) and a few data attributes of arrays
    (``.T``, ``.shape``); calls of the functions in :data:`PURE` -- resolved
    by **object identity** after import, never by spelling, so a file's own
    ``def np`` or ``def round`` is not NumPy or the builtin, and
    ``np.lib._datasource.os.system`` is ``os.system``, which is not allowed;
    the array and generator methods in :data:`METHODS`.

What is refused
    everything else: calls of other functions (``open``, ``print``, the user's
    own functions and classes), subscripts of anything but plain containers
    (``Config[0]`` would run ``__class_getitem__``), attributes of functions or
    classes, ``lambda`` with computed defaults, walrus, ``await``, ``yield``.

Limits
    :data:`LIMITS`: nesting depth, nodes visited, the size of every intermediate
    value (elements of an array, items of a container, bits of an integer) and
    wall time, checked before a value is built wherever the size is known in
    advance (``10**10**9``, ``[0] * 10**12``, ``range(10**13)``).
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import functools
import math
import operator
import sys
import time
import types
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

MAX_DEPTH = 60  # nested expressions: hand-written constants nest a few levels
MAX_NODES = 20_000  # nodes evaluated per statement (a comprehension counts each pass)
MAX_ELEMENTS = 10_000_000  # items of any value: 80 MB of float64, far above any RNN spec
MAX_INT_BITS = 4096  # an integer constant larger than this is not a size or a seed
SECONDS = 2.0  # wall time per statement


@dataclasses.dataclass(frozen=True)
class Limits:
    depth: int = MAX_DEPTH
    nodes: int = MAX_NODES
    elements: int = MAX_ELEMENTS
    int_bits: int = MAX_INT_BITS
    seconds: float = SECONDS


LIMITS = Limits()


class Refused(Exception):
    """The expression is not evaluated; ``str(exc)`` says why (a short phrase)."""


# Types a value may have to take part in arithmetic, subscripts and comparisons:
# their operators are C code that calls nothing of the user's.
SCALARS = (int, float, complex, bool, str, bytes, type(None), np.generic)
CONTAINERS = (tuple, list, dict, set, frozenset, range, slice)


# Lazy views over plain values, made only by allowed calls (enumerate, zip, dict.items).
ITERATORS: tuple[type, ...] = (enumerate, zip, reversed, type({}.keys()), type({}.values()),
                               type({}.items()))


def _plain(value: Any) -> bool:
    """A value whose operators cannot run user code (exact types, not subclasses)."""
    if type(value) in (int, float, complex, bool, str, bytes, type(None), *CONTAINERS,
                       *ITERATORS):
        return True
    if type(value) is np.ndarray:
        return value.dtype.kind in "biufcSU"  # no object arrays: their items could be anything
    return isinstance(value, np.generic) and type(value).__module__ == "numpy"


def _deep_plain(value: Any) -> bool:
    """``_plain``, and so is everything inside it (no function or class hidden in a list).

    NumPy and the builtins look special methods up on the items they are given,
    so a class of the user's inside a list must never reach them.
    """
    stack = [value]
    while stack:
        v = stack.pop()
        if not _plain(v):
            return False
        if type(v) in (tuple, list, set, frozenset):
            stack.extend(v)
        elif type(v) is dict:
            stack.extend(v.keys())
            stack.extend(v.values())
        elif type(v) is slice:
            stack.extend((v.start, v.stop, v.step))
    return True


def _pure_names() -> dict[str, list[str]]:
    """Module -> the attributes that are pure functions (or constants) safe to call at load."""
    return {
        "builtins": ["int", "float", "complex", "bool", "str", "len", "range", "list", "tuple",
                     "dict", "set", "frozenset", "abs", "min", "max", "sum", "round", "sorted",
                     "enumerate", "zip", "pow", "reversed", "divmod", "slice", "any", "all"],
        "math": ["sqrt", "exp", "log", "log2", "log10", "tanh", "sin", "cos", "ceil", "floor",
                 "pow", "fabs", "isclose", "isfinite", "prod"],
        "numpy": ["zeros", "ones", "empty", "full", "eye", "identity", "array", "asarray",
                  "arange", "linspace", "zeros_like", "ones_like", "full_like", "empty_like",
                  "dot", "matmul", "outer", "exp", "log", "tanh", "sqrt", "sum", "mean", "max",
                  "min", "abs", "absolute", "clip", "concatenate", "stack", "vstack", "hstack",
                  "reshape", "transpose", "maximum", "minimum", "float64", "float32", "int64",
                  "int32", "intp", "sin", "cos", "prod", "copy", "diag", "tile", "where",
                  "finfo", "iinfo", "dtype", "square", "power", "sign", "round", "allclose",
                  "isclose", "argmax", "argmin", "cumsum", "atleast_2d", "expand_dims"],
        "numpy.random": ["randn", "rand", "default_rng", "RandomState", "uniform", "normal",
                         "standard_normal", "random", "randint"],
        "numpy.linalg": ["norm", "inv", "det", "qr", "svd"],
        "dataclasses": ["field"],
        # a record type from plain strings (its names are checked to be identifiers)
        "collections": ["namedtuple"],
    }


# Methods that may be called on a plain value of the given exact type.
METHODS: dict[type, frozenset[str]] = {
    np.ndarray: frozenset({"reshape", "astype", "copy", "sum", "mean", "max", "min", "dot",
                           "transpose", "flatten", "ravel", "tolist", "item", "squeeze",
                           "argmax", "argmin", "std", "var", "cumsum", "clip", "prod"}),
    np.random.Generator: frozenset({"normal", "standard_normal", "uniform", "integers",
                                    "random", "choice", "permutation"}),
    np.random.RandomState: frozenset({"randn", "rand", "normal", "standard_normal", "uniform",
                                      "randint", "random", "choice", "permutation"}),
    dict: frozenset({"get", "keys", "values", "items", "copy"}),
    list: frozenset({"copy", "index", "count"}),
    tuple: frozenset({"index", "count"}),
    str: frozenset({"upper", "lower", "strip", "split", "join", "replace", "startswith",
                    "endswith"}),
}
DATA_ATTRS = frozenset({"T", "shape", "size", "ndim", "dtype", "real", "imag", "eps", "tiny",
                        "max", "min", "resolution", "bits"})
SIZED = frozenset({"zeros", "ones", "empty", "full", "eye", "identity", "arange", "linspace",
                   "randn", "rand", "uniform", "normal", "standard_normal", "random",
                   "randint", "integers", "choice", "permutation", "range", "tile"})

_PURE: dict[int, tuple[Any, str]] | None = None


def pure() -> dict[int, tuple[Any, str]]:
    """id -> (object, dotted name) of every allowed callable, resolved once."""
    global _PURE
    if _PURE is None:
        table: dict[int, tuple[Any, str]] = {}
        for module_name, names in _pure_names().items():
            module = sys.modules.get(module_name)
            if module is None:
                module = __import__(module_name, fromlist=["_"])
            for name in names:
                obj = vars(module).get(name)
                if obj is not None:
                    table[id(obj)] = (obj, f"{module_name}.{name}")
        _PURE = table
    return _PURE


def pure_name(obj: Any) -> str | None:
    """The allowlist's name for ``obj`` (by identity), or None."""
    hit = pure().get(id(obj))
    return hit[1] if hit is not None and hit[0] is obj else None


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.MatMult: operator.matmul, ast.LShift: operator.lshift,
    ast.RShift: operator.rshift, ast.BitAnd: operator.and_, ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
}
_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_,
    ast.Invert: operator.invert,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b, ast.Is: operator.is_, ast.IsNot: operator.is_not,
}


def _size(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return int(value.size)
    if isinstance(value, range | tuple | list | dict | set | frozenset | str | bytes):
        return len(value)
    return 1


class Evaluator:
    """Evaluate expressions of one script against its namespace ``ns`` (read only).

    ``local`` adds names (a class body's, a comprehension's) looked up first.
    """

    def __init__(self, ns: dict[str, Any], limits: Limits = LIMITS,
                 filename: str = "<user code>") -> None:
        self.ns = ns
        self.filename = filename
        self.limits = limits
        self.local: dict[str, Any] = {}
        self._nodes = 0
        self._depth = 0
        self._deadline = 0.0

    def value(self, node: ast.expr, local: dict[str, Any] | None = None) -> Any:
        """The value of ``node``; :class:`Refused` with a reason when it is not evaluated."""
        self._nodes, self._depth = 0, 0
        self._deadline = time.monotonic() + self.limits.seconds
        saved = self.local
        self.local = dict(local or {})
        try:
            return self._eval(node)
        except RecursionError:
            raise Refused("nested too deeply") from None
        except MemoryError:
            raise Refused("too large") from None
        except Refused:
            raise
        except Exception as exc:  # noqa: BLE001 - the allowed functions' own errors (bad shapes)
            raise Refused(f"{type(exc).__name__}: {exc}") from None
        finally:
            self.local = saved

    # -- the walk -----------------------------------------------------------
    def _eval(self, node: ast.expr) -> Any:
        self._nodes += 1
        if self._nodes > self.limits.nodes:
            raise Refused(f"more than {self.limits.nodes} operations")
        if self._nodes % 256 == 0 and time.monotonic() > self._deadline:
            raise Refused(f"takes more than {self.limits.seconds:g} s")
        self._depth += 1
        try:
            if self._depth > self.limits.depth:
                raise Refused(f"nested more than {self.limits.depth} levels")
            method = getattr(self, f"_{type(node).__name__}", None)
            if method is None:
                raise Refused(f"{_kind(node)} is not evaluated")
            out = method(node)
            self._check_size(out)
            return out
        finally:
            self._depth -= 1

    def _check_size(self, value: Any) -> None:
        if type(value) is int and value.bit_length() > self.limits.int_bits:
            raise Refused(f"an integer of more than {self.limits.int_bits} bits")
        if _size(value) > self.limits.elements:
            raise Refused(f"more than {self.limits.elements} elements")

    def _Constant(self, node: ast.Constant) -> Any:
        return node.value

    def _Name(self, node: ast.Name) -> Any:
        for table in (self.local, self.ns):
            if node.id in table:
                return table[node.id]
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        obj = vars(builtins).get(node.id, _MISSING)
        if obj is _MISSING:
            raise Refused(f"reads {node.id}, which is not set")
        return obj  # a builtin as a value; calling it still needs the allowlist

    def _Tuple(self, node: ast.Tuple) -> Any:
        return tuple(self._items(node.elts))

    def _List(self, node: ast.List) -> Any:
        return list(self._items(node.elts))

    def _Set(self, node: ast.Set) -> Any:
        return set(self._hashable(v) for v in self._items(node.elts))

    def _Dict(self, node: ast.Dict) -> Any:
        out: dict[Any, Any] = {}
        for k, v in zip(node.keys, node.values, strict=True):
            if k is None:  # {**other}
                other = self._eval(v)
                if type(other) is not dict:
                    raise Refused("unpacks something that is not a dict")
                out.update(other)
            else:
                out[self._hashable(self._eval(k))] = self._eval(v)
        return out

    def _items(self, elts: Iterable[ast.expr]) -> list[Any]:
        out: list[Any] = []
        for e in elts:
            if isinstance(e, ast.Starred):
                out.extend(self._iterate(self._eval(e.value)))
            else:
                out.append(self._eval(e))
        return out

    def _hashable(self, value: Any) -> Any:
        if not _plain(value) or isinstance(value, np.ndarray | list | dict | set):
            raise Refused("a key that is not a plain value")
        return value

    def _iterate(self, value: Any) -> list[Any]:
        if not _plain(value) or isinstance(value, slice):
            raise Refused(f"iterates over a {type(value).__name__}")
        if _size(value) > self.limits.elements:
            raise Refused(f"more than {self.limits.elements} elements")
        return list(value)

    def _BinOp(self, node: ast.BinOp) -> Any:
        left, right = self._eval(node.left), self._eval(node.right)
        self._operands(left, right)
        op = type(node.op)
        self._guard_growth(op, left, right)
        return _BINOPS[op](left, right)

    def _operands(self, *values: Any) -> None:
        for v in values:
            if not _deep_plain(v):
                raise Refused(f"computes with a {_what(v)}" if not _plain(v)
                              else f"computes with a {type(v).__name__} holding other objects")

    def _guard_growth(self, op: type, left: Any, right: Any) -> None:
        """Refuse ``2**10**9``, ``[0] * 10**12``, ``1 << 10**9`` before computing them."""
        big = self.limits.elements
        if op is ast.Pow and type(left) is int and type(right) is int and right > 0 \
                and max(1, abs(left).bit_length()) * right > self.limits.int_bits:
            raise Refused(f"an integer of more than {self.limits.int_bits} bits")
        if op is ast.LShift and type(right) is int and right > self.limits.int_bits:
            raise Refused(f"an integer of more than {self.limits.int_bits} bits")
        if op is ast.Mult:
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | bytes | list | tuple) and type(n) is int \
                        and len(seq) * n > big:
                    raise Refused(f"more than {big} elements")

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        v = self._eval(node.operand)
        self._operands(v)
        return _UNARY[type(node.op)](v)

    def _BoolOp(self, node: ast.BoolOp) -> Any:
        value: Any = None
        for sub in node.values:
            value = self._eval(sub)
            self._operands(value)
            if isinstance(node.op, ast.And) != bool(value):
                return value
        return value

    def _Compare(self, node: ast.Compare) -> Any:
        left = self._eval(node.left)
        result: Any = True
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = self._eval(comp)
            self._operands(left, right)
            result = _COMPARE[type(op)](left, right)
            if not (isinstance(result, np.ndarray) or result):
                return result
            left = right
        return result

    def _IfExp(self, node: ast.IfExp) -> Any:
        test = self._eval(node.test)
        self._operands(test)
        return self._eval(node.body if test else node.orelse)

    def _Subscript(self, node: ast.Subscript) -> Any:
        value = self._eval(node.value)
        if not _plain(value) or isinstance(value, set | frozenset | slice):
            raise Refused(f"subscripts a {_what(value)}")
        index = self._eval(node.slice)
        self._operands(*(index if isinstance(index, tuple) else (index,)))
        return value[index]

    def _Slice(self, node: ast.Slice) -> Any:
        parts = [None if p is None else self._eval(p) for p in (node.lower, node.upper,
                                                                 node.step)]
        self._operands(*parts)
        return slice(*parts)

    def _Attribute(self, node: ast.Attribute) -> Any:
        base = self._eval(node.value)
        if isinstance(base, types.ModuleType):
            found = vars(base).get(node.attr, _MISSING)  # never the module's __getattr__
            if found is _MISSING:
                raise Refused(f"{ast.unparse(node)} is not set")
            return found
        if type(base) is property and node.attr in ("setter", "getter", "deleter"):
            return getattr(base, node.attr)
        if node.attr in DATA_ATTRS and (_plain(base) or isinstance(base, np.finfo | np.iinfo)):
            return getattr(base, node.attr)
        allowed = METHODS.get(type(base), frozenset())
        if node.attr in allowed:
            return getattr(base, node.attr)
        raise Refused(f"reads .{node.attr} of a {_what(base)}")

    def _Call(self, node: ast.Call) -> Any:
        func = self._eval(node.func)
        args = self._items(node.args)
        kwargs: dict[str, Any] = {}
        for kw in node.keywords:
            if kw.arg is None:
                more = self._eval(kw.value)
                if type(more) is not dict:
                    raise Refused("unpacks something that is not a dict")
                kwargs.update(more)
            else:
                kwargs[kw.arg] = self._eval(kw.value)
        name = pure_name(func)
        if name is None:
            owner = getattr(func, "__self__", None)
            method = getattr(func, "__name__", "")
            if owner is None or method not in METHODS.get(type(owner), frozenset()):
                raise Refused(f"calls {_callee(node.func, func)}")
            if not _plain(owner) and type(owner) not in METHODS:
                raise Refused(f"calls {_callee(node.func, func)}")
            name = method
        for v in (*args, *kwargs.values()):
            if not (_deep_plain(v) or pure_name(v) is not None or isinstance(v, np.dtype)
                    or isinstance(v, type) and issubclass(v, np.generic)):
                raise Refused(f"passes a {_what(v)} to {name}" if not _plain(v)
                              else f"passes a {type(v).__name__} holding other objects to {name}")
        self._guard_sizes(name, args, kwargs)
        if name == "builtins.pow" and len(args) == 2:  # pow(3, 10**9): as 3 ** 10**9
            self._guard_growth(ast.Pow, args[0], args[1])
        return func(*args, **kwargs)

    def _guard_sizes(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        """Refuse creators asked for more than ``elements`` items before they allocate."""
        if name.rpartition(".")[2] not in SIZED:
            return
        for v in (*args, *kwargs.values()):
            if isinstance(v, bool):
                continue
            if isinstance(v, int | np.integer) and abs(int(v)) > self.limits.elements:
                raise Refused(f"asks for more than {self.limits.elements} elements")
            if isinstance(v, tuple | list) and v and all(
                    isinstance(x, int | np.integer) for x in v) and math.prod(
                    abs(int(x)) for x in v) > self.limits.elements:
                raise Refused(f"asks for more than {self.limits.elements} elements")
            if isinstance(v, float) and name.endswith(("arange", "range")) \
                    and abs(v) > self.limits.elements:
                raise Refused(f"asks for more than {self.limits.elements} elements")
        if name.endswith("arange") and len(args) >= 2:
            try:
                span = abs(float(args[1]) - float(args[0])) / abs(float(args[2]) if len(args) > 2
                                                                  else 1.0)
            except (TypeError, ValueError, ZeroDivisionError):
                return
            if span > self.limits.elements:
                raise Refused(f"asks for more than {self.limits.elements} elements")

    def _Lambda(self, node: ast.Lambda) -> Any:
        """A function object: its defaults evaluated here, its body compiled, not run."""
        if self.local:
            raise Refused("a lambda inside a class body or comprehension is not evaluated")
        args = node.args
        defaults = [self._eval(d) for d in args.defaults]
        kw_defaults = {a.arg: self._eval(d) for a, d in
                       zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None}
        bare = ast.Lambda(args=ast.arguments(
            posonlyargs=[ast.arg(a.arg) for a in args.posonlyargs],
            args=[ast.arg(a.arg) for a in args.args],
            vararg=ast.arg(args.vararg.arg) if args.vararg else None,
            kwonlyargs=[ast.arg(a.arg) for a in args.kwonlyargs],
            kw_defaults=[None] * len(args.kwonlyargs),
            kwarg=ast.arg(args.kwarg.arg) if args.kwarg else None, defaults=[]),
            body=node.body)
        ast.copy_location(bare, node)
        ast.fix_missing_locations(bare)
        code = compile(ast.Expression(body=bare), self.filename, "eval")
        func = eval(code, self.ns)  # noqa: S307 - evaluates only `lambda ...:`, a function object
        func.__defaults__ = tuple(defaults) or None
        func.__kwdefaults__ = kw_defaults or None
        return func

    def _JoinedStr(self, node: ast.JoinedStr) -> Any:
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            elif isinstance(v, ast.FormattedValue):
                x = self._eval(v.value)
                self._operands(x)
                spec = self._eval(v.format_spec) if v.format_spec is not None else ""
                conv = {-1: x, 115: str(x), 114: repr(x), 97: ascii(x)}[v.conversion]
                parts.append(format(conv, spec))
        return "".join(parts)

    def _comprehension(self, generators: list[ast.comprehension],
                       produce: Callable[[], None]) -> None:
        saved = dict(self.local)

        def loop(i: int) -> None:
            if i == len(generators):
                produce()
                return
            gen = generators[i]
            if gen.is_async:
                raise Refused("an async comprehension is not evaluated")
            for item in self._iterate(self._eval(gen.iter)):
                self._bind(gen.target, item)
                if all(self._eval(cond) for cond in gen.ifs):
                    loop(i + 1)

        try:
            loop(0)
        finally:
            self.local = saved

    def _bind(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.local[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            items = self._iterate(value)
            if len(items) != len(target.elts):
                raise Refused("unpacks the wrong number of values")
            for t, v in zip(target.elts, items, strict=True):
                self._bind(t, v)
        else:
            raise Refused("assigns to something that is not a name")

    def _ListComp(self, node: ast.ListComp) -> Any:
        out: list[Any] = []
        self._comprehension(node.generators, lambda: out.append(self._eval(node.elt)))
        return out

    def _SetComp(self, node: ast.SetComp) -> Any:
        out: set[Any] = set()
        self._comprehension(node.generators,
                            lambda: out.add(self._hashable(self._eval(node.elt))))
        return out

    def _DictComp(self, node: ast.DictComp) -> Any:
        out: dict[Any, Any] = {}

        def put() -> None:
            out[self._hashable(self._eval(node.key))] = self._eval(node.value)

        self._comprehension(node.generators, put)
        return out


_MISSING = object()


def _kind(node: ast.AST) -> str:
    names = {"Lambda": "a lambda", "NamedExpr": "an assignment expression (:=)",
             "Await": "await", "Yield": "yield", "YieldFrom": "yield from",
             "GeneratorExp": "a generator expression", "Starred": "a starred expression"}
    return names.get(type(node).__name__, f"a {type(node).__name__} expression")


def _what(value: Any) -> str:
    if isinstance(value, type):
        return f"class {value.__name__}"
    if isinstance(value, types.FunctionType):
        return f"function {value.__name__}"
    return type(value).__name__


def _callee(node: ast.expr, func: Any) -> str:
    """How a refused call is named: its spelling, and what it really is when they differ."""
    try:
        spelled = ast.unparse(node)
    except RecursionError:
        spelled = "a function"
    module = getattr(func, "__module__", None) or ""
    qual = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if module.startswith("bpttcheck_user_") or isinstance(func, type):
        return f"{spelled} (defined in your code, not a function bpttcheck knows)"
    if isinstance(func, types.BuiltinFunctionType | types.FunctionType) and qual and "." in spelled:
        real = f"{'os' if module == 'posix' else module}.{qual}"
        if real != spelled:
            return f"{spelled} (that is {real})"
    return spelled


# Decorators kept on a definition: they wrap it without running it.
def known_decorator(obj: Any) -> str | None:
    """The name of a decorator bpttcheck keeps (by identity), or None."""
    if any(obj is k for k in (staticmethod, classmethod, property)):
        return str(obj.__name__)
    if any(obj is k for k in (functools.lru_cache, functools.cache, functools.wraps)):
        return f"functools.{obj.__name__}"
    if obj is dataclasses.dataclass:
        return "dataclasses.dataclass"
    numba = sys.modules.get("numba")
    if numba is not None and any(obj is vars(numba).get(n) for n in ("jit", "njit")):
        return f"numba.{obj.__name__}"
    owner = getattr(obj, "__self__", None)
    if type(owner) is property and getattr(obj, "__name__", "") in ("setter", "getter",
                                                                     "deleter"):
        return f"property.{obj.__name__}"
    return None
