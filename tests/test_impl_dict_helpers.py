"""A loss function that takes its weights as a dict and hands the dict to helpers, which
index it (a course's ``lstm_cell_forward(xt, a_prev, c_prev, parameters)``): the keys are
read from the helpers too, so the dict it gets has the keys they index."""

from __future__ import annotations

import textwrap
from pathlib import Path

from bpttcheck.impl.forms import _string_constants

SOURCE = textwrap.dedent("""\
    def inner(p):
        return p["Wg"] + p["bg"]

    def cell(x, p):
        return inner(p) * p["Wout"]

    def loss(params, inputs, targets, h0):
        return cell(inputs, params) + params["Wy"]
    """)


def test_keys_indexed_by_the_helpers_it_calls_count(tmp_path: Path) -> None:
    ns: dict[str, object] = {}
    exec(compile(SOURCE, str(tmp_path / "m.py"), "exec"), ns)  # noqa: S102 - our own text
    keys = _string_constants(ns["loss"], ns)
    assert {"Wg", "bg", "Wout", "Wy"} <= keys
    assert _string_constants(ns["loss"]) >= {"Wy"}
    assert "Wg" not in _string_constants(ns["loss"])  # without the module: its own only
