"""`onequeue rules check`: errors with file, line and field; warnings for rules that never match or are never reached."""
from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from cli.main import main as cli
from dispatch import Dispatcher, TicketFacts, UnitDirectory
from dispatch.rules_check import check_files
from simulators.testing import write_config

ROOT = Path(__file__).resolve().parents[2]
NOWHERE = SimpleNamespace(base_url="http://127.0.0.1:9")   # the stand-ins are not called by `rules check`


@pytest.fixture
def config(tmp_path) -> str:
    return write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'oq.db'}", NOWHERE, NOWHERE)


def _line(text: str, marker: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if marker in line)


def test_the_default_rules_pass_without_warnings(config, capsys):
    assert cli(["--config", config, "rules", "check"]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("7 rules, 0 errors, 0 warnings")


def test_a_typo_a_wrong_type_and_an_unknown_unit_are_all_printed_with_lines(config, tmp_path, capsys):
    # given a rules file with a misspelt field, a word where a number belongs and a unit that does not exist
    text = """\
rules:
  - id: price
    when:
      kewords: {any: [乱收费]}
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
    rules = tmp_path / "rules-new.yaml"
    rules.write_text(text, encoding="utf-8")
    # when it is checked
    code = cli(["--config", config, "rules", "check", str(rules)])
    # then all three are printed, each with file, line, field and what was expected, and the check fails
    err = capsys.readouterr().err
    assert code != 0
    assert f"{rules}:{_line(text, 'kewords')}: rules[0].when.kewords: unknown field" in err
    assert f"{rules}:{_line(text, 'lots')}: rules[1].when.amount.min: Input should be a valid number" in err
    assert f"{rules}:{_line(text, 'sd-amr-lifts')}: rules[2].assign:" in err
    assert "unknown unit" in err
    assert "3 errors" in err


def test_explain_a_ticket_given_as_json(config, capsys):
    ticket = json.dumps({"text": "网购衣服起球", "kind": "complaint"}, ensure_ascii=False)
    assert cli(["--config", config, "rules", "explain", "--json-ticket", ticket, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ticket"] is None
    assert data["decision"]["triage"] and data["decision"]["rule"] == "no-place"
    by_place = next(r for r in data["rules"] if r["rule"] == "by-place")
    assert by_place["why"] == "conditions hold, but no place was found for covering_station"
    # a field that TicketFacts does not have is named, with the fields it does have
    assert cli(["--config", config, "rules", "explain", "--json-ticket", '{"txt": "x"}']) == 2
    err = capsys.readouterr().err
    assert "txt: unknown field" in err and "event_address" in err


WARNED = """\
rules:
  - id: old-price
    enabled: false
    assign: sd-amr-price
  - id: both-kinds
    when: {kind: complaint, all: [{kind: report}]}
    triage: true
  - id: wrong-town
    when: {station: st-daliang-01, town: 容桂}
    triage: true
  - id: fees
    when: {keywords: {any: [收费]}, not: {kind: consultation}}
    assign: sd-amr-price
  - id: parking-fees
    when: {keywords: {any: [停车乱收费]}, kind: complaint}
    assign: sd-amr-consumer
  - id: consultations-on-fees
    when: {keywords: {any: [乱收费]}}
    assign: sd-amr-consumer
  - id: hotline-only
    when: {channel: 12315-gd}
    triage: true
  - id: by-place
    assign_to: covering_station
  - id: no-place
    triage: true
  - id: too-late
    when: {kind: suggestion}
    assign: sd-amr-consumer
"""


def test_rules_that_can_never_match_or_are_shadowed_are_warned_about_with_lines(config, tmp_path, capsys):
    rules = tmp_path / "rules-new.yaml"
    rules.write_text(WARNED, encoding="utf-8")
    assert cli(["--config", config, "rules", "check", str(rules)]) == 0
    out = capsys.readouterr().out
    warned = {line.split(":")[2] for line in out.splitlines() if line.startswith("warning:")}
    assert warned == {str(_line(WARNED, marker)) for marker in
                      ("enabled: false", "all: [{kind: report}]", "town: 容桂", "id: parking-fees", "12315-gd", "too-late")}
    assert "rule 'old-price' is disabled" in out
    assert "rule 'both-kinds' can never match: kind must be complaint and also report" in out
    assert "station st-daliang-01 is not in town 容桂街道" in out
    assert "rule 'parking-fees' is never reached: rule 'fees'" in out
    assert "no channel named '12315-gd' is configured" in out
    assert "rule 'too-late' is never reached: rule 'no-place'" in out
    # consultations about fees still reach `consultations-on-fees`; tickets without a place still reach `no-place`
    assert "consultations-on-fees" not in out and "'no-place' is never" not in out
    # and --strict makes warnings fail; --json carries the same
    assert cli(["--config", config, "rules", "check", str(rules), "--strict"]) == 1
    capsys.readouterr()
    assert cli(["--config", config, "rules", "check", str(rules), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["errors"] == [] and len(report["warnings"]) == 6
    assert {w["line"] for w in report["warnings"]} == {int(n) for n in warned}


def test_a_rule_after_a_category_change_is_not_called_shadowed(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("""\
rules:
  - id: prices
    when: {category: 价格}
    assign: sd-amr-price
  - id: prepaid-is-price
    when: {keywords: {any: [预付卡]}}
    set_category: 价格
    continue: true
  - id: prepaid-prices
    when: {category: 价格, keywords: {any: [预付卡]}}
    assign: sd-amr-consumer
""", encoding="utf-8")
    assert check_files(rules, ROOT / "units.yaml").warnings == []


WORDS = ["空调", "冰箱", "乱收费", "收费", "定金", "电梯", "维修", "预付卡"]


def _condition(rng: random.Random, depth: int = 0) -> str:
    pick = rng.randrange(10 if depth < 2 else 7)
    simple = [
        lambda: f"keywords: {{any: [{', '.join(rng.sample(WORDS, 2))}]}}",
        lambda: f"keywords: {{all: [{rng.choice(WORDS)}], none: [{rng.choice(WORDS)}]}}",
        lambda: f"kind: [{rng.choice(['complaint', 'report', 'consultation'])}]",
        lambda: f"town: [{rng.choice(['大良', '容桂'])}]",
        lambda: f"station: [{rng.choice(['st-daliang-07', 'st-ronggui-16'])}]",
        lambda: f"category: [{rng.choice(['价格', '质量'])}]",
        lambda: f"amount: {{min: {rng.choice([0, 100, 1000])}, max: {rng.choice([1000, 5000])}}}",
    ]
    if pick < 7:
        return simple[pick]()
    inner = ", ".join("{" + _condition(rng, depth + 1) + "}" for _ in range(2))
    return {7: f"any: [{inner}]", 8: f"all: [{inner}]", 9: f"not: {{{_condition(rng, depth + 1)}}}"}[pick]


def test_a_rule_warned_about_never_matches_any_ticket(tmp_path):
    """Given random rules and tickets, a rule the check calls unreachable never matches in an explained decision."""
    rng = random.Random(11)
    units = UnitDirectory.from_file(ROOT / "units.yaml")
    warned_total = 0
    for round_ in range(8):
        lines = ["rules:"]
        for i in range(30):
            lines += [f"  - id: r{i}"]
            if rng.random() < 0.85:
                lines += [f"    when: {{{_condition(rng)}}}"]
            action = rng.randrange(6)
            if action == 0:
                lines += ["    set_category: 价格", "    continue: true"]
            elif action == 1:
                lines += ["    assign_to: covering_station"]
            elif action == 2 and rng.random() < 0.3:
                lines += ["    triage: true"]
            else:
                lines += [f"    assign: {rng.choice(['sd-amr-price', 'sd-amr-ad'])}"]
        text = "\n".join(lines) + "\n"
        path = tmp_path / f"rules-{round_}.yaml"
        path.write_text(text, encoding="utf-8")
        warned = {w.field.split(".")[0] for w in check_files(path, ROOT / "units.yaml").warnings}
        warned_total += len(warned)
        dispatcher = Dispatcher.from_yaml(units, text)
        ids = {f"rules[{i}]": r.id for i, r in enumerate(dispatcher.rules_file.rules)}
        unreachable = {ids[w] for w in warned}
        for _ in range(80):
            ticket = TicketFacts(channel="12345-shunde", kind=rng.choice(["complaint", "report", "consultation"]),
                                 text="，".join(rng.sample(WORDS, rng.randrange(0, 4))),
                                 event_address=rng.choice(["大良新桂市场", "容桂天佑城", "杏坛镇", ""]),
                                 amount=rng.choice([None, 10, 80, 300, 2000]))
            matched = {s.rule_id for s in dispatcher.decide(ticket, explain=True).trace if s.matched}
            assert not matched & unreachable, (text, ticket)
    assert warned_total > 20   # the generator does produce rules to warn about


def test_rules_pasted_as_text_are_checked_with_their_lines_under_the_name_given():
    from dispatch.rules_check import check_text

    text = "rules:\n  - id: price\n    when:\n      kewords: {any: [乱收费]}\n    assign: sd-amr-price\n"
    report = check_text(text, ROOT / "units.yaml", file="粘贴的规则")
    assert not report.ok and report.dispatcher is None
    assert [(p.file, p.line, p.field) for p in report.errors] == [("粘贴的规则", 4, "rules[0].when.kewords")]
    good = check_text((ROOT / "rules.yaml").read_text(encoding="utf-8"), ROOT / "units.yaml", file="粘贴的规则")
    assert good.ok and good.rule_count == 7 and good.dispatcher is not None
