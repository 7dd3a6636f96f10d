"""A small day of tickets whose figures are worked out by hand in the tests: a ticket just before a China-Standard-
Time midnight and one just after it, a reassigned ticket, a returned one, a duplicate, a resolution with an amount.

    A  12345  2026-11-29 23:50  投诉  → st-daliang-01, accepted, resolved settled, ¥800 recovered, rated 5
    B  12345  2026-11-30 00:10  投诉  → st-daliang-01, reassigned to sd-amr-food; at 华盖路步行街 (a 商圈)
    C  12315  2026-11-30 09:00  投诉  → sd-amr-food, returned ("not ours")
    D  12315  2026-11-30 10:00  投诉  the same matter as B: a duplicate of B, never dispatched
    E  12315  2026-11-30 11:00  咨询  → sd-amr-food, accepted
    F  12345  2026-10-15 10:00  投诉  → st-daliang-01 (the month before)
    G  12315  2025-11-20 10:00  投诉  → sd-amr-food (the same month a year before)

Dispatch starts the deadline clocks of config.yaml's policies, as the worker does.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from dispatch import Dispatcher, UnitDirectory
from dispatch.job import dispatch_new
from dispatch.reassign import reassign
from settings.config_schema import load_config
from sla import Deadlines, start_clocks_many
from tickets import IncomingTicket, Ticket, duplicates, followup, handling, store

ROOT = Path(__file__).resolve().parents[2]
CST = timezone(timedelta(hours=8))
RULES = """\
rules:
  - id: hotline-to-daliang
    when: {channel: 12345-sd}
    assign: st-daliang-01
  - id: rest
    assign: sd-amr-food
"""


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=CST)


def incoming(ref: str, received: datetime, kind: str = "complaint", **kw) -> IncomingTicket:
    return IncomingTicket(source_ref=ref, source_updated_at=received, received_at=received, kind=kind,
                          title=kw.pop("title", "投诉"), text=kw.pop("text", "消费纠纷"), **kw)


def ticket(s, ref: str) -> Ticket:
    return s.scalars(select(Ticket).where(Ticket.source_ref == ref)).one()


def take_in(db) -> None:
    """Store the five tickets, link the duplicate and dispatch the rest with the real dispatch job."""
    with db.transaction() as s:
        store.ingest(s, "12345-sd", "12345", [
            incoming("A", at(29, 23, 50), business_name="顺德某健身会所", text="预付卡办了年卡，健身房突然关门"),
            incoming("B", at(30, 0, 10), business_name="大良某火锅店", text="火锅店短斤缺两",
                     event_address="顺德区大良华盖路步行街18号"),
            incoming("F", datetime(2026, 10, 15, 10, tzinfo=CST), text="健身房预付卡退费难")])
        store.ingest(s, "12315-gd", "12315", [
            incoming("C", at(30, 9), business_name="外区某公司", text="不属于顺德的投诉"),
            incoming("D", at(30, 10), business_name="大良某火锅店", text="火锅店短斤缺两，再次投诉",
                     event_address="顺德区大良华盖路步行街18号"),
            incoming("E", at(30, 11), kind="consultation", text="七天无理由退货怎么办"),
            incoming("G", datetime(2025, 11, 20, 10, tzinfo=CST), text="小区门口的店不开发票")])
    with db.transaction() as s:
        duplicates.link(s, ticket(s, "D"), ticket(s, "B"), "user:li")
    units = UnitDirectory.from_file(ROOT / "units.yaml")
    config = load_config(ROOT / "config.yaml")
    deadlines = Deadlines(config.sla, units=lambda: units)
    dispatch_new(db, Dispatcher.from_yaml(units, RULES), hooks=[
        lambda s, done: start_clocks_many(s, deadlines, [(d.ticket, d.unit) for d in done])])


def handle(db) -> None:
    """Then the units work: A accepted and resolved, and its complainant answers 5 (很满意); B reassigned, C
    returned, E accepted, and G, a year late, accepted past its acceptance deadline."""
    with db.transaction() as s:
        handling.accept(s, ticket(s, "A"), "user:st1", "大良市场监管所")
        handling.resolve(s, ticket(s, "A"), "user:st1", "商家退还预付款800元", "大良市场监管所",
                         outcome="settled", recovered_amount=Decimal("800"))
    with db.transaction() as s:
        a = ticket(s, "A")
        followup.record_rating(s, followup.open_followup(s, a, "+8613800000001"), 5, "sms")
    with db.transaction() as s:
        reassign(s, ticket(s, "B"), "sd-amr-food", "user:li", "食品经营，转食品科")
    with db.transaction() as s:
        handling.return_to_source(s, ticket(s, "C"), "user:food", "不属于本区管辖")
        handling.accept(s, ticket(s, "E"), "user:food", "食品安全科")
        handling.accept(s, ticket(s, "G"), "user:food", "食品安全科")


@pytest.fixture
def day(db):
    """The database with the day's tickets taken in and handled, the rollup not yet caught up."""
    take_in(db)
    handle(db)
    return db


@pytest.fixture
def steps():
    """The day's two steps, to be taken one at a time: `steps.take_in(db)`, `steps.handle(db)`."""
    from types import SimpleNamespace

    return SimpleNamespace(take_in=take_in, handle=handle)
