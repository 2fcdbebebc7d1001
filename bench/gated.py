"""Time the gated cells' full check and --directions screen, as whole processes.

    python bench/gated.py            # LSTM and GRU, hidden 100, seq 25, vocab 65
    python bench/gated.py --cell lstm

Each run is one ``python -m bpttcheck compare`` subprocess (start-up, imports,
all three engines, the report), timed by wall clock and by the CPU time of the
child (user + system). The issue's targets: a full numeric check of the LSTM at
hidden 100, seq 25, vocab 65 (about 73k elements) in <= 20 s on a 2-core machine,
and ``--directions`` in <= 2 s. The load average is printed with every figure:
on a shared machine wall time grows with it, CPU time much less.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE = ("--hidden", "100", "--seq", "25", "--vocab", "65")


def timed(args: list[str]) -> tuple[float, float, int]:
    """(wall seconds, child CPU seconds, exit code) of ``python -m bpttcheck ARGS``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bpttcheck", *args], cwd=ROOT,
                          stdout=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", choices=["lstm", "gru"], action="append")
    parser.add_argument("--directions", type=int, default=10)
    cells = parser.parse_args().cell or ["lstm", "gru"]
    k = str(parser.parse_args().directions)
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}")
    for cell in cells:
        for label, extra in (("full check", []), (f"--directions {k}", ["--directions", k])):
            load = os.getloadavg()[0]
            wall, cpu, code = timed(["compare", "--cell", cell, *SIZE, "-q", *extra])
            print(f"{cell:5} {label:16} wall {wall:6.1f} s  cpu {cpu:6.1f} s  exit {code}  "
                  f"(load average {load:.1f} before)")


if __name__ == "__main__":
    main()
