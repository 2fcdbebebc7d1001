"""What running the user's function in a child process costs, at the tutorial size.

    python bench/child_cost.py [ROUNDS]

Runs ``checker.run`` on the default spec (H = 100, T = 25) with
``--impl bpttcheck/selftest/corpus/ok_minchar_py2.py:lossFun``, alternating the
two ways of calling the user's code: in this process (what the Python API
does) and in a child process (what ``--impl`` does). It prints each time and
the ratio of the best times. The first child run includes starting the fork
server. Issue #10 asks for at most 1.5x.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bpttcheck import checker  # noqa: E402
from bpttcheck.impl import (  # noqa: E402
    ImplOptions,
    ImplRequest,
    runner,  # noqa: E402
)
from bpttcheck.impl import check as impl_check  # noqa: E402
from bpttcheck.impl.adapters import prepare  # noqa: E402
from bpttcheck.spec import resolve  # noqa: E402

TARGET = str(ROOT / "bpttcheck/selftest/corpus/ok_minchar_py2.py") + ":lossFun"


def in_process(target: Any, options: ImplOptions, sizes: Any, budget: Any = None) -> Any:
    return prepare(target, options, sizes)


def once(mode: str) -> float:
    chosen = in_process if mode == "in-process" else runner.code_for
    impl_check.code_for = chosen  # type: ignore[assignment]
    start = time.perf_counter()
    report = checker.run(resolve(), impl=ImplRequest(TARGET, ImplOptions()))
    if report.exit_code != 0:
        raise SystemExit(f"{mode}: the check did not pass (exit {int(report.exit_code)})")
    return time.perf_counter() - start


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    times: dict[str, list[float]] = {"in-process": [], "child": []}
    for _ in range(rounds):
        for mode in times:
            times[mode].append(once(mode))
    for mode, values in times.items():
        listed = " ".join(f"{v:.2f}" for v in values)
        print(f"{mode:>10}: {listed}  best {min(values):.2f} s")
    ratio = min(times["child"]) / min(times["in-process"])
    print(f"child / in-process (best of {rounds}): {ratio:.2f}x")


if __name__ == "__main__":
    main()
