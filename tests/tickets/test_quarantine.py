"""An operator ends a quarantined record's stay: discarded with a reason kept on the record, or taken in again
from the 12345 stand-in once the hotline has fixed it, becoming a ticket like any other."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from connectors import build_connector
from connectors.reread import CannotReread, reread
from tickets import BadRecord, store
from tickets.quarantine import QuarantineRefused, discard, take_in
from tickets.queries import find_by_source_ref, list_quarantined

CHANNEL = "12345-sd"


def hotline_connector(hotline):
    return build_connector(CHANNEL, "12345", {"base_url": hotline.base_url, "app_id": "oq-test",
                                              "app_secret": "s3cret", "page_size": 20, "timeout_seconds": 3})


def pull_into(db, conn):
    for batch in conn.pull(None):
        with db.transaction() as s:
            store.ingest(s, CHANNEL, "12345", batch.records)
            store.quarantine(s, CHANNEL, batch.bad)


def set_aside(db, raw, ref=None, reason="LDSJ: not a time"):
    with db.transaction() as s:
        store.quarantine(s, CHANNEL, [BadRecord(raw=raw, reason=reason, source_ref=ref)])
        return list_quarantined(s, channel=CHANNEL)[0].id


def test_a_discarded_record_keeps_the_reason_and_who_and_leaves_the_open_list(db):
    record_id = set_aside(db, {"GDBH": "X1", "LDSJ": "N/A"}, "X1")
    with db.transaction() as s:
        with pytest.raises(QuarantineRefused, match="原因"):
            discard(s, record_id, "  ", "user:ops1")
    with db.transaction() as s:
        discard(s, record_id, "热线测试数据", "user:ops1")
    with db.transaction() as s:
        q = list_quarantined(s)[0]
        assert (q.resolution, q.resolution_note, q.resolved_by) == ("discarded", "热线测试数据", "user:ops1")
        assert q.resolved_at is not None
    with db.transaction() as s, pytest.raises(QuarantineRefused, match="已处理"):
        discard(s, record_id, "again", "user:ops1")
    with db.transaction() as s, pytest.raises(LookupError):
        discard(s, record_id + 99, "no such", "user:ops1")


def test_a_record_the_hotline_fixed_is_taken_in_as_a_ticket(db, hotline):
    # given an order whose call time breaks the contract, set aside by a pull
    broken = hotline.add_orders(0, malformed=2)[1]
    ref = broken["GDBH"]
    assert ref
    conn = hotline_connector(hotline)
    pull_into(db, conn)
    with db.transaction() as s:
        record = next(q for q in list_quarantined(s) if q.source_ref == ref)
        record_id = record.id
    # while the hotline has not fixed it, taking it in is refused with the reason, and it stays set aside
    with db.transaction() as s, pytest.raises(QuarantineRefused, match="仍不合规"):
        take_in(s, record_id, "12345", lambda r, since: reread(conn, r, since), "user:ops1")
    with db.transaction() as s:
        assert find_by_source_ref(s, CHANNEL, ref) is None
        assert list_quarantined(s)[0].resolved_at is None
    # when the hotline fixes the call time, the record is read again and stored as a ticket
    hotline.update_order(ref, LDSJ=datetime.now(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S"))
    with db.transaction() as s:
        ticket = take_in(s, record_id, "12345", lambda r, since: reread(conn, r, since), "user:ops1")
        number = ticket.number
    with db.transaction() as s:
        ticket = find_by_source_ref(s, CHANNEL, ref)
        assert ticket.number == number and ticket.status == "new"
        q = next(q for q in list_quarantined(s) if q.id == record_id)
        assert (q.resolution, q.resolution_note) == ("taken_in", number)


def test_a_record_without_its_source_reference_cannot_be_read_again(db, hotline):
    record_id = set_aside(db, {"LDSJ": "N/A"}, None, "GDBH (work-order number) is missing")
    conn = hotline_connector(hotline)
    with db.transaction() as s, pytest.raises(QuarantineRefused, match="没有来源编号"):
        take_in(s, record_id, "12345", lambda r, since: reread(conn, r, since), "user:ops1")


def test_a_kind_that_cannot_read_its_source_again_says_so():
    conn = build_connector("walkin", "walk_in", {})
    with pytest.raises(CannotReread, match="重新推送"):
        reread(conn, "st-1:abc", datetime.now(timezone.utc))
