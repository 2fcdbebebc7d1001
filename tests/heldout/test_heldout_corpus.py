"""The held-out corpus stays what its manifest says, and its judge can say no.

validate.py is independent of bpttcheck (its own forward pass and numerical
differentiation); these tests only run it. The corpus files themselves are not test
modules and are never collected.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest

HERE = Path(__file__).resolve().parent


def _validator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("heldout_validate", HERE / "validate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_entry_is_consistent(capsys: pytest.CaptureFixture[str]) -> None:
    assert _validator().main([]) == 0, capsys.readouterr().out
    manifest = json.loads((HERE / "manifest.json").read_text())
    assert sum(e["correct"] for e in manifest) >= 6
    assert sum(not e["correct"] for e in manifest) >= 30


def test_a_wrong_manifest_or_a_file_without_its_edit_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "heldout"
    shutil.copytree(HERE, root, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = json.loads((root / "manifest.json").read_text())
    by_file = {e["file"]: e for e in manifest}
    by_file["a01.py"]["parameters"] = ["Whh"]  # the bug also breaks Wxh and bh
    by_file["b02.py"]["line"] += 1
    (root / "manifest.json").write_text(json.dumps(manifest))
    (root / "e03.py").write_text((root / "e_columns_after.py").read_text())  # edit undone
    code = _validator().main(["--root", str(root), "a01.py", "b02.py", "e03.py", "c02.py"])
    out = capsys.readouterr().out
    assert code == 1
    assert "a01.py: seed 11: wrong in ['Whh', 'Wxh', 'bh']; the manifest says ['Whh']" in out
    assert "b02.py: the edit is at line" in out
    assert "e03.py: 0 changed regions" in out
    assert "e03.py: seed 11: wrong in nothing" in out
    assert "c02.py" not in out  # untouched entries stay quiet
