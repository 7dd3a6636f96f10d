"""The steps staff take on a ticket from the back office: resolve with an outcome and an amount, contact, note, link."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from tickets import IncomingTicket, Ticket, TransitionError
from tickets import duplicates, handling, store
from writeback import OutboxItem

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture
def two(db):
    with db.transaction() as s:
        store.ingest(s, "12345-sd", "12345", [
            IncomingTicket(source_ref=ref, source_updated_at=T0, received_at=T0, title="预付卡退款", text="健身房关门")
            for ref in ("A", "B")])
        for t in s.scalars(select(Ticket)):
            store.transition(s, t, "dispatched", "dispatch", "dispatched", {"unit": "st-daliang-1"})
            t.assigned_unit = "st-daliang-1"
    return db


def ticket(s, ref):
    return s.scalars(select(Ticket).where(Ticket.source_ref == ref)).one()


def test_a_resolution_keeps_its_outcome_and_amount_and_writes_back_the_result(two):
    with two.transaction() as s:
        handling.resolve(s, ticket(s, "A"), "user:li", "商家退还预付款800元", "大良市场监管所",
                         outcome="settled", recovered_amount=Decimal("800"))
    with two.transaction() as s:
        a = ticket(s, "A")
        assert (a.status, a.outcome, a.recovered_amount) == ("resolved", "settled", Decimal("800.00"))
        assert a.events[-1].actor == "user:li" and a.events[-1].detail["outcome"] == "settled"
        effects = [o.effect for o in s.scalars(select(OutboxItem).where(OutboxItem.ticket_id == a.id))]
        assert effects == ["accepted", "resolved"]


def test_an_unknown_outcome_or_a_negative_amount_is_refused_and_changes_nothing(two):
    with pytest.raises(ValueError, match="unknown outcome 'won'.*settled"):
        with two.transaction() as s:
            handling.resolve(s, ticket(s, "A"), "user:li", "已处理", "所", outcome="won")
    with pytest.raises(ValueError, match="cannot be negative"):
        with two.transaction() as s:
            handling.resolve(s, ticket(s, "A"), "user:li", "已处理", "所", recovered_amount=Decimal("-1"))
    with two.transaction() as s:
        assert ticket(s, "A").status == "dispatched"


def test_contact_and_notes_go_on_the_history_and_nothing_is_written_back(two):
    with two.transaction() as s:
        handling.mark_contacted(s, ticket(s, "A"), "user:li", "web")
        handling.add_note(s, ticket(s, "A"), "user:li", "消费者要求下午回电")
    with two.transaction() as s:
        a = ticket(s, "A")
        assert [(e.action, e.actor) for e in a.events][-2:] == [("contacted", "user:li"), ("note", "user:li")]
        assert a.events[-1].detail == {"text": "消费者要求下午回电"}
        assert s.scalars(select(OutboxItem).where(OutboxItem.ticket_id == a.id)).first() is None
    with pytest.raises(ValueError, match="needs some text"):
        with two.transaction() as s:
            handling.add_note(s, ticket(s, "A"), "user:li", "  ")


def test_a_closed_ticket_cannot_be_marked_contacted(two):
    with two.transaction() as s:
        handling.resolve(s, ticket(s, "A"), "user:li", "已退款", "所")
    with pytest.raises(TransitionError, match="cannot become contacted"):
        with two.transaction() as s:
            handling.mark_contacted(s, ticket(s, "A"), "user:li", "web")


def test_staff_link_a_ticket_to_the_one_it_repeats_and_unlink_it_again(two):
    with two.transaction() as s:
        b = ticket(s, "B")
        store.transition(s, b, "triage", "dispatch", "triage")
        duplicates.link(s, b, ticket(s, "A"), "user:li")
    with two.transaction() as s:
        b, a = ticket(s, "B"), ticket(s, "A")
        assert (b.status, b.duplicate_of) == ("duplicate", a.id)
        assert a.events[-1].action == "duplicate_added"
        with pytest.raises(ValueError, match="itself"):
            duplicates.link(s, a, a, "user:li")
        duplicates.unlink(s, b, "user:li")
    with two.transaction() as s:
        assert ticket(s, "B").status == "new" and ticket(s, "B").duplicate_of is None
