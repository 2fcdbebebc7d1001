"""An oracle nobody here wrote: autograd differentiates the issue's equations, written anew.

The cells below are written from the equations of issue 14 only, with
``autograd.numpy``, sharing no code with :mod:`bpttcheck.cells`; autograd's
reverse mode then gives the gradient, which every engine must match.
"""

from __future__ import annotations

from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from bpttcheck import cells
from bpttcheck.engines.base import Options
from bpttcheck.model import build
from bpttcheck.spec import resolve


def _sigma(a: Any) -> Any:
    return 1.0 / (1.0 + anp.exp(-a))


def _xent(y: Any, target: int) -> Any:
    m = anp.max(y)
    return anp.log(anp.sum(anp.exp(y - m))) + m - y[target]


def lstm_loss(P: dict[str, Any], inputs: Any, targets: Any, h: Any, c: Any, V: int) -> Any:
    total = 0.0
    for x_i, tgt in zip(inputs, targets, strict=True):
        z = anp.concatenate([h, anp.eye(V)[x_i]])
        f = _sigma(anp.dot(P["Wf"], z) + P["bf"][:, 0])
        i = _sigma(anp.dot(P["Wi"], z) + P["bi"][:, 0])
        g = anp.tanh(anp.dot(P["Wc"], z) + P["bc"][:, 0])
        o = _sigma(anp.dot(P["Wo"], z) + P["bo"][:, 0])
        c = f * c + i * g
        h = o * anp.tanh(c)
        total = total + _xent(anp.dot(P["Why"], h) + P["by"][:, 0], tgt)
    return total


def gru_loss(P: dict[str, Any], inputs: Any, targets: Any, h: Any, c: Any, V: int) -> Any:
    total = 0.0
    for x_i, tgt in zip(inputs, targets, strict=True):
        x = anp.eye(V)[x_i]
        z = anp.concatenate([h, x])
        u = _sigma(anp.dot(P["Wz"], z) + P["bz"][:, 0])
        r = _sigma(anp.dot(P["Wr"], z) + P["br"][:, 0])
        n = anp.tanh(anp.dot(P["Wn"], anp.concatenate([r * h, x])) + P["bn"][:, 0])
        h = u * h + (1 - u) * n
        total = total + _xent(anp.dot(P["Why"], h) + P["by"][:, 0], tgt)
    return total


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("seed", [0, 1])
def test_every_engine_matches_autograd(cell: str, seed: int) -> None:
    spec = resolve(overrides={"cell": cell, "hidden": 7, "seq": 9, "vocab": 5, "seed": seed,
                              "init_scale": 0.6, "hprev": "random"})
    problem = build(spec)
    rng = np.random.default_rng(seed + 10)
    params = {n: (rng.standard_normal(p.shape) * 0.4 if n.startswith("b") else p)
              for n, p in problem.params.items()}  # non-zero biases: every term counts
    b = problem.batch
    c0 = b.cprev[:, 0] if b.cprev is not None else None
    loss = lstm_loss if cell == "lstm" else gru_loss
    V = problem.vocab
    want = autograd.grad(loss)(params, list(b.inputs), list(b.targets), b.hprev[:, 0], c0, V)
    value = loss(params, list(b.inputs), list(b.targets), b.hprev[:, 0], c0, V)
    for name, engine in cells.get(cell).engines.items():
        got = engine(params, b, Options())
        assert got.loss == pytest.approx(float(value), rel=1e-12), name
        for p in params:
            scale = np.abs(want[p]).max()
            err = np.abs(got.grads[p] - want[p]).max()
            assert err <= 1e-10 * scale, (name, p, err, scale)
