"""The user's function in a child process: whatever it does, bpttcheck keeps running.

For a file or module target (``--impl PATH.py:NAME``), bpttcheck's own process
never calls user code. :func:`start` launches a fresh Python interpreter (a
spawn: ``subprocess`` execs ``python`` at once, so no multi-threaded process is
ever forked), which loads the target through the same loader
(:mod:`.loader`, evaluated, never executed) and then answers requests over a
pipe:

- ``call``: one call with the given weights and batch, answered with the
  unpacked :class:`~.adapters.Result` (loss, gradients, findings);
- ``base`` then ``elements`` / ``along``: many perturbed losses in one round
  trip (the batched-call protocol of :mod:`bpttcheck.probes`); the child
  applies each perturbation to its own copy of the base weights.

The parent side, :class:`RemoteCode`, has the interface of
:class:`~.adapters.UserCode`, and :class:`RemoteLoss` is a
:class:`~bpttcheck.probes.BatchedLoss`.

What the parent enforces: ``--timeout`` per request (the child is killed; a
swallowed exception cannot stop that), the run's ``--time-budget`` for time
spent in user code, and a memory limit (``RLIMIT_AS``, set in the child after
NumPy is imported). ``sys.exit``, ``os._exit``, a crash or a segfault, an
endless loop and running out of memory all end as one :class:`ImplError`
line (exit 2). The child's stdout and stderr go to a temporary file, never to
bpttcheck's stdout; the report says how many lines the code printed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import pickle
import signal
import sys
import tempfile
import time
import weakref
from collections.abc import Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from ..engines.base import Gradients
from ..errors import ImplError
from ..model import Batch, Params
from ..probes import DirectionProbes, ElementProbes
from . import numeric
from .adapters import ImplOptions, Result, UserCode, prepare

MEMORY_LIMIT = 2 << 30  # bytes of address space the child may add after loading NumPy
START_TIMEOUT = 60.0  # seconds for the child to start and load the target
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
TICK = b"."  # the child's "one more call done" inside a batch


@dataclasses.dataclass(frozen=True)
class LoadInfo:
    """What the child's loader found, as :class:`~.loader.Loaded` shows it to reports."""

    path: Path
    name: str
    python2: bool
    text: str

    def summary(self) -> str:
        return self.text


class RemoteCode:
    """The user's code in a child process, with :class:`~.adapters.UserCode`'s interface."""

    def __init__(self, target: str, options: ImplOptions, sizes: Mapping[str, int],
                 time_budget: float | None = None, memory: int = MEMORY_LIMIT,
                 extra_path: tuple[str, ...] = ()) -> None:
        self.options = options
        self.target = target
        self.time_budget = time_budget
        self.spent = 0.0  # seconds waited for user code
        self.calls = 0
        self.activity = "loading it"
        self._out = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the finalizer
            prefix="bpttcheck-user-output-", delete=False)
        ctx = _context()
        theirs_r, ours_w = ctx.Pipe(duplex=False)
        ours_r, theirs_w = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=child_main, args=(theirs_r, theirs_w, self._out.name),
                                 name="bpttcheck-user-code", daemon=True)
        with _main_hidden():
            self._proc.start()
        theirs_r.close()
        theirs_w.close()
        self._recv_conn, self._send_conn = ours_r, ours_w
        self._finalizer = weakref.finalize(self, _stop, self._proc, self._send_conn,
                                           self._recv_conn, self._out)
        self._sizes, self._memory = dict(sizes), memory
        child_options = dataclasses.replace(options, timeout=0.0)  # the parent times calls
        meta = self._request(("init", [*sys.path, *extra_path], os.getcwd(), target, child_options,
                              dict(sizes), memory), START_TIMEOUT, f"loading {target}")
        self.loaded = LoadInfo(Path(meta["path"]), meta["name"], meta["python2"],
                               meta["summary"])
        self.label, self.form = meta["label"], meta["form"]
        self.names: dict[str, str] = meta["names"]
        self.stateless: bool = meta["stateless"]  # takes no initial state (it is zero)

    # -- the protocol ------------------------------------------------------------
    def _request(self, message: tuple[Any, ...], timeout: float, what: str) -> Any:
        if not self._finalizer.alive:
            raise ImplError(f"{self.target}: the process running your code has stopped")
        limit = timeout if timeout > 0 else None
        budget_left = None
        by_budget = False  # whether the current wait ends at the budget, not at --timeout
        if self.time_budget is not None:
            budget_left = self.time_budget - self.spent
            if budget_left <= 0:
                self._budget_spent()
            by_budget = limit is None or budget_left < limit
            limit = budget_left if by_budget else limit
        self.activity = what
        start = time.monotonic()
        raw = b""
        try:
            self._send_conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
            while True:  # each call of a batch answers TICK: the time limit is per call
                ready = self._recv_conn.poll(limit)
                if not ready:
                    break
                raw = self._recv_conn.recv_bytes()
                if raw != TICK:
                    break
                self.calls += 1
                if budget_left is not None:
                    left = budget_left - (time.monotonic() - start)
                    if left <= 0:
                        ready, by_budget = False, True
                        break
                    by_budget = timeout <= 0 or left < timeout
                    limit = left if by_budget else timeout
        except (EOFError, OSError):
            ready, raw = True, b""
        finally:
            self.spent += time.monotonic() - start
        if not ready:
            self.close()
            if by_budget:
                self._budget_spent()
            raise ImplError(f"--timeout: {what} did not return within {timeout:g} s "
                            "(an endless loop?); stopped it")
        if not raw:
            raise ImplError(self._died(what))
        status, payload = pickle.loads(raw)  # noqa: S301 - our own child's answer
        if status == "error":
            raise ImplError(str(payload))
        return payload

    def _budget_spent(self) -> None:
        self.close()
        budget = self.time_budget or 0.0
        raise ImplError(f"--time-budget: {budget:g} s spent in your code after {self.calls} "
                        f"call{'s' * (self.calls != 1)} of it, during {self.activity}; stopped "
                        "(raise --time-budget, or lower --impl-sample)")

    def _died(self, what: str) -> str:
        self._proc.join(timeout=5)
        code = self._proc.exitcode
        self.close()
        if code is not None and code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
            if -code == signal.SIGKILL:
                how += " (out of memory?)"
        else:
            how = f"exited with code {code} (os._exit or a crash in your code)"
        return f"your code ended its process during {what}: {how}; stopped the check"

    def reload(self, target: str, timeout: float, extra_path: tuple[str, ...] = ()) -> None:
        """Load another target in the same child (the fix search's edited copies), through
        the same loader; ``extra_path`` is searched for its local modules after sys.path."""
        child_options = dataclasses.replace(self.options, timeout=0.0)
        meta = self._request(("init", [*sys.path, *extra_path], os.getcwd(), target,
                              child_options, dict(self._sizes), self._memory), timeout,
                             f"loading {target}")
        self.target = target
        self.loaded = LoadInfo(Path(meta["path"]), meta["name"], meta["python2"],
                               meta["summary"])

    @property
    def alive(self) -> bool:
        """Whether the child still runs (a time-out or a crash ends it)."""
        return bool(self._finalizer.alive)

    # -- UserCode's interface -------------------------------------------------------
    def call(self, params: Params, batch: Batch) -> Result:
        """One call of the user's function in the child."""
        self.calls += 1
        out: Result = self._request(("call", dict(params), batch), self.options.timeout,
                                    f"{self.loaded.name}")
        return out

    def batched(self, params: Params, batch: Batch) -> RemoteLoss:
        """The user's loss around ``params`` as a :class:`~bpttcheck.probes.BatchedLoss`."""
        return RemoteLoss(self, params, batch)

    def printed(self) -> int:
        """Lines the user's code has printed so far (stdout and stderr)."""
        try:
            self._out.flush()
            self._out.seek(0)
            data = self._out.read()
        except (OSError, ValueError):
            return 0
        return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)

    def output_notes(self) -> tuple[str, ...]:
        n = self.printed()
        if not n:
            return ()
        return (f"your code printed {n} line{'s' * (n != 1)} (kept out of bpttcheck's "
                "output)",)

    def close(self) -> None:
        self._finalizer()


def _stop(proc: Any, send: Connection, recv: Connection, out: Any) -> None:
    for conn in (send, recv):
        with contextlib.suppress(OSError):
            conn.close()
    if proc.exitcode is None:
        with contextlib.suppress(OSError, ValueError):
            proc.kill()
    with contextlib.suppress(OSError, ValueError, AssertionError):
        proc.join(timeout=5)
        proc.close()
    with contextlib.suppress(OSError):
        out.close()
    with contextlib.suppress(OSError):
        os.unlink(out.name)


_CONTEXT: Any = None
_MISSING = object()


@contextlib.contextmanager
def _main_hidden() -> Any:
    """Start a process without multiprocessing re-running this program's ``__main__`` in it.

    A spawn or forkserver child normally imports the parent's main script
    first; here that script may be the user's own (calling ``bpttcheck.check``),
    which must not run again. Hiding its ``__spec__`` and ``__file__`` while the
    process starts leaves the child with bpttcheck's modules only.
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved = {k: vars(main).get(k, _MISSING) for k in ("__spec__", "__file__")}
    main.__spec__ = None
    vars(main).pop("__file__", None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is _MISSING:
                vars(main).pop(k, None)
            else:
                vars(main)[k] = v


def _context() -> Any:
    """A forkserver context (macOS and Linux), else spawn: never a fork of this process.

    The fork server is a fresh interpreter started once per bpttcheck process,
    with NumPy and this module preloaded and BLAS limited to one thread, so it
    is single-threaded when it forks a child for each target.
    """
    global _CONTEXT
    if _CONTEXT is None:
        methods = multiprocessing.get_all_start_methods()
        if "forkserver" in methods:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["bpttcheck.impl.runner"])
            # The server is a fresh interpreter: it must import this bpttcheck (not another
            # copy on its default path), and NumPy's BLAS must not start threads in it.
            root = str(Path(__file__).resolve().parents[2])
            saved = {k: os.environ.get(k) for k in (*BLAS_THREADS, "PYTHONPATH")}
            os.environ.update(dict.fromkeys(BLAS_THREADS, "1"))
            os.environ["PYTHONPATH"] = os.pathsep.join(
                [root, *filter(None, [saved["PYTHONPATH"]])])
            try:
                from multiprocessing import forkserver

                forkserver.ensure_running()
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
            _CONTEXT = ctx
        else:
            _CONTEXT = multiprocessing.get_context("spawn")
    return _CONTEXT


class RemoteLoss:
    """The user's loss near one base point, evaluated in the child in batches."""

    returns_change = False
    accepts_complex = False  # their code may use abs, comparisons, float(): not analytic

    def __init__(self, code: RemoteCode, params: Params, batch: Batch) -> None:
        self.code = code
        self.dtype = np.dtype(np.float64)
        self._base: float = code._request(("base", dict(params), batch), code.options.timeout,
                                          f"{code.loaded.name} at the base point")
        code.calls += 1

    @property
    def base(self) -> float:
        return self._base

    def _batch(self, kind: str, probes: ElementProbes | DirectionProbes) -> np.ndarray:
        if probes.is_complex:
            raise ValueError("this loss does not accept complex steps")
        timeout = self.code.options.timeout
        out: np.ndarray = self.code._request(
            (kind, probes), timeout,
            f"a call of {self.code.loaded.name} (numerical differentiation, a batch of "
            f"{len(probes)})")
        return out  # self.code.calls counted each call as it finished

    def elements(self, probes: ElementProbes) -> np.ndarray:
        return self._batch("elements", probes)

    def along(self, probes: DirectionProbes) -> np.ndarray:
        return self._batch("along", probes)

    def scale(self, name: str, index: np.ndarray) -> np.ndarray:
        return np.full(len(index), abs(self.base))


# -- the child -------------------------------------------------------------------------

def child_main(recv: Connection, send: Connection, output: str) -> None:
    """The child's loop: load the target, then answer requests until the pipe closes."""
    fd = os.open(output, os.O_WRONLY | os.O_APPEND)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)  # the user's output never reaches bpttcheck's stdout or stderr
    os.dup2(fd, 2)
    os.close(fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - for the child's lifetime
    _die_with_parent()
    state: dict[str, Any] = {}
    while True:
        try:
            raw = recv.recv_bytes()
        except (EOFError, OSError):
            return
        message = pickle.loads(raw)  # noqa: S301 - from our own parent
        try:
            answer: tuple[str, Any] = ("ok", _handle(message, state, send))
        except ImplError as exc:
            answer = ("error", str(exc))
        except SystemExit as exc:
            answer = ("error", _exit_message(state, exc))
        except MemoryError:
            limit = int(state.get("memory", MEMORY_LIMIT)) >> 20
            answer = ("error", f"{_name(state)} ran out of memory (more than the {limit} MB "
                      "bpttcheck allows it beyond NumPy)")
        except BaseException as exc:  # noqa: BLE001 - the user's code may raise anything
            answer = ("error", _message(state, exc))
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            send.send_bytes(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
        except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
            send.send_bytes(pickle.dumps(("error", f"cannot send the answer back: {exc}")))


def _name(state: dict[str, Any]) -> str:
    code = state.get("code")
    return code.loaded.name if code is not None else "your code"


def _message(state: dict[str, Any], exc: BaseException) -> str:
    code = state.get("code")
    if code is not None:
        return str(code._exception_message(code.loaded.name, exc))
    return f"loading raised {type(exc).__name__}: {exc}"


def _exit_message(state: dict[str, Any], exc: SystemExit) -> str:
    base = _message(state, exc)
    return base.replace(f"raised SystemExit: {exc}", f"called sys.exit({exc.code!r})", 1)


def _handle(message: tuple[Any, ...], state: dict[str, Any], send: Connection) -> Any:
    kind = message[0]
    if kind == "init":
        _, path, cwd, target, options, sizes, memory = message
        sys.path[:] = path
        os.chdir(cwd)
        code = prepare(target, options, sizes)
        state["code"] = code
        state["memory"] = memory
        _limit_memory(memory)
        return {"path": str(code.loaded.path), "name": code.loaded.name,
                "python2": code.loaded.python2, "summary": code.loaded.summary(),
                "label": code.label, "form": code.form, "names": dict(code.names),
                "stateless": code.stateless}
    if kind.startswith("layer-"):  # a layer function's forward/backward pair
        from ..layers.remote import handle

        return handle(message, state, send)
    code = state["code"]
    assert isinstance(code, UserCode)
    if kind == "call":
        _, params, batch = message
        r = code.call(params, batch)
        if type(r.loss) is not float:
            r = dataclasses.replace(r, loss=float(r.loss))
        hlast: Any = np.asarray(r.hlast) if isinstance(r.hlast, np.ndarray) else None
        if isinstance(r.hlast, tuple):  # the LSTM's (hlast, clast)
            hlast = tuple(np.asarray(v) if isinstance(v, np.ndarray) else None for v in r.hlast)
        return dataclasses.replace(r, hlast=hlast)
    if kind == "base":
        _, params, batch = message
        state["base"] = {n: np.array(p, dtype=np.float64) for n, p in params.items()}
        state["batch"] = batch
        return code.call(state["base"], batch).loss
    base, batch = state["base"], state["batch"]
    probes = message[1]
    out = np.empty(len(probes))
    for p in range(len(probes)):
        point = {n: v.copy() for n, v in base.items()}
        if kind == "elements":
            point[probes.name].reshape(-1)[probes.index[p]] += probes.step[p]
        else:
            for name, v in probes.directions.items():
                point[name] += probes.step[p] * v[p]
        out[p] = code.call(point, batch).loss
        send.send_bytes(TICK)
    return out


def _die_with_parent() -> None:
    """Linux: end this child if its parent (the fork server) ends, even inside an endless loop.

    The fork server ends with bpttcheck, so a bpttcheck killed with SIGKILL leaves
    no orphan spinning in the user's code.
    """
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    alive = getattr(server, "_forkserver_alive_fd", None)
    if isinstance(alive, int):  # the server ends when bpttcheck ends, unless we hold this too
        with contextlib.suppress(OSError):
            os.close(alive)
        server._forkserver_alive_fd = None  # type: ignore[union-attr]
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return


def _limit_memory(extra: int) -> None:
    """Cap the child's address space at what it uses now plus ``extra`` bytes (Linux)."""
    try:
        import resource

        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[0])
        now = pages * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = now + extra
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    except (ImportError, OSError, ValueError):
        return  # no /proc (macOS) or no RLIMIT_AS: the time limit still applies


Code = UserCode | RemoteCode  # what the check calls: in-process (the API) or in a child


def start(target: str, options: ImplOptions, sizes: Mapping[str, int],
          time_budget: float | None = None) -> RemoteCode:
    """Start a child for ``target`` and load it there."""
    return RemoteCode(target, options, sizes, time_budget)


def code_for(target: Any, options: ImplOptions, sizes: Mapping[str, int],
             time_budget: float | None = None) -> UserCode | RemoteCode:
    """A callable from the API runs in-process; a file or module target in a child."""
    if callable(target):
        return prepare(target, options, sizes)
    return start(str(target), options, sizes, time_budget)


def own_gradients(code: UserCode | RemoteCode, params: Params, batch: Batch, options: Any,
                  sample: dict[str, np.ndarray] | None) -> Gradients:
    """Numerical differentiation of the user's own loss: batched through a child, or in-process."""
    batched = code.batched(params, batch) if isinstance(code, RemoteCode) else None
    return numeric.gradients(lambda p, b: code.call(p, b).loss, params, batch, options, sample,
                             batched=batched)
