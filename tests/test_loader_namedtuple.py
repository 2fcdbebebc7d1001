"""A step cache made with ``collections.namedtuple`` (a module-level call) is evaluated at
load, from plain strings only: the file is checked; a record type whose name is computed
by a call the loader does not allow stays skipped (and the function then fails)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from tests.test_loader_dataclass import SOURCE

Run = Callable[..., Result]

HEAD = ('from collections import namedtuple\nimport numpy as np\n\n'
        'Step = namedtuple({name}, "x h p")\n')


def _file(tmp_path: Path, name: str) -> Path:
    body = SOURCE.format(future="").split("def lossFun", 1)[1]
    path = tmp_path / "rnn.py"
    path.write_text(HEAD.format(name=name) + "\n\ndef lossFun" + body, encoding="utf-8")
    return path


def test_a_namedtuple_step_cache_loads_and_passes(run_cli: Run, tmp_path: Path) -> None:
    path = _file(tmp_path, '"Step"')
    r = run_cli("compare", "--impl", f"{path}:lossFun", "--hidden", "5", "--vocab", "4",
                "--seq", "4", "--no-fix")
    assert r.exit_code == 0, r.output


def test_a_record_type_from_a_call_not_allowed_is_still_skipped(tmp_path: Path) -> None:
    from bpttcheck.impl.loader import load

    path = _file(tmp_path, 'input("name? ")')
    loaded = load(f"{path}:lossFun")
    assert any(s.kind == "skipped" and "Step" in s.text for s in loaded.statements)
    assert "Step" not in loaded.namespace
