"""A batch of B sequences: every engine run column by column, and a witness of the summed loss.

With the spec key ``batch`` (``--batch B``) the loss is summed over B
independent sequences (columns)::

    L(theta) = sum_b L_b(theta),   L_b = sum_t -log p_t[target_t[b]] of column b from hprev[:, b]

and so dL/dtheta = sum_b dL_b/dtheta: the gradient of a sum is the sum of the
gradients. Each built-in engine (tutorial, reference, numeric) therefore runs
unchanged on each column and :func:`per_column` adds the answers: gradients,
the loss, per-step records and (numeric) error bars, which add as the errors
they bound do. dL/dhprev is (H, B): column b is dL_b/dhprev[:, b]. Clipping, as
the tutorial does it, applies to the summed gradient, so the columns run
unclipped and the sum is clipped once.

Why per column rather than batched arithmetic: the engines stay the single
code the rest of bpttcheck tests (the reference is the lecture's double sum
written once), and a batch cannot hide a bug of theirs behind a new path.

**The witness differentiates the summed loss itself.** Summing per-column
numerical derivatives is exact in exact arithmetic for the methods here (each
is linear in the loss), but it is still a sum of B answers. So the elements
where the numeric engine agrees worst with the analytic engines, and any it
could not certify, are recomputed by the literal complex step
Im L(theta + i eta e) / eta of :func:`bpttcheck.model.forward_batch`: the
summed loss of all B columns at once, a forward pass written apart from the
engines (:func:`confirm`). A disagreement beyond rounding there is a bug in
bpttcheck (SelfCheckError, exit 3), never a verdict.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import numpy as np

from ..errors import SelfCheckError, SpecError
from ..model import Batch, Params, Problem, forward_batch
from ..numdiff import by_name, differentiate
from ..numdiff.methods import COMPLEX_LITERAL
from ..probes import ScalarLoss
from . import numeric
from .base import Gradients, Options

WORST = 8  # worst-agreeing elements per parameter and analytic engine (as bpttcheck.witness)

EngineFn = Callable[[Params, Batch, Options], Gradients]


def _add(total: dict[str, np.ndarray] | None, part: dict[str, np.ndarray] | None
         ) -> dict[str, np.ndarray] | None:
    if total is None or part is None:
        return None
    return {n: total[n] + part[n] for n in total}


def per_column(engine: EngineFn, params: Params, batch: Batch, options: Options) -> Gradients:
    """``engine`` on each column of ``batch``, summed (see the module docstring)."""
    columns = batch.columns()
    unclipped = dataclasses.replace(options, clip=None)
    parts = [engine(params, c, unclipped) for c in columns]
    first = parts[0]
    grads: dict[str, np.ndarray] = {n: np.array(v, dtype=np.float64) for n, v in
                                    first.grads.items()}
    noise, steps = first.noise, first.steps
    for g in parts[1:]:
        grads = {n: grads[n] + g.grads[n] for n in grads}
        noise, steps = _add(noise, g.noise), _add(steps, g.steps)
    dhprev = None
    if all(g.dhprev is not None for g in parts):
        dhprev = np.hstack([np.asarray(g.dhprev).reshape(-1, 1) for g in parts])
    clipped = None
    if options.clip is not None and first.clip is None and first.engine == "tutorial":
        clipped = {n: np.abs(v) > options.clip for n, v in grads.items()}
        grads = {n: np.clip(v, -options.clip, options.clip) for n, v in grads.items()}
    notes = tuple(dict.fromkeys(f"per column: {note}" if len(parts) > 1 else note
                                for g in parts for note in g.notes))
    timing = None
    if first.timing is not None:
        timing = {k: sum((g.timing or {}).get(k, 0.0) for g in parts) for k in first.timing}
        timing["threads"] = first.timing.get("threads", 1.0)
    return dataclasses.replace(first, loss=float(sum(g.loss for g in parts)), grads=grads,
                               dhprev=dhprev, noise=noise, steps=steps, clipped=clipped,
                               clip=options.clip if clipped is not None else first.clip,
                               notes=notes, timing=timing)


def numeric_gradients(params: Params, batch: Batch, options: Options) -> Gradients:
    """The numeric engine: as it is for one sequence, per column and summed for a batch."""
    if batch.width is None:
        return numeric.gradients(params, batch, options)
    return per_column(numeric.gradients, params, batch, options)


def plan_seconds(params: Params, batch: Batch, options: Options) -> numeric.Plan:
    """:func:`numeric.plan` for every column (B times the work of one); SpecError beyond the
    time budget, with the numbers of the whole batch."""
    if batch.width is None:
        return numeric.plan(params, batch, options)
    one = numeric.plan(params, batch.columns()[0], dataclasses.replace(options,
                                                                       time_budget=None))
    work = dataclasses.replace(one, seconds=one.seconds * batch.width,
                               row_steps=one.row_steps * batch.width)
    budget = options.time_budget
    if budget is not None and work.seconds > budget:
        raise SpecError(
            f"numerical differentiation of {work.elements} elements over a batch of "
            f"{batch.width} sequences would take about {work.seconds:.0f} s here (--time-budget "
            f"{budget:g} s): check a sample with --sample K, use a smaller --batch, or raise "
            "--time-budget")
    return work


def summed_loss(params: Params, batch: Batch, base: np.ndarray) -> complex:
    """The summed loss of :func:`forward_batch` on complex parameters, the literal complex step.

    Like the one-sequence literal step (:mod:`.complex_step`), after every step the
    real part of the hidden states is set to the unperturbed pass's ``base``
    (it differs by O(eta^2)), so every copy follows the float64 trajectory the
    engines follow; nothing else is changed.
    """
    X, Y = batch.given()
    Wxh, Whh, Why = params["Wxh"], params["Whh"], params["Why"]
    bh = params["bh"][:, 0] if "bh" in params else 0.0
    by = params["by"][:, 0] if "by" in params else 0.0
    h = batch.hprev.T.astype(np.complex128)  # (B, H)
    total = 0j
    for t in range(X.shape[0]):
        h = np.tanh(Wxh[:, X[t]].T + h @ Whh.T + bh)  # hidden states, all columns
        h = base[t] + 1j * h.imag  # the real part of the unperturbed pass
        y = h @ Why.T + by  # (B, V) logits
        m = y.real.max(axis=-1, keepdims=True)
        lse = np.log(np.exp(y - m).sum(axis=-1)) + m[:, 0]
        total += complex((lse - y[np.arange(y.shape[0]), Y[t]]).sum())  # sum over the batch
    return total


def literal(params: Params, batch: Batch, picks: Mapping[str, np.ndarray], step: float
            ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Values and error bars (flat, NaN elsewhere) of the summed loss's literal complex step."""
    base = forward_batch(params, batch).hs
    loss = ScalarLoss(lambda p: summed_loss(p, batch, base), params, accepts_complex=True)
    todo = {n: np.asarray(i, dtype=np.intp) for n, i in picks.items()}
    result = differentiate(loss, params, COMPLEX_LITERAL, todo, step=step)
    return result.values, result.errors


def confirm(problem: Problem, results: Mapping[str, Gradients], rtol: float, floor: float,
            step: float | None) -> dict[str, Gradients]:
    """``results`` with the batch's numeric answer confirmed on the summed loss (module doc).

    The structured complex step: WORST elements per parameter and analytic engine,
    where it agrees worst with them, must agree with the literal complex step of
    the summed loss within rounding (else SelfCheckError). Finite differences:
    elements beyond both the tolerance and their error bar are replaced by it.
    """
    from ..compare import rel_error
    from . import ANALYTIC

    out = dict(results)
    g = results.get("numeric")
    analytic = [results[e] for e in ANALYTIC if e in results]
    if g is None or g.noise is None or g.method is None or not analytic:
        return out
    method = by_name(g.method)
    params, batch = problem.params, problem.batch
    picks: dict[str, np.ndarray] = {}
    for name, p in params.items():
        flat = np.arange(p.size) if g.covered is None else np.asarray(g.covered[name],
                                                                        dtype=np.intp)
        if len(flat) == 0:
            continue
        n, bar = g.grads[name].reshape(-1)[flat], g.noise[name].reshape(-1)[flat]
        chosen = []
        for a in analytic:
            x = a.grads[name].reshape(-1)[flat]
            clipped = (np.zeros(len(flat), dtype=bool) if a.clipped is None
                       else a.clipped[name].reshape(-1)[flat])
            rel = np.where(clipped, 0.0, rel_error(x, n, floor))
            if method.complex:
                chosen.append(flat[np.argsort(-rel, kind="stable")[:WORST]])
            else:
                chosen.append(flat[(rel > rtol) & (np.abs(np.nan_to_num(x - n)) > bar)])
        picks[name] = np.unique(np.concatenate(chosen))
    count = sum(len(i) for i in picks.values())
    if count == 0:
        return out
    eta = step if (step is not None and method.complex) else COMPLEX_LITERAL.default_step()
    values, errors = literal(params, batch, picks, eta)
    if method.complex:
        _verify(problem, g, picks, values, errors, eta)
        note = (f"the batch of {batch.width}: {count} elements agreeing worst with the analytic "
                "engines recomputed by the literal complex step of the summed loss (all "
                "columns at once) agree within rounding")
        out["numeric"] = dataclasses.replace(g, notes=(*g.notes, note))
        return out
    grads = {k: v.copy() for k, v in g.grads.items()}
    noise = {k: v.copy() for k, v in g.noise.items()}
    for name, idx in picks.items():
        grads[name].reshape(-1)[idx] = values[name][idx]
        noise[name].reshape(-1)[idx] = errors[name][idx]
    note = (f"--method {g.method} could not certify {count} element(s) over the batch; those "
            "were recomputed by the literal complex step of the summed loss before judging")
    out["numeric"] = dataclasses.replace(g, grads=grads, noise=noise, notes=(*g.notes, note))
    return out


def _verify(problem: Problem, g: Gradients, picks: Mapping[str, np.ndarray],
            values: Mapping[str, np.ndarray], errors: Mapping[str, np.ndarray],
            step: float) -> None:
    """SelfCheckError where the summed per-column answer and the literal one differ."""
    params, batch = problem.params, problem.batch
    H, T, B = params["Whh"].shape[0], batch.seq, batch.width or 1
    pre = forward_batch(params, batch).pre
    saturation = 1.0 + 2.0 * float(np.abs(pre).max(initial=0.0))
    assert g.noise is not None
    for name, idx in picks.items():
        s, lit = g.grads[name].reshape(-1)[idx], values[name][idx]
        top = float(np.nanmax(np.abs(g.grads[name]), initial=0.0))
        bar = numeric.agreement_bar(g.noise[name].reshape(-1)[idx], errors[name][idx], lit,
                                    top, H, T, step, saturation, columns=B)
        j = numeric.worst_beyond(s, lit, bar)
        if j is not None:
            where = [int(k) for k in np.unravel_index(int(idx[j]), params[name].shape)]
            raise SelfCheckError(
                f"self-check failed: over the batch of {B}, the columns' summed numeric "
                f"d{name}{where} = {s[j]:.17g}, the literal complex step of the summed loss "
                f"{lit[j]:.17g}, further apart than rounding ({bar[j]:.3g}); this is a bug in "
                "bpttcheck, please report it")
