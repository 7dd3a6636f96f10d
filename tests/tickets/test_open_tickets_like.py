"""Before staff register a visit, they are warned of open tickets from the same phone (in any stored form) or
about the same business; finished tickets and other people's do not warn."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tickets import IncomingTicket, store
from tickets.queries import find_by_source_ref, open_tickets_like

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def rec(ref, phone=None, business=None):
    return IncomingTicket(source_ref=ref, source_updated_at=T0, received_at=T0, title="预付卡商家闭店",
                          text="健身会所突然关门", complainant_phone=phone, business_name=business)


def refs(tickets):
    return sorted(t.source_ref for t in tickets)


def test_open_tickets_of_the_same_phone_or_business_are_found(db):
    with db.transaction() as s:
        store.ingest(s, "hotline", "12345", [
            rec("A", phone="+8613800138000"), rec("B", phone="13800138000", business="某某健身"),
            rec("C", business="佛山市顺德区某某健身有限公司"), rec("D", phone="13900139000", business="另一家店"),
            rec("E", phone="13800138000")])
        finished = find_by_source_ref(s, "hotline", "E")
        store.transition(s, finished, "withdrawn", "test", "withdrawn")
    with db.transaction() as s:
        assert refs(open_tickets_like(s, phone="138 0013 8000")) == ["A", "B"]
        assert refs(open_tickets_like(s, business="某某健身")) == ["B", "C"]
        assert refs(open_tickets_like(s, phone="13800138000", business="某某健身有限公司")) == ["A", "B", "C"]
        assert open_tickets_like(s, phone="13700137000", business="无关商家") == []
        assert open_tickets_like(s, phone="", business="店") == []   # too little to identify anyone
        assert refs(open_tickets_like(s, business="50%_")) == []      # wildcards are only characters
