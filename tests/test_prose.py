"""Wording in one place: plurals, numbers, and a grammar check over every message."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from bpttcheck import engines
from bpttcheck.errors import SpecError
from bpttcheck.prose import distinct, duration, ended, join_names, plural

from .test_mutations import mutant

Run = Callable[..., Result]
TINY = ["--hidden", "5", "--seq", "4", "--vocab", "3", "--seed", "1"]

# Nouns that end in s in the singular: "1 axis", "1 class", "1 bias".
_SINGULAR_S = re.compile(r"(ss|is|us|as)$")


# Words that come before the counted noun: "1 required argument", "1 element comparison".
_MODIFIERS = ("required", "random", "non-finite", "failing", "more")
_COMPOUNDS = ("element comparison",)  # "1 element comparisons": the noun is the second word


def grammar_problems(text: str) -> list[str]:
    """What reads wrong: a plural after exactly one ("1 hours", "1 element comparisons",
    "1 required arguments") or a lazy "(s)"."""
    problems = [m.group(0) for m in re.finditer(r"\(s\)|[?!]\.", text)]
    problems += [f"1 {c}s" for c in _COMPOUNDS if f"1 {c}s" in text]
    for m in re.finditer(r"(?<![\d.,e+-])\b1 ([a-z-]+)(?: ([a-z-]+))?", text):
        first, second = m.group(1), m.group(2)
        noun = second if first in _MODIFIERS and second else first
        if noun.endswith("s") and not _SINGULAR_S.search(noun) and f"{first} {second}s" not in \
                [f"{c}s" for c in _COMPOUNDS]:
            problems.append(f"1 {first} {second}" if noun == second else f"1 {first}")
    return problems


@pytest.mark.parametrize(
    ("text", "bad"),
    [("about 1 hours here", ["1 hours"]),
     ("1 element comparisons differ", ["1 element comparisons"]),
     ("takes 1 required arguments", ["1 required arguments"]), ("on 2 thread(s)", ["(s)"]),
     ("1 hour, 2 hours, 1 class, 1.1 seconds, 21 elements, 1e-1 steps", []),
     ("1 element differs; 1 of 3 elements", []),
     ("reset inside the loop?. Next", ["?."]), ("steps 0..6 differ", [])],
)
def test_the_grammar_check_itself(text: str, bad: list[str]) -> None:
    assert grammar_problems(text) == bad


def test_plural_join_duration() -> None:
    assert plural(1, "element") == "1 element" and plural(2, "element") == "2 elements"
    assert plural(0, "entry", "entries") == "0 entries"
    assert join_names(["Wxh"]) == "Wxh" and join_names(["Wxh", "bh"]) == "Wxh and bh"
    assert join_names(["Wxh", "Whh", "bh"]) == "Wxh, Whh and bh"
    assert duration(3600) == "about 1 hour" and duration(3 * 3600) == "about 3 hours"
    assert duration(60, approx=False) == "1 minute" and duration(0.2) == "about 1 second"
    assert ended("a cause") == "a cause." and ended("is it reset?") == "is it reset?"


def test_distinct_stops_at_the_first_differing_digit() -> None:
    assert distinct(7.5, 5.0) == ("7.5", "5")
    assert distinct(1.23456789, 1.23456788) == ("1.23456789", "1.23456788")
    assert distinct(2.0, 2.0) == ("2.0", "2.0")  # equal values: repr, nothing invented


def test_budget_refusal_says_one_hour_not_one_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    from bpttcheck import budget

    with pytest.raises(SpecError) as info:
        budget.check_reference_time(50, 10**6)
    assert not grammar_problems(str(info.value)), str(info.value)


def test_signature_error_counts_arguments_in_words(run_cli: Run, tmp_path: Path) -> None:
    user = tmp_path / "one.py"
    user.write_text("def f(x):\n    return x\n", encoding="utf-8")
    result = run_cli("compare", *TINY, "--impl", f"{user}:f")
    assert result.exit_code == 2 and "takes 1 required argument;" in result.stderr


@pytest.mark.parametrize(
    "args",
    [[], ["--directions", "1"], ["--sample", "1"], ["--method", "forward", "--init-scale", "1"],
     ["--clip", "0.05", "--init-scale", "0.5"]],
)
def test_report_messages_read_right(run_cli: Run, args: list[str]) -> None:
    for command in ("compare", "numeric"):
        result = run_cli(command, *TINY, *args)
        assert not grammar_problems(result.output), result.output


def test_failure_messages_read_right(run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(engines.ENGINES, "tutorial", mutant("h_t_for_h_prev"))
    result = run_cli("compare", "--hidden", "1", "--seq", "2", "--vocab", "2", "--init-scale",
                     "0.5")
    assert result.exit_code == 1
    assert "1 of 1 element differs" in result.stdout
    assert not grammar_problems(result.output), result.output
