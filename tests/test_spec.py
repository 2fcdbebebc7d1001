"""The spec: defaults, TOML files, flag overrides, and a one-line error for every bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpttcheck.errors import SpecError
from bpttcheck.model import build
from bpttcheck.spec import FIELDS, Spec, resolve

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def write(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_tutorial_setting() -> None:
    spec = resolve()
    assert (spec.hidden, spec.seq, spec.init_scale, spec.seed) == (100, 25, 0.01, 0)
    assert spec.clip is None and spec.vocab is None and spec.data is None


def test_every_field_is_a_spec_attribute_with_the_same_default() -> None:
    defaults = Spec()
    for field in FIELDS:
        assert getattr(defaults, field.name) == field.default


@pytest.mark.parametrize("name", ["default", "tiny", "long", "clip"])
def test_shipped_configs_load(name: str) -> None:
    spec = resolve(CONFIGS / f"{name}.toml")
    assert spec.hidden > 0 and spec.seq > 0


def test_default_config_equals_builtin_defaults() -> None:
    assert resolve(CONFIGS / "default.toml") == resolve()


def test_long_config_is_long() -> None:
    assert resolve(CONFIGS / "long.toml").seq >= 100


def test_flags_override_file(tmp_path: Path) -> None:
    path = write(tmp_path, "hidden = 7\nseq = 4\n")
    spec = resolve(path, {"seq": 9, "hidden": None})
    assert (spec.hidden, spec.seq) == (7, 9)


def test_vocab_flag_replaces_data_in_file(tmp_path: Path) -> None:
    text = write(tmp_path, "abcdefghij" * 3, "t.txt")
    path = write(tmp_path, f'data = "{text.name}"\n')
    assert resolve(path).data == str(text)  # relative to the config file
    spec = resolve(path, {"vocab": 7})
    assert spec.vocab == 7 and spec.data is None


def test_clip_accepts_off_and_numbers(tmp_path: Path) -> None:
    assert resolve(overrides={"clip": "5"}).clip == 5.0
    assert resolve(overrides={"clip": "off"}).clip is None
    assert resolve(write(tmp_path, "clip = false\n")).clip is None
    assert resolve(write(tmp_path, "clip = 5\n")).clip == 5.0


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ('hidden = "100"', "key 'hidden': expected an integer"),
        ("hidden = 0", "key 'hidden': expected a positive number"),
        ("seq = -3", "key 'seq': expected a positive number"),
        ("vocab = 1", "key 'vocab': expected an integer >= 2"),
        ("init_scale = true", "key 'init_scale': expected a number"),
        ('hprev = "ones"', "key 'hprev': expected one of 'zeros', 'random'"),
        ("clip = -1.0", "key 'clip': expected a positive number"),
        ("rtol_numeric = 2.0", "key 'rtol_numeric': expected a number between 0 and 1"),
        ("hiden = 5", "unknown key 'hiden' (did you mean 'hidden'?)"),
        ("hidden = ", "invalid TOML"),
        ("[unclosed", "invalid TOML"),
        ("offset = 1.5", "key 'offset': expected an integer"),
    ],
)
def test_bad_file_values_name_file_and_key(tmp_path: Path, toml: str, fragment: str) -> None:
    path = write(tmp_path, toml + "\n")
    with pytest.raises(SpecError) as info:
        resolve(path)
    message = str(info.value)
    assert str(path) in message and fragment in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"hidden": 0}, "--hidden: expected a positive number"),
        ({"seq": -1}, "--seq: expected a positive number"),
        ({"clip": "lots"}, "--clip: expected a number or 'off'"),
        ({"clip": "nan"}, "--clip: expected a finite number"),
        ({"vocab": 5, "data": "x.txt"}, "--vocab and --data"),
        ({"hidden": 10**9}, "--hidden: expected an integer no larger than"),
    ],
)
def test_bad_overrides_name_the_flag(overrides: dict[str, object], fragment: str) -> None:
    with pytest.raises(SpecError, match=fragment.replace("(", r"\(")):
        resolve(overrides=overrides)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="config file not found"):
        resolve(tmp_path / "nope.toml")


def test_non_utf8_config(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(b"hidden = 5 # \xff\xfe\n")
    with pytest.raises(SpecError, match="not UTF-8"):
        resolve(path)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "not found"),
        (b"", "is empty"),
        (b"abc\xff\xfedef" * 10, "not UTF-8 text"),
        (b"short", "too short for offset 0 + seq 25 + 1"),
    ],
)
def test_bad_data_files(tmp_path: Path, content: bytes | None, fragment: str) -> None:
    path = tmp_path / "data.txt"
    if content is not None:
        path.write_bytes(content)
    spec = resolve(overrides={"data": str(path)})
    with pytest.raises(SpecError) as info:
        build(spec)
    assert str(path) in str(info.value) and fragment in str(info.value)


def test_text_vocabulary_is_sorted_unique_characters(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("hello world, hello bptt", encoding="utf-8")
    problem = build(resolve(overrides={"data": str(path), "seq": 10, "offset": 2, "hidden": 3}))
    symbols = problem.tokens.symbols
    assert symbols == tuple(sorted(set("hello world, hello bptt")))
    assert symbols is not None
    text = "hello world, hello bptt"
    assert "".join(symbols[i] for i in problem.batch.inputs) == text[2:12]
    assert "".join(symbols[i] for i in problem.batch.targets) == text[3:13]
