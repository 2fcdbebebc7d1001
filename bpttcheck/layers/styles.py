"""The ways course assignments and tutorials write an RNN layer, and how each maps onto ours.

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
ours.transpose(axes)), and ba is our bh as a column.

The same two courses write an LSTM layer (:mod:`.lstm_reference` is ours)::

    lstm_forward(x, h0, Wx, Wh, b) -> (h, cache)                       cs231n
    lstm_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)
    Wx (D, 4H), Wh (H, 4H), b (4H,): the gates stacked i, f, o, g in column blocks

    lstm_forward(x, a0, parameters) -> (a, y, c, caches)               Coursera
    lstm_backward(da, caches) -> {dx, da0, dWf, dbf, dWi, dbi, dWc, dbc, dWo, dbo}
    Wf Wi Wc Wo (n_a, n_a + n_x) on [a_prev; x_t], bf ... (n_a, 1); also Wy, by

A cs231n stacked matrix is four of ours at once (:class:`Stacked`): the block of
gate q in Wx is our Wq's x columns transposed, in Wh its h columns transposed.

The **efficient batched LSTM** (a class of static methods; :data:`STACKED_LSTM`)::

    LSTM.forward(X, WLSTM, c0=None, h0=None) -> (Hout, C[T-1], Hout[T-1], cache)
    LSTM.backward(dHout, cache) -> (dX, dWLSTM, dc0, dh0)
    X (T, N, D) time-major, WLSTM (1 + D + H, 4H), IFOG[t] = [1, x_t, h_(t-1)] . WLSTM

is one stacked matrix with a row-block axis as well: its rows are the bias row,
the D x rows and the H h rows (``part`` "bxh"), its columns the gates i, f, o, g.
Row blocks in another order are read from the forward as the gate order is;
without the bias row (:data:`STACKED_LSTM_NO_BIAS`, "xh") our biases are 0. c0
and h0 are passed (ours), so dc0 is checked too.

The style is recognised from the forward function's required parameters (five
arrays, three with a dict, or two: X and the stacked matrix) and the cell from
the pair's names and their class's (``lstm_*``, ``LSTM.backward``); when the
names say neither (``forward``/``backward``), or fit several styles, from a call
of the forward on a tiny input shaped for each: the one it answers with the
right shape.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..errors import ImplError

# cs231n's order of the gates in its stacked matrices (ours: f, i, g, o; g's parameters Wc, bc)
CS231N_GATES = ("i", "f", "o", "g")
# our parameters of each gate: the LSTM's f, i, g, o and the GRU's z, r, n (no letter shared)
_LSTM_WEIGHT = {"f": "Wf", "i": "Wi", "g": "Wc", "o": "Wo", "z": "Wz", "r": "Wr", "n": "Wn"}
_LSTM_BIAS = {"f": "bf", "i": "bi", "g": "bc", "o": "bo", "z": "bz", "r": "br", "n": "bn"}
GRU_GATES = ("z", "r", "n")  # the order of a cs231n-like GRU's stacked blocks
_GATE_OF = {**{w: q for q, w in _LSTM_WEIGHT.items()}, **{b: q for q, b in _LSTM_BIAS.items()}}


@dataclasses.dataclass(frozen=True)
class Place:
    """Where one of their elements is among ours: our parameter, our index, the gate."""

    ours: str
    index: tuple[int, ...]
    gate: str = ""  # "f", "i", "g", "o" for a gated layer's gate parameters


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

    def theirs_from(self, ours: Mapping[str, np.ndarray]) -> np.ndarray:
        return self.to_theirs(ours[self.ours])

    def place(self, index: tuple[int, ...]) -> Place:
        return Place(self.ours, self.our_index(index), _GATE_OF.get(self.ours, ""))

    @property
    def sources(self) -> tuple[str, ...]:
        """Our parameters this array is made of."""
        return (self.ours,)


@dataclasses.dataclass(frozen=True)
class Stacked:
    """A stacked array: the gates' blocks side by side (columns, in ``gates`` order), each
    block made of row blocks (``part``, top to bottom).

    A part is "x" (our Wq's last D columns, transposed: D rows), "h" (its first H
    columns, transposed: H rows) or "b" (our bq: one row). cs231n stacks one part
    per array (Wx "x", Wh "h", and b "b", a vector); the efficient batched LSTM one
    matrix "bxh" of 1 + D + H rows, applied to [1, x_t, h_(t-1)]. The same idea,
    with a row-block axis: every element is one of ours, with its gate.
    """

    name: str
    part: str
    gates: tuple[str, ...] = CS231N_GATES
    grad: str = ""

    def _block(self, q: str, ours: Mapping[str, np.ndarray]) -> np.ndarray:
        if self.part == "b":  # a bias vector of its own (cs231n's b)
            return ours[_LSTM_BIAS[q]]
        W = ours[_LSTM_WEIGHT[q]]
        H = W.shape[0]
        rows = {"b": lambda: ours[_LSTM_BIAS[q]][None, :], "x": lambda: W[:, H:].T,
                "h": lambda: W[:, :H].T}
        return np.concatenate([rows[p]() for p in self.part], axis=0)

    def theirs_from(self, ours: Mapping[str, np.ndarray]) -> np.ndarray:
        blocks = [self._block(q, ours) for q in self.gates]
        return np.concatenate(blocks, axis=-1)

    def row_blocks(self, rows: int, H: int) -> list[tuple[str, slice]]:
        """Each part and its rows in an array of ``rows`` rows (x takes what b and h leave)."""
        size = {"b": 1, "h": H, "x": rows - H * self.part.count("h") - self.part.count("b")}
        out = []
        start = 0
        for p in self.part:
            out.append((p, slice(start, start + size[p])))
            start += size[p]
        return out

    def place_in(self, index: tuple[int, ...], H: int, D: int | None = None) -> Place:
        """Their element ``index`` of an array with blocks of width H (D: the input size,
        needed when a part below the x rows is to be found)."""
        q = self.gates[index[-1] // H]
        j = index[-1] % H
        if self.part == "b":
            return Place(_LSTM_BIAS[q], (j,), q)
        row = index[0]
        for n, p in enumerate(self.part):
            size = 1 if p == "b" else H if p == "h" else D
            if n == len(self.part) - 1 or (size is not None and row < size):
                break  # the last part holds the rows left
            if size is None:
                raise ValueError(f"{self.name}: the input size D is needed to place row {row}")
            row -= size
        if p == "b":
            return Place(_LSTM_BIAS[q], (j,), q)
        return Place(_LSTM_WEIGHT[q], (j, H + row) if p == "x" else (j, row), q)

    def blocks_to_ours(self, theirs: np.ndarray) -> dict[str, np.ndarray]:
        """Their array cut into its parts: "x" (D, nH), "h" (H, nH), "b" (nH,)."""
        if self.part == "b":
            return {"b": theirs}
        H = theirs.shape[-1] // len(self.gates)
        return {p: theirs[rows][0] if p == "b" else theirs[rows]
                for p, rows in self.row_blocks(theirs.shape[0], H)}

    @property
    def biased(self) -> bool:
        """Whether the array holds the biases (a bias vector, or a bias row)."""
        return "b" in self.part

    @property
    def sources(self) -> tuple[str, ...]:
        weights = tuple(_LSTM_WEIGHT[q] for q in self.gates)
        biases = tuple(_LSTM_BIAS[q] for q in self.gates)
        if self.part == "b":
            return biases
        return weights + biases if "b" in self.part else weights


@dataclasses.dataclass(frozen=True)
class Style:
    """A layer style: its arguments in call order and the layout of h and G."""

    name: str
    args: tuple[Arg | Stacked, ...]
    state_axes: tuple[int, ...]  # their h (and dh) = our (N, T, H) h transposed by this
    state_name: str  # what they call the hidden states
    describe: str
    cell: str = "rnn"  # "rnn" (vanilla tanh) or "lstm"
    loose: bool = True  # forward(x, h0, W..., b) (cs231n) or forward(x, a0, parameters)
    returns: tuple[str, ...] = ("h", "cache")  # what their forward returns
    optional: tuple[str, ...] = ()  # arrays whose gradient their backward may leave out
    arity: tuple[int, ...] = ()  # required parameters of their forward (() : all of args)

    @property
    def arities(self) -> tuple[int, ...]:
        """How many required parameters a forward of this style may have."""
        return self.arity or ((len(self.args),) if self.loose else (3,))

    def arg(self, name: str) -> Arg | Stacked:
        return next(a for a in self.args if a.name == name)

    def to_theirs(self, ours: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {a.name: a.theirs_from(ours) for a in self.args}

    def to_ours(self, theirs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        stacked: dict[str, np.ndarray] = {}  # part ("x", "h", "b") -> its rows, every gate
        gates: tuple[str, ...] = CS231N_GATES
        for a in self.args:
            if a.name not in theirs:
                continue
            if isinstance(a, Arg):
                out[a.ours] = a.to_ours(np.asarray(theirs[a.name]))
            else:
                stacked.update(a.blocks_to_ours(np.asarray(theirs[a.name])))
                gates = a.gates
        if stacked:
            H = stacked["h"].shape[0]
            for n, q in enumerate(gates):
                cols = slice(n * H, (n + 1) * H)
                out[_LSTM_WEIGHT[q]] = np.concatenate(
                    [stacked["h"][:, cols].T, stacked["x"][:, cols].T], axis=1)
                if "b" in stacked:
                    out[_LSTM_BIAS[q]] = stacked["b"][cols]
        return out

    def place(self, name: str, index: tuple[int, ...], H: int, D: int | None = None) -> Place:
        """Their element ``name[index]`` among ours (H: the hidden size, D: the input size)."""
        a = self.arg(name)
        return a.place(index) if isinstance(a, Arg) else a.place_in(index, H, D)

    @property
    def biased(self) -> bool:
        """False for a gated style whose stacked arrays hold no biases (ours are then 0)."""
        stacked = [a for a in self.args if isinstance(a, Stacked)]
        return not stacked or any(a.biased for a in stacked)

    @property
    def gate_order(self) -> tuple[str, ...]:
        """The order of the gates in a stacked array (() when none is stacked)."""
        return next((a.gates for a in self.args if isinstance(a, Stacked)), ())

    def with_order(self, order: tuple[str, ...]) -> Style:
        """The same style with the gates stacked in ``order``."""
        args = tuple(dataclasses.replace(a, gates=order) if isinstance(a, Stacked) else a
                     for a in self.args)
        describe = self.describe.replace(f"the gates stacked {', '.join(self.gate_order)}",
                                         f"the gates stacked {', '.join(order)}")
        return dataclasses.replace(self, args=args, describe=describe)

    @property
    def row_order(self) -> str:
        """The row blocks of a stacked matrix of several ("bxh"), else ""."""
        return next((a.part for a in self.args if isinstance(a, Stacked) and len(a.part) > 1),
                    "")

    def with_rows(self, part: str) -> Style:
        """The same style with the stacked matrix's row blocks in the order ``part``."""
        old = self.row_order
        args = tuple(dataclasses.replace(a, part=part) if isinstance(a, Stacked) and a.part == old
                     else a for a in self.args)
        describe = self.describe.replace(rows_text(old), rows_text(part))
        return dataclasses.replace(self, args=args, describe=describe)

    def alternatives(self) -> Iterator[Style]:
        """The same style read another way: the gates stacked in each other order and, for a
        matrix of row blocks, the blocks in each other order (with each gate order)."""
        rows = [self.row_order, *("".join(r) for r in itertools.permutations(self.row_order)
                                  if "".join(r) != self.row_order)]
        for part in rows:
            base = self.with_rows(part) if part != self.row_order else self
            for order in itertools.permutations(self.gate_order):
                if part != self.row_order or order != self.gate_order:
                    yield base.with_order(order)

    def states_to_ours(self, h: np.ndarray) -> np.ndarray:
        return np.transpose(h, np.argsort(self.state_axes))

    def states_to_theirs(self, h: np.ndarray) -> np.ndarray:
        return np.transpose(h, self.state_axes)

    @property
    def names_text(self) -> str:
        """How their arrays are ours, for people: ``Wx = our Wxhᵀ``."""
        out = []
        for a in self.args:
            if isinstance(a, Arg):
                out.append(f"{a.name} = our {a.ours}" + ("ᵀ" if a.axes == (1, 0) else ""))
                if a.axes == (1, 0, 2):  # time-major: (T, N, D)
                    out[-1] += " (time-major)"
            elif len(a.part) > 1:  # row blocks in one matrix
                rows = {"b": "bq", "x": "Wq's x columns, transposed",
                        "h": "Wq's h columns, transposed"}
                blocks = " | ".join(f"{q}: {_LSTM_WEIGHT[q]}"
                                    + (f", {_LSTM_BIAS[q]}" if "b" in a.part else "")
                                    for q in a.gates)
                out.append(f"{a.name} = [{blocks}] (rows: "
                           + "; ".join(rows[p] for p in a.part) + ")")
            else:
                what = {"x": "x columns", "h": "h columns", "b": "biases"}[a.part]
                blocks = " | ".join(f"{q}: {s}" for q, s in zip(a.gates, a.sources, strict=True))
                out.append(f"{a.name} = [{blocks}] ({what}"
                           + (", each transposed)" if a.part != "b" else ")"))
        return ", ".join(out)


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
    "rnn_backward(da, caches) -> {dx, da0, dWax, dWaa, dba}, column-major (x is (n_x, m, T_x))",
    loose=False, returns=("a", "y_pred", "caches"))
CS231N_LSTM = Style(
    "cs231n-lstm",
    (Arg("x", "x", (0, 1, 2), grad="dx"), Arg("h0", "h0", (0, 1), grad="dh0"),
     Stacked("Wx", "x", grad="dWx"), Stacked("Wh", "h", grad="dWh"),
     Stacked("b", "b", grad="db")),
    (0, 1, 2), "h",
    "cs231n style LSTM: lstm_forward(x, h0, Wx, Wh, b) -> (h, cache), lstm_backward(dh, cache) "
    "-> (dx, dh0, dWx, dWh, db), row-major (x is (N, T, D), Wx is (D, 4H)), the gates stacked "
    "i, f, o, g, c0 = 0", cell="lstm")
COURSERA_LSTM = Style(
    "coursera-lstm",
    (Arg("x", "x", (2, 0, 1), grad="dx"), Arg("a0", "h0", (1, 0), grad="da0"),
     *(a for q in ("f", "i", "c", "o") for a in (
         Arg(f"W{q}", f"W{q}", (0, 1), grad=f"dW{q}"),
         Arg(f"b{q}", f"b{q}", (0,), column=True, grad=f"db{q}")))),
    (2, 0, 1), "a",
    "Coursera style LSTM: lstm_forward(x, a0, parameters) -> (a, y, c, caches), "
    "lstm_backward(da, caches) -> {dx, da0, dWf, dbf, dWi, dbi, dWc, dbc, dWo, dbo}, "
    "column-major (x is (n_x, m, T_x), Wf is (n_a, n_a + n_x) on [a_prev; x_t]), c0 = 0",
    cell="lstm", loose=False, returns=("a", "y", "c", "caches"), optional=("a0",))
CS231N_GRU = Style(
    "cs231n-gru",
    (Arg("x", "x", (0, 1, 2), grad="dx"), Arg("h0", "h0", (0, 1), grad="dh0"),
     Stacked("Wx", "x", GRU_GATES, grad="dWx"), Stacked("Wh", "h", GRU_GATES, grad="dWh"),
     Stacked("b", "b", GRU_GATES, grad="db")),
    (0, 1, 2), "h",
    "cs231n-like GRU: gru_forward(x, h0, Wx, Wh, b) -> (h, cache), gru_backward(dh, cache) -> "
    "(dx, dh0, dWx, dWh, db), row-major (x is (N, T, D), Wx is (D, 3H)), the gates stacked "
    "z, r, n (Wh's n block multiplies r * h), h = z * h_prev + (1 - z) * n", cell="gru")
ROW_TEXT = {"b": "1", "x": "x_t", "h": "h_(t-1)"}  # what each row block of a stacked matrix meets
ROW_SIZE = {"b": "1", "x": "D", "h": "H"}


def row_blocks(part: str) -> str:
    """What a stacked matrix's row blocks meet, for people: ``[1, x_t, h_(t-1)]``."""
    return f"[{', '.join(ROW_TEXT[p] for p in part)}]"


def rows_text(part: str) -> str:
    """A stacked matrix of row blocks: ``WLSTM (1 + D + H, 4H) on [1, x_t, h_(t-1)]``."""
    return f"WLSTM ({' + '.join(ROW_SIZE[p] for p in part)}, 4H) on {row_blocks(part)}"


def _stacked_lstm(name: str, part: str, describe: str) -> Style:
    """The efficient batched LSTM: static methods, one stacked matrix of row blocks ``part``."""
    return Style(
        name,
        (Arg("X", "x", (1, 0, 2), grad="dX"), Stacked("WLSTM", part, grad="dWLSTM"),
         Arg("c0", "c0", (0, 1), grad="dc0"), Arg("h0", "h0", (0, 1), grad="dh0")),
        (1, 0, 2), "Hout",
        f"{describe}: LSTM.forward(X, WLSTM, c0, h0) -> (Hout, C[T-1], Hout[T-1], cache), "
        "LSTM.backward(dHout, cache) -> (dX, dWLSTM, dc0, dh0), time-major (X is (T, N, D)), "
        f"one matrix {rows_text(part)}, the gates stacked i, f, o, g",
        cell="lstm", returns=("Hout", "C[T-1]", "Hout[T-1]", "cache"), arity=(2, 4))


STACKED_LSTM = _stacked_lstm("stacked-lstm", "bxh", "efficient batched LSTM style")
STACKED_LSTM_NO_BIAS = _stacked_lstm("stacked-lstm-no-bias", "xh",
                                     "efficient batched LSTM style without a bias row")
STYLES = (CS231N, COURSERA, CS231N_LSTM, COURSERA_LSTM, CS231N_GRU, STACKED_LSTM,
          STACKED_LSTM_NO_BIAS)
CELL_WORDS = {"lstm": "lstm", "gru": "gru", "rnn": "rnn"}  # a word in the names -> the cell


def recognise(forward: Callable[..., Any], backward: Callable[..., Any], label: str) -> Style:
    """The style of a forward/backward pair, from their parameters (ImplError if neither),
    and its cell from their names (and their class's), else from a probing call of the
    forward."""
    fwd = _positional(forward)
    bwd = _positional(backward)
    if len(bwd) != 2:
        raise ImplError(f"{label}: a layer backward takes (upstream gradient, cache); this one "
                        f"takes {len(bwd)} argument(s) ({', '.join(bwd)})")
    candidates = [s for s in STYLES if len(fwd) in s.arities]
    if not candidates:
        raise ImplError(f"{label}: its forward partner takes {len(fwd)} argument(s) "
                        f"({', '.join(fwd)}); expected (x, h0, Wx, Wh, b) as in cs231n, "
                        "(x, a0, parameters) as in Coursera or (X, WLSTM, c0=None, h0=None) "
                        "as in the efficient batched LSTM")
    names = " ".join(_names(f) for f in (forward, backward))
    for word, cell in CELL_WORDS.items():
        if word in names:
            found = [s for s in candidates if s.cell == cell]
            if not found:
                raise ImplError(_no_style(label, cell, fwd))
            return found[0] if len(found) == 1 else _probe(found, forward, label, cell)
    return _probe(candidates, forward, label)


def _no_style(label: str, cell: str, fwd: list[str]) -> str:
    """Why a forward of this many parameters is no layer style of this cell."""
    styles = [s for s in STYLES if s.cell == cell]
    takes = f"this forward takes {len(fwd)} argument(s) ({', '.join(fwd)})"
    if len(styles) == 1:
        return (f"{label}: a {cell.upper()} layer is checked in the cs231n style only "
                f"({cell}_forward(x, h0, Wx, Wh, b)); {takes}")
    known = "; ".join(f"{s.name}: " + " or ".join(map(str, s.arities)) for s in styles)
    return (f"{label}: {takes}, and a {cell.upper()} layer's forward takes, by style, "
            f"{known} required argument(s)")


def _names(fn: Callable[..., Any]) -> str:
    """A function's name and, for a method, its class's (``LSTM.backward``), lower case."""
    qualname = str(getattr(fn, "__qualname__", ""))
    owner = qualname.split(".")[-2] if qualname.count(".") >= 1 else ""
    if owner == "<locals>":
        owner = ""
    return f"{owner} {getattr(fn, '__name__', '')}".lower()


PROBE_SIZES = {"N": 1, "T": 2, "D": 3, "H": 2}  # tiny, and 4H != H, H + D != D


def _probe(candidates: list[Style], forward: Callable[..., Any], label: str,
           cell: str = "") -> Style:
    """The candidate whose tiny input the forward answers with states of the right shape.

    ``cell``: the cell the pair's names say, when it has several styles (the efficient
    batched LSTM's with and without a bias row): a forward that accepts exactly one of
    their inputs but answers it wrongly (a tuple of another length, states of another
    shape) is that style's, and its error is the one said.
    """
    from .check import point_for

    tried = []
    answered: list[str] = []  # the forward ran on this style's input; its answer was wrong
    for style in candidates:
        ours, G, out_layer = point_for(style, PROBE_SIZES, 0)
        try:
            h, _ = call_forward(style, forward, style.to_theirs(ours), out_layer, label)
        except ImplError as exc:  # call_forward's own: the forward ran, returned another thing
            answered.append(str(exc))
            tried.append(f"{style.cell}: {str(exc).removeprefix(f'{label}: ')}")
            continue
        except Exception as exc:  # noqa: BLE001 - the answer is which input it accepts
            tried.append(f"{style.cell}: {type(exc).__name__}")
            continue
        if h.shape == style.states_to_theirs(G).shape:
            return style
        answered.append(f"{label}: its forward returned {style.state_name} of shape "
                        f"{h.shape} for {style.describe.partition(':')[0]}; expected "
                        f"{style.states_to_theirs(G).shape}")
        tried.append(f"{style.cell}: states of shape {h.shape}")
    if cell and len(answered) == 1:
        raise ImplError(answered[0])
    if cell:
        raise ImplError(f"{label}: its forward answers no {cell.upper()} layer style's tiny "
                        f"input ({'; '.join(tried)})")
    raise ImplError(f"{label}: not a vanilla, LSTM or GRU layer (its names say none, and "
                    f"its forward on a tiny input of each gave {'; '.join(tried)}); name the "
                    "pair rnn_*, lstm_* or gru_*")


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
    if style.loose:
        out = forward(*(theirs[a.name] for a in style.args))
    else:
        parameters = {a.name: theirs[a.name] for a in style.args[2:]}
        out = forward(theirs["x"], theirs["a0"], {**parameters, **out_layer})
    want = len(style.returns)
    if not isinstance(out, tuple) or len(out) != want:
        raise ImplError(f"{label}: expected its forward to return ({', '.join(style.returns)}), "
                        f"got {_kind(out)}")
    return np.asarray(out[0]), out[-1]


def call_backward(style: Style, backward: Callable[..., Any], dh: np.ndarray, cache: Any,
                  label: str, extra: set[str] | None = None) -> dict[str, np.ndarray]:
    """Their backward: their gradients by their argument names (x, h0, Wx, ...).

    A dict answer may hold more keys than the style's (``dc_prev``, ``dc0``): they
    are added to ``extra`` when given, and otherwise ignored. It may leave out the
    gradients of ``style.optional`` (Coursera's LSTM ``da0``): those are then not in
    the answer.
    """
    out = backward(dh, cache)
    names = [a.grad for a in style.args]
    if style.loose:
        if not isinstance(out, tuple | list) or len(out) != len(names):
            raise ImplError(f"{label}: expected ({', '.join(names)}), got {_kind(out)}")
        values = dict(zip(names, out, strict=True))
    else:
        if not isinstance(out, Mapping):
            raise ImplError(f"{label}: expected a dict with {', '.join(names)}, got "
                            f"{_kind(out)}")
        left_out = {a.grad for a in style.args if a.name in style.optional} - set(out)
        names = [n for n in names if n not in left_out]
        missing = [n for n in names if n not in out]
        if missing:
            raise ImplError(f"{label}: its gradients dict has no {', '.join(missing)} "
                            f"(keys: {', '.join(map(str, out))})")
        values = {n: out[n] for n in names}
        if extra is not None:
            extra.update(str(k) for k in out if k not in values)
    return {a.name: np.asarray(values[a.grad]) for a in style.args if a.grad in values}


def _kind(out: Any) -> str:
    if isinstance(out, tuple):
        return f"a tuple of {len(out)}"
    return f"a {type(out).__name__}"
