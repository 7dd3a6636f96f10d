"""The listings staff, pages and Open311 read: each filter narrows, newest comes first, the limit holds; and a
record registered twice at once, from two connections, is one ticket."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from tickets import IncomingTicket, store
from tickets.db import Database
from tickets.intake import register
from tickets.queries import find_by_source_ref, find_in_channel, list_quarantined, list_tickets, search_channel
from tickets import BadRecord

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=timezone(timedelta(hours=8)))
FINISHED = frozenset({"resolved", "closed", "rejected", "withdrawn", "returned"})


def rec(ref, days=0, **kw):
    at = T0 + timedelta(days=days)
    return IncomingTicket(source_ref=ref, source_updated_at=at, received_at=at, title="预付卡商家闭店",
                          text="健身会所突然关门", **kw)


def _numbers(tickets):
    return [t.source_ref for t in tickets]


def test_tickets_are_listed_newest_first_by_status_unit_and_channel_up_to_the_limit(db):
    with db.transaction() as s:
        store.ingest(s, "hotline", "12345", [rec("H1"), rec("H2"), rec("H3")])
        store.ingest(s, "web", "web_push", [rec("W1")])
        h2 = find_by_source_ref(s, "hotline", "H2")
        store.transition(s, h2, "dispatched", "test", "dispatched")
        h2.assigned_unit = "st-daliang-01"
    with db.transaction() as s:
        assert _numbers(list_tickets(s)) == ["W1", "H3", "H2", "H1"]
        assert _numbers(list_tickets(s, channel="hotline", limit=2)) == ["H3", "H2"]
        assert _numbers(list_tickets(s, status="dispatched")) == ["H2"]
        assert _numbers(list_tickets(s, unit="st-daliang-01", status="new")) == []
        number = find_by_source_ref(s, "web", "W1").number
        assert find_in_channel(s, "web", number).source_ref == "W1"
        assert find_in_channel(s, "hotline", number) is None  # a channel sees only its own


def test_a_channel_is_searched_by_number_time_finished_and_service_code(db):
    with db.transaction() as s:
        store.ingest(s, "open311", "open311", [
            rec("R1", days=-100, payload={"service_code": "price"}),
            rec("R2", days=-2, payload={"service_code": "price"}),
            rec("R3", days=-1, payload={"service_code": "food"}),
            rec("R4", payload={"service_code": "price"}),
        ])
        r4 = find_by_source_ref(s, "open311", "R4")
        store.transition(s, r4, "withdrawn", "test", "withdrawn")
        numbers = {ref: find_by_source_ref(s, "open311", ref).number for ref in ("R1", "R2", "R3", "R4")}
    since = T0 - timedelta(days=90)
    with db.transaction() as s:
        assert _numbers(search_channel(s, "open311", received_from=since, received_to=T0)) == ["R4", "R3", "R2"]
        assert _numbers(search_channel(s, "open311", numbers=[numbers["R1"], numbers["R3"]])) == ["R3", "R1"]
        assert _numbers(search_channel(s, "open311", finished=True, finished_statuses=FINISHED)) == ["R4"]
        assert _numbers(search_channel(s, "open311", finished=False, finished_statuses=FINISHED)) == ["R3", "R2", "R1"]
        assert _numbers(search_channel(s, "open311", service_codes={"price"}, limit=2)) == ["R4", "R2"]
        assert _numbers(search_channel(s, "open311", limit=1)) == ["R4"]
        assert search_channel(s, "hotline") == []


def test_records_set_aside_are_listed_newest_first_by_channel(db):
    with db.transaction() as s:
        store.quarantine(s, "hotline", [BadRecord(raw={"a": 1}, reason="GDBH missing")])
        store.quarantine(s, "mail", [BadRecord(raw={"b": 2}, reason="no sender")])
        store.quarantine(s, "hotline", [BadRecord(raw={"c": 3}, reason="LDSJ is not a date", source_ref="Z")])
    with db.transaction() as s:
        assert [q.reason for q in list_quarantined(s)] == ["LDSJ is not a date", "no sender", "GDBH missing"]
        assert [q.reason for q in list_quarantined(s, channel="hotline", limit=1)] == ["LDSJ is not a date"]


def test_a_record_registered_again_is_the_same_ticket(db):
    with db.transaction() as s:
        first = register(s, "web", "web_push", rec("P1"))
    with db.transaction() as s:
        again = register(s, "web", "web_push", rec("P1"))
        assert (first.created, again.created) == (True, False)
        assert again.ticket.number == first.ticket.number
        assert len(list_tickets(s)) == 1


def test_a_record_registered_twice_at_the_same_moment_is_one_ticket(db_url, db):
    # given one request has stored the record but not yet committed
    other = Database(db_url)
    stored = threading.Event()
    answers = {}

    def first():
        with other.transaction() as s:
            answers["first"] = register(s, "web", "web_push", rec("P1")).created
            stored.set()
            threading.Event().wait(0.5)  # the second request arrives meanwhile
            answers["first_number"] = find_by_source_ref(s, "web", "P1").number

    thread = threading.Thread(target=first)
    thread.start()
    stored.wait(10)
    try:
        # when a second request registers the same reference
        with db.transaction() as s:
            got = register(s, "web", "web_push", rec("P1"))
            answers["second"], answers["second_number"] = got.created, got.ticket.number
    finally:
        thread.join()
        other.dispose()
    # then both answer with the one ticket, and only the first created it
    assert (answers["first"], answers["second"]) == (True, False)
    assert answers["first_number"] == answers["second_number"]
    with db.transaction() as s:
        assert _numbers(list_tickets(s)) == ["P1"]
