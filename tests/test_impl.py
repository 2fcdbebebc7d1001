"""Checking the user's own code: loading scripts safely, the three forms, hygiene, errors."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

from bpttcheck import checker, selftest
from bpttcheck.engines import reference
from bpttcheck.engines.base import Options
from bpttcheck.errors import ImplError
from bpttcheck.impl import ImplOptions, ImplRequest, parse_names, parse_order
from bpttcheck.impl.adapters import prepare
from bpttcheck.impl.loader import load
from bpttcheck.impl.numeric import gradients as impl_numeric
from bpttcheck.model import PARAM_NAMES, build
from bpttcheck.spec import Spec

Run = Callable[..., Result]
TINY = ["--hidden", "6", "--seq", "5", "--vocab", "4", "--seed", "2", "--init-scale", "0.5",
        "--hprev", "random"]
TINY_SPEC = Spec(hidden=6, seq=5, vocab=4, seed=2, init_scale=0.5, hprev="random")
CORPUS = selftest.corpus_dir()

# A Python 2 script in the style of the original min-char-rnn gist: print
# statements, xrange, reads input.txt (absent) and trains forever at top level,
# with the tutorial's clipping to [-5, 5] (which the default spec never reaches).
PY2_SCRIPT = '''"""
Minimal character-level RNN, Python 2.
"""
import numpy as np

data = open('input.txt', 'r').read()
chars = list(set(data))
data_size, vocab_size = len(data), len(chars)
print 'data has %d characters, %d unique.' % (data_size, vocab_size)
char_to_ix = { ch:i for i,ch in enumerate(chars) }
hidden_size = 100
seq_length = 25
learning_rate = 1e-1
Wxh = np.random.randn(hidden_size, vocab_size)*0.01
Whh = np.random.randn(hidden_size, hidden_size)*0.01
Why = np.random.randn(vocab_size, hidden_size)*0.01
bh = np.zeros((hidden_size, 1))
by = np.zeros((vocab_size, 1))

def lossFun(inputs, targets, hprev):
  xs, hs, ys, ps = {}, {}, {}, {}
  hs[-1] = np.copy(hprev)
  loss = 0
  for t in xrange(len(inputs)):
    xs[t] = np.zeros((vocab_size,1))
    xs[t][inputs[t]] = 1
    hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t-1]) + bh)
    ys[t] = np.dot(Why, hs[t]) + by
    ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
    loss += -np.log(ps[t][targets[t],0])
  dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
  dbh, dby = np.zeros_like(bh), np.zeros_like(by)
  dhnext = np.zeros_like(hs[0])
  for t in reversed(xrange(len(inputs))):
    dy = np.copy(ps[t])
    dy[targets[t]] -= 1
    dWhy += np.dot(dy, hs[t].T)
    dby += dy
    dh = np.dot(Why.T, dy) + dhnext
    dhraw = (1 - hs[t] * hs[t]) * dh
    dbh += dhraw
    dWxh += np.dot(dhraw, xs[t].T)
    dWhh += np.dot(dhraw, hs[t-1].T)
    dhnext = np.dot(Whh.T, dhraw)
  for dparam in [dWxh, dWhh, dWhy, dbh, dby]:
    np.clip(dparam, -5, 5, out=dparam)
  return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs)-1]

n, p = 0, 0
while True:
  if p+seq_length+1 >= len(data) or n == 0:
    hprev = np.zeros((hidden_size,1))
    p = 0
  inputs = [char_to_ix[ch] for ch in data[p:p+seq_length]]
  targets = [char_to_ix[ch] for ch in data[p+1:p+seq_length+1]]
  loss, dWxh, dWhh, dWhy, dbh, dby, hprev = lossFun(inputs, targets, hprev)
  if n % 100 == 0: print 'iter %d, loss: %f' % (n, loss)
  p += seq_length
  n += 1
'''


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- Done when: a new user's scripts, unedited -----------------------------------------------

def test_python2_min_char_rnn_script_is_checked_in_seconds(run_cli: Run, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    script = write(tmp_path, "min-char-rnn.py", PY2_SCRIPT)
    monkeypatch.chdir(tmp_path)  # input.txt would be looked up here: it does not exist
    start = time.perf_counter()
    result = run_cli("compare", "--impl", f"{script}:lossFun", "--seq", "10", "--hidden", "30")
    elapsed = time.perf_counter() - start
    assert result.exit_code == 0, result.output
    assert elapsed < 30
    out = " ".join(result.stdout.split())
    assert "Yes: its loss and its gradient are those of the model's summed loss, at both" in out
    assert "Python 2" in out
    assert "line 6 data = open('input.txt'" in out  # what was not executed, by line
    assert "while True" in out and "def lossFun" in out
    assert script.read_text(encoding="utf-8") == PY2_SCRIPT  # no edit to the file
    assert not (tmp_path / "input.txt").exists()


def test_python2_script_with_a_bug_is_caught_and_located(run_cli: Run, tmp_path: Path) -> None:
    buggy = PY2_SCRIPT.replace("dh = np.dot(Why.T, dy) + dhnext", "dh = np.dot(Why.T, dy)")
    script = write(tmp_path, "min-char-rnn.py", buggy)
    result = run_cli("compare", "--impl", f"{script}:lossFun", *TINY)
    assert result.exit_code == 1, result.output
    out = " ".join(result.stdout.split())
    assert "Likely cause: dhnext is missing" in out
    assert "loss steps t = 1..4" in out  # step 0 has nothing to carry back


@pytest.mark.parametrize("target", ["ok_class.py:CharRNN.loss_and_grads", "ok_uvw.py:bptt"])
def test_class_based_and_uvw_copies_pass(run_cli: Run, target: str) -> None:
    result = run_cli("compare", "--impl", f"{CORPUS / target}", *TINY)
    assert result.exit_code == 0, result.output
    assert "Yes: its loss and its gradient are those of the model's summed loss" in " ".join(
        result.stdout.split())


@pytest.mark.parametrize("target", ["bug_no_tanh.py:RNN.backward",
                                    "bug_truncated.py:RNNNumpy.loss_and_bptt"])
def test_class_based_bugs_exit_1(run_cli: Run, target: str) -> None:
    result = run_cli("numeric", "--impl", f"{CORPUS / target}", *TINY)
    assert result.exit_code == 1, result.output


# -- the numbers ---------------------------------------------------------------------------

def test_impl_numeric_differentiates_their_loss() -> None:
    """Central differences through their function agree with the reference BPTT."""
    problem = build(TINY_SPEC)
    code = prepare(f"{CORPUS / 'ok_vectorised.py'}:loss_and_gradients", ImplOptions(),
                   {"hidden": 6, "vocab": 4, "seq": 5})
    own = impl_numeric(lambda p, b: code.call(p, b).loss, problem.params, problem.batch,
                       Options(), None)
    ref = reference.gradients(problem.params, problem.batch, Options())
    for n in PARAM_NAMES:
        scale = np.abs(ref.grads[n]).max()
        assert np.abs(own.grads[n] - ref.grads[n]).max() <= 1e-8 * scale
        assert (np.abs(own.grads[n] - ref.grads[n]) <= own.noise[n] + 1e-12 * scale).all()
    assert own.loss == pytest.approx(ref.loss, rel=1e-12)


def test_explicit_form_result_matches_reference() -> None:
    problem = build(TINY_SPEC)
    code = prepare(f"{CORPUS / 'ok_double_loop.py'}:Model.gradient",
                   ImplOptions(factory="make_model"), {"hidden": 6, "vocab": 4, "seq": 5})
    got = code.call(problem.params, problem.batch)
    ref = reference.gradients(problem.params, problem.batch, Options())
    for n in PARAM_NAMES:
        np.testing.assert_allclose(got.grads[n], ref.grads[n], rtol=1e-10, atol=1e-13)


def test_mean_loss_is_reported_with_the_difference(tmp_path: Path) -> None:
    report = checker.run(TINY_SPEC, ("reference",), impl=ImplRequest(
        f"{CORPUS / 'bug_mean_loss.py'}:lossFun"))
    impl = report.impl
    assert not impl.loss_match
    assert impl.loss == pytest.approx(impl.spec_loss / TINY_SPEC.seq, rel=1e-12)
    text = " ".join(report.verdict())
    # Issue 9: its gradient is the model's, its loss is not; the report says exactly that.
    assert "No: the loss it returns is not the model's summed loss." in text
    assert "your gradient is the summed loss's; the loss you return is its mean" in text
    assert report.exit_code == 1
    assert impl.relation.kind == "mean-T"
    # The gradient is judged against the model's (it agrees) and against its own loss's.
    pairs = {(c.a, c.b): c.passed for c in report.comparisons if "impl" in c.a}
    assert pairs == {("impl", "reference"): True, ("impl", "impl-numeric"): False}


def test_json_report_carries_the_impl_block(run_cli: Run) -> None:
    result = run_cli("compare", "--impl", f"{CORPUS / 'bug_sign.py'}:loss_grad", "--json", *TINY)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["impl"]["form"] == "explicit"
    assert data["impl"]["causes"][0]["kind"] == "sign"
    assert data["impl"]["loss_match"] is True
    assert data["passed"] is False


# -- forms and options ---------------------------------------------------------------------

CUSTOM = '''import numpy as np
EPS = 1e-300
def grad(inputs, targets, hprev):
    T = len(inputs)
    hs, ps, loss = {-1: hprev}, {}, 0.0
    for t in range(T):
        hs[t] = np.tanh(A[:, [inputs[t]]] + B @ hs[t - 1] + b1)
        y = C @ hs[t] + b2
        ps[t] = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
        loss -= np.log(ps[t][targets[t], 0] + EPS)
    dA, dB, dC, d1, d2 = (np.zeros_like(w) for w in (A, B, C, b1, b2))
    nxt = np.zeros_like(hprev)
    for t in reversed(range(T)):
        dy = ps[t].copy(); dy[targets[t]] -= 1
        dC += dy @ hs[t].T; d2 += dy
        r = (1 - hs[t] ** 2) * (C.T @ dy + nxt)
        d1 += r; dA[:, [inputs[t]]] += r; dB += r @ hs[t - 1].T
        nxt = B.T @ r
    return loss, dB, dA, dC, d1, d2, hs[T - 1]
'''


def test_names_and_order_flags(run_cli: Run, tmp_path: Path) -> None:
    script = write(tmp_path, "custom.py", CUSTOM)
    names = "A=Wxh,B=Whh,C=Why,b1=bh,b2=by"
    ok = run_cli("compare", "--impl", f"{script}:grad", "--impl-names", names,
                 "--impl-order", "dB,dA,dC,db1,db2", *TINY)
    assert ok.exit_code == 0, ok.output
    # Without the order, dWhh (H, H) arrives where dWxh (H, V) belongs: a shape error.
    wrong = run_cli("compare", "--impl", f"{script}:grad", "--impl-names", names, *TINY)
    assert wrong.exit_code == 2
    assert "returned dA (dWxh) of shape (6, 6); the parameter has shape (6, 4)" in wrong.stderr


def test_module_target(run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "my_rnn_module.py", (CORPUS / "ok_uvw.py").read_text(encoding="utf-8"))
    monkeypatch.syspath_prepend(str(tmp_path))
    result = run_cli("numeric", "--impl", "my_rnn_module:bptt", *TINY)
    assert result.exit_code == 0, result.output


def test_parse_names_and_order() -> None:
    names = parse_names("U=Wxh, W=Whh")
    assert names == {"U": "Wxh", "W": "Whh"}
    assert parse_order("dW,dU,dWhy,by,dbh", names) == ("Whh", "Wxh", "Why", "by", "bh")
    with pytest.raises(ImplError, match="--impl-names"):
        parse_names("U=Wq")
    with pytest.raises(ImplError, match="exactly once"):
        parse_order("dWxh,dWxh,dWhy,dbh,dby", {})


FACTORY = '''import numpy as np
class Net:
    def __init__(self, cfg):
        self.Wxh = self.Whh = self.Why = self.bh = self.by = None
    def f(self, inputs, targets, hprev):
        return 0.0, {}
'''


def test_constructor_without_sizes_asks_for_a_factory(run_cli: Run, tmp_path: Path) -> None:
    script = write(tmp_path, "net.py", FACTORY)
    result = run_cli("compare", "--impl", f"{script}:Net.f", *TINY)
    assert result.exit_code == 2
    assert "no spec value for cfg" in result.stderr and "--impl-factory" in result.stderr


# -- hygiene -------------------------------------------------------------------------------

def _variant(tmp_path: Path, old: str, new: str) -> str:
    text = (CORPUS / "ok_minchar_py2.py").read_text(encoding="utf-8")
    assert text.count(old) == 1
    return f"{write(tmp_path, 'variant.py', text.replace(old, new))}:lossFun"


@pytest.mark.parametrize(("old", "new", "finding"), [
    ("  hs[-1] = np.copy(hprev)\n", "  hs[-1] = hprev\n  hprev += 0.5\n", "changes hprev"),
    ("  return loss, dWxh,", "  dby += np.random.rand(*dby.shape) * 1e-3\n  return loss, dWxh,",
     "nondeterminism"),
    ("  xs, hs, ys, ps = {}, {}, {}, {}\n",
     "  global Whh\n  Whh = Whh + 0.0\n  xs, hs, ys, ps = {}, {}, {}, {}\n",
     "rebinds the weights (global Whh)"),
    ("  return loss, dWxh,", "  dbh[0] = np.nan\n  return loss, dWxh,", "dbh has 1 non-finite"),
])
def test_hygiene_findings_fail_with_exit_1(run_cli: Run, tmp_path: Path, old: str, new: str,
                                           finding: str) -> None:
    result = run_cli("compare", "--impl", _variant(tmp_path, old, new), *TINY)
    assert result.exit_code == 1, result.output
    assert finding in " ".join(result.stdout.split())


# -- errors: exit 2, one line, their lines not ours ----------------------------------------

ERRORS = '''import numpy as np
def two_args(inputs, targets):
    return 0
def five_values(inputs, targets, hprev):
    return 1.0, Wxh, Whh, Why, bh
def not_a_tuple(inputs, targets, hprev):
    return 1.0
def bad_shape(inputs, targets, hprev):
    return 1.0, Wxh, Whh[:, :3], Why, bh, by, hprev
def helper(x):
    return np.dot(Wxh, np.ones((3, 3)))
def raises(inputs, targets, hprev):
    return helper(inputs)
def forever(inputs, targets, hprev):
    while True:
        pass
'''


@pytest.mark.parametrize(("target", "expected"), [
    ("missing.py:f", "file not found: "),
    ("errors.py:lossFun", "no function or class named 'lossFun'; defined there: bad_shape, "
                          "five_values, forever, helper, not_a_tuple, raises, two_args"),
    # (inputs, targets) is accepted (no initial state: it is zero), but not at TINY's
    # random hprev
    ("errors.py:two_args", "two_args in errors.py takes no initial state (no hprev argument)"),
    ("errors.py:five_values", "five_values returned 5 values; expected 7"),
    ("errors.py:not_a_tuple", "not_a_tuple returned a value of type float"),
    ("errors.py:bad_shape", "bad_shape returned dWhh of shape (6, 3); the parameter has shape "
                            "(6, 6)"),
    ("errors.py:raises", "raises raised ValueError: shapes (6,4) and (3,3) not aligned"),
    ("errors.py:Net.f", "no function or class named 'Net'"),
    ("no_such_module_xyz:f", "module not found: no_such_module_xyz"),
    ("errors.py", "expected PATH.py:NAME"),
    ("syntax.py:lossFun", "syntax.py:4: syntax error in lossFun"),
])
def test_errors_exit_2_with_one_line(run_cli: Run, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch, target: str,
                                     expected: str) -> None:
    write(tmp_path, "errors.py", ERRORS)
    write(tmp_path, "syntax.py", "import numpy as np\n\ndef lossFun(inputs, targets, hprev):\n"
                                 "    for t in range(len(inputs):\n        pass\n")
    monkeypatch.chdir(tmp_path)
    result = run_cli("compare", "--impl", target, *TINY)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bpttcheck: error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_exception_shows_their_traceback_lines_only(run_cli: Run, tmp_path: Path) -> None:
    path = write(tmp_path, "errors.py", ERRORS)
    result = run_cli("compare", "--impl", f"{path}:raises", *TINY)
    line = result.stderr.strip()
    assert "errors.py:11 in helper: return np.dot(Wxh, np.ones((3, 3)))" in line
    assert "errors.py:13 in raises: return helper(inputs)" in line
    assert "bpttcheck/" not in line and "numpy/" not in line


def test_timeout_stops_an_endless_loop(run_cli: Run, tmp_path: Path) -> None:
    path = write(tmp_path, "errors.py", ERRORS)
    start = time.perf_counter()
    result = run_cli("numeric", "--impl", f"{path}:forever", "--timeout", "0.5", *TINY)
    assert time.perf_counter() - start < 10
    assert result.exit_code == 2
    assert "did not return within 0.5 s" in result.stderr


def test_python2_target_itself_reports_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "old.py", "import numpy as np\nprint 'hi'\n\ndef lossFun(i, t, h):\n"
                                     "    print 'loss'\n    return 0\n")
    with pytest.raises(ImplError, match=r"old.py:5: syntax error in lossFun"):
        load(f"{path}:lossFun")


# -- the loader ----------------------------------------------------------------------------

LOADER = '''import numpy as np
import not_a_real_module_xyz
SCALE = 2.0
OFFSET = SCALE * np.ones(3)
UNUSED = 7
data = open("input.txt").read()
with open("created.txt", "w") as fh:
    fh.write("ran")
CREATED = open("created2.txt", "w")
raise SystemExit("the script ran")
def f(inputs, targets, hprev):
    return SCALE + OFFSET.sum() + len(data)
'''


def test_loader_executes_only_definitions_and_what_they_need(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "script.py", LOADER)
    monkeypatch.chdir(tmp_path)
    loaded = load(f"{path}:f")
    ns = loaded.namespace
    assert ns["SCALE"] == 2.0 and ns["OFFSET"].sum() == 6.0
    assert "UNUSED" not in ns and "data" not in ns
    assert not (tmp_path / "created.txt").exists() and not (tmp_path / "created2.txt").exists()
    assert ns["xrange"] is range
    summary = loaded.summary()
    assert summary.startswith("imported: import numpy as np; evaluated: SCALE = 2.0;")
    assert "line 2 import not_a_real_module_xyz (ModuleNotFoundError" in summary
    assert "line 6 data = open('input.txt').read() (calls open)" in summary
    assert "line 10 raise SystemExit" in summary and "(top-level code)" in summary
    assert not loaded.python2


def test_loader_python2_blocks_keep_decorated_and_multiline_definitions(tmp_path: Path) -> None:
    text = ('import functools\nprint "start"\n@functools.lru_cache(maxsize=None)\n'
            'def g(n):\n    return n + 1\nTABLE = [\n1,\n2,\n]\nexec "x = 1"\n'
            'def f(inputs, targets, hprev):\n    return g(len(TABLE))\n')
    loaded = load(f"{write(tmp_path, 'old.py', text)}:f")
    assert loaded.python2
    assert loaded.obj([], [], None) == 3
    skipped = [s.line for s in loaded.statements if not s.executed]
    assert skipped == [2, 10]


def test_other_loss_with_sampled_elements_names_the_ratio(run_cli: Run) -> None:
    """Temperature 2: a different model, known only on sampled elements; ratio 2 still found."""
    result = run_cli("compare", "--impl", f"{CORPUS / 'bug_temperature.py'}:lossFun",
                     "--impl-sample", "5", "--json", *TINY)
    assert result.exit_code == 1
    data = json.loads(result.stdout)["impl"]
    assert data["loss_match"] is False
    assert data["causes"][0]["kind"] == "ratio"
    assert data["causes"][0]["value"] == pytest.approx(2.0, rel=1e-6)


def test_nan_loss_is_a_finding_and_json_stays_valid(run_cli: Run, tmp_path: Path) -> None:
    target = _variant(tmp_path, "  return loss, dWxh,",
                      "  loss = float('nan')\n  return loss, dWxh,")
    result = run_cli("compare", "--impl", target, "--json", *TINY)
    assert result.exit_code == 1
    data = json.loads(result.stdout)["impl"]
    assert data["loss"] is None
    assert any(f.startswith("non-finite: the loss is nan") for f in data["findings"])


def test_when_localisation_in_time_is_impossible_the_report_says_why(
        tmp_path: Path, run_cli: Run) -> None:
    """A function that only accepts the full sequence cannot be localised: say so, not nothing."""
    source = (CORPUS / "bug_no_dhnext.py").read_text(encoding="utf-8")
    target = next(line.split(":", 1)[1].strip() for line in source.splitlines()
                  if line.startswith("# selftest-target:"))
    guard = (f"\n_original = {target}\n"
             f"def strict(inputs, targets, hprev):\n"
             f"    if len(inputs) != 5:\n"
             f"        raise ValueError('expects exactly 5 steps')\n"
             f"    return _original(inputs, targets, hprev)\n")
    path = write(tmp_path, "strict.py", source + guard)
    result = run_cli("compare", *TINY, "--impl", f"{path}:strict")
    assert result.exit_code == 1
    text = " ".join(result.stdout.split())
    assert "not localised in time: strict failed on the first 1 step of" in text
    assert "ValueError: expects exactly 5 steps" in text
