"""A layer's forward and backward in the child process that runs user code.

The same child as every file target (:mod:`bpttcheck.impl.runner`): spawned
fresh, its output kept out of bpttcheck's, each call under ``--timeout`` and the
run under ``--time-budget``, its memory capped. It loads the pair with
:func:`bpttcheck.layers.check.load_pair` (evaluated, never executed) and answers:

- ``layer-forward``: their forward on the given arrays; the cache stays in the
  child (the last few are kept) and a token is sent in its place;
- ``layer-backward``: their backward on an upstream gradient and a token.

:class:`RemoteLayer` gives the parent two plain callables with the same
arguments and returns (cache -> token), so :func:`bpttcheck.layers.check_layer`
runs unchanged on either.
"""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
import weakref
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from ..errors import ImplError
from ..impl import runner
from ..impl.options import ImplOptions
from ..probes import DirectionProbes, ElementProbes
from .styles import call_forward, recognise

KEEP_CACHES = 4  # caches kept in the child: a gradient call needs only the latest


class RemoteLayer(runner.RemoteCode):
    """A layer pair loaded in a child; ``forward`` and ``backward`` call into it."""

    def __init__(self, target: str, forward: str | None, options: ImplOptions,
                 time_budget: float | None = None, memory: int = runner.MEMORY_LIMIT) -> None:
        # RemoteCode.__init__ loads a loss function; this starts the same child for a layer.
        self.options = options
        self.target = target
        self.time_budget = time_budget
        self.spent = 0.0
        self.calls = 0
        self.activity = "loading it"
        self._out = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the finalizer
            prefix="bpttcheck-user-output-", delete=False)
        ctx = runner._context()
        theirs_r, ours_w = ctx.Pipe(duplex=False)
        ours_r, theirs_w = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=runner.child_main,
                                 args=(theirs_r, theirs_w, self._out.name),
                                 name="bpttcheck-user-code", daemon=True)
        with runner._main_hidden():
            self._proc.start()
        theirs_r.close()
        theirs_w.close()
        self._recv_conn, self._send_conn = ours_r, ours_w
        self._finalizer = weakref.finalize(self, runner._stop, self._proc, self._send_conn,
                                           self._recv_conn, self._out)
        meta = self._request(("layer-init", list(sys.path), os.getcwd(), target, forward,
                              memory), runner.START_TIMEOUT, f"loading {target}")
        self.found = meta is not None
        self.label = meta["label"] if meta else target
        self.style = meta["style"] if meta else ""

    def forward(self, *args: Any) -> Any:
        self.calls += 1
        return self._request(("layer-forward", args), self.options.timeout,
                             f"{self.label}: its forward")

    def backward(self, dh: Any, token: Any) -> Any:
        self.calls += 1
        return self._request(("layer-backward", dh, token), self.options.timeout,
                             f"{self.label}: its backward")

    def batched_loss(self, base: dict[str, np.ndarray], G: np.ndarray,
                     out_layer: dict[str, np.ndarray], accepts_complex: bool
                     ) -> RemoteLayerLoss:
        """L = <G, h> near ``base`` (their arrays), answered in batches by the child."""
        return RemoteLayerLoss(self, base, G, out_layer, accepts_complex)


class RemoteLayerLoss:
    """<G, h(theta)> of a layer in the child, as a :class:`~bpttcheck.probes.BatchedLoss`:
    one round trip per batch of points instead of one per point."""

    returns_change = False

    def __init__(self, layer: RemoteLayer, base: dict[str, np.ndarray], G: np.ndarray,
                 out_layer: dict[str, np.ndarray], accepts_complex: bool) -> None:
        self.layer = layer
        self.dtype = np.dtype(np.float64)
        self.accepts_complex = accepts_complex
        self._base: float = float(layer._request(
            ("layer-base", {n: np.array(v) for n, v in base.items()}, G, out_layer),
            layer.options.timeout, f"{layer.label} at the base point"))
        layer.calls += 1

    @property
    def base(self) -> float:
        return self._base

    def _batch(self, kind: str, probes: ElementProbes | DirectionProbes) -> np.ndarray:
        if probes.is_complex and not self.accepts_complex:
            raise ValueError("this loss does not accept complex steps")
        out: np.ndarray = self.layer._request(
            (kind, probes), self.layer.options.timeout,
            f"a call of {self.layer.label} (numerical differentiation, a batch of "
            f"{len(probes)})")
        return out

    def elements(self, probes: ElementProbes) -> np.ndarray:
        return self._batch("layer-elements", probes)

    def along(self, probes: DirectionProbes) -> np.ndarray:
        return self._batch("layer-along", probes)

    def scale(self, name: str, index: np.ndarray) -> np.ndarray:
        return np.full(len(index), abs(self.base))


def handle(message: tuple[Any, ...], state: dict[str, Any], send: Connection) -> Any:
    """The child's side (called from :func:`bpttcheck.impl.runner._handle`)."""
    from .check import load_pair

    kind = message[0]
    if kind == "layer-init":
        _, path, cwd, target, forward, memory = message
        sys.path[:] = path
        os.chdir(cwd)
        pair = load_pair(target, forward)
        if pair is None:
            return None
        fwd, bwd, label = pair
        style = recognise(fwd, bwd, label)
        state.update(layer=pair, style=style, caches={}, tokens=itertools.count(),
                     memory=memory)
        runner._limit_memory(memory)
        return {"label": label, "style": style.name}
    fwd, bwd, label = state["layer"]
    caches: dict[int, Any] = state["caches"]
    if kind == "layer-forward":
        out = _guard(lambda: fwd(*message[1]), label, "forward")
        if not isinstance(out, tuple) or len(out) < 2:
            return out  # the parent names what it expected
        token = next(state["tokens"])
        caches[token] = out[-1]
        while len(caches) > KEEP_CACHES:
            del caches[next(iter(caches))]
        return (out[0], *([None] * (len(out) - 2)), token)
    if kind == "layer-backward":
        _, dh, token = message
        if token not in caches:
            raise ImplError(f"{label}: the cache of that forward call is gone (bpttcheck "
                            "keeps the latest few)")
        return _guard(lambda: bwd(dh, caches[token]), label, "backward")
    if kind == "layer-base":
        _, base, G, out_layer = message
        state.update(base=base, G=G, out_layer=out_layer)
        return _inner(state, base)
    if kind in ("layer-elements", "layer-along"):
        probes = message[1]
        base = state["base"]
        kind_of = np.complex128 if probes.is_complex else np.float64
        out = np.empty(len(probes), dtype=kind_of)
        for p in range(len(probes)):
            point = {n: v.astype(kind_of, order="C", copy=True) for n, v in base.items()}
            if kind == "layer-elements":
                point[probes.name].reshape(-1)[probes.index[p]] += probes.step[p]
            else:
                for name, v in probes.directions.items():
                    point[name] += probes.step[p] * v[p]
            out[p] = _inner(state, point)
            send.send_bytes(runner.TICK)
        return out
    raise ImplError(f"unknown request {kind!r}")


def _inner(state: dict[str, Any], theirs: dict[str, np.ndarray]) -> Any:
    """<G, h> for their arrays, through their forward (in the child)."""
    fwd, _, label = state["layer"]
    h, _ = _guard(lambda: call_forward(state["style"], fwd, theirs, state["out_layer"], label),
                  label, "forward")
    G = state["G"]
    if h.shape != G.shape:
        raise ImplError(f"{label}: its forward returned {state['style'].state_name} of shape "
                        f"{h.shape}; expected {G.shape}")
    return np.sum(G * h)


def _guard(call: Callable[[], Any], label: str, what: str) -> Any:
    try:
        return call()
    except ImplError:
        raise
    except SystemExit as exc:
        raise ImplError(f"{label}: its {what} called sys.exit({exc.code!r})") from None
    except Exception as exc:  # noqa: BLE001 - the user's code may raise anything
        raise ImplError(f"{label}: its {what} raised {type(exc).__name__}: {exc}") from None


__all__ = ["RemoteLayer", "handle"]
