"""The conformance suite every connector kind that pulls must pass, shipped with the package so that a
third-party kind (joining through the `onequeue.connectors` entry-point group) runs it against its own stand-in.

A kind joins by a small adapter: a subclass of `SourceAdapter` that starts its stand-in and knows how to add,
change and break records there and count the effects it received. In a test module:

    from connectors.testing import conformance_suite
    TestMyKind = conformance_suite([MyKindAdapter])

The suite's tests take a `db` fixture, a migrated onequeue database (`tickets.migrate.upgrade`), that the
caller's conftest provides; onequeue's own runs each test on SQLite and PostgreSQL.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterable

import pytest
from sqlalchemy import func, select, update

from connectors.base import Connector, WriteBackRequest
from connectors.poll import poll_channel
from tickets import QuarantinedRecord, Ticket, TicketEvent, handling, store
from tickets.db import utcnow
from writeback import DeliveryPolicy, OutboxItem, deliver_due

BATCH = 3  # records per page or batch, so that a handful of records takes several batches


class SourceAdapter:
    """What the suite needs from a kind: its stand-in, driven as the real source would change."""

    kind: str
    # the outbox effects the source records (the suite resolves a ticket, which accepts it first)
    effects: tuple[str, ...] = ("accepted", "resolved")
    # whether a source record can change after it was first pulled (an e-mail cannot)
    records_change: bool = True

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def connector(self) -> Connector:
        """A connector of the kind, reading BATCH records per page or batch."""
        raise NotImplementedError

    def add_records(self, n: int) -> list[str]:
        """n new well-formed records at the source; their source references."""
        raise NotImplementedError

    def update_record(self, ref: str) -> None:
        """A change to a known record that the queue must see as an update: its text gains （补充：商家仍未回复）."""
        raise NotImplementedError

    def add_malformed(self) -> None:
        """One record that breaks the source's contract."""
        raise NotImplementedError

    def effect_count(self, ref: str, effect: str) -> int:
        """How many times the source has applied `effect` (accepted, resolved, returned) to `ref`."""
        raise NotImplementedError


def tickets_of(db, channel: str) -> list[Ticket]:
    with db.transaction() as s:
        return list(s.scalars(select(Ticket).where(Ticket.channel == channel)))


class ConformanceTests:
    """The behaviours, each the same for every kind towards the queue: first pull, repeat pull, update,
    malformed record, crash mid-batch, repeated write-back. `conformance_suite` binds them to adapters."""

    def test_first_pull_takes_every_record_and_a_repeat_pull_finds_nothing_new(self, db, source):
        refs = source.add_records(7)
        conn = source.connector()
        first = poll_channel(db, conn, "w1")
        assert first.error is None and first.created == 7 and first.batches >= 2
        assert sorted(t.source_ref for t in tickets_of(db, conn.name)) == sorted(refs)
        again = poll_channel(db, conn, "w1")
        assert again.error is None and (again.created, again.updated, again.quarantined) == (0, 0, 0)

    def test_an_update_to_a_known_record_updates_its_ticket(self, db, changing_source):
        source = changing_source
        refs = source.add_records(4)
        conn = source.connector()
        poll_channel(db, conn, "w1")
        source.update_record(refs[1])
        report = poll_channel(db, conn, "w1")
        assert (report.created, report.updated) == (0, 1)
        (ticket,) = [t for t in tickets_of(db, conn.name) if t.source_ref == refs[1]]
        assert "（补充：商家仍未回复）" in ticket.text
        assert [e.action for e in ticket.events] == ["received", "source_updated"]

    def test_a_malformed_record_is_quarantined_once_and_the_rest_go_in(self, db, source):
        source.add_records(2)
        source.add_malformed()
        source.add_records(2)
        conn = source.connector()
        report = poll_channel(db, conn, "w1")
        assert report.created == 4 and report.quarantined >= 1
        poll_channel(db, conn, "w1")
        with db.transaction() as s:
            held = list(s.scalars(select(QuarantinedRecord).where(QuarantinedRecord.channel == conn.name)))
        assert len(held) == 1 and held[0].reason

    def test_a_crash_mid_batch_loses_nothing_and_doubles_nothing_after_resume(self, db, source):
        refs = source.add_records(10)
        conn = source.connector()
        batches = {"n": 0}

        def die_in_second_batch(session, result):
            batches["n"] += 1
            if batches["n"] == 2:
                raise RuntimeError("the worker died here")

        crashed = poll_channel(db, conn, "w1", hooks=[die_in_second_batch])
        assert crashed.error and crashed.batches == 1
        resumed = poll_channel(db, source.connector(), "w1")
        assert resumed.error is None
        assert crashed.created + resumed.created == 10
        tickets = tickets_of(db, conn.name)
        assert sorted(t.source_ref for t in tickets) == sorted(refs)
        with db.transaction() as s:
            received = s.scalar(select(func.count()).select_from(TicketEvent).where(
                TicketEvent.action == "received", TicketEvent.ticket_id.in_([t.id for t in tickets])))
        assert received == 10

    def test_a_repeated_write_back_takes_effect_once(self, db, source):
        ref = source.add_records(1)[0]
        conn = source.connector()
        poll_channel(db, conn, "w1")
        with db.transaction() as s:
            ticket = s.scalars(select(Ticket).where(Ticket.channel == conn.name)).one()
            store.transition(s, ticket, "dispatched", "test", "dispatched")
            ticket.assigned_unit = "st-daliang-01"
            handling.resolve(s, ticket, "staff:test", "已协调商家退款，消费者表示满意。", "大良升平消费维权服务站")
        policy = DeliveryPolicy(backoff_seconds=0.01)
        assert deliver_due(db, {conn.name: conn}, "w1", policy).delivered == 2
        # when every write-back is delivered again (a worker died before it could mark them delivered)
        with db.transaction() as s:
            s.execute(update(OutboxItem).values(status="pending", next_attempt_at=utcnow()))
        assert deliver_due(db, {conn.name: conn}, "w1", policy).delivered == 2
        # and the source is sent the same effect directly once more
        with db.transaction() as s:
            item = s.scalars(select(OutboxItem).where(OutboxItem.effect == "resolved")).one()
            request = WriteBackRequest(item.source_ref, item.effect, item.key, dict(item.body))
        assert conn.write_back(request).outcome in ("done", "already_done")
        # then the source applied each effect once
        assert Counter({e: source.effect_count(ref, e) for e in source.effects}) == Counter(
            {e: 1 for e in source.effects})


def conformance_suite(adapters: Iterable[type[SourceAdapter]]) -> type[ConformanceTests]:
    """A test class running the suite against each adapter's stand-in; assign it to a `Test...` name."""
    adapters = list(adapters)
    changing = [a for a in adapters if a.records_change]

    class Suite(ConformanceTests):
        @pytest.fixture(params=adapters, ids=lambda a: a.kind)
        def source(self, request, tmp_path):
            adapter = request.param(tmp_path)
            adapter.start()
            yield adapter
            adapter.stop()

        @pytest.fixture(params=changing, ids=lambda a: a.kind)
        def changing_source(self, request, tmp_path):
            adapter = request.param(tmp_path)
            adapter.start()
            yield adapter
            adapter.stop()

    return Suite
