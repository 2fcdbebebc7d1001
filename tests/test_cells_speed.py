"""The gated cells' literal complex step with shared real parts (branch i11-speed)."""

from __future__ import annotations

import numpy as np
import pytest

from bpttcheck.cells import lstm
from bpttcheck.model import build
from bpttcheck.spec import resolve


@pytest.mark.parametrize("hprev", ["zeros", "random"])
def test_lstm_imaginary_steps_share_real_parts_without_changing_the_answer(hprev: str) -> None:
    """A purely imaginary step takes the real parts from the unperturbed pass; a step with
    a real part (here 1e-300, changing nothing) carries them. Both give the same Im L."""
    problem = build(resolve(overrides={"hidden": 9, "seq": 7, "vocab": 6, "cell": "lstm",
                                       "hprev": hprev, "init_scale": 0.5, "seed": 5}))
    params, batch = problem.params, problem.batch
    fw = lstm.forward(params, batch)
    eta = 1e-20
    for name in ("Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo"):
        flat = np.arange(params[name].size)[::-1]  # not sorted by start step
        re, im = lstm.perturbed_losses(params, fw, batch, name, flat,
                                       np.full(len(flat), 1j * eta))
        re2, im2 = lstm.perturbed_losses(params, fw, batch, name, flat,
                                         np.full(len(flat), 1e-300 + 1j * eta))
        top = np.abs(im2).max()
        assert top > 0
        np.testing.assert_allclose(im / eta, im2 / eta, rtol=0, atol=1e-13 * top / eta)
        np.testing.assert_allclose(re, re2, rtol=1e-13)
