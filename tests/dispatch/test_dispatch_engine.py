"""The rule engine: conditions, actions, `continue`, and an index that never changes a decision."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from dispatch import Dispatcher, TicketFacts, UnitDirectory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def units() -> UnitDirectory:
    return UnitDirectory.from_file(ROOT / "units.yaml")


def facts(**kw) -> TicketFacts:
    kw.setdefault("channel", "12345-shunde")
    kw.setdefault("kind", "complaint")
    return TicketFacts(**kw)


def test_conditions_combine_with_all_any_not(units):
    d = Dispatcher.from_yaml(units, """
rules:
  - id: big-12315-non-food
    when:
      channel: 12315-gd
      amount: {min: 5000}
      not: {group: 食品}
      any:
        - town: [大良, 容桂]
        - keywords: {all: [合同, 定金]}
    assign: sd-amr-consumer
  - id: rest
    triage: true
""")
    big = dict(channel="12315-gd", amount=8000, text="装修合同定金不退")
    assert d.decide(facts(**big)).unit_id == "sd-amr-consumer"
    assert d.decide(facts(**{**big, "amount": 100})).rule_id == "rest"
    assert d.decide(facts(**{**big, "text": "定金不退"})).rule_id == "rest"
    assert d.decide(facts(**{**big, "text": "定金不退", "event_address": "容桂街道"})).rule_id == "big-12315-non-food"
    assert d.decide(facts(**{**big, "text": "月饼合同定金不退"})).rule_id == "rest"      # group 食品
    assert d.decide(facts(**{**big, "channel": "12345-shunde"})).rule_id == "rest"


def test_keywords_none_business_and_address(units):
    d = Dispatcher.from_yaml(units, """
rules:
  - id: brand
    when:
      business: [美的]
      keywords: {any: [空调, 冰箱], none: [咨询]}
    assign: sd-amr-quality
  - id: market
    when: {address: [市场]}
    assign_to: covering_station
""")
    assert d.decide(facts(business_name="美的专卖店", text="空调坏了")).unit_id == "sd-amr-quality"
    assert d.decide(facts(business_name="美的专卖店", text="咨询空调保修")).triage
    assert d.decide(facts(event_address="大良新桂市场", text="咨询")).unit_id == "st-daliang-07"


def test_continue_sets_category_for_later_rules_and_the_last_assignment_wins(units):
    d = Dispatcher.from_yaml(units, """
rules:
  - id: prepaid-is-contract
    when: {keywords: {any: [预付卡]}}
    set_category: 合同
    continue: true
  - id: first-guess
    assign: sd-amr-consumer
    continue: true
  - id: contracts-urgent
    when: {category: 合同}
    set_priority: urgent
    continue: true
  - id: urgent-to-command
    when: {priority: urgent}
    assign: sd-amr-command
""")
    dec = d.decide(facts(text="美容院预付卡不给退"))
    assert (dec.category, dec.priority, dec.unit_id, dec.rule_id) == ("合同", "urgent", "sd-amr-command",
                                                                      "urgent-to-command")
    assert [step.rule_id for step in dec.trace] == ["prepaid-is-contract", "first-guess", "contracts-urgent",
                                                   "urgent-to-command"]
    plain = d.decide(facts(text="衣服起球"))
    assert (plain.unit_id, plain.rule_id, plain.priority) == ("sd-amr-consumer", "first-guess", "normal")


def test_covering_station_falls_back_to_the_branch_and_is_passed_over_without_a_place(units):
    d = Dispatcher.from_yaml(units, "rules:\n  - id: place\n    assign_to: covering_station\n")
    assert d.decide(facts(event_address="杏坛镇逢简村")).unit_id == "st-xingtan-12"
    assert d.decide(facts(event_address="杏坛镇")).unit_id == "br-xingtan"
    nowhere = d.decide(facts(text="网购"))
    assert nowhere.triage and nowhere.rule_id is None
    assert nowhere.trace[0].why.startswith("conditions hold, but no place")


def test_disabled_rules_are_skipped(units):
    d = Dispatcher.from_yaml(units, """
rules:
  - id: old-rule
    enabled: false
    assign: sd-amr-price
  - id: new-rule
    assign: sd-amr-ad
""")
    assert d.decide(facts(text="x")).unit_id == "sd-amr-ad"
    assert ("old-rule", False, "disabled") in [tuple(s) for s in d.decide(facts(text="x"), explain=True).trace]


def test_source_priority_and_category_are_kept(units):
    d = Dispatcher.from_yaml(units, "rules:\n  - id: t\n    triage: true\n")
    dec = d.decide(facts(text="衣服起球", priority="urgent", category="假冒"))
    assert (dec.priority, dec.category) == ("urgent", "假冒")
    assert d.decide(facts(text="衣服起球", category="不在分类里")).category == "质量"


WORDS = ["空调", "冰箱", "退款", "价格", "定金", "假冒", "电梯", "食物中毒", "维修", "起球", "合同", "预付卡"]
PLACES = ["大良新桂市场", "容桂天佑城", "杏坛镇", "乐从镇东平社区", "", "北滘美的广场", "龙江镇"]


def _random_condition(rng: random.Random, depth: int = 0) -> str:
    pick = rng.randrange(9 if depth < 2 else 6)
    if pick == 0:
        return f"keywords: {{any: [{', '.join(rng.sample(WORDS, 2))}]}}"
    if pick == 1:
        return f"keywords: {{all: [{', '.join(rng.sample(WORDS, 2))}], none: [{rng.choice(WORDS)}]}}"
    if pick == 2:
        return f"channel: [{rng.choice(['12345-shunde', '12315-gd'])}]"
    if pick == 3:
        return f"town: [{rng.choice(['大良', '容桂', '杏坛', '乐从'])}]"
    if pick == 4:
        return f"category: [{rng.choice(['价格', '合同', '质量', '售后服务'])}]"
    if pick == 5:
        return f"priority: {rng.choice(['urgent', 'normal'])}"
    inner = ", ".join("{" + _random_condition(rng, depth + 1) + "}" for _ in range(2))
    return {6: f"any: [{inner}]", 7: f"all: [{inner}]", 8: f"not: {{{_random_condition(rng, depth + 1)}}}"}[pick]


def test_the_index_never_changes_a_decision(units):
    """Given random rules and tickets, the indexed decision equals evaluating every rule in order."""
    rng = random.Random(7)
    for _round in range(15):
        lines = ["rules:"]
        for i in range(40):
            lines += [f"  - id: r{i}", f"    when: {{{_random_condition(rng)}}}"]
            action = rng.randrange(5)
            if action == 0:
                lines += [f"    set_category: {rng.choice(['价格', '合同'])}", "    continue: true"]
            elif action == 1:
                lines += ["    set_priority: urgent", "    continue: true"]
            elif action == 2:
                lines += ["    assign_to: covering_station"]
            else:
                lines += [f"    assign: {rng.choice(['sd-amr-price', 'sd-amr-ad', 'st-daliang-03'])}"]
        d = Dispatcher.from_yaml(units, "\n".join(lines) + "\n")
        for _ in range(40):
            ticket = facts(channel=rng.choice(["12345-shunde", "12315-gd"]), event_address=rng.choice(PLACES),
                           text="，".join(rng.sample(WORDS, rng.randrange(0, 4))))
            fast, slow = d.decide(ticket), d.decide(ticket, explain=True)
            assert (fast.unit_id, fast.rule_id, fast.category, fast.priority) == \
                (slow.unit_id, slow.rule_id, slow.category, slow.priority), ticket
            assert [s for s in fast.trace if s.matched] == [s for s in slow.trace if s.matched]


def test_a_very_urgent_ticket_stays_very_urgent_and_rules_can_match_it(units):
    # given rules that name the priorities by code and by the labels staff use
    d = Dispatcher.from_yaml(units, """
rules:
  - id: very-urgent-to-command
    when: {priority: very_urgent}
    assign: sd-amr-command
  - id: raise-fraud
    when: {keywords: {any: [诈骗]}}
    set_priority: 特急
    continue: true
  - id: still-very-urgent
    when: {priority: [特急]}
    assign: sd-amr-consumer
  - id: urgent-to-price
    when: {priority: 紧急}
    assign: sd-amr-price
  - id: rest
    triage: true
""")
    # when the source said 特急, even with an urgent word in the text, it stays very urgent and its rule decides
    dec = d.decide(facts(text="食物中毒", priority="very_urgent"))
    assert (dec.priority, dec.rule_id, dec.unit_id) == ("very_urgent", "very-urgent-to-command", "sd-amr-command")
    # and an urgent word raises a normal ticket to urgent, no further
    assert (d.decide(facts(text="食物中毒")).priority, d.decide(facts(text="食物中毒")).rule_id) == (
        "urgent", "urgent-to-price")
    # and a rule may set very_urgent by its label, which a later rule sees
    dec = d.decide(facts(text="预付卡诈骗"))
    assert (dec.priority, dec.rule_id) == ("very_urgent", "still-very-urgent")
    assert d.decide(facts(text="衣服起球")).rule_id == "rest"


def test_a_priority_outside_the_vocabulary_is_refused_naming_the_three(units):
    with pytest.raises(Exception) as err:
        Dispatcher.from_yaml(units, "rules:\n  - id: t\n    when: {priority: 特特急}\n    triage: true\n")
    assert "'normal', 'urgent' or 'very_urgent'" in str(err.value)


# ── Places the dispatcher is not sure of go to triage with what was found ──

def _dispatcher_with(min_confidence: float) -> Dispatcher:
    units = UnitDirectory.from_file(ROOT / "units.yaml")
    return Dispatcher.from_yaml(units, (ROOT / "rules.yaml").read_text(encoding="utf-8"),
                                gazetteer_text=f"min_confidence: {min_confidence}\n")


def test_a_shared_name_goes_to_triage_with_its_candidates():
    decision = _dispatcher_with(0.5).decide(TicketFacts(channel="12345-shunde", text="电饭煲坏了", event_address="东风3号"))
    assert decision.triage and decision.unit_id is None
    assert set(decision.place_candidates) == {"st-ronggui-06", "st-leliu-07"}
    assert "东风 有多处" in decision.reason


def test_below_the_configured_confidence_a_place_goes_to_triage():
    facts = TicketFacts(channel="12345-shunde", text="电饭煲坏了", event_address="碧江12号")   # no town: 0.65
    assert _dispatcher_with(0.5).decide(facts).unit_id == "st-beijiao-02"
    unsure = _dispatcher_with(0.7).decide(facts)
    assert unsure.triage and unsure.place_candidates == ("st-beijiao-02",)
    assert "置信度 0.65 低于 0.7" in unsure.reason


def test_outside_shunde_goes_to_triage_even_when_a_rule_names_a_department():
    facts = TicketFacts(channel="12345-shunde", text="商家乱收费", event_address="佛山市南海区桂城")
    decision = _dispatcher_with(0.5).decide(facts)
    assert decision.triage and decision.unit_id is None
    assert "地址不在顺德区：南海区" in decision.reason
