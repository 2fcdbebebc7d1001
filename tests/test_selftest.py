"""``bpttcheck selftest``: every shipped bug caught with its cause, every correct variant passes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

from bpttcheck import selftest
from bpttcheck.engines import reference
from bpttcheck.engines.base import Options
from bpttcheck.model import build

Run = Callable[..., Result]
CASES = [c for c in selftest.cases() if c.cell == "vanilla"]  # gated: test_impl_gated


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: selftest.Case) -> None:
    """100%: run exactly as --impl would; a bug exits 1 with the intended cause."""
    outcome = selftest.run_case(case)
    if case.correct:
        assert not outcome.flagged, outcome.message
        assert outcome.exit_code == 0
    else:
        assert outcome.caught, f"{case.name} missed"
        assert outcome.exit_code == 1, outcome.message
        assert outcome.cause == case.expect, outcome.message
    assert outcome.ok


def test_corpus_size_and_variety() -> None:
    bugs = [c for c in CASES if not c.correct]
    good = [c for c in CASES if c.correct]
    assert len(bugs) >= 12
    assert len({c.expect for c in bugs}) >= 12  # distinct classes of bug
    assert len(good) >= 5
    targets = [c.target for c in good]
    assert any("." in t for t in targets)  # a method
    texts = [c.path.read_text(encoding="utf-8") for c in good]
    assert any("print '" in t and "xrange" in t and "while True" in t for t in texts)  # Python 2
    assert any("def " in t and "(params, inputs" in t for t in texts)  # explicit form
    assert any("\nU = " in t for t in texts)  # U/W/V names


def test_clipping_matters_for_the_selftest_spec() -> None:
    """The clip bug is only a bug if some true gradient exceeds 5 for SPEC."""
    problem = build(selftest.SPEC)
    g = reference.gradients(problem.params, problem.batch, Options()).grads
    assert all(int((np.abs(v) > 5).sum()) > 0 for v in g.values())


def _small_corpus(tmp_path: Path, names: list[str]) -> Path:
    for name in names:
        shutil.copy(selftest.corpus_dir() / f"{name}.py", tmp_path / f"{name}.py")
    return tmp_path


def test_cli_selftest_passes_and_prints_summary(run_cli: Run, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = _small_corpus(tmp_path, ["bug_sign", "ok_vectorised"])
    monkeypatch.setattr(selftest, "corpus_dir", lambda: corpus)
    result = run_cli("selftest")
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "1 of 1 bug caught, 1 with the intended cause named" in out
    assert "1 of 1 correct variant passed (0 false alarms)" in out
    assert result.stdout.splitlines()[-1].startswith("✓ selftest: every case as intended")


def test_cli_selftest_fails_on_a_missed_bug_and_a_false_alarm(run_cli: Run, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    corpus = _small_corpus(tmp_path, [])
    ok = (selftest.corpus_dir() / "ok_vectorised.py").read_text(encoding="utf-8")
    (corpus / "bug_fake.py").write_text(ok.replace("expect: ok", "expect: no-dhnext"),
                                        encoding="utf-8")
    bad = (selftest.corpus_dir() / "bug_sign.py").read_text(encoding="utf-8")
    (corpus / "ok_fake.py").write_text(bad.replace("expect: sign", "expect: ok"),
                                       encoding="utf-8")
    monkeypatch.setattr(selftest, "corpus_dir", lambda: corpus)
    result = run_cli("selftest", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    status = {c["name"]: c["status"] for c in data["cases"]}
    assert status == {"bug_fake": "MISSED", "ok_fake": "FALSE ALARM"}
    assert data["passed"] is False
