"""`assign_group`: a rule that assigns to one unit of a group, in turn (round_robin) or by open load (least_open).

Given stored tickets that an assign_group rule decides, when they are dispatched, then the unit is picked in
the dispatch transaction: round_robin keeps its place in the `counters` table across dispatch runs and
dispatchers, least_open picks the unit with fewer open tickets; a bad group is an error with its line.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from dispatch import Dispatcher, UnitDirectory
from dispatch.job import dispatch_new
from settings import ConfigError
from tickets import store
from tickets.models import Ticket, TicketEvent
from tickets.schema import IncomingTicket

ROOT = Path(__file__).resolve().parents[2]

RULES = """\
rules:
  - id: consumer-pool
    when: {{kind: consultation}}
    assign_group:
      units: [sd-amr-consumer, sd-amr-command]
      strategy: {strategy}
  - id: rest
    assign: sd-amr-price
"""


@pytest.fixture(scope="module")
def units() -> UnitDirectory:
    return UnitDirectory.from_file(ROOT / "units.yaml")


def _line(text: str, marker: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if marker in line)


def _problems(units, text: str):
    with pytest.raises(ConfigError) as caught:
        Dispatcher.from_yaml(units, text, file="rules.yaml")
    return caught.value.problems


def _store(db, refs: list[str], kind: str = "consultation") -> None:
    now = datetime.now(timezone.utc)
    with db.transaction() as s:
        store.ingest(s, "12345-shunde", "12345", [
            IncomingTicket(source_ref=ref, source_updated_at=now, received_at=now, kind=kind,
                           text="想咨询一下网购退货的规定。") for ref in refs])


def _assigned(db, refs: list[str]) -> list[str]:
    with db.transaction() as s:
        by_ref = dict(s.execute(select(Ticket.source_ref, Ticket.assigned_unit)
                                .where(Ticket.source_ref.in_(refs))).all())
    return [by_ref[ref] for ref in refs]


def test_unknown_unit_in_a_group_is_an_error_with_its_line(units):
    text = RULES.format(strategy="round_robin").replace("sd-amr-command", "sd-amr-nobody")
    problems = _problems(units, text)
    assert [(p.file, p.line, p.field) for p in problems] == [
        ("rules.yaml", _line(text, "sd-amr-nobody"), "rules[0].assign_group.units[1]")]
    assert "unknown unit" in problems[0].message


def test_group_needs_two_units_a_known_strategy_and_no_other_action(units):
    text = """\
rules:
  - id: one-unit
    assign_group: {units: [sd-amr-consumer], strategy: round_robin}
  - id: odd-strategy
    assign_group: {units: [sd-amr-consumer, sd-amr-command], strategy: random}
  - id: both
    assign: sd-amr-price
    assign_group: {units: [sd-amr-consumer, sd-amr-command], strategy: least_open}
"""
    by_line = {p.line: p.message for p in _problems(units, text)}
    assert "at least 2" in by_line[_line(text, "[sd-amr-consumer]")]
    assert "least_open" in by_line[_line(text, "strategy: random")]
    assert "this one has assign, assign_group" in by_line[_line(text, "id: both")]


def test_decision_carries_the_group_and_explains_it(units):
    from dispatch import TicketFacts

    dispatcher = Dispatcher.from_yaml(units, RULES.format(strategy="least_open"))
    decision = dispatcher.decide(TicketFacts(channel="12345-shunde", kind="consultation", text="咨询"))
    assert decision.unit_id == "sd-amr-consumer"            # the fallback: the first of the group
    assert decision.group_units == ("sd-amr-consumer", "sd-amr-command")
    assert decision.group_strategy == "least_open"
    assert "one of sd-amr-consumer, sd-amr-command (least_open)" in decision.reason
    other = dispatcher.decide(TicketFacts(channel="12345-shunde", kind="complaint", text="乱收费"))
    assert other.group_units == () and other.group_strategy is None


def test_round_robin_alternates_and_continues_across_runs_and_dispatchers(db, units):
    rules = RULES.format(strategy="round_robin")
    _store(db, ["R1", "R2", "R3"])
    assert dispatch_new(db, Dispatcher.from_yaml(units, rules)) == 3
    assert _assigned(db, ["R1", "R2", "R3"]) == ["sd-amr-consumer", "sd-amr-command", "sd-amr-consumer"]

    # A new dispatcher (as after a restart or on another worker) takes up where the counter stands.
    _store(db, ["R4", "R5", "C1"])
    _store(db, ["P1"], kind="complaint")
    assert dispatch_new(db, Dispatcher.from_yaml(units, rules)) == 4
    assert _assigned(db, ["R4", "R5", "C1", "P1"]) == [
        "sd-amr-command", "sd-amr-consumer", "sd-amr-command", "sd-amr-price"]

    with db.transaction() as s:
        details = [e.detail for e in s.scalars(select(TicketEvent).where(TicketEvent.action == "dispatched")
                                               .join(Ticket, Ticket.id == TicketEvent.ticket_id)
                                               .where(Ticket.source_ref == "R2"))]
    assert details[0]["unit"] == "sd-amr-command"
    assert details[0]["strategy"] == "round_robin"
    assert details[0]["group"] == ["sd-amr-consumer", "sd-amr-command"]


def test_least_open_picks_the_unit_with_fewer_open_tickets(db, units):
    # Three open tickets already with sd-amr-consumer, one with sd-amr-command; one closed one does not count.
    _store(db, ["O1", "O2", "O3", "O4", "O5"], kind="complaint")
    dispatch_new(db, Dispatcher.from_yaml(units, "rules:\n  - id: all\n    assign: sd-amr-consumer\n"))
    with db.transaction() as s:
        for ticket in s.scalars(select(Ticket).where(Ticket.source_ref.in_(["O4", "O5"]))):
            ticket.assigned_unit = "sd-amr-command"
        closed = s.scalar(select(Ticket).where(Ticket.source_ref == "O5"))
        closed.status = "closed"

    _store(db, ["L1", "L2", "L3", "L4"])
    dispatch_new(db, Dispatcher.from_yaml(units, RULES.format(strategy="least_open")))
    # Open load consumer:command 3:1 → command, 3:2 → command, 3:3 tie → consumer (listed first), 4:3 → command.
    assert _assigned(db, ["L1", "L2", "L3", "L4"]) == [
        "sd-amr-command", "sd-amr-command", "sd-amr-consumer", "sd-amr-command"]


def test_two_long_rule_ids_that_begin_alike_keep_turns_of_their_own(db, units):
    stem = "consultations-about-prepaid-cards-and-memberships-in-the-shopping-malls-of-"
    rules = f"""\
rules:
  - id: {stem}daliang
    when: {{kind: consultation}}
    assign_group: {{units: [sd-amr-consumer, sd-amr-command], strategy: round_robin}}
  - id: {stem}ronggui
    assign_group: {{units: [sd-amr-price, sd-amr-consumer], strategy: round_robin}}
"""
    _store(db, ["Q1"])
    _store(db, ["H1"], kind="help")
    dispatch_new(db, Dispatcher.from_yaml(units, rules))
    # each rule's first ticket goes to the first unit of its own group: neither took the other's turn
    assert _assigned(db, ["Q1", "H1"]) == ["sd-amr-consumer", "sd-amr-price"]
