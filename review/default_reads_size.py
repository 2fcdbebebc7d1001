# -*- coding: utf-8 -*-
"""A min-char-rnn in an odd style of my own."""
from __future__ import annotations

import functools
import numpy as np

hidden_size, vocab_size = 100, 65
Wxh = np.random.randn(hidden_size, vocab_size) * 0.01
Whh = np.random.randn(hidden_size, hidden_size) * 0.01
Why = np.random.randn(vocab_size, hidden_size) * 0.01
bh = np.zeros((hidden_size, 1))
by = np.zeros((vocab_size, 1))
VERBOSE = False


def onehot(i: int, n: int = vocab_size) -> np.ndarray:
    v = np.zeros((n, 1)); v[i] = 1
    return v


@functools.lru_cache(maxsize=None)
def _noop() -> None:
    return None


def lossFun(inputs: list[int], targets: list[int], hprev: np.ndarray):
    softmax = lambda z: (e := np.exp(z - z.max())) / e.sum()
    xs, hs, ps = {}, {-1: hprev.copy()}, {}
    loss = 0.0
    for t, (i, j) in enumerate(zip(inputs, targets)):
        xs[t] = onehot(i)
        hs[t] = np.tanh(Wxh @ xs[t]
                        + Whh @ hs[t - 1]
                        + bh)
        ps[t] = softmax(Why @ hs[t] + by)
        loss -= np.log(ps[t][j, 0])
    if VERBOSE:
        print(f"loss={loss:.3f}")
    grads = {k: np.zeros_like(v) for k, v in
             dict(Wxh=Wxh, Whh=Whh, Why=Why, bh=bh, by=by).items()}
    Δh = np.zeros_like(hprev)

    def back(t, Δh):
        dy = ps[t].copy(); dy[targets[t]] -= 1
        grads["Why"] += dy @ hs[t].T
        grads["by"] += dy
        dh = Why.T @ dy + Δh
        draw = (1 - hs[t] ** 2) * dh
        grads["bh"] += draw
        grads["Wxh"] += draw @ xs[t].T
        grads["Whh"] += draw @ hs[t - 1].T
        return np.dot(
            Whh,
            draw)

    for t in reversed(range(len(inputs))):
        Δh = back(t, Δh)
    return (loss, grads["Wxh"], grads["Whh"], grads["Why"],
            grads["bh"], grads["by"], hs[len(inputs) - 1])
