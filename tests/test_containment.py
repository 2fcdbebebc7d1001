"""User code, contained: adversarial inputs for the loader, the child process, inputs and outputs.

Every case ends in a one-line error (exit 2) or a documented skip, never a
traceback, a hang, a side effect or a wrong exit 0. Side effects are caught by
sentinel files under ``tmp_path`` that must not appear.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

from bpttcheck import spec, tokens
from bpttcheck.errors import ImplError, SpecError
from bpttcheck.files import read_regular
from bpttcheck.impl.adapters import ImplOptions
from bpttcheck.impl.evaluator import Evaluator, Refused
from bpttcheck.impl.loader import load
from bpttcheck.impl.runner import RemoteCode
from bpttcheck.outputs import check_writable, write_atomic

Run = Callable[..., Result]
ROOT = Path(__file__).resolve().parents[1]
TINY = ["--hidden", "3", "--seq", "3", "--vocab", "3", "--seed", "1"]
TEXT = ["--hidden", "3", "--seq", "3"]  # with --data: the vocabulary comes from the text
# The explicit form: a correct gradient of its own loss (zero), so any failure is ours.
LOSS = '''
def lossFun(params, inputs, targets, hprev):
    return 0.0, {k: np.zeros_like(v) for k, v in params.items()}, hprev
'''


def script(tmp_path: Path, body: str, name: str = "user.py") -> Path:
    """A user file: NumPy, ``S`` the sentinel's path, ``body``, and a valid lossFun."""
    path = tmp_path / name
    sentinel = tmp_path / "sentinel"
    path.write_text(f"import numpy as np\nS = {str(sentinel)!r}\n" + textwrap.dedent(body)
                    + LOSS, encoding="utf-8")
    return path


def one_line_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bpttcheck: error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


# -- 1. the loader evaluates, never executes ---------------------------------------------
# Each body would create the sentinel if any of it ran; lossFun reads the value so that
# the statement is needed (and judged), not skipped as unused.

SIDE_EFFECTS = {
    "os.system through numpy": "x = np.lib._datasource.os.system('touch ' + S)",
    "subprocess through numpy": "x = np.f2py.subprocess.call(['touch', S])",
    "ctypes through numpy": "x = np.ctypeslib.ctypes.CDLL(None).system(('touch ' + S).encode())",
    "own round": "def round(v):\n    open(S, 'w').close()\n    return v\nx = round(2.5)",
    "own np": "def np2(v):\n    open(S, 'w').close()\nnp = np2\nx = np.zeros(3)",
    "class_getitem": ("class Config:\n    def __class_getitem__(cls, k):\n"
                      "        open(S, 'w').close()\nx = Config[0]"),
    "open_memmap": "x = np.lib.format.open_memmap(S, mode='w+', shape=(2,))",
    "np.save": "x = np.save(S, np.zeros(2))",
    "default value": "def helper(log=open(S, 'w')):\n    return log\nx = 1",
    "decorator": ("def deco(f):\n    open(S, 'w').close()\n    return f\n"
                  "@deco\ndef g():\n    return 1\nx = 1"),
    "decorator factory": ("def deco(n):\n    open(S, 'w').close()\n    return lambda f: f\n"
                          "@deco(3)\ndef g():\n    return 1\nx = 1"),
    "class body": "class K:\n    z = open(S, 'w')\n    def m(self):\n        return 1\nx = 1",
    "metaclass": ("class M(type):\n    def __new__(m, *a):\n        open(S, 'w').close()\n"
                  "        return super().__new__(m, *a)\nclass K(metaclass=M):\n    pass\nx = 1"),
    "init_subclass": ("class B:\n    def __init_subclass__(cls):\n        open(S, 'w').close()\n"
                      "class C(B):\n    pass\nx = 1"),
    "annotation": "def f(a: open(S, 'w')) -> open(S, 'w'):\n    return a\nx = 1",
    "lambda default": "x = lambda v=open(S, 'w'): v",
    "f-string": "x = f\"{open(S, 'w')}\"",
    "comprehension": "x = [open(S, 'w') for _ in range(1)]",
    "dunder import": "x = __import__('os').system('touch ' + S)",
    "getattr": "x = getattr(np, 'save')(S, np.zeros(2))",
    "exec": "x = exec(\"open(S, 'w')\")",
    "walrus": "x = (y := open(S, 'w'))",
    "top-level code": "with open(S, 'w') as fh:\n    fh.write('ran')\nx = 1",
    "main guard": "if __name__ == '__main__':\n    open(S, 'w').close()\nx = 1",
    "method on a file": "x = open(S, 'w').close()",
    "class inside a list": ("class Evil:\n    def __array__(*a, **k):\n"
                            "        open(S, 'w').close()\n        return np.zeros(1)\n"
                            "    def __float__(*a):\n"
                            "        open(S, 'w').close()\n        return 1.0\n"
                            "x = np.array([Evil]) + np.zeros(3) + [Evil] + max([Evil, 1])"),
}


@pytest.mark.parametrize("body", list(SIDE_EFFECTS.values()), ids=list(SIDE_EFFECTS))
def test_no_load_time_side_effect(tmp_path: Path, body: str) -> None:
    path = script(tmp_path, body + "\ndef uses():\n    return x\n")
    loaded = load(f"{path}:lossFun")
    assert not (tmp_path / "sentinel").exists()
    assert callable(loaded.obj)
    summary = loaded.summary()
    assert "open(S" not in summary.partition("skipped:")[0]  # never listed as done


def test_refusal_names_what_a_call_really_is(tmp_path: Path) -> None:
    path = script(tmp_path, SIDE_EFFECTS["os.system through numpy"] + "\ndef u():\n  return x\n")
    summary = load(f"{path}:lossFun").summary()
    assert "(that is os.system)" in summary and not (tmp_path / "sentinel").exists()


def test_local_modules_go_through_the_loader(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    sentinel = tmp_path / "sentinel"
    touch = f"open({str(sentinel)!r}, 'w').close()\n"
    (tmp_path / "helpers.py").write_text(
        "import numpy as np\n" + touch + "SCALE = 2.0\ndef __getattr__(name):\n    " + touch
        + "def sig(v):\n    return 1 / (1 + np.exp(-v))\n", encoding="utf-8")
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(touch + "from .core import lossFun\n", encoding="utf-8")
    (pkg / "core.py").write_text("import numpy as np\nimport helpers\nfrom . import util\n"
                                 + touch + LOSS + "def g():\n    return helpers.SCALE + util.K\n",
                                 encoding="utf-8")
    (pkg / "util.py").write_text("K = 1\n" + touch, encoding="utf-8")
    main = script(tmp_path, "import helpers\nfrom helpers import sig\nimport mypkg.core\n"
                  "x = helpers.SCALE\ny = helpers.missing\n"
                  "def h():\n    return x + sig(0.0) + mypkg.core.g()\n\ndef k():\n    return y\n")
    loaded = load(f"{main}:lossFun")
    assert loaded.namespace["x"] == 2.0 and "y" not in loaded.namespace
    assert loaded.namespace["h"]() == 2.0 + 0.5 + 3.0
    monkeypatch.syspath_prepend(str(tmp_path))
    assert callable(load("mypkg.core:lossFun").obj)
    assert callable(load("mypkg:lossFun").obj)
    assert not sentinel.exists()
    assert "mypkg" not in sys.modules and "helpers" not in sys.modules


def test_known_decorators_and_super_are_kept(tmp_path: Path) -> None:
    path = script(tmp_path, '''
        import functools
        class Base:
            def __init__(self, hidden_size):
                self.H = hidden_size
        class Net(Base):
            scale = 2.0
            def __init__(self, hidden_size, vocab_size):
                super().__init__(hidden_size)
            @property
            def size(self):
                return self.H * self.scale
            @size.setter
            def size(self, v):
                self.H = v
            @staticmethod
            def one():
                return 1
            @functools.lru_cache(maxsize=None)
            def cached(self, n):
                return n + 1
        ''')
    ns = load(f"{path}:lossFun").namespace
    net = ns["Net"](4, 3)
    assert net.size == 8.0 and ns["Net"].one() == 1 and net.cached(1) == 2
    net.size = 5
    assert net.H == 5


# -- 2. limits: pathological input is a one-line skip ------------------------------------

LIMITS = {
    "sum of a huge range": "steps = sum(range(10**13))",
    "huge power": "steps = 2 ** 10 ** 9",
    "huge builtin pow": "steps = pow(3, 10 ** 9)",
    "huge repetition": "steps = [0] * 10 ** 12",
    "huge string": "steps = 'x' * 10 ** 12",
    "huge shift": "steps = 1 << 10 ** 9",
    "huge array": "steps = np.zeros((10**6, 10**6))",
    "huge arange": "steps = np.arange(1e15)",
    "long expression": "steps = " + "+".join(["1"] * 100_000),
    "deep parentheses": "steps = " + "(" * 300 + "1" + ")" * 300,
    "deep lists": "steps = " + "[" * 150 + "]" * 150,
    "huge comprehension": "steps = [i for i in range(10**7) for j in range(10**7)]",
    "huge shape": "steps = np.ones((3,) * 30)",
}


@pytest.mark.parametrize("body", list(LIMITS.values()), ids=list(LIMITS))
def test_pathological_values_are_skipped_fast(tmp_path: Path, body: str) -> None:
    path = script(tmp_path, body + "\ndef uses():\n    return steps\n")
    start = time.perf_counter()
    loaded = load(f"{path}:lossFun")
    assert time.perf_counter() - start < 5
    assert "steps" not in loaded.namespace
    assert any(s.kind == "skipped" for s in loaded.statements)


def test_evaluator_computes_what_scripts_write(tmp_path: Path) -> None:
    path = script(tmp_path, '''
        import math
        from math import sqrt
        H = 10
        rng = np.random.default_rng(0)
        W = rng.normal(size=(H, 4)) / math.sqrt(H) + sqrt(4)
        chars = sorted(set("hello world"))
        char_to_ix = {ch: i for i, ch in enumerate(chars)}
        half = W[: H // 2, 1:].T.copy()
        f = lambda v: np.tanh(v)
        def uses():
            return W, char_to_ix, half, f
        ''')
    ns = load(f"{path}:lossFun").namespace
    assert ns["W"].shape == (10, 4) and ns["half"].shape == (3, 5)
    assert ns["char_to_ix"]["h"] == 3 and ns["f"](0.0) == 0.0


def test_evaluator_budget_is_per_statement() -> None:
    import ast

    ev = Evaluator({})
    with pytest.raises(Refused, match="operations"):
        ev.value(ast.parse("[i * i for i in range(10**6)]", mode="eval").body)
    assert ev.value(ast.parse("[i * i for i in range(10)]", mode="eval").body)[-1] == 81


# -- 3. special files: refused before any work ---------------------------------------------

@pytest.mark.parametrize("flag", ["--config", "--data", "--impl"])
def test_fifo_is_refused_not_waited_on(run_cli: Run, tmp_path: Path, flag: str) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    arg = f"{fifo}:lossFun" if flag == "--impl" else str(fifo)
    line = one_line_error(run_cli("compare", flag, arg, *(TEXT if flag == "--data" else TINY)))
    assert "FIFO" in line and flag in line


@pytest.mark.parametrize("flag", ["--config", "--data", "--impl"])
def test_device_is_refused(run_cli: Run, flag: str) -> None:
    arg = "/dev/zero:lossFun" if flag == "--impl" else "/dev/zero"
    line = one_line_error(run_cli("compare", flag, arg, *(TEXT if flag == "--data" else TINY)))
    assert "character device" in line and flag in line


def test_byte_cap_is_counted_while_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 1000)
    with pytest.raises(SpecError, match="more than the 999 bytes"):
        read_regular(big, "--data", 999, SpecError)
    assert read_regular(big, "--data", 1000, SpecError) == b"a" * 1000


def test_oversized_data_and_config_are_one_line(run_cli: Run, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "MAX_TEXT_BYTES", 100)
    monkeypatch.setattr(spec, "MAX_CONFIG_BYTES", 10)
    text = tmp_path / "t.txt"
    text.write_text("abc" * 100, encoding="utf-8")
    assert "more than the 100 bytes" in one_line_error(run_cli("compare", "--data", str(text),
                                                               *TEXT))
    conf = tmp_path / "c.toml"
    conf.write_text("hidden = 3\nseq = 3\n", encoding="utf-8")
    assert "more than the 10 bytes" in one_line_error(run_cli("compare", "--config", str(conf)))


def test_deep_toml_is_one_line(run_cli: Run, tmp_path: Path) -> None:
    conf = tmp_path / "deep.toml"
    conf.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    line = one_line_error(run_cli("compare", "--config", str(conf)))
    assert "deep.toml" in line


# -- 4. the user's function in a child process ---------------------------------------------

CHILD = '''
import os, sys, time, ctypes
def exits(params, inputs, targets, hprev):
    sys.exit(0)
def quits(params, inputs, targets, hprev):
    quit()
def hard_exit(params, inputs, targets, hprev):
    os._exit(0)
def segfault(params, inputs, targets, hprev):
    ctypes.string_at(0)
def interrupt(params, inputs, targets, hprev):
    raise KeyboardInterrupt
def swallows(params, inputs, targets, hprev):
    while True:
        try:
            time.sleep(0.01)
        except BaseException:
            pass
def loud(params, inputs, targets, hprev):
    print("a line from lossFun")
    os.write(1, b"straight to fd 1\\n")
    sys.stderr.write("and stderr\\n")
    return lossFun(params, inputs, targets, hprev)
def slow(params, inputs, targets, hprev):
    time.sleep(0.05)
    return lossFun(params, inputs, targets, hprev)
print("printed at import? never: this line is top-level code")
'''

ENDINGS = {
    "exits": "called sys.exit(0)",
    "quits": "called sys.exit(None)",
    "hard_exit": "exited with code 0",
    "segfault": "killed by SIGSEGV",
    "interrupt": "raised KeyboardInterrupt",
    "swallows": "did not return within 1 s",
}


@pytest.mark.parametrize("name", list(ENDINGS))
def test_user_code_cannot_end_or_hang_bpttcheck(run_cli: Run, tmp_path: Path, name: str) -> None:
    path = script(tmp_path, CHILD)
    start = time.perf_counter()
    result = run_cli("compare", "--impl", f"{path}:{name}", "--timeout", "1", "--format", "json",
                     *TINY)
    assert time.perf_counter() - start < 30
    line = one_line_error(result)
    assert ENDINGS[name] in line
    document = json.loads(result.stdout)  # stdout holds exactly one document: the error
    assert document["error"]["exit_code"] == 2 and ENDINGS[name] in document["error"]["message"]
    assert "bpttcheck/" not in line  # the user's lines only


def test_output_of_user_code_never_reaches_stdout(run_cli: Run, tmp_path: Path) -> None:
    path = script(tmp_path, CHILD + "import this\n")
    result = run_cli("compare", "--impl", f"{path}:loud", "--format", "json", *TINY)
    # The helper's loss is a constant (0): never a pass (issue 9), so the report says exit 1.
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)  # exactly one JSON document
    notes = " ".join(report["impl"]["notes"])
    assert "your code printed" in notes
    assert "a line from lossFun" not in result.output


def test_memory_beyond_the_limit_is_one_line(tmp_path: Path) -> None:
    path = script(tmp_path, "def greedy(params, inputs, targets, hprev):\n"
                            "    return np.ones(10**9)\n")
    code = RemoteCode(f"{path}:greedy", ImplOptions(timeout=20.0),
                      {"hidden": 3, "vocab": 3, "seq": 3}, memory=256 << 20)
    from bpttcheck.model import build
    from bpttcheck.spec import Spec

    problem = build(Spec(hidden=3, seq=3, vocab=3))
    with pytest.raises(ImplError, match="MemoryError|out of memory"):
        code.call(problem.params, problem.batch)
    code.close()


def test_time_budget_stops_user_code_and_says_how_far(run_cli: Run, tmp_path: Path) -> None:
    path = script(tmp_path, CHILD)
    result = run_cli("compare", "--impl", f"{path}:slow", "--time-budget", "1", *TINY)
    line = one_line_error(result)
    assert "--time-budget" in line and "call" in line


def test_child_loads_through_the_loader_too(run_cli: Run, tmp_path: Path) -> None:
    path = script(tmp_path, "open(S, 'w').close()\nx = np.lib._datasource.os.system('touch '+S)"
                            "\ndef uses():\n    return x\n")
    result = run_cli("compare", "--impl", f"{path}:lossFun", *TINY)
    assert result.exit_code in (0, 1), result.output
    assert not (tmp_path / "sentinel").exists()


def test_api_callables_still_run_in_process() -> None:
    import bpttcheck

    calls = []

    def lossFun(params, inputs, targets, hprev):  # noqa: N802 - the tutorial's name
        calls.append(os.getpid())
        return helper(params), {k: np.zeros_like(v) for k, v in params.items()}, hprev

    def helper(params):
        return 0.0

    bpttcheck.check(impl=lossFun, hidden=3, seq=3, vocab=3)
    assert calls and set(calls) == {os.getpid()}


# -- 5. outputs: checked early, written whole ----------------------------------------------

@pytest.mark.parametrize("flag", ["--save", "--junit"])
def test_unwritable_output_is_refused_before_work(run_cli: Run, tmp_path: Path,
                                                  flag: str) -> None:
    line = one_line_error(run_cli("compare", flag, str(tmp_path / "no" / "such" / "f"), *TINY))
    assert flag in line and "does not exist" in line


@pytest.mark.parametrize("target", ["/dev/null", "."])
def test_output_onto_a_device_or_folder_is_refused(target: str) -> None:
    with pytest.raises(SpecError, match="--save"):
        check_writable("--save", target)


def test_failed_rewrite_keeps_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "run.npz"
    np.savez(out, a=np.ones(3))
    before = out.read_bytes()

    def broken(fh: object) -> None:
        fh.write(b"PK partial")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    with pytest.raises(SpecError, match="--save .*No space left"):
        write_atomic("--save", out, broken)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"]  # no temporary left


def test_concurrent_writers_leave_one_complete_file(tmp_path: Path) -> None:
    out = tmp_path / "shared.npz"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [subprocess.Popen([sys.executable, "-m", "bpttcheck", "compare", "--hidden", "20",
                              "--seq", "8", "--seed", str(seed), "--save", str(out), "-q"],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE) for seed in (1, 2, 3)]
    for r in runs:
        assert r.wait(timeout=120) == 0, r.stderr.read() if r.stderr else ""
        if r.stderr:
            r.stderr.close()
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
    arrays = np.load(out)
    assert arrays["Whh"].shape == (20, 20)
    assert [p.name for p in tmp_path.iterdir()] == ["shared.npz"]


def test_full_stdout_is_one_line_exit_2() -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "bpttcheck", "compare", *TINY, "--format",
                               "json"], cwd=ROOT, env=env, stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "bpttcheck: error: cannot write the report to stdout (No space left on device)"]


def test_in_process_time_limit_keeps_the_callers_timer() -> None:
    import signal

    import bpttcheck

    if not hasattr(signal, "setitimer"):
        pytest.skip("no interval timers here")

    def lossFun(params, inputs, targets, hprev):  # noqa: N802 - the tutorial's name
        return 0.0, {k: np.zeros_like(v) for k, v in params.items()}, hprev

    previous = signal.signal(signal.SIGALRM, lambda *a: None)
    try:
        signal.setitimer(signal.ITIMER_REAL, 1000.0)
        bpttcheck.check(impl=lossFun, hidden=3, seq=3, vocab=3)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 900 < left <= 1000
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_api_function_calling_helpers_sees_the_weights(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import bpttcheck

    source = (ROOT / "bpttcheck/selftest/corpus/ok_minchar_py2.py").read_text(encoding="utf-8")
    lines = source[source.index("def lossFun"):].splitlines(keepends=True)
    end = next(i for i, line in enumerate(lines[1:], 1) if line[:1] not in (" ", "\n"))
    body = "".join(lines[:end])  # the function alone
    helper = ("import numpy as np\n"
              "def forward_step(x, h):\n"
              "    return np.tanh(np.dot(Wxh, x) + np.dot(Whh, h) + bh)\n")
    # lossFun reads the weights through a helper defined at module level
    (tmp_path / "api_user.py").write_text(
        helper + body.replace("np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t-1]) + bh)",
                              "forward_step(xs[t], hs[t-1])"), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("api_user")
    assert "forward_step(" in (tmp_path / "api_user.py").read_text(encoding="utf-8")
    report = bpttcheck.check(impl=module.lossFun, hidden=5, seq=4, vocab=3)
    assert report.impl is not None and report.impl.loss_match
    assert not hasattr(module, "Wxh")  # the caller's module is untouched


def test_batched_path_matches_the_serial_differentiation(tmp_path: Path) -> None:
    """The child's batched losses, through the one differentiator, give the numbers the
    in-process loop gives."""
    from bpttcheck.engines.base import Options
    from bpttcheck.impl.adapters import prepare
    from bpttcheck.impl.numeric import gradients
    from bpttcheck.model import build
    from bpttcheck.spec import Spec

    target = f"{ROOT / 'bpttcheck/selftest/corpus/ok_minchar_py2.py'}:lossFun"
    problem = build(Spec(hidden=4, seq=3, vocab=3, seed=5, init_scale=0.5))
    sizes = {"hidden": 4, "vocab": 3, "seq": 3}
    here = prepare(target, ImplOptions(), sizes)
    sample = {n: np.arange(min(5, p.size)) for n, p in problem.params.items()}
    expected = gradients(lambda p, b: here.call(p, b).loss, problem.params, problem.batch,
                         Options(), sample)
    remote = RemoteCode(target, ImplOptions(), sizes)
    try:
        child = gradients(lambda p, b: 0.0, problem.params, problem.batch, Options(), sample,
                          batched=remote.batched(problem.params, problem.batch))
    finally:
        remote.close()
    for n in problem.params:
        np.testing.assert_allclose(child.grads[n], expected.grads[n], rtol=1e-12, atol=0,
                                   equal_nan=True)
        assert not np.allclose(child.grads[n].reshape(-1)[sample[n]], 0)  # a real gradient
