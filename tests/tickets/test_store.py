"""The store keeps each source record once, updates it when the source changes it, and refuses bad transitions."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from tickets import BadRecord, IncomingTicket, Ticket, TicketEvent, TransitionError
from tickets import store
from tickets.models import QuarantinedRecord

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def rec(ref, minutes=0, **kw):
    return IncomingTicket(source_ref=ref, source_updated_at=T0 + timedelta(minutes=minutes), received_at=T0,
                          title="预付卡商家闭店无法退款", text="健身会所突然关门", **kw)


def test_the_same_record_twice_is_one_ticket_and_a_newer_version_updates_it(db):
    with db.transaction() as s:
        first = store.ingest(s, "12345-sd", "12345", [rec("A"), rec("B")])
    with db.transaction() as s:
        again = store.ingest(s, "12345-sd", "12345", [rec("A"), rec("B", minutes=5, source_status="已撤销", withdrawn=True)])
    assert len(first.created) == 2
    assert again.created == [] and again.unchanged == 1 and len(again.updated) == 1
    with db.transaction() as s:
        tickets = {t.source_ref: t for t in s.scalars(select(Ticket))}
        assert tickets["B"].status == "withdrawn"
        assert tickets["A"].number.startswith("SD") and tickets["A"].number != tickets["B"].number
        actions = [e.action for e in s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == tickets["B"].id))]
        assert actions == ["received", "source_updated", "withdrawn"]


def test_a_forbidden_transition_is_refused_and_changes_nothing(db):
    with db.transaction() as s:
        store.ingest(s, "c", "12345", [rec("A")])
    with pytest.raises(TransitionError, match="cannot become resolved"):
        with db.transaction() as s:
            t = s.scalars(select(Ticket)).one()
            store.transition(s, t, "resolved", "staff:x", "resolved")
    with db.transaction() as s:
        t = s.scalars(select(Ticket)).one()
        assert t.status == "new"
        assert s.scalar(select(func.count()).select_from(TicketEvent)) == 1


def test_quarantine_keeps_each_bad_record_once_with_its_reason(db):
    bad = [BadRecord(raw={"BT": "x"}, reason="GDBH missing"), BadRecord(raw={"GDBH": "Z", "LDSJ": "?"}, reason="LDSJ is not a date", source_ref="Z")]
    with db.transaction() as s:
        store.quarantine(s, "c", bad)
    with db.transaction() as s:
        store.quarantine(s, "c", bad)
    with db.transaction() as s:
        rows = s.scalars(select(QuarantinedRecord).order_by(QuarantinedRecord.id)).all()
        assert [r.reason for r in rows] == ["GDBH missing", "LDSJ is not a date"]


def test_ticket_numbers_are_unique_per_month_across_batches(db):
    with db.transaction() as s:
        a = store.next_numbers(s, 3)
    with db.transaction() as s:
        b = store.next_numbers(s, 2)
    assert len(set(a + b)) == 5
    assert [int(n.split("-")[1]) for n in a + b] == [1, 2, 3, 4, 5]


def test_a_channel_lease_keeps_a_second_poller_out(db):
    with db.transaction() as s:
        assert store.take_channel_lease(s, "c", "w1", 60) is not None
    with db.transaction() as s:
        assert store.take_channel_lease(s, "c", "w2", 60) is None
    with db.transaction() as s:
        store.release_channel_lease(s, "c", "w1")
    with db.transaction() as s:
        assert store.take_channel_lease(s, "c", "w2", 60) is not None
