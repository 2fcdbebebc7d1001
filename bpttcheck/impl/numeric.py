"""Numerical differentiation of the user's own loss, through their own function.

The verdict on user code is whether its gradient is the gradient of *its own*
loss, so the loss differentiated here is the one their function returns, not
the spec model's. Their function is wrapped as a
:class:`~bpttcheck.probes.BatchedLoss` (:class:`~bpttcheck.probes.ScalarLoss`:
one call per point, on copies; a child-process proxy plugs in at the same
place) and differentiated by the one differentiator
(:func:`bpttcheck.numdiff.differentiate`) with Richardson extrapolation
(:data:`METHOD`): it needs no complex arithmetic from their code, and it
measures its truncation error for every element. Elements are sampled
(seeded, ``ImplOptions.sample`` per parameter) unless all are asked for.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ..engines.base import Gradients, Options
from ..model import Batch, Params
from ..numdiff import differentiate
from ..numdiff.methods import RICHARDSON
from ..probes import BatchedLoss, ScalarLoss

METHOD = RICHARDSON  # real steps only (user code need not be complex-safe); O(h^4)

LossFn = Callable[[Params, Batch], float]


def gradients(loss: LossFn, params: Params, batch: Batch, options: Options,
              sample: dict[str, np.ndarray] | None,
              batched: BatchedLoss | None = None) -> Gradients:
    """Richardson differences of ``loss`` at the ``sample`` flat indices (None: all).

    ``batched`` replaces the in-process :class:`ScalarLoss` (for example a proxy
    evaluating the function in a child process).
    """
    started = time.perf_counter()
    target = batched if batched is not None else ScalarLoss(lambda p: loss(p, batch), params)
    todo = {n: (np.arange(p.size) if sample is None else np.asarray(sample[n], dtype=np.intp))
            for n, p in params.items()}
    result = differentiate(target, params, METHOD, todo)
    covered = None if sample is None else {n: np.sort(np.asarray(i)) for n, i in sample.items()}
    return Gradients("impl-numeric", target.base,
                     {n: v.reshape(params[n].shape) for n, v in result.values.items()},
                     noise={n: e.reshape(params[n].shape) for n, e in result.errors.items()},
                     covered=covered, notes=result.notes, method=METHOD.name,
                     step=result.step_text,
                     timing={"elapsed_s": time.perf_counter() - started,
                             "threads": float(result.threads),
                             "elements": float(sum(len(i) for i in todo.values()))})
