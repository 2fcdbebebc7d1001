"""Float32 verdicts of ``--impl``: a correct backward pass and two buggy ones, on five specs.

    python bench/float32_verdicts.py

Writes four variants of one min-char-rnn-style ``lossFun`` to a temporary
directory (the template of ``tests/test_verdicts.py``): correct in float32,
float32 without ``dhnext``, float32 with ``h_t`` for ``h_{t-1}`` in dWhh, and
correct in float64; checks each as ``bpttcheck compare --impl`` would (against
the reference engine only, for speed) and prints the exit code and the
precision detected. A correct float32 pass must exit 0 wherever float32 can
resolve the gradient, and a buggy one must never exit 0.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bpttcheck import checker  # noqa: E402
from bpttcheck.impl import ImplRequest  # noqa: E402
from bpttcheck.spec import Spec  # noqa: E402
from tests.test_verdicts import TEMPLATE  # noqa: E402

SPECS = (
    Spec(hidden=6, seq=5, vocab=4, seed=2, init_scale=0.5, hprev="random"),
    Spec(hidden=8, seq=12, vocab=4, seed=1, init_scale=1.0, hprev="random"),
    Spec(hidden=100, seq=25),
    Spec(hidden=30, seq=100, vocab=10, init_scale=0.3),
    Spec(hidden=50, seq=50, vocab=20, init_scale=1.0),
)
F32 = ("FLOAT = np.float64", "FLOAT = np.float32")
VARIANTS = {
    "correct f32": (F32,),
    "f32, no dhnext": (F32, ("dh = V.T @ dy + carry  # DH", "dh = V.T @ dy")),
    "f32, h_t in dWhh": (F32, ("dW += da @ h[t - 1].T", "dW += da @ h[t].T")),
    "correct f64": (),
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        targets = {}
        for i, (name, edits) in enumerate(VARIANTS.items()):
            text = TEMPLATE
            for old, new in edits:
                text = text.replace(old, new)
            path = Path(tmp) / f"variant{i}.py"
            path.write_text(text, encoding="utf-8")
            targets[name] = f"{path}:lossFun"
        print("spec | " + " | ".join(VARIANTS))
        for spec in SPECS:
            cells = []
            for target in targets.values():
                report = checker.run(spec, ("reference",), impl=ImplRequest(target))
                cells.append(f"exit {int(report.exit_code)} ({report.impl.precision})")
            print(f"H {spec.hidden}, T {spec.seq}, V {spec.vocab}, init {spec.init_scale:g} | "
                  + " | ".join(cells))


if __name__ == "__main__":
    main()
