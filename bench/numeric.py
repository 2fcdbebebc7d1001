"""Benchmark bpttcheck's numerical gradient against plain alternatives, in one run.

    python bench/numeric.py            # hidden 100 / seq 25, 100 / 200 and 256 / 100 (vocab 65)
    python bench/numeric.py --quick    # the tutorial size only
    python bench/numeric.py --sizes wide --no-torch

On the same machine, model and process tree it times:

- the whole ``bpttcheck numeric`` process (a subprocess: start-up, imports, the
  tutorial engine, the full numeric gradient, the report), complex step (the
  default) and central differences;
- the numeric engine alone, in this process, and the import time of bpttcheck
  (a subprocess that only imports it), printed apart;
- the batched literal complex step (``--method complex-literal``: the complex
  forward pass on P perturbed copies, no hand-derived derivative), the fair
  peer of the structured default;
- a straightforward element-by-element central-difference loop in NumPy,
  written out below (a seeded subset of elements, extrapolated per element);
- ``torch.autograd.gradcheck`` in full (slow) mode when torch is importable
  (``pip install 'bpttcheck[bench]'``), on subsets of two sizes, extrapolated
  from the per-element slope.

It prints the ratios, the engine's achieved GFLOP/s against this machine's
DGEMM rate (measured here, in this run), the peak memory of the bpttcheck
process, and the largest elementwise relative error of complex step against
the analytic engines. Figures depend on what else the machine is doing; run
it on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bpttcheck import checker
from bpttcheck.budget import explain_bytes, explain_seconds, reference_seconds
from bpttcheck.compare import rel_error
from bpttcheck.engines import ENGINES, Gradients, Options
from bpttcheck.engines import numeric as numeric_engine
from bpttcheck.explain import explain
from bpttcheck.model import PARAM_NAMES, Batch, Problem, build
from bpttcheck.prose import plural
from bpttcheck.spec import resolve

TUTORIAL = {"hidden": 100, "seq": 25, "vocab": 65}
LONG = {"hidden": 100, "seq": 200, "vocab": 65}
WIDE = {"hidden": 256, "seq": 100, "vocab": 65}
SIZES = (TUTORIAL, LONG, WIDE)  # the sizes at which estimates are checked (0.5-2x)
LOOP_ELEMENTS = (1500, 100, 150)  # elements timed by the plain loop, per size (extrapolated)
TORCH_ELEMENTS = ((100, 300), (10, 30), (20, 60))  # subset sizes for gradcheck's slope
ESTIMATE_RANGE = (0.5, 2.0)  # an estimate within these times the measured time is kept
TORCH_REPEATS = 3  # best of, per subset: the machine's load makes single timings vary 2-5x
LOOP_STEP = 1e-5  # the loop's central-difference step, as the cs231n gradCheck uses
DGEMM_N = 2000  # square DGEMM used to measure the machine's rate
LAUNCHER = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:]).returncode
wall = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write(f"LAUNCHER {wall} {peak}")
sys.exit(code)
"""


def blas_description() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed (numpy's BLAS uses its default threads)"
    parts = [f"{i.get('internal_api')} {i.get('version')} ({i.get('threading_layer')}, "
             f"{i.get('num_threads')} threads, {i.get('architecture')})"
             for i in threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(parts) or "no BLAS found by threadpoolctl"


def dgemm_rate() -> float:
    """GFLOP/s of a square float64 matrix product with numpy's default threads, best of 3."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((DGEMM_N, DGEMM_N)), rng.standard_normal((DGEMM_N, DGEMM_N))
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(3))
    return 2 * DGEMM_N**3 / best / 1e9


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def plain_loss(Wxh: np.ndarray, Whh: np.ndarray, Why: np.ndarray, bh: np.ndarray,
               by: np.ndarray, batch: Batch) -> float:
    """The tutorial's forward pass, one step at a time, as a user would write it."""
    h = batch.hprev.copy()
    total = 0.0
    for t in range(batch.seq):
        x = np.zeros((Wxh.shape[1], 1))
        x[batch.inputs[t]] = 1
        h = np.tanh(np.dot(Wxh, x) + np.dot(Whh, h) + bh)
        y = np.dot(Why, h) + by
        p = np.exp(y - y.max()) / np.sum(np.exp(y - y.max()))
        total += -np.log(p[batch.targets[t], 0])
    return total


def element_loop(problem: Problem, count: int) -> tuple[float, int]:
    """Seconds per element of a plain central-difference loop over ``count`` random elements."""
    params = {n: p.copy() for n, p in problem.params.items()}
    rng = np.random.default_rng(1)
    sizes = np.array([params[n].size for n in PARAM_NAMES])
    picks = rng.choice(sizes.sum(), size=count, replace=False)
    bounds = np.cumsum(sizes)
    start = time.perf_counter()
    for flat in picks:
        k = int(np.searchsorted(bounds, flat, side="right"))
        name, i = PARAM_NAMES[k], int(flat - (bounds[k] - sizes[k]))
        theta = params[name].reshape(-1)
        old = theta[i]
        theta[i] = old + LOOP_STEP
        up = plain_loss(**params, batch=problem.batch)
        theta[i] = old - LOOP_STEP
        down = plain_loss(**params, batch=problem.batch)
        theta[i] = old
        _ = (up - down) / (2 * LOOP_STEP)
    return (time.perf_counter() - start) / count, count


def torch_gradcheck(problem: Problem, counts: tuple[int, int]) -> tuple[float, str] | None:
    """Seconds per element of torch.autograd.gradcheck (full mode), from two subset sizes."""
    try:
        import torch
    except ImportError:
        return None
    p = {n: torch.tensor(v, dtype=torch.float64) for n, v in problem.params.items()}
    hprev = torch.tensor(problem.batch.hprev, dtype=torch.float64)
    inputs, targets = problem.batch.inputs, problem.batch.targets

    def make(idx: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        def loss(values: torch.Tensor) -> torch.Tensor:
            Whh = p["Whh"].reshape(-1).scatter(0, idx, values).reshape(p["Whh"].shape)
            h, total = hprev, torch.zeros((), dtype=torch.float64)
            for t in range(len(inputs)):
                h = torch.tanh(p["Wxh"][:, inputs[t] : inputs[t] + 1] + Whh @ h + p["bh"])
                y = p["Why"] @ h + p["by"]
                total = total + torch.logsumexp(y[:, 0], 0) - y[targets[t], 0]
            return total
        return loss

    gen = torch.Generator().manual_seed(2)
    times = []
    for n in counts:
        idx = torch.randperm(p["Whh"].numel(), generator=gen)[:n]
        values = p["Whh"].reshape(-1)[idx].clone().requires_grad_(True)
        fn = make(idx)
        times.append(min(_timed(lambda fn=fn, values=values: torch.autograd.gradcheck(
            fn, (values,), eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=False))
            for _ in range(TORCH_REPEATS)))
    per = (times[1] - times[0]) / (counts[1] - counts[0])
    return per, f"torch {torch.__version__}, {torch.get_num_threads()} threads"


def run_process(size: dict[str, int], method: str) -> tuple[float, float, dict[str, Any]]:
    """Wall seconds and peak RSS (MB) of one ``bpttcheck numeric`` process, and its JSON."""
    args = [sys.executable, "-m", "bpttcheck", "numeric", "--hidden", str(size["hidden"]),
            "--seq", str(size["seq"]), "--vocab", str(size["vocab"]), "--method", method,
            "--format", "json"]
    # A small launcher runs the process and reports its peak RSS: Linux counts the pages a
    # child inherits at fork in its ru_maxrss, so forking straight from this (large)
    # benchmark process would report this process's size instead.
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, *args], capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"bpttcheck numeric exited {proc.returncode}: {proc.stderr.decode()}")
    wall, peak_kb = (float(x) for x in proc.stderr.decode().split("LAUNCHER ")[-1].split())
    peak = peak_kb / 1024  # ru_maxrss is in kB on Linux
    out = proc.stdout
    return wall, peak, json.loads(out)


def import_seconds() -> tuple[float, float]:
    """(seconds to start Python and import bpttcheck's CLI, seconds to start Python alone)."""
    def best(code: str) -> float:
        return min(_timed(lambda: subprocess.run([sys.executable, "-c", code], check=True))
                   for _ in range(3))

    bare = best("pass")
    return best("import bpttcheck.cli, bpttcheck.checker") - bare, bare


def estimate(problem: Problem, method: str, seconds: float, cpu: float | None = None) -> str:
    """The engine's own time estimate for ``method``, and its ratio to ``seconds`` measured
    (and to ``cpu`` seconds of CPU time over the threads it plans, when given)."""
    plan = numeric_engine.plan(problem.params, problem.batch, Options(method=method))
    text = f"(estimated {plan.seconds:.2f} s: {verdict(plan.seconds / seconds)}"
    if cpu is not None:
        text += f"; against CPU time / {plan.workers} threads: " + verdict(
            plan.seconds * plan.workers / cpu)
    return text + ")"


def verdict(ratio: float) -> str:
    low, high = ESTIMATE_RANGE
    inside = "within" if low <= ratio <= high else "OUTSIDE"
    return f"{ratio:.2f}x the measured time, {inside} {low:g}-{high:g}x"


def estimates(size: dict[str, int]) -> None:
    """Time ``numeric``, ``compare`` and ``explain`` in process; print estimate / measured.

    numeric: the engine's plan. compare: the plan plus the reference engine's
    double sum (budget.reference_seconds), the two estimates a compare run makes
    before its work, plus the literal verification of the worst-agreeing elements
    (as large as the engine's own sample); the tutorial engine is one walk. explain:
    budget.explain_seconds (the reference double sum, the (t, k) terms of the
    parameter explained and its per-step copies).
    """
    spec = resolve(overrides=size)
    problem = build(spec)
    plan = numeric_engine.plan(problem.params, problem.batch, Options())
    rows = []

    def timed(fn: Callable[[], Any]) -> tuple[float, float]:
        start, cstart = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - start, time.process_time() - cstart

    threads = plan.workers
    took = timed(lambda: ENGINES["numeric"](problem.params, problem.batch, Options()))
    rows.append(("numeric", plan.seconds, took, threads))

    def compare() -> None:
        assert checker.run(spec).passed, "compare disagreed"

    took = timed(compare)
    # The checker verifies the elements agreeing worst with the analytic engines literally,
    # about as many as the engine's own sample: its estimate is counted once more.
    rows.append(("compare", plan.seconds + plan.verify_seconds
                 + reference_seconds(problem.hidden, problem.batch.seq), took, threads))
    # explain keeps T copies of the parameter and of the per-step gradients: at hidden 256,
    # seq 100 that is beyond the default --max-memory (it refuses, saying so), so it runs
    # with the budget the refusal asks for.
    need = explain_bytes(problem.n_params, problem.hidden, problem.vocab, problem.batch.seq,
                         problem.params["Whh"].size) / 2**20
    roomy = resolve(overrides={**size, "max_memory": max(spec.max_memory, 2 * need)})
    took = timed(lambda: explain(roomy, "Whh"))
    rows.append(("explain", explain_seconds(problem.hidden, problem.batch.seq,
                                            problem.params["Whh"].size), took, 1))
    for command, planned, (wall, cpu), used in rows:
        print(f"  estimate, {command:8}: {planned:6.2f} s estimated; measured in process "
              f"{wall:6.2f} s wall: {verdict(planned / wall)}; {cpu:6.2f} s CPU on "
              f"{plural(used, 'thread')} (load-independent): "
              f"{verdict(planned * used / cpu)}")


def engine_flops(problem: Problem, plan: numeric_engine.Plan) -> float:
    """Floating-point operations of the structured engine's matrix products (its scheme)."""
    H = problem.hidden
    return 2.0 * H * (H + 1) * plan.row_steps


def agreement(problem: Problem, g: Gradients) -> dict[str, float]:
    """Largest elementwise relative error of complex step (``g``) vs each analytic engine."""
    out = {}
    for engine in ("tutorial", "reference"):
        a = ENGINES[engine](problem.params, problem.batch, Options())
        out[engine] = max(float(rel_error(a.grads[n], g.grads[n], 1e-4).max())
                          for n in PARAM_NAMES)
        out[engine + "_by_param"] = {n: float(rel_error(a.grads[n], g.grads[n], 1e-4).max())
                                     for n in PARAM_NAMES}  # type: ignore[assignment]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the tutorial size")
    parser.add_argument("--no-torch", action="store_true", help="skip torch gradcheck")
    parser.add_argument("--sizes", default="tutorial,long,wide",
                        help="comma-separated: tutorial (100/25), long (100/200), wide (256/100)")
    args = parser.parse_args()
    named = dict(zip(("tutorial", "long", "wide"), range(3), strict=True))
    chosen = [0] if args.quick else [named[n] for n in args.sizes.split(",")]
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}")
    print(f"BLAS: {blas_description()}")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; "
          f"numeric engine threads: {numeric_engine.default_workers()}; load average "
          f"{os.getloadavg()[0]:.2f}")
    rate = dgemm_rate()
    print(f"DGEMM {DGEMM_N}x{DGEMM_N}: {rate:.1f} GFLOP/s (measured now, both cores)")
    imports, bare = import_seconds()
    print(f"imports: {imports:.2f} s to import bpttcheck (Python start-up alone {bare:.2f} s)")
    for s in chosen:
        size = SIZES[s]
        problem = build(resolve(overrides=size))
        n = problem.n_params
        print(f"\n== hidden {size['hidden']}, seq {size['seq']}, vocab {size['vocab']}: "
              f"{n} parameters (load average {os.getloadavg()[0]:.2f}) ==")
        plan = numeric_engine.plan(problem.params, problem.batch, Options(method="complex"))
        engine = cpu = float("inf")
        for _ in range(3 if s == 0 else 1):
            start, cstart = time.perf_counter(), time.process_time()
            g = ENGINES["numeric"](problem.params, problem.batch, Options(method="complex"))
            engine = min(engine, time.perf_counter() - start)
            cpu = min(cpu, time.process_time() - cstart)
        flops = engine_flops(problem, plan)
        wall, peak, report = run_process(size, "complex")
        assert report["passed"], "complex step disagreed"
        print(f"bpttcheck numeric (complex, whole process): {wall:7.2f} s, peak RSS "
              f"{peak:.0f} MB, exit 0")
        print(f"  numeric engine alone (complex, in process): {engine:7.2f} s wall, {cpu:.2f} s "
              f"CPU, {flops / 1e9:.1f} GFLOP in the products of its scheme -> "
              f"{flops / engine / 1e9:.1f} GFLOP/s "
              f"({100 * flops / engine / 1e9 / rate:.0f}% of measured DGEMM) "
              f"{estimate(problem, 'complex', engine, cpu)}")
        floor = flops / (rate * 1e9)
        print(f"  product floor (GFLOP performed / DGEMM rate measured now): {floor:.3f} s; "
              f"the engine takes {engine / floor:.1f}x the floor")
        agree = agreement(problem, g)
        print(f"  complex step vs tutorial: max rel. error {agree['tutorial']:.1e}; vs reference "
              f"{agree['reference']:.1e}")
        print("    per parameter vs reference: " + ", ".join(
            f"{k} {v:.1e}" for k, v in agree["reference_by_param"].items()))  # type: ignore
        literal = None
        if s == 0:
            literal = lcpu = float("inf")
            for _ in range(2):
                start, cstart = time.perf_counter(), time.process_time()
                ENGINES["numeric"](problem.params, problem.batch,
                                   Options(method="complex-literal"))
                literal = min(literal, time.perf_counter() - start)
                lcpu = min(lcpu, time.process_time() - cstart)
            print(f"  batched literal complex step (complex-literal, engine alone): "
                  f"{literal:7.2f} s wall, {lcpu:.2f} s CPU = {literal / engine:.1f}x the "
                  f"structured engine (which includes its literal verification sample) "
                  f"{estimate(problem, 'complex-literal', literal, lcpu)}")
            cwall, cpeak, creport = run_process(size, "central")
            limited = sum(c["precision_limited"] for c in creport["comparisons"])
            print(f"bpttcheck numeric --method central (whole process): {cwall:7.2f} s, peak "
                  f"RSS {cpeak:.0f} MB, exit 0, {limited} elements limited by precision")
            for method in ("central", "richardson", "difference"):
                t = c = float("inf")
                for _ in range(2):
                    start, cstart = time.perf_counter(), time.process_time()
                    ENGINES["numeric"](problem.params, problem.batch, Options(method=method))
                    t = min(t, time.perf_counter() - start)
                    c = min(c, time.process_time() - cstart)
                print(f"  numeric engine alone ({method}): {t:7.2f} s wall, {c:.2f} s CPU "
                      f"{estimate(problem, method, t, c)}")
        estimates(size)
        per, count = element_loop(problem, LOOP_ELEMENTS[s])
        loop = per * n
        print(f"element-by-element NumPy central-difference loop: {loop:7.1f} s "
              f"(timed {count} random elements, {per * 1e3:.2f} ms each, extrapolated to {n})")
        torch_result = None if args.no_torch else torch_gradcheck(problem, TORCH_ELEMENTS[s])
        if torch_result is None:
            print("torch.autograd.gradcheck: skipped (torch not importable or --no-torch)")
            gradcheck = None
        else:
            tper, tinfo = torch_result
            gradcheck = tper * n
            print(f"torch.autograd.gradcheck, full mode ({tinfo}): {gradcheck:7.1f} s "
                  f"(best of {TORCH_REPEATS}; slope between subsets of {TORCH_ELEMENTS[s][0]} and "
                  f"{TORCH_ELEMENTS[s][1]} Whh elements, {tper * 1e3:.2f} ms each, "
                  f"extrapolated to {n})")
        print(f"ratios: loop / bpttcheck process = {loop / wall:.0f}x, loop / engine = "
              f"{loop / engine:.0f}x", end="")
        if literal is not None:
            print(f", loop / literal engine = {loop / literal:.0f}x", end="")
        if gradcheck is not None:
            print(f"; gradcheck / bpttcheck process = {gradcheck / wall:.0f}x, gradcheck / "
                  f"engine = {gradcheck / engine:.0f}x")
        else:
            print()
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n(peak RSS of this benchmark process, torch included: {self_peak:.0f} MB)")


if __name__ == "__main__":
    main()
