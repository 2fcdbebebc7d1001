"""The two ways course assignments write an RNN layer, and how each maps onto ours.

**cs231n** (row-major, a loose tuple of weights)::

    rnn_forward(x, h0, Wx, Wh, b) -> (h, cache)
    rnn_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)
    x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,), h (N, T, H)

so Wx is our Wxh transposed and Wh our Whh transposed (h_t = tanh(x_t Wx + h_{t-1} Wh + b)).

**Coursera** (column-major, a parameters dict)::

    rnn_forward(x, a0, parameters) -> (a, y_pred, caches)
    rnn_backward(da, caches) -> {"dx", "da0", "dWax", "dWaa", "dba"}
    x (n_x, m, T_x), a0 (n_a, m), Wax (n_a, n_x), Waa (n_a, n_a), ba (n_a, 1), a (n_a, m, T_x)

with ``parameters`` also holding the output layer Wya (n_y, n_a), by (n_y, 1),
which the forward pass uses for ``y_pred`` and the layer's gradient does not.

Each of their arrays is one of ours with its axes permuted (``axes``: theirs =
ours.transpose(axes)), and ba is our bh as a column. The style is recognised
from the forward function's parameters (five arrays, or three with a dict).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import ImplError


@dataclasses.dataclass(frozen=True)
class Arg:
    """One of their arrays: its name, our name, and how its axes relate to ours."""

    name: str
    ours: str
    axes: tuple[int, ...]  # theirs = ours.transpose(axes)
    column: bool = False  # theirs is ours[:, None] (a bias column)
    grad: str = ""  # the name of its gradient in their backward's answer

    def to_theirs(self, ours: np.ndarray) -> np.ndarray:
        out = np.transpose(ours, self.axes)
        return out[:, None] if self.column else out

    def to_ours(self, theirs: np.ndarray) -> np.ndarray:
        arr = theirs[:, 0] if self.column else theirs
        return np.transpose(arr, np.argsort(self.axes))

    def our_index(self, index: tuple[int, ...]) -> tuple[int, ...]:
        """Their element ``index`` as our index."""
        idx = index[:-1] if self.column else index
        out = [0] * len(idx)
        for i, axis in enumerate(self.axes):
            out[axis] = idx[i]
        return tuple(out)


@dataclasses.dataclass(frozen=True)
class Style:
    """A layer style: its arguments in call order and the layout of h and G."""

    name: str
    args: tuple[Arg, ...]
    state_axes: tuple[int, ...]  # their h (and dh) = our (N, T, H) h transposed by this
    state_name: str  # what they call the hidden states
    describe: str

    def arg(self, name: str) -> Arg:
        return next(a for a in self.args if a.name == name)

    def to_theirs(self, ours: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {a.name: a.to_theirs(ours[a.ours]) for a in self.args}

    def to_ours(self, theirs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {a.ours: a.to_ours(theirs[a.name]) for a in self.args}

    def states_to_ours(self, h: np.ndarray) -> np.ndarray:
        return np.transpose(h, np.argsort(self.state_axes))

    def states_to_theirs(self, h: np.ndarray) -> np.ndarray:
        return np.transpose(h, self.state_axes)


CS231N = Style(
    "cs231n",
    (Arg("x", "x", (0, 1, 2), grad="dx"), Arg("h0", "h0", (0, 1), grad="dh0"),
     Arg("Wx", "Wxh", (1, 0), grad="dWx"), Arg("Wh", "Whh", (1, 0), grad="dWh"),
     Arg("b", "bh", (0,), grad="db")),
    (0, 1, 2), "h",
    "cs231n style: rnn_forward(x, h0, Wx, Wh, b) -> (h, cache), rnn_backward(dh, cache) -> "
    "(dx, dh0, dWx, dWh, db), row-major (x is (N, T, D), Wx is (D, H))")
COURSERA = Style(
    "coursera",
    (Arg("x", "x", (2, 0, 1), grad="dx"), Arg("a0", "h0", (1, 0), grad="da0"),
     Arg("Wax", "Wxh", (0, 1), grad="dWax"), Arg("Waa", "Whh", (0, 1), grad="dWaa"),
     Arg("ba", "bh", (0,), column=True, grad="dba")),
    (2, 0, 1), "a",
    "Coursera style: rnn_forward(x, a0, parameters) -> (a, y_pred, caches), "
    "rnn_backward(da, caches) -> {dx, da0, dWax, dWaa, dba}, column-major (x is (n_x, m, T_x))")
STYLES = (CS231N, COURSERA)


def recognise(forward: Callable[..., Any], backward: Callable[..., Any], label: str) -> Style:
    """The style of a forward/backward pair, from their parameters (ImplError if neither)."""
    fwd = _positional(forward)
    bwd = _positional(backward)
    if len(bwd) != 2:
        raise ImplError(f"{label}: a layer backward takes (upstream gradient, cache); this one "
                        f"takes {len(bwd)} argument(s) ({', '.join(bwd)})")
    if len(fwd) == 5:
        return CS231N
    if len(fwd) == 3:
        return COURSERA
    raise ImplError(f"{label}: its forward partner takes {len(fwd)} argument(s) "
                    f"({', '.join(fwd)}); expected (x, h0, Wx, Wh, b) as in cs231n or "
                    "(x, a0, parameters) as in Coursera")


def _positional(fn: Callable[..., Any]) -> list[str]:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    return [p.name for p in sig.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]


def call_forward(style: Style, forward: Callable[..., Any], theirs: Mapping[str, np.ndarray],
                 out_layer: Mapping[str, np.ndarray], label: str) -> tuple[np.ndarray, Any]:
    """Their forward on their arrays: (their h, their cache)."""
    if style is CS231N:
        out = forward(theirs["x"], theirs["h0"], theirs["Wx"], theirs["Wh"], theirs["b"])
        want = 2
    else:
        parameters = {"Wax": theirs["Wax"], "Waa": theirs["Waa"], "ba": theirs["ba"],
                      **out_layer}
        out = forward(theirs["x"], theirs["a0"], parameters)
        want = 3
    if not isinstance(out, tuple) or len(out) != want:
        what = "(h, cache)" if style is CS231N else "(a, y_pred, caches)"
        raise ImplError(f"{label}: expected its forward to return {what}, got "
                        f"{_kind(out)}")
    return np.asarray(out[0]), out[-1]


def call_backward(style: Style, backward: Callable[..., Any], dh: np.ndarray, cache: Any,
                  label: str) -> dict[str, np.ndarray]:
    """Their backward: their gradients by their argument names (x, h0, Wx, ...)."""
    out = backward(dh, cache)
    names = [a.grad for a in style.args]
    if style is CS231N:
        if not isinstance(out, tuple | list) or len(out) != len(names):
            raise ImplError(f"{label}: expected (dx, dh0, dWx, dWh, db), got {_kind(out)}")
        values = dict(zip(names, out, strict=True))
    else:
        if not isinstance(out, Mapping):
            raise ImplError(f"{label}: expected a dict with dx, da0, dWax, dWaa, dba, got "
                            f"{_kind(out)}")
        missing = [n for n in names if n not in out]
        if missing:
            raise ImplError(f"{label}: its gradients dict has no {', '.join(missing)} "
                            f"(keys: {', '.join(map(str, out))})")
        values = {n: out[n] for n in names}
    return {a.name: np.asarray(values[a.grad]) for a in style.args}


def _kind(out: Any) -> str:
    if isinstance(out, tuple):
        return f"a tuple of {len(out)}"
    return f"a {type(out).__name__}"
