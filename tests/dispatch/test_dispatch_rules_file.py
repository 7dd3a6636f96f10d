"""rules.yaml validation: every mistake is reported with file, line and field, several at once."""
from __future__ import annotations

from pathlib import Path

import pytest

from dispatch import Dispatcher, UnitDirectory
from settings import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def units() -> UnitDirectory:
    return UnitDirectory.from_file(ROOT / "units.yaml")


def _line(text: str, marker: str, nth: int = 1) -> int:
    """1-based line of the nth line containing `marker`."""
    return [i for i, line in enumerate(text.splitlines(), start=1) if marker in line][nth - 1]


def _problems(units, text: str):
    with pytest.raises(ConfigError) as caught:
        Dispatcher.from_yaml(units, text, file="rules.yaml")
    assert all(p.file == "rules.yaml" for p in caught.value.problems)
    return caught.value.problems


def test_default_rules_load():
    dispatcher = Dispatcher.from_files(ROOT / "units.yaml", ROOT / "rules.yaml")
    assert [r.id for r in dispatcher.rules_file.rules][-2:] == ["by-place", "no-place"]


def test_typo_wrong_type_and_unknown_unit_are_all_reported_with_lines(units):
    text = """\
rules:
  - id: price
    when:
      kewords:
        any: [乱收费]
    assign: sd-amr-price
  - id: big-amounts
    when:
      amount: {min: lots}
    assign: sd-amr-consumer
  - id: lift
    when:
      keywords: {any: [电梯]}
    assign: sd-amr-lifts
"""
    problems = _problems(units, text)
    found = {(p.line, p.field) for p in problems}
    assert found == {
        (_line(text, "kewords"), "rules[0].when.kewords"),
        (_line(text, "min: lots"), "rules[1].when.amount.min"),
        (_line(text, "sd-amr-lifts"), "rules[2].assign"),
    }
    messages = " | ".join(str(p) for p in problems)
    assert "unknown field" in messages
    assert "'lots'" in messages
    assert "unknown unit: no unit in units.yaml has this id (got 'sd-amr-lifts')" in messages
    assert f"rules.yaml:{_line(text, 'sd-amr-lifts')}: rules[2].assign:" in messages


def test_unknown_town_station_kind_and_action_mixups(units):
    text = """\
rules:
  - id: a
    when: {town: 广州}
    assign_to: covering_station
  - id: b
    when: {station: st-nowhere-01}
    triage: true
  - id: c
    when: {kind: complain}
    triage: true
  - id: d
    assign: sd-amr-price
    triage: true
  - id: e
    set_priority: urgent
"""
    problems = _problems(units, text)
    by_line = {p.line: p.message for p in problems}
    assert "unknown town '广州'" in by_line[_line(text, "广州")]
    assert "unknown station 'st-nowhere-01'" in by_line[_line(text, "st-nowhere-01")]
    assert "complain" in by_line[_line(text, "complain")]
    assert "one of assign, assign_to, assign_group, triage" in by_line[_line(text, "id: d")]
    assert "needs `continue: true`" in by_line[_line(text, "id: e")]
    assert len(problems) == 5


def test_duplicate_rule_ids_and_unknown_categories(units):
    text = """\
rules:
  - id: price
    when: {category: 价钱}
    assign: sd-amr-price
  - id: price
    set_category: 物价
    continue: true
  - id: food
    when: {group: 食物}
    assign: sd-amr-food
"""
    problems = _problems(units, text)
    by_line = {p.line: p.message for p in problems}
    assert "unknown category '价钱'" in by_line[_line(text, "价钱")]
    assert "duplicate rule id 'price'" in by_line[_line(text, "id: price", 2)]
    assert "unknown category '物价'" in by_line[_line(text, "物价")]
    assert "unknown group '食物'" in by_line[_line(text, "食物")]


def test_town_short_names_are_accepted_and_normalised(units):
    dispatcher = Dispatcher.from_yaml(units, "rules:\n  - id: t\n    when: {town: [大良, 容桂街道]}\n    triage: true\n")
    assert dispatcher.rules_file.rules[0].when.town == ["大良街道", "容桂街道"]


def test_rules_checked_without_the_directory_are_checked_when_the_dispatcher_is_built(units):
    from settings import parse_yaml_model
    from dispatch.rules_schema import RulesFile

    rules = parse_yaml_model("rules:\n  - id: x\n    when: {town: 大良, station: st-x}\n    assign: nobody\n",
                             RulesFile)
    with pytest.raises(ConfigError) as caught:
        Dispatcher(units, rules)
    assert [p.field for p in caught.value.problems] == ["rules[0].assign", "rules[0].when.town", "rules[0].when.station"]


def test_an_id_yaml_reads_as_a_boolean_gets_a_hint(units):
    problems = _problems(units, "rules:\n  - id: on\n    triage: true\n")
    assert [(p.line, p.field) for p in problems] == [(2, "rules[0].id")]
    assert "put the id in quotes" in problems[0].message
