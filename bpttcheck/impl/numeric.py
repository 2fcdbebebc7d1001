"""Numerical differentiation of the user's own loss, through their own function.

The verdict on user code is whether its gradient is the gradient of *its own*
loss, so the loss differentiated here is the one their function returns, not
the spec model's. Each perturbation is a full call of their Python function,
so elements are sampled (seeded, ``ImplOptions.sample`` per parameter) unless
all are asked for.

For element i with step h = STEP * max(1, |theta_i|)::

    g_h  = (L(theta + h e_i) - L(theta - h e_i)) / 2h
    g_2h = the same with 2h
    g    = (4 g_h - g_2h) / 3          Richardson: truncation O(h^4)

and the error bar is |g_h - g_2h| (about 3x g_h's own O(h^2) truncation error,
so generously more than g's) plus NOISE_SAFETY * eps * max|L| / h for rounding.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..engines.base import Gradients, Options
from ..model import Batch, Params

STEP = 1e-5  # near eps^(1/3): balances rounding (eps L / h) against O(h^2) truncation
NOISE_SAFETY = 64.0  # rounding estimate multiplier: a few ulps per operation, T steps
EPS = float(np.finfo(np.float64).eps)

LossFn = Callable[[Params, Batch], float]


def gradients(loss: LossFn, params: Params, batch: Batch, options: Options,
              sample: dict[str, np.ndarray] | None) -> Gradients:
    """Central differences of ``loss`` at the ``sample`` flat indices (None: all)."""
    base = loss(params, batch)
    grads: dict[str, np.ndarray] = {}
    noise: dict[str, np.ndarray] = {}
    work = {n: np.array(p, dtype=np.float64) for n, p in params.items()}
    for name, p in params.items():
        idx = np.arange(p.size) if sample is None else np.asarray(sample[name])
        g = np.full(p.size, np.nan)
        err = np.full(p.size, np.nan)
        flat = work[name].reshape(-1)  # a view: perturbing it perturbs work[name]
        for i in idx:
            theta = float(flat[i])
            h = STEP * max(1.0, abs(theta))
            values = []
            for step in (h, -h, 2 * h, -2 * h):
                flat[i] = theta + step
                try:
                    values.append(loss(work, batch))
                finally:
                    flat[i] = theta
            gh = (values[0] - values[1]) / (2 * h)
            g2h = (values[2] - values[3]) / (4 * h)
            g[i] = (4 * gh - g2h) / 3  # Richardson extrapolation
            top = max(abs(v) for v in (*values, base))
            err[i] = abs(gh - g2h) + NOISE_SAFETY * EPS * top / h
        grads[name] = g.reshape(p.shape)
        noise[name] = err.reshape(p.shape)
    covered = None if sample is None else {n: np.sort(np.asarray(i)) for n, i in sample.items()}
    return Gradients("impl-numeric", base, grads, noise=noise, covered=covered)
