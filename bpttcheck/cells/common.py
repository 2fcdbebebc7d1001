"""Pieces every gated cell uses: the logistic sigmoid, the softmax loss, one-hot inputs.

Kept apart from the cells so that the LSTM and the GRU read like their equations.
"""

from __future__ import annotations

import numpy as np

from ..model import logsumexp


def sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-a)), written so that exp never overflows (e = exp(-|a|) <= 1)."""
    e = np.exp(-np.abs(a))
    out: np.ndarray = np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out


def softmax_losses(ys: np.ndarray, targets: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(ps, losses) for logits ys (T, V): the shifted softmax and -log p_t[target_t]."""
    T = ys.shape[0]
    lse = logsumexp(ys)
    ps = np.exp(ys - lse[:, None])
    losses = lse - ys[np.arange(T), list(targets)]
    return ps, losses


def one_hot(inputs: tuple[int, ...], vocab: int) -> np.ndarray:
    """(T, V): row t is x_t."""
    xs = np.zeros((len(inputs), vocab))
    xs[np.arange(len(inputs)), list(inputs)] = 1.0
    return xs
