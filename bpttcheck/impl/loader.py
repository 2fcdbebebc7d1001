"""Load the user's function from a script without running the script.

A training script usually does its work at import time: it reads ``input.txt``,
parses arguments and trains forever. Importing it is not an option, so the file
is parsed with :mod:`ast` and only these top-level statements are executed, in
source order, in a fresh module namespace:

- ``import`` and ``from ... import`` (a failing import is skipped and reported);
- ``def`` and ``class`` (decorators and class bodies run, as in any import);
- assignments to names that some function or class reads, when the value only
  uses constants, names, arithmetic, containers, and calls into NumPy, ``math``
  or harmless builtins (``int``, ``len``, ...). ``data = open('input.txt').read()``
  is never executed; neither are loops, ``if`` blocks, ``print``, ``argparse``.

**Python 2.** When the whole file does not parse, it is cut into top-level
blocks (a line starting in column 0 starts a block) and each block, or a few
consecutive ones, is parsed on its own; blocks that still do not parse (``print
"x"``) are skipped and reported. ``xrange`` is provided as ``range``. Line numbers
stay those of the file, so tracebacks point at the user's lines.

**Trust model.** The statements above, and then the user's function itself,
are run exactly as if the user ran them, with the user's permissions. Nothing
else from the file is executed.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import inspect
import itertools
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ImplError
from ..files import read_regular

MAX_SOURCE_BYTES = 4 << 20  # a script of 100,000 lines is far less
MAX_MERGE = 8  # consecutive top-level blocks tried together (decorators, split strings)
PREVIEW = 50  # characters of a skipped statement shown in the summary
CONTINUATION = ("else", "elif", "except", "finally", ")", "]", "}")

# Calls an executed assignment may make: pure constructors and arithmetic.
SAFE_BUILTINS = frozenset({
    "int", "float", "complex", "bool", "str", "len", "range", "xrange", "list", "tuple", "dict",
    "set", "frozenset", "abs", "min", "max", "sum", "round", "sorted", "enumerate", "zip", "pow",
})
SAFE_MODULES = frozenset({"numpy", "math"})
# NumPy functions that touch files: never called at load time.
UNSAFE_ATTRS = frozenset({"load", "loadtxt", "genfromtxt", "fromfile", "save", "savez",
                          "savetxt", "savez_compressed", "memmap", "tofile", "fromregex"})
_counter = itertools.count()
SUPPLIED = "set by bpttcheck from the spec"
UNUSED = "not used by any function"


@dataclasses.dataclass(frozen=True)
class Statement:
    """One top-level statement and what the loader did with it."""

    line: int
    text: str  # first line, shortened
    executed: bool
    reason: str = ""  # why it was skipped


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
        """``executed: import numpy as np; def lossFun; skipped: line 10 data = ...``."""
        if self.given:
            return ""  # nothing was loaded: the caller passed the function itself
        done = [s.text for s in self.statements if s.executed]
        spec = [str(s.line) for s in self.statements if s.reason == SUPPLIED]
        unused = [str(s.line) for s in self.statements if s.reason == UNUSED]
        skipped = [f"line {s.line} {s.text}" + (f" ({s.reason})" if s.reason else "")
                   for s in self.statements if not s.executed and s.reason not in (SUPPLIED,
                                                                                   UNUSED)]
        out = "executed: " + ("; ".join(done) or "nothing")
        if skipped:
            out += "; skipped: " + "; ".join(skipped)
        if unused:
            out += f"; not needed by any function: line{'s' * (len(unused) > 1)} " + \
                ", ".join(unused)
        if spec:
            out += f"; set from the spec instead: line{'s' * (len(spec) > 1)} " + ", ".join(spec)
        return out


def split_target(target: str) -> tuple[str, str]:
    """``PATH.py:NAME`` or ``module:NAME`` -> (where, name)."""
    where, sep, name = target.rpartition(":")
    if not sep or not where or not name:
        raise ImplError(f"--impl {target!r}: expected PATH.py:NAME, PATH.py:Class.method "
                        "or module:NAME")
    return where, name


def resolve_path(where: str) -> Path:
    """The file a target names: a path, or an importable module's source file."""
    looks_like_path = where.endswith(".py") or "/" in where or "\\" in where
    if looks_like_path:
        path = Path(where)
        if not path.exists():
            raise ImplError(f"--impl: file not found: {where}")
        if path.is_dir():
            raise ImplError(f"--impl: {where} is a directory; expected a .py file")
        return path
    try:
        found = importlib.util.find_spec(where)
    except (ImportError, ValueError):
        found = None
    if found is None or not found.origin or not found.origin.endswith(".py"):
        raise ImplError(f"--impl: module not found: {where} (give PATH.py:NAME for a file)")
    return Path(found.origin)


def load(target: str, supplied: frozenset[str] = frozenset()) -> Loaded:
    """Load ``target`` (``PATH.py:NAME``, ``PATH.py:Class.method``, ``module:NAME``)."""
    where, name = split_target(target)
    path = resolve_path(where)
    raw = read_regular(path, "--impl", MAX_SOURCE_BYTES, ImplError, expected="a .py file")
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ImplError(f"{path}: not UTF-8 text") from None
    return load_source(source, path, name, supplied)


def from_callable(obj: Any) -> Loaded:
    """Wrap a function or an unbound method the caller already has (the Python API).

    A plain function gets a *copy* of its module's globals, so that setting the
    weights as globals (the min-char-rnn form) never touches the caller's
    module. For ``Class.method`` the class is found in the function's module and
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
    module.__dict__.update(func.__globals__)
    module.__dict__.setdefault("xrange", range)
    parts = qualname.split(".")
    if len(parts) == 2 and "<locals>" not in parts:
        cls = func.__globals__.get(parts[0])
        if not isinstance(cls, type):
            raise ImplError(f"impl {qualname}: class {parts[0]} not found in {func.__module__}")
        reads |= {n for f in vars(cls).values() if isinstance(f, types.FunctionType)
                  for n in _code_names(f.__code__)}
        return Loaded(path, module, cls, qualname, [], False, reads, given=True)
    copy = types.FunctionType(code, module.__dict__, func.__name__, func.__defaults__,
                              func.__closure__)
    copy.__kwdefaults__ = func.__kwdefaults__
    return Loaded(path, module, copy, func.__name__, [], False, reads, given=True)


def _code_names(code: types.CodeType) -> set[str]:
    """Global and attribute names a code object (and the code nested in it) uses."""
    out = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            out |= _code_names(const)
    return out


def load_source(source: str, path: Path, name: str,
                supplied: frozenset[str] = frozenset()) -> Loaded:
    """Parse ``source`` (the text of ``path``), execute what is safe, return ``name``.

    Assignments to names in ``supplied`` (the weights and sizes bpttcheck sets
    from the spec) are skipped.
    """
    head = name.split(".")[0]
    try:
        blocks = [(ast.parse(source, filename=str(path)), 1)]
        python2 = False
        failed: list[tuple[int, str, SyntaxError]] = []
    except SyntaxError as whole:
        blocks, failed = _parse_blocks(source, path)
        python2 = True
        for _line, text, err in failed:  # the target itself does not parse: say where
            if _defines(text, head):
                raise ImplError(_syntax_message(path, err, head)) from None
        if not blocks:
            raise ImplError(_syntax_message(path, whole, None)) from None
    nodes = [node for tree, _ in blocks for node in tree.body]
    module = types.ModuleType(f"bpttcheck_user_{path.stem}_{next(_counter)}")
    module.__file__ = str(path)
    ns = module.__dict__
    ns["xrange"] = range  # Python 2's lazy range
    ns["raw_input"] = _refuse_input
    statements = _execute(nodes, ns, path, module, supplied)
    for line, text, _ in failed:
        statements.append(Statement(line, _preview(text), False, "not Python 3"))
    statements.sort(key=lambda s: s.line)
    obj = _lookup(ns, name, path, statements)
    reads = _read_names([n for n in nodes if isinstance(n, ast.FunctionDef
                                                       | ast.AsyncFunctionDef | ast.ClassDef)])
    attrs = {a.attr for n in nodes for a in ast.walk(n) if isinstance(a, ast.Attribute)}
    return Loaded(path, module, obj, name, statements, python2, frozenset(reads | attrs))


def _refuse_input(*args: Any) -> str:
    raise EOFError("bpttcheck: the checked code asked for keyboard input")


def _defines(text: str, name: str) -> bool:
    first = text.lstrip().split("\n", 1)[0]
    return any(first.startswith(f"{kw} {name}") and first[len(kw) + 1 + len(name):][:1] in "(:"
               for kw in ("def", "class", "async def"))


def _syntax_message(path: Path, err: SyntaxError, name: str | None) -> str:
    what = f" in {name}" if name else ""
    return f"{path}:{err.lineno}: syntax error{what}: {err.msg}"


def _parse_blocks(source: str, path: Path) -> tuple[list[tuple[ast.Module, int]],
                                                   list[tuple[int, str, SyntaxError]]]:
    """Parse top-level blocks one by one (for files that do not parse whole)."""
    lines = source.splitlines(keepends=True)
    starts = [i for i, text in enumerate(lines)
              if text[:1] not in ("", " ", "\t", "\n", "\r", "#")
              and not text.startswith(CONTINUATION)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    bounds = [*starts, len(lines)]
    parsed: list[tuple[ast.Module, int]] = []
    failed: list[tuple[int, str, SyntaxError]] = []
    i = 0
    while i < len(starts):
        first_error: SyntaxError | None = None
        for j in range(i + 1, min(i + MAX_MERGE, len(starts)) + 1):
            text = "".join(lines[bounds[i]:bounds[j]])
            try:
                tree = ast.parse(text, filename=str(path))
            except SyntaxError as err:
                first_error = first_error or err
                continue
            ast.increment_lineno(tree, bounds[i])
            parsed.append((tree, bounds[i] + 1))
            i = j
            break
        else:
            text = "".join(lines[bounds[i]:bounds[i + 1]])
            assert first_error is not None
            if first_error.lineno is not None:
                first_error.lineno += bounds[i]
            if text.strip():
                failed.append((bounds[i] + 1, text, first_error))
            i += 1
    return parsed, failed


def _preview(text: str) -> str:
    first = text.strip().split("\n", 1)[0].strip()
    return first if len(first) <= PREVIEW else first[: PREVIEW - 1] + "…"


def _describe(node: ast.stmt) -> str:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return f"def {node.name}"
    if isinstance(node, ast.ClassDef):
        return f"class {node.name}"
    return _preview(ast.unparse(node))


def _read_names(nodes: Sequence[ast.stmt]) -> set[str]:
    """Names read inside the given statements that are not local to a function there."""
    out: set[str] = set()
    for node in nodes:
        local: set[str] = set()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            declared = {n for sub in ast.walk(node) if isinstance(sub, ast.Global)
                        for n in sub.names}
            local = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
            local |= {sub.id for sub in ast.walk(node) if isinstance(sub, ast.Name)
                      and isinstance(sub.ctx, ast.Store)}
            local -= declared
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id not in local:
                out.add(sub.id)
            elif isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef) and sub is not node:
                out |= _read_names([sub])
    return out


def _assigned(node: ast.stmt) -> set[str]:
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _call_root(func: ast.expr) -> tuple[str, str] | None:
    """(root name, last attribute) of ``np.random.randn`` -> ("np", "randn")."""
    last = func.attr if isinstance(func, ast.Attribute) else ""
    while isinstance(func, ast.Attribute):
        func = func.value
    return (func.id, last) if isinstance(func, ast.Name) else None


def _safe_value(value: ast.expr | None, modules: dict[str, str]) -> str:
    """'' if evaluating ``value`` can only compute, else why not."""
    if value is None:
        return ""
    for sub in ast.walk(value):
        if isinstance(sub, ast.Call):
            root = _call_root(sub.func)
            if root is None:
                base = sub.func
                while isinstance(base, ast.Attribute):
                    base = base.value
                if isinstance(base, ast.Call):
                    continue  # open(...).read(): the inner call is judged on its own
                return "calls a computed function"
            name, attr = root
            module = modules.get(name, "").split(".")[0]
            if module in SAFE_MODULES and attr not in UNSAFE_ATTRS:
                continue
            if name in SAFE_BUILTINS and name not in modules:
                continue
            return f"calls {ast.unparse(sub.func)}"
        if isinstance(sub, ast.Lambda | ast.NamedExpr | ast.Await | ast.Yield | ast.YieldFrom):
            return "not a plain value"
    return ""


def _execute(nodes: list[ast.stmt], ns: dict[str, Any], path: Path,
             module: types.ModuleType, supplied: frozenset[str]) -> list[Statement]:
    defs = [n for n in nodes if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef
                                           | ast.ClassDef)]
    needed = _read_names(defs)
    # Assignments feeding needed names may read other names: close over them.
    assigns = [n for n in nodes if isinstance(n, ast.Assign | ast.AnnAssign | ast.AugAssign)]
    changed = True
    while changed:
        changed = False
        for assign in assigns:
            if _assigned(assign) & needed and not _assigned(assign) <= supplied:
                more = _read_names([assign]) - needed
                if more:
                    needed |= more
                    changed = True
    modules: dict[str, str] = {}  # local alias -> module name, for _safe_value
    out: list[Statement] = []
    added = str(path.parent.resolve())
    sys.path.insert(0, added)
    sys.modules[module.__name__] = module  # dataclasses and pickling look classes up here
    try:
        for node in nodes:
            text = _describe(node)
            reason = ""
            if isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    if isinstance(node, ast.Import):
                        local = alias.asname or alias.name.split(".")[0]
                        modules[local] = alias.name if alias.asname else local
                    else:
                        modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                reason = _run(node, ns, path, swallow=(ImportError,))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                reason = _run(node, ns, path, swallow=(Exception,))
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                if not _assigned(node) & needed:
                    reason = UNUSED
                elif _assigned(node) <= supplied:
                    reason = SUPPLIED
                else:
                    reason = _safe_value(node.value, modules) or _run(node, ns, path,
                                                                      swallow=(Exception,))
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue  # a docstring
            elif isinstance(node, ast.Pass):
                continue
            else:
                reason = "top-level code"
            out.append(Statement(node.lineno, text, not reason, reason))
    finally:
        if added in sys.path:
            sys.path.remove(added)
    return out


def _run(node: ast.stmt, ns: dict[str, Any], path: Path,
         swallow: tuple[type[BaseException], ...]) -> str:
    try:
        code = compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec")
    except SyntaxError as exc:  # found only when compiling: 'global' after use, ...
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    try:
        exec(code, ns)  # noqa: S102 - the user's own definitions (see "Trust model")
    except swallow as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


def _lookup(ns: dict[str, Any], name: str, path: Path, statements: list[Statement]) -> Any:
    parts = name.split(".")
    if len(parts) > 2 or not all(p.isidentifier() for p in parts):
        raise ImplError(f"--impl {path}:{name}: expected NAME or Class.method")
    head = parts[0]
    if head not in ns or head in ("xrange", "raw_input"):
        broken = [s for s in statements if s.text in (f"def {head}", f"class {head}")]
        if broken:
            raise ImplError(f"{path}:{broken[0].line}: defining {head} failed: "
                            f"{broken[0].reason}")
        there = sorted(k for k, v in ns.items() if not k.startswith("__")
                       and k not in ("xrange", "raw_input")
                       and (callable(v) and not isinstance(v, types.ModuleType)))
        listed = ", ".join(there) if there else "none"
        raise ImplError(f"{path}: no function or class named {head!r}; defined there: {listed}")
    obj = ns[head]
    if len(parts) == 2:
        if not isinstance(obj, type):
            raise ImplError(f"{path}: {head} is not a class, so {name} is not a method")
        if not callable(getattr(obj, parts[1], None)):
            methods = sorted(k for k, v in vars(obj).items()
                             if callable(v) and not k.startswith("__"))
            raise ImplError(f"{path}: class {head} has no method {parts[1]!r}; methods: "
                            + (", ".join(methods) or "none"))
        return obj
    if not callable(obj) or isinstance(obj, type):
        raise ImplError(f"{path}: {head} is a {type(obj).__name__}, not a function "
                        "(use Class.method for a method)")
    return obj

