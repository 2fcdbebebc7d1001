"""Load the user's function from a script without running any of the script.

A training script usually does its work at import time: it reads ``input.txt``,
parses arguments and trains forever. Importing it is not an option, so the file
is parsed (:mod:`.source`) and its top-level statements are handled one by one,
in source order, in a fresh module namespace. Nothing at top level is handed to
``exec``:

- **values** (assignments to names that some function or class reads) are
  computed by bpttcheck's own interpreter, :mod:`.evaluator`, which knows
  literals, arithmetic, containers and an allowlist of pure NumPy/``math``
  functions checked by object identity; anything else is skipped with a reason;
- **definitions** (``def``, ``class``, ``lambda``) are compiled into function
  objects, which runs none of their code. Default values go through the
  evaluator; annotations are kept as text, never evaluated. Decorators are
  evaluated too, and only known wrappers are applied (``staticmethod``,
  ``classmethod``, ``property``, ``functools.lru_cache``/``cache``,
  ``dataclasses.dataclass``, ``numba.jit``/``njit``); any other is dropped and
  the function is checked undecorated. A class body keeps its ``def``s and
  evaluated assignments only; a ``metaclass=``, or a base class of the user's
  with ``__init_subclass__``, would run code: such a class is skipped;
- **imports** of installed packages (under the interpreter's standard library or
  ``site-packages``: NumPy, SciPy, ...) are imported normally. Any other module
  -- a sibling file, a package next to the script, the module of a
  ``module:NAME`` target, and each ``__init__.py`` on the way -- is loaded by
  this same loader, never imported;
- everything else (loops, ``if``, ``print``, ``with``, ``open``) is skipped.

Python 2 files are read block by block, and classes method by method
(:mod:`.source`); ``xrange`` is provided as ``range``, ``raw_input`` refuses.
A Jupyter notebook (``PATH.ipynb:NAME``) is its code cells joined in order, its
IPython magics blanked out and reported (:mod:`.notebook`). ``module:NAME`` is
looked for in the current directory first, then on ``sys.path``.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import importlib
import importlib.util
import inspect
import itertools
import os
import site
import sys
import sysconfig
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ImplError
from ..files import read_regular
from . import notebook
from . import source as source_reader
from .evaluator import Evaluator, Refused, known_decorator
from .memo import Memo

MAX_SOURCE_BYTES = 4 << 20  # a script of 100,000 lines is far less
MAX_LOCAL_MODULES = 200  # local modules loaded for one target (a cycle guard as well)
_counter = itertools.count()
SUPPLIED = "set by bpttcheck from the spec"
UNUSED = "not used by any function"
DONE_KINDS = ("imported", "loaded", "evaluated", "defined")


@dataclasses.dataclass(frozen=True)
class Statement:
    """One top-level statement and what the loader did with it.

    ``kind``: ``imported`` (an installed package, imported normally),
    ``loaded`` (a local module, through this loader), ``evaluated`` (a value,
    by the evaluator), ``defined`` (a function or class), ``skipped``,
    ``supplied`` (set from the spec instead) or ``unused``.
    """

    line: int
    text: str  # first line, shortened
    kind: str
    reason: str = ""  # why it was skipped, or a note (a decorator dropped)

    @property
    def executed(self) -> bool:
        """Whether the statement took effect (never by running it: see the module doc)."""
        return self.kind in DONE_KINDS


@dataclasses.dataclass
class Loaded:
    """A loaded script: its namespace, the requested object and the load summary."""

    path: Path
    module: types.ModuleType
    obj: Any  # the function, or the class for Class.method
    name: str  # the name as given: NAME or Class.method
    statements: list[Statement]
    python2: bool  # the whole file did not parse as Python 3
    reads: frozenset[str] = frozenset()  # names and attributes read inside definitions
    given: bool = False  # a live Python object (the API), not a file read by the loader

    @property
    def namespace(self) -> dict[str, Any]:
        return self.module.__dict__

    def summary(self) -> str:
        """``imported: numpy; evaluated: SCALE = 2.0; defined: lossFun; skipped: line 10 ...``."""
        if self.given:
            return ""  # nothing was loaded: the caller passed the function itself
        parts = []
        for kind in DONE_KINDS:
            done = [s.text + (f" ({s.reason})" if s.reason else "") for s in self.statements
                    if s.kind == kind]
            if done:
                parts.append(f"{kind}: " + "; ".join(done))
        skipped = [f"{source_reader.line_label(self.path, s.line)} {s.text}"
                   + (f" ({s.reason})" if s.reason else "")
                   for s in self.statements if s.kind == "skipped"]
        if skipped:
            parts.append("skipped: " + "; ".join(skipped))
        for kind, label in (("unused", "not needed by any function"),
                            ("supplied", "set from the spec instead")):
            lines = [source_reader.line_label(self.path, s.line) for s in self.statements
                     if s.kind == kind]
            if lines:
                parts.append(f"{label}: " + ", ".join(lines))
        return "; ".join(parts) or "nothing"


# Work that depends on one top-level block's text only (see .memo): kept across loads in
# one process, where the fix search loads copies of a file that differ by a line.
_READS: Memo[frozenset[str]] = Memo(4096)
_ATTRS: Memo[frozenset[str]] = Memo(4096)
_CODE: Memo[types.CodeType] = Memo(4096)
_DESCRIBED: Memo[str] = Memo(4096)


def split_target(target: str) -> tuple[str, str]:
    """``PATH.py:NAME`` or ``module:NAME`` -> (where, name)."""
    where, sep, name = target.rpartition(":")
    if not sep or not where or not name:
        raise ImplError(f"--impl {target!r}: expected PATH.py:NAME, PATH.py:Class.method, "
                        "PATH.ipynb:NAME or module:NAME")
    return where, name


@functools.cache
def _installed_roots() -> tuple[str, ...]:
    """Folders whose modules are installed packages (imported normally, not loaded)."""
    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    roots.update(getattr(site, "getsitepackages", list)())
    user = getattr(site, "getusersitepackages", lambda: "")()
    if user:
        roots.add(user)
    return tuple(os.path.realpath(r) + os.sep for r in roots)


def _is_installed(origin: str | None) -> bool:
    if origin is None or origin in ("built-in", "frozen"):
        return True
    return os.path.realpath(origin).startswith(_installed_roots())


def _find_local(name: str, dirs: Sequence[Path]) -> Path | None:
    """The file of module ``name`` (``a.b``: ``a/b.py`` or ``a/b/__init__.py``) in ``dirs``."""
    parts = name.split(".")
    for d in dirs:
        base = d.joinpath(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def _search_dirs(near: Path | None) -> list[Path]:
    """Where a local module may be: next to the script, then sys.path (not installed)."""
    roots = _installed_roots()
    out = [near] if near is not None else [Path.cwd()]  # module:NAME: from here first
    for entry in sys.path:
        d = Path(entry or ".")
        if d.is_dir() and not (os.path.realpath(d) + os.sep).startswith(roots):
            out.append(d)
    return out


def resolve_path(where: str) -> Path:
    """The file a target names: a path, or a module's source file (found, never imported)."""
    looks_like_path = where.endswith((".py", ".ipynb")) or "/" in where or "\\" in where
    if looks_like_path:
        path = Path(where)
        if not path.exists():
            raise ImplError(f"--impl: file not found: {where}")
        if path.is_dir():
            raise ImplError(f"--impl: {where} is a directory; expected a .py file")
        return path
    if not all(p.isidentifier() for p in where.split(".")):
        raise ImplError(f"--impl: module not found: {where} (give PATH.py:NAME for a file)")
    found = _find_local(where, _search_dirs(None))
    if found is None:  # an installed package's module: locate its file without importing
        top, _, rest = where.partition(".")
        try:
            spec = importlib.util.find_spec(top)  # a top-level name: imports nothing
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.submodule_search_locations:
            found = _find_local(rest, [Path(p) for p in spec.submodule_search_locations]) \
                if rest else Path(spec.origin or "")
        elif spec is not None and not rest and spec.origin:
            found = Path(spec.origin)
    if found is None or found.suffix != ".py" or not found.is_file():
        raise ImplError(f"--impl: module not found: {where} (give PATH.py:NAME for a file)")
    return found


def load(target: str, supplied: frozenset[str] = frozenset(),
         preset: Mapping[str, Any] | None = None) -> Loaded:
    """Load ``target`` (``PATH.py:NAME``, ``PATH.py:Class.method``, ``module:NAME``);
    ``preset``: names bound before anything is evaluated (the sizes bpttcheck supplies, so
    that a default argument reading ``vocab_size`` gets the spec's)."""
    where, name = split_target(target)
    path = resolve_path(where)
    if notebook.is_notebook(path):
        text, magics = notebook.read(path)
        extra = [Statement(m.line, source_reader.preview(m.text), "skipped", "IPython magic")
                 for m in magics]
        return load_source(text, path, name, supplied, extra, preset)
    text = read_source(path)
    return load_source(text, path, name, supplied, preset=preset)


def read_source(path: Path) -> str:
    raw = read_regular(path, "--impl", MAX_SOURCE_BYTES, ImplError, expected="a .py file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ImplError(f"{path}: not UTF-8 text") from None


def from_callable(obj: Any) -> Loaded:
    """Wrap a function or an unbound method the caller already has (the Python API).

    A plain function gets a *copy* of its module's globals, so that setting the
    weights as globals (the min-char-rnn form) never touches the caller's
    module; the other functions of that module are copied too, so that a
    ``lossFun`` calling helpers sees the same copied globals. For
    ``Class.method`` the class is found in the function's module and
    instances are built from the spec, as for a file.
    """
    func = getattr(obj, "__func__", obj)  # a bound method: its function
    code = getattr(func, "__code__", None)
    if not isinstance(func, types.FunctionType) or code is None:
        raise ImplError(f"impl {obj!r}: expected a Python function or method, or a "
                        "'PATH.py:NAME' string")
    source = inspect.getsourcefile(func)
    path = Path(source) if source else Path(f"<{func.__module__}>")
    qualname = func.__qualname__
    reads = frozenset(_code_names(code))
    module = types.ModuleType(f"bpttcheck_user_{func.__name__}_{next(_counter)}")
    ns = module.__dict__
    ns.update(func.__globals__)
    ns.setdefault("xrange", range)
    for key, value in func.__globals__.items():  # helpers read the copied globals too
        if isinstance(value, types.FunctionType) and value.__globals__ is func.__globals__:
            ns[key] = _rebind(value, ns)
    parts = qualname.split(".")
    if len(parts) == 2 and "<locals>" not in parts:
        cls = func.__globals__.get(parts[0])
        if not isinstance(cls, type):
            raise ImplError(f"impl {qualname}: class {parts[0]} not found in {func.__module__}")
        reads |= {n for f in vars(cls).values() if isinstance(f, types.FunctionType)
                  for n in _code_names(f.__code__)}
        return Loaded(path, module, cls, qualname, [], False, reads, given=True)
    return Loaded(path, module, _rebind(func, ns), func.__name__, [], False, reads, given=True)


def _rebind(func: types.FunctionType, ns: dict[str, Any]) -> types.FunctionType:
    copy = types.FunctionType(func.__code__, ns, func.__name__, func.__defaults__,
                              func.__closure__)
    copy.__kwdefaults__ = func.__kwdefaults__
    copy.__qualname__ = func.__qualname__
    return copy


def _code_names(code: types.CodeType) -> set[str]:
    """Global and attribute names a code object (and the code nested in it) uses."""
    out = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            out |= _code_names(const)
    return out


def load_source(text: str, path: Path, name: str,
                supplied: frozenset[str] = frozenset(),
                extra: Sequence[Statement] = (),
                preset: Mapping[str, Any] | None = None) -> Loaded:
    """Parse ``text`` (the text of ``path``), evaluate what is safe, return ``name``.

    Assignments to names in ``supplied`` (the weights and sizes bpttcheck sets
    from the spec) are skipped; names in ``preset`` are bound first.
    """
    head = name.split(".")[0]
    read = source_reader.read(text, path, head)
    session = _Session(path.parent)
    module = session.new_module(path, path.stem, None)
    session.modules[path.resolve()] = module  # a local import of the target finds it
    ns = module.__dict__
    ns["xrange"] = range  # Python 2's lazy range
    ns["raw_input"] = _refuse_input
    ns.update(preset or {})
    nodes = read.nodes
    session.texts[path] = source_reader.code_lines(text, keepends=True)
    reads: set[str] = set()
    attrs: set[str] = set()
    for n in nodes:
        key = session.key(path, n)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            reads |= _memo(_READS, key, functools.partial(_read_names, [n]))
        attrs |= _memo(_ATTRS, key, functools.partial(_attributes, n))
    # the target itself is needed even when no definition reads it (`lossFun = loss_v2`)
    statements = session.run(nodes, module, path, supplied, needed_only=True,
                             reads=reads | {head})
    for bad in read.unreadable:
        statements.append(Statement(bad.line, source_reader.preview(bad.text), "skipped",
                                    bad.reason))
    statements.extend(extra)
    statements.sort(key=lambda s: s.line)
    obj = _lookup(ns, name, path, statements)
    return Loaded(path, module, obj, name, statements, read.python2, frozenset(reads | attrs))


def _memo(memo: Memo[frozenset[str]], key: tuple[object, ...] | None,
          make: Callable[[], set[str]]) -> frozenset[str]:
    return memo.get(key, lambda: frozenset(make())) if key else frozenset(make())


def _attributes(node: ast.AST) -> set[str]:
    return {a.attr for a in ast.walk(node) if isinstance(a, ast.Attribute)}


def _refuse_input(*args: Any) -> str:
    raise EOFError("bpttcheck: the checked code asked for keyboard input")


def _read_names(nodes: Sequence[ast.stmt]) -> set[str]:
    """Names read inside the given statements that are not local to a function there."""
    out: set[str] = set()
    for node in nodes:
        loads: list[str] = []
        stores: set[str] = set()
        declared: set[str] = set()
        nested: list[ast.stmt] = []
        for sub in ast.walk(node):  # one walk: this runs on every load of every file
            if isinstance(sub, ast.Name):
                if isinstance(sub.ctx, ast.Load):
                    loads.append(sub.id)
                elif isinstance(sub.ctx, ast.Store):
                    stores.add(sub.id)
            elif isinstance(sub, ast.Global):
                declared.update(sub.names)
            elif isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef) and sub is not node:
                nested.append(sub)
        local: set[str] = set()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            local = ({a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
                     | stores) - declared
        out.update(n for n in loads if n not in local)
        if nested:
            out |= _read_names(nested)
    return out


def _assigned(node: ast.stmt) -> set[str]:
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


class _Skip(Exception):
    """A statement not taken; ``str(exc)`` is the reason."""


class _Session:
    """One load: the local modules loaded so far (each once), by file."""

    def __init__(self, root: Path) -> None:
        self.modules: dict[Path, types.ModuleType] = {}
        self.root = root  # the target's folder: on sys.path[0] when the script runs
        self.skipped: dict[Path, int] = {}  # statements skipped in each local module
        self.texts: dict[Path, list[str]] = {}  # each file's lines, for :meth:`key`

    def key(self, path: Path, node: ast.stmt) -> tuple[object, ...] | None:
        """What ``node``'s parse depends on: its file, place and text (None when unknown)."""
        lines = self.texts.get(path)
        end = node.end_lineno
        if lines is None or end is None:
            return None
        return (str(path), type(node).__name__, node.lineno, node.col_offset, end,
                node.end_col_offset, "".join(lines[node.lineno - 1:end]))

    def compiled(self, path: Path, node: ast.stmt, kind: str,
                 make: Callable[[], types.CodeType]) -> types.CodeType:
        """``make()`` (compiling ``node`` as ``kind``), once per text of ``node``."""
        key = self.key(path, node)
        return make() if key is None else _CODE.get((kind, *key), make)

    def new_module(self, path: Path, name: str, package: str | None) -> types.ModuleType:
        module = types.ModuleType(f"bpttcheck_user_{name}_{next(_counter)}")
        module.__file__ = str(path)
        if path.name == "__init__.py":
            module.__path__ = [str(path.parent)]
        module.__dict__["__bpttcheck_package__"] = package
        return module

    # -- statements -----------------------------------------------------------------
    def run(self, nodes: list[ast.stmt], module: types.ModuleType, path: Path,
            supplied: frozenset[str], needed_only: bool,
            reads: set[str] | None = None) -> list[Statement]:
        """Evaluate what is safe of ``nodes``; ``reads``: what their definitions read, when
        already known (:func:`_read_names`)."""
        ns = module.__dict__
        needed = self._needed(nodes, supplied, reads) if needed_only else None
        ev = Evaluator(ns, filename=str(path))
        out: list[Statement] = []
        for node in nodes:
            key = self.key(path, node)
            text = _DESCRIBED.get(key, functools.partial(source_reader.describe, node)) \
                if key else source_reader.describe(node)
            try:
                kind, note = self._statement(node, ns, ev, path, supplied, needed)
            except _Skip as why:
                kind, note = "skipped", str(why)
            except Refused as why:
                kind, note = "skipped", str(why)
            except RecursionError:
                kind, note = "skipped", "nested too deeply"
            if kind:
                out.append(Statement(node.lineno, text, kind, note))
        return out

    def _needed(self, nodes: list[ast.stmt], supplied: frozenset[str],
                reads: set[str] | None = None) -> set[str]:
        defs = [n for n in nodes if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef
                                               | ast.ClassDef)]
        needed = set(reads) if reads is not None else _read_names(defs)
        # Assignments feeding needed names may read other names: close over them.
        assigns = [(n, _assigned(n)) for n in nodes
                   if isinstance(n, ast.Assign | ast.AnnAssign | ast.AugAssign)]
        changed = True
        while changed:
            changed = False
            for assign, names in assigns:
                if names & needed and not names <= supplied:
                    more = _read_names([assign]) - needed
                    if more:
                        needed |= more
                        changed = True
        return needed

    def _statement(self, node: ast.stmt, ns: dict[str, Any], ev: Evaluator, path: Path,
                   supplied: frozenset[str], needed: set[str] | None) -> tuple[str, str]:
        if isinstance(node, ast.Import | ast.ImportFrom):
            return self._import(node, ns, path)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            func, notes = self.function(node, ns, ev, path, {})
            ns[node.name] = func
            return "defined", "; ".join(notes)
        if isinstance(node, ast.ClassDef):
            cls, notes = self.klass(node, ns, ev, path)
            ns[node.name] = cls
            return "defined", "; ".join(notes)
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            names = _assigned(node)
            if needed is not None and not names & needed:
                return "unused", UNUSED
            if names and names <= supplied:
                return "supplied", SUPPLIED
            if node.value is None:  # a bare annotation: nothing to do
                return "", ""
            value = ev.value(node.value)
            if isinstance(node, ast.AugAssign):
                target = ast.Name(node.target.id, ast.Load()) if isinstance(
                    node.target, ast.Name) else None
                if target is None:
                    raise _Skip("assigns into an object")
                value = ev.value(ast.BinOp(target, node.op, ast.Constant(value)))
                _bind(node.target, value, ns)
            else:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    _bind(t, value, ns)
            return "evaluated", ""
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return "", ""  # a docstring
        if isinstance(node, ast.Pass):
            return "", ""
        raise _Skip("top-level code")

    # -- definitions ----------------------------------------------------------------
    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, ns: dict[str, Any],
                 ev: Evaluator, path: Path, local: dict[str, Any],
                 owner: str | None = None) -> tuple[Any, list[str]]:
        """The function ``node`` defines, with evaluated defaults and known decorators."""
        defaults, kw_defaults = _defaults(node, ev, local)
        decorators, notes = self._decorators(node.decorator_list, ev, local, node.name)
        try:
            code = self.compiled(path, node, "function", lambda: compile(
                ast.Module(body=[_strip(node)], type_ignores=[]), str(path), "exec"))
        except SyntaxError as exc:  # found only when compiling: 'global' after use, ...
            raise _Skip(f"SyntaxError: {exc.msg} (line {exc.lineno})") from None
        scratch: dict[str, Any] = {}
        exec(code, ns, scratch)  # noqa: S102 - only binds a function object (no decorators)
        func = scratch[node.name]
        func.__defaults__ = tuple(defaults) or None
        func.__kwdefaults__ = kw_defaults or None
        func.__module__ = ns.get("__name__")
        if owner is not None:
            func.__qualname__ = f"{owner}.{node.name}"
        value: Any = func
        for deco in reversed(decorators):
            value = deco(value)
        return value, notes

    def _decorators(self, nodes: list[ast.expr], ev: Evaluator, local: dict[str, Any],
                    name: str) -> tuple[list[Any], list[str]]:
        kept: list[Any] = []
        notes: list[str] = []
        for deco in nodes:
            spelled = _unparse(deco)
            try:
                if isinstance(deco, ast.Call):
                    factory = ev.value(deco.func, local)
                    if known_decorator(factory) is None:
                        raise Refused("unknown")
                    args = [ev.value(a, local) for a in deco.args]
                    kwargs = {k.arg: ev.value(k.value, local) for k in deco.keywords
                              if k.arg is not None}
                    kept.append(factory(*args, **kwargs))
                else:
                    obj = ev.value(deco, local)
                    if known_decorator(obj) is None:
                        raise Refused("unknown")
                    kept.append(obj)
            except (Refused, TypeError, ValueError):
                notes.append(f"decorator @{spelled} dropped: {name} is checked undecorated")
        return kept, notes

    def klass(self, node: ast.ClassDef, ns: dict[str, Any], ev: Evaluator,
              path: Path) -> tuple[type, list[str]]:
        """The class ``node`` defines: its defs and evaluated assignments only."""
        if any(k.arg == "metaclass" for k in node.keywords) or node.keywords:
            raise _Skip("a class with metaclass or keywords would run code when made")
        bases = tuple(ev.value(b) for b in node.bases)
        for b in bases:
            if not isinstance(b, type):
                raise _Skip(f"base {b!r} is not a class")
            for k in b.__mro__:
                home = sys.modules.get(k.__module__)
                users = home is None or not _is_installed(getattr(home, "__file__", None)
                                                          or "built-in")
                if users and "__init_subclass__" in vars(k):
                    raise _Skip(f"base {k.__name__} defines __init_subclass__, which would run")
        notes: list[str] = []
        cls = types.new_class(node.name, bases)  # a base's metaclass: installed code only
        cls.__module__ = str(ns.get("__name__"))
        cls.__qualname__ = node.name
        local: dict[str, Any] = {}
        annotations: dict[str, str] = {}
        for item in node.body:
            try:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    value, more = self.method(item, cls, ns, ev, path, local)
                    notes.extend(more)
                    local[item.name] = value
                elif isinstance(item, ast.Assign) and all(isinstance(t, ast.Name)
                                                          for t in item.targets):
                    value = ev.value(item.value, local)
                    for t in item.targets:
                        assert isinstance(t, ast.Name)
                        local[t.id] = value
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    annotations[item.target.id] = _unparse(item.annotation)
                    if item.value is not None:
                        local[item.target.id] = ev.value(item.value, local)
                elif isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant):
                    local["__doc__"] = item.value.value
                elif not isinstance(item, ast.Pass):
                    notes.append(f"line {item.lineno} in class {node.name} skipped")
            except (Refused, _Skip) as why:
                notes.append(f"line {item.lineno} in class {node.name} skipped ({why})")
        for key, value in local.items():
            setattr(cls, key, value)
        if annotations:
            cls.__annotations__ = annotations
        decorators, more = self._decorators(node.decorator_list, ev, {}, node.name)
        notes.extend(more)
        out: Any = cls
        with _importable(ns):  # @dataclass reads the class's module from sys.modules
            for deco in reversed(decorators):
                out = deco(out)
        return out, notes

    def method(self, node: ast.FunctionDef | ast.AsyncFunctionDef, cls: type,
               ns: dict[str, Any], ev: Evaluator, path: Path,
               local: dict[str, Any]) -> tuple[Any, list[str]]:
        """A method, compiled inside a class so that ``super()`` and ``__class__`` work."""
        defaults, kw_defaults = _defaults(node, ev, local)
        decorators, notes = self._decorators(node.decorator_list, ev, local, node.name)

        def make() -> types.CodeType:
            holder = ast.ClassDef(name=cls.__name__, bases=[], keywords=[],
                                  body=[_strip(node)], decorator_list=[])
            ast.copy_location(holder, node)  # the body's locations are the original's
            return compile(ast.Module(body=[holder], type_ignores=[]), str(path), "exec")

        try:
            code = self.compiled(path, node, f"method of {cls.__name__}", make)
        except SyntaxError as exc:
            raise _Skip(f"SyntaxError: {exc.msg} (line {exc.lineno})") from None
        scratch: dict[str, Any] = {}
        exec(code, ns, scratch)  # noqa: S102 - makes a class holding one bare function
        func = vars(scratch[cls.__name__])[node.name]
        _retarget_class_cell(func, cls)
        func.__defaults__ = tuple(defaults) or None
        func.__kwdefaults__ = kw_defaults or None
        func.__qualname__ = f"{cls.__qualname__}.{node.name}"
        value: Any = func
        for deco in reversed(decorators):
            value = deco(value)
        return value, notes

    # -- imports --------------------------------------------------------------------
    def _import(self, node: ast.Import | ast.ImportFrom, ns: dict[str, Any],
                path: Path) -> tuple[str, str]:
        here = path.parent
        if isinstance(node, ast.Import):
            kinds = []
            before = dict(self.skipped)
            for alias in node.names:
                imported, kind = self._module(alias.name, here)
                kinds.append(kind)
                if alias.asname:
                    ns[alias.asname] = imported
                else:
                    top = alias.name.split(".")[0]
                    ns[top] = imported if top == alias.name else self._module(top, here)[0]
            return ("loaded" if "loaded" in kinds else "imported"), self._skips(before)
        before = dict(self.skipped)
        base = node.module or ""
        module: types.ModuleType | None
        if node.level:  # relative: always local, next to this file (or its package)
            origin = here
            for _ in range(node.level - 1):
                origin = origin.parent
            where = origin.joinpath(*base.split(".")) if base else origin
            found = _find_local(base, [origin]) if base else (
                origin / "__init__.py" if (origin / "__init__.py").is_file() else None)
            module = self.local_module(found, base or origin.name) if found else None
            if base and module is None:
                raise _Skip(f"no module {base} next to {path.name}")
            kind = "loaded"
        else:
            absolute, kind = self._module(base, here)
            module = absolute
            where = Path(absolute.__file__ or ".").parent if _is_local_module(absolute) else here
        for alias in node.names:
            local = alias.asname or alias.name
            if alias.name == "*":
                if module is None:
                    raise _Skip("import * from a folder")
                public = vars(module).get("__all__") if _is_local_module(module) else getattr(
                    module, "__all__", None)
                names = list(public) if isinstance(public, list | tuple) else [
                    k for k in vars(module) if not k.startswith("_")]
                for key in names:
                    if key in vars(module):
                        ns[key] = vars(module)[key]
            elif module is not None and alias.name in vars(module):
                ns[local] = vars(module)[alias.name]
            elif module is None or _is_local_module(module):
                sub = _find_local(alias.name, [where])
                if sub is None:
                    raise _Skip(f"{alias.name} is not set in {base or 'the package'}")
                ns[local] = self.local_module(sub, alias.name)
            else:
                try:
                    ns[local] = getattr(module, alias.name)
                except AttributeError:
                    try:
                        ns[local] = importlib.import_module(f"{base}.{alias.name}")
                    except ImportError as exc:
                        raise _Skip(f"{type(exc).__name__}: {exc}") from None
        return kind, self._skips(before)

    def _skips(self, before: dict[Path, int]) -> str:
        """A note on statements skipped in the local modules this import loaded."""
        new = {p: n for p, n in self.skipped.items() if p not in before and n}
        if not new:
            return ""
        return "; ".join(f"{p.name}: {n} top-level statement{'s' * (n > 1)} skipped"
                         for p, n in new.items())

    def _module(self, name: str, here: Path) -> tuple[types.ModuleType, str]:
        """``name`` as a module: a local file through the loader, else a normal import."""
        found = _find_local(name, [here, self.root])
        if found is None:
            top = name.split(".")[0]
            try:
                spec = importlib.util.find_spec(top)  # a top-level name: imports nothing
            except (ImportError, ValueError) as exc:
                raise _Skip(f"{type(exc).__name__}: {exc}") from None
            if spec is None:
                raise _Skip(f"ModuleNotFoundError: No module named {top!r}")
            where = spec.origin or next(iter(spec.submodule_search_locations or []), None)
            if not _is_installed(where):
                found = _find_local(name, _search_dirs(here))
            if found is None:
                try:
                    return importlib.import_module(name), "imported"
                except ImportError as exc:
                    raise _Skip(f"{type(exc).__name__}: {exc}") from None
        parts = name.split(".")
        root = found.parent if found.name != "__init__.py" else found.parent.parent
        for _ in parts[1:]:
            root = root.parent  # the folder the dotted name starts from
        previous: types.ModuleType | None = None
        for i in range(1, len(parts) + 1):  # a.b.c: a, then a.b, then a.b.c, each linked
            at = _find_local(".".join(parts[:i]), [root]) if i < len(parts) else found
            if at is None:
                continue
            current = self.local_module(at, ".".join(parts[:i]))
            if previous is not None:
                vars(previous)[parts[i - 1]] = current
            previous = current
        module = self.local_module(found, name)
        return module, "loaded"

    def local_module(self, path: Path, name: str) -> types.ModuleType:
        """A local module (or package ``__init__.py``), loaded through this loader once."""
        key = path.resolve()
        if key in self.modules:
            return self.modules[key]
        if len(self.modules) >= MAX_LOCAL_MODULES:
            raise _Skip(f"more than {MAX_LOCAL_MODULES} local modules")
        package = str(path.parent) if path.name == "__init__.py" else str(path.parent)
        module = self.new_module(path, name.rpartition(".")[2], package)
        self.modules[key] = module  # before loading it: an import cycle finds it here
        ns = module.__dict__
        ns["__bpttcheck_package__"] = package
        text = read_source(path)
        self.texts[path] = source_reader.code_lines(text, keepends=True)
        read = source_reader.read(text, path, None)
        done = self.run(read.nodes, module, path, frozenset(), needed_only=False)
        self.skipped[key] = len(read.unreadable) + sum(s.kind == "skipped" for s in done)
        return module


def _is_local_module(module: Any) -> bool:
    return isinstance(module, types.ModuleType) and module.__name__.startswith("bpttcheck_user_")


def _bind(target: ast.expr, value: Any, ns: dict[str, Any]) -> None:
    if isinstance(target, ast.Name):
        ns[target.id] = value
    elif isinstance(target, ast.Tuple | ast.List):
        if type(value) not in (tuple, list) or len(value) != len(target.elts):
            raise _Skip("unpacks a value that is not a tuple or list of that length")
        for t, v in zip(target.elts, value, strict=True):
            _bind(t, v, ns)
    else:
        raise _Skip("assigns into an object")


def _defaults(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, ev: Evaluator,
              local: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """Default values, through the evaluator (a refusal names the function)."""
    try:
        defaults = [ev.value(d, local) for d in node.args.defaults]
        kw_defaults = {a.arg: ev.value(d, local) for a, d in
                       zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True)
                       if d is not None}
    except Refused as why:
        raise Refused(f"a default value {why}") from None
    return defaults, kw_defaults


@contextlib.contextmanager
def _importable(ns: dict[str, Any]) -> Iterator[None]:
    """The user's module (namespace ``ns``) in ``sys.modules`` for a while, as a copy: a
    class decorator such as ``@dataclasses.dataclass`` looks its module up there. Removed
    after, so that the copies the fix search loads do not pile up."""
    name = str(ns.get("__name__"))
    if name in sys.modules:
        yield
        return
    module = types.ModuleType(name)
    module.__dict__.update(ns)
    sys.modules[name] = module
    try:
        yield
    finally:
        sys.modules.pop(name, None)


def _strip(node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.FunctionDef | ast.AsyncFunctionDef:
    """A copy of ``node`` without decorators, defaults or annotations (evaluated elsewhere)."""
    def bare(a: ast.arg) -> ast.arg:
        return ast.copy_location(ast.arg(a.arg), a)

    args = node.args
    bare_args = ast.arguments(
        posonlyargs=[bare(a) for a in args.posonlyargs],
        args=[bare(a) for a in args.args],
        vararg=bare(args.vararg) if args.vararg else None,
        kwonlyargs=[bare(a) for a in args.kwonlyargs],
        kw_defaults=[None] * len(args.kwonlyargs),
        kwarg=bare(args.kwarg) if args.kwarg else None,
        defaults=[])
    cls = type(node)
    stripped = cls(name=node.name, args=bare_args, body=node.body, decorator_list=[],
                   returns=None, type_comment=None)
    # every new node has its location (the body's are the original's): no walk needed
    return ast.copy_location(stripped, node)


def _retarget_class_cell(func: Any, cls: type) -> None:
    """Point a method's ``__class__`` cell (``super()``) at the class really built."""
    code = getattr(func, "__code__", None)
    if code is None or "__class__" not in code.co_freevars or func.__closure__ is None:
        return
    cell = func.__closure__[code.co_freevars.index("__class__")]
    cell.cell_contents = cls


def _unparse(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except RecursionError:
        return "(nested too deeply)"


def _lookup(ns: dict[str, Any], name: str, path: Path, statements: list[Statement]) -> Any:
    parts = name.split(".")
    if len(parts) > 2 or not all(p.isidentifier() for p in parts):
        raise ImplError(f"--impl {path}:{name}: expected NAME or Class.method")
    head = parts[0]
    if head not in ns or head in ("xrange", "raw_input"):
        broken = [s for s in statements if s.text in (f"def {head}", f"class {head}")]
        if broken:
            raise ImplError(f"{source_reader.where(path, broken[0].line)}: defining {head} failed: "
                            f"{broken[0].reason}")
        there = sorted(k for k, v in ns.items() if not k.startswith("__")
                       and k not in ("xrange", "raw_input")
                       and (callable(v) and not isinstance(v, types.ModuleType)))
        listed = ", ".join(there) if there else "none"
        owners = sorted(k for k, v in ns.items() if isinstance(v, type)
                        and callable(vars(v).get(head)) and not k.startswith("__"))
        if owners:
            raise ImplError(f"{path}: {head} is a method of class {owners[0]}: give "
                            f"--impl {path}:{owners[0]}.{head}")
        raise ImplError(f"{path}: no function or class named {head!r}; defined there: {listed}")
    obj = ns[head]
    if len(parts) == 2:
        if not isinstance(obj, type):
            raise ImplError(f"{path}: {head} is not a class, so {name} is not a method")
        if not callable(vars(obj).get(parts[1], None)) and not callable(
                inspect.getattr_static(obj, parts[1], None)):
            skipped = [st for st in statements if st.kind == "skipped"
                       and st.text.startswith((f"def {parts[1]}(", f"async def {parts[1]}("))
                       and st.reason.endswith(f"in class {head}")]
            if skipped:
                raise ImplError(f"{source_reader.where(path, skipped[0].line)}: method "
                                f"{name} does not parse as Python 3 (the class's other "
                                "methods do: only this one needs porting)")
            methods = sorted(k for k, v in vars(obj).items()
                             if callable(v) and not k.startswith("__"))
            raise ImplError(f"{path}: class {head} has no method {parts[1]!r}; methods: "
                            + (", ".join(methods) or "none"))
        return obj
    if not callable(obj) or isinstance(obj, type):
        raise ImplError(f"{path}: {head} is a {type(obj).__name__}, not a function "
                        "(use Class.method for a method)")
    return obj
