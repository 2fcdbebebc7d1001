"""Pieces every gated cell uses: initial weights, the logistic sigmoid (real and complex),
batched products, the softmax loss, one-hot inputs.

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


def init_gated(weights: tuple[str, ...], biases: tuple[str, ...], order: tuple[str, ...],
               hidden: int, vocab: int, scale: float, rng: np.random.Generator
               ) -> dict[str, np.ndarray]:
    """Gate weights (H, H + V) then Why (V, H), each ``scale * randn`` in that order; biases
    and by zero; returned in the cell's parameter ``order``."""
    H, V = hidden, vocab
    params = {name: rng.standard_normal((H, H + V)) * scale for name in weights}
    params.update({name: np.zeros((H, 1)) for name in biases})
    params["Why"] = rng.standard_normal((V, H)) * scale
    params["by"] = np.zeros((V, 1))
    return {name: params[name] for name in order}


def bmv(W: np.ndarray, v: np.ndarray) -> np.ndarray:
    """W[p] @ v[p] for every copy p: (P, A, B) times (P, B) -> (P, A)."""
    out: np.ndarray = (W @ v[:, :, None])[:, :, 0]
    return out


def csigmoid(z: np.ndarray) -> np.ndarray:
    """The sigmoid for complex arguments: 1 / (1 + exp(-z)) as 0.5 (1 + tanh(z / 2)), which
    never overflows."""
    out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * z))
    return out
