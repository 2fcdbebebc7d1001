"""Why a batched loss function's gradient is wrong: one sequence at a time, then the batch.

The patterns of :mod:`bpttcheck.diagnose` (no dhnext, a truncated sum, a
transposed dWhh, ...) are stated for one sequence. A batched function
(``--batch B``: inputs (T, B), hprev (H, B)) also runs with B = 1, so each
column b is first given to it alone, as a batch of one:

- if some column alone is already wrong, the bug is not about the batch: the
  one-sequence diagnosis runs on that column's call, and its causes are named
  ("for one sequence (B = 1): ...");
- if every column alone is right but the batch is not, the code mixes the
  columns: a sum over the batch taken before a product (the outer product of
  column sums is not the sum of outer products), a sum over the wrong axis, or
  one column's state carried into another's. That is the cause named
  (``batch-mixing``), with the parameters it affects.

A gradient that is a constant multiple of the truth (the loss averaged over
the batch without ``--impl-loss mean=B``) is the loss's relation, named by the
check itself; no cause is added here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from .compare import norm_rel_error, rel_error
from .diagnose import Cause, diagnose
from .engines import Options
from .engines import reference as reference_engine
from .model import PARAM_NAMES, Batch, Params, batch_of
from .prose import join_names

SCALAR_RTOL = 1e-6  # a gradient this close (norm-wise) to c x the truth is only scaled

Call = Callable[[Params, Batch], Mapping[str, np.ndarray]]


def batch_causes(call: Call, params: Params, batch: Batch, g: Mapping[str, np.ndarray],
                 factor: float, factor_one: float, rtol: float, floor: float) -> list[Cause]:
    """Causes of a batched gradient ``g`` (``call`` returns the user's gradients under our
    names; ``factor`` is the declared loss over the summed loss, ``factor_one`` the same
    for a batch of one)."""
    names = [n for n in PARAM_NAMES if n in params]
    truth = reference_engine.gradients(params, batch, Options()).grads
    flat_g = np.concatenate([np.ravel(g[n]) for n in names])
    flat_t = np.concatenate([np.ravel(truth[n]) for n in names])
    if flat_t.any():
        c = float(flat_g @ flat_t / (flat_t @ flat_t))
        if c != 0 and norm_rel_error(flat_g, c * flat_t) <= SCALAR_RTOL:
            return []  # only scaled: the loss's relation says it
    for b, column in enumerate(batch.columns()):
        alone = call(params, batch_of([column]))
        ref = reference_engine.gradients(params, column, Options()).grads
        scaled = {n: factor_one * ref[n] for n in names}
        if all((rel_error(alone[n], scaled[n], floor) <= rtol).all() for n in names):
            continue
        found = diagnose(alone, scaled, params, column, factor_one)
        return [Cause(c.kind, f"for one sequence alone (column {b} as a batch of one): "
                      f"{c.message}", c.params, c.value, c.steps) for c in found]
    wrong = tuple(n for n in names
                  if not (rel_error(g[n], factor * truth[n], floor) <= rtol).all())
    if not wrong:
        return []
    return [Cause("batch-mixing",
                  f"each sequence alone (B = 1) gets the right gradient, but the batch of "
                  f"{batch.width} does not, in {join_names(list(wrong))}: the code mixes the "
                  "columns of the batch (a sum over the batch taken before a product, a sum "
                  "over the wrong axis, or one column's values used for another)", wrong)]
