"""The back office's queue: views, search by number, phone and Chinese substrings, sorting, paging and scope."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select, update

from tickets import IncomingTicket, Ticket
from tickets import store, worklist
from tickets.states import OPEN_SQL
from tickets.worklist import BadQuery, Filters, Moments, Viewer

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=timezone(timedelta(hours=8)))
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)
MOMENTS = Moments(now=NOW, one_working_day=NOW + timedelta(days=1))


def rec(ref, **kw):
    fields = dict(title="空调不制冷", text="商场买的空调不制冷，商家拒绝维修")
    fields.update(kw)
    return IncomingTicket(source_ref=ref, source_updated_at=T0, received_at=T0, **fields)


@pytest.fixture
def queue(db):
    """Eight tickets in several states, units and deadlines."""
    with db.transaction() as s:
        store.ingest(s, "12345-sd", "12345", [
            rec("A", title="预付卡商家闭店", text="健身会所突然关门，预付卡无法退款", business_name="顺德壹号健身会所",
                complainant_phone="13800001111"),
            rec("B", title="外卖食品变质", text="在美团点的外卖有异味", business_name="容桂美食城"),
            rec("C"), rec("D"), rec("E"), rec("F"), rec("G"), rec("H", title="100%_退款 问题"),
        ])
        t = {x.source_ref: x for x in s.scalars(select(Ticket))}
        s.execute(update(Ticket).where(Ticket.id == t["A"].id).values(status="triage"))
        for ref, unit, due in (("B", "st-daliang-1", NOW + timedelta(hours=5)),
                               ("C", "st-daliang-1", NOW - timedelta(hours=1)),
                               ("D", "st-ronggui-1", NOW + timedelta(days=3)),
                               ("E", "st-ronggui-1", None)):
            s.execute(update(Ticket).where(Ticket.id == t[ref].id)
                      .values(status="dispatched", assigned_unit=unit, due_at=due))
        s.execute(update(Ticket).where(Ticket.id == t["F"].id).values(status="closed", assigned_unit="st-daliang-1"))
        s.execute(update(Ticket).where(Ticket.id == t["G"].id).values(status="duplicate", duplicate_of=t["C"].id))
    return db


def refs(page):
    return sorted(t.source_ref for t in page.tickets)


def test_each_view_holds_the_tickets_a_person_expects(queue):
    with queue.transaction() as s:
        assert refs(worklist.find(s, Filters(view="triage"), MOMENTS)) == ["A"]
        assert refs(worklist.find(s, Filters(view="new"), MOMENTS)) == ["H"]
        assert refs(worklist.find(s, Filters(view="due_soon"), MOMENTS)) == ["B"]
        assert refs(worklist.find(s, Filters(view="overdue"), MOMENTS)) == ["C"]
        assert refs(worklist.find(s, Filters(view="duplicates"), MOMENTS)) == ["G"]
        assert refs(worklist.find(s, Filters(view="closed"), MOMENTS)) == ["F"]
        assert refs(worklist.find(s, Filters(view="open"), MOMENTS)) == ["A", "B", "C", "D", "E", "H"]
        mine = Viewer(scope_units=None, own_units=frozenset({"st-daliang-1"}))
        assert refs(worklist.find(s, Filters(view="unit"), MOMENTS, mine)) == ["B", "C"]
        counts = worklist.view_counts(s, MOMENTS)
    assert counts == {"triage": 1, "new": 1, "unit": 0, "due_soon": 1, "overdue": 1, "duplicates": 1,
                      "open": 6, "closed": 1, "callback": 0, "all": 8}


def test_a_station_sees_only_the_tickets_its_units_hold(queue):
    station = Viewer(scope_units=frozenset({"st-ronggui-1"}), own_units=frozenset({"st-ronggui-1"}))
    with queue.transaction() as s:
        assert refs(worklist.find(s, Filters(view="open"), MOMENTS, station)) == ["D", "E"]
        assert refs(worklist.find(s, Filters(view="triage"), MOMENTS, station)) == []
        assert worklist.count(s, Filters(view="open", q="空调"), MOMENTS, station) == 2


@pytest.mark.parametrize("q, expected", [
    ("空调不制冷", ["C", "D", "E", "F", "G", "H"]),   # a Chinese substring of title or text, trigram index
    ("关门", ["A"]),                                  # two characters: shorter than a trigram
    ("壹号健身", ["A"]),                               # the business name
    ("13800001111", ["A"]),                           # the phone, exactly
    ("+86 138 0000 1111", ["A"]),                     # the same phone as people write it
    ("1380000", []),                                  # part of a phone finds nothing
    ("B", ["B"]),                                     # the source reference
    ("100%_", ["H"]),                                 # LIKE's wildcards are plain characters
    ("没有这样的投诉", []),
])
def test_search_finds_by_number_reference_phone_and_text(queue, q, expected):
    with queue.transaction() as s:
        assert refs(worklist.find(s, Filters(view="open", q=q), MOMENTS)) == [r for r in expected if r not in "FG"]
        everything = [worklist.find(s, Filters(view=v, q=q), MOMENTS).tickets for v in ("open", "closed", "duplicates")]
        assert sorted(t.source_ref for page in everything for t in page) == expected


def test_search_by_ticket_number(queue):
    with queue.transaction() as s:
        number = s.scalars(select(Ticket.number).where(Ticket.source_ref == "D")).one()
        assert refs(worklist.find(s, Filters(view="open", q=number.lower()), MOMENTS)) == ["D"]


def test_a_text_change_is_found_by_its_new_words(queue):
    with queue.transaction() as s:
        s.execute(update(Ticket).where(Ticket.source_ref == "D").values(text="热水器漏水"))
    with queue.transaction() as s:
        assert refs(worklist.find(s, Filters(view="open", q="热水器漏"), MOMENTS)) == ["D"]
        assert "D" not in refs(worklist.find(s, Filters(view="open", q="商家拒绝维修"), MOMENTS))


def test_pages_follow_each_other_without_gaps_or_repeats_in_any_order(queue):
    for sort in ("-received", "deadline", "-deadline", "unit", "-status", "title"):
        seen = []
        after = None
        with queue.transaction() as s:
            while True:
                page = worklist.find(s, Filters(view="open", sort=sort), MOMENTS, limit=2, after=after)
                seen += [t.source_ref for t in page.tickets]
                after = page.next_after
                if after is None:
                    break
        assert sorted(seen) == ["A", "B", "C", "D", "E", "H"], sort


def test_deadline_order_puts_the_most_urgent_first_and_tickets_without_one_last(queue):
    with queue.transaction() as s:
        page = worklist.find(s, Filters(view="open", sort="deadline"), MOMENTS)
    assert [t.source_ref for t in page.tickets][:3] == ["C", "B", "D"]


def test_unknown_views_sorts_and_page_markers_are_refused_with_what_is_allowed():
    with pytest.raises(BadQuery, match="unknown view 'mine'.*triage"):
        Filters(view="mine")
    with pytest.raises(BadQuery, match="cannot sort by 'phone'"):
        Filters(sort="phone")


def test_a_forged_page_marker_is_refused(queue):
    with queue.transaction() as s, pytest.raises(BadQuery, match="page marker"):
        worklist.find(s, Filters(), MOMENTS, after="not-a-marker")


def test_saved_views_are_a_persons_own_unless_a_lead_shares_them(queue):
    with queue.transaction() as s:
        worklist.save_view(s, "li", "大良超期", Filters(view="overdue", town="大良街道"))
        worklist.save_view(s, "wang", "容桂在办", Filters(view="open", town="容桂街道"), shared_unit="br-ronggui")
    with queue.transaction() as s:
        li = [v.name for v in worklist.saved_views(s, "li", units=["br-daliang"])]
        zhao = [v.name for v in worklist.saved_views(s, "zhao", units=["br-ronggui", "st-ronggui-1"])]
        saved = worklist.saved_views(s, "li")[0]
        assert Filters.from_query(dict(x.split("=") for x in saved.query.split("&"))).view == "overdue"
    assert li == ["大良超期"] and zhao == ["容桂在办"]


def test_live_changes_name_only_the_tickets_a_person_sees(queue):
    from tickets import handling

    with queue.transaction() as s:
        start, nothing = worklist.changes_since(s, None)
        assert nothing == []
        b, d = (s.scalars(select(Ticket).where(Ticket.source_ref == ref)).one() for ref in ("B", "D"))
        handling.add_note(s, b, "user:li", "已电话联系")
        handling.add_note(s, d, "user:li", "等待商家回复")
    station = Viewer(scope_units=frozenset({"st-ronggui-1"}), own_units=frozenset({"st-ronggui-1"}))
    with queue.transaction() as s:
        newest, everyone = worklist.changes_since(s, start)
        _, theirs = worklist.changes_since(s, start, station)
        assert worklist.changes_since(s, newest) == (newest, [])
    assert newest > start
    assert everyone == sorted([b.number, d.number]) and theirs == [d.number]



def _plan_of_find(db, view: str) -> str:
    """How the database reads the first page of a deadline view, as the queue asks for it."""
    asked = []
    listener = lambda conn, cursor, statement, params, context, many: asked.append((statement, params))  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        with db.transaction() as s:
            worklist.find(s, Filters(view=view), MOMENTS)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    statement, params = next((st, p) for st, p in asked if "FROM tickets" in st)
    with db.engine.connect() as c:
        cursor = c.connection.driver_connection.cursor()
        if db.engine.dialect.name == "postgresql":
            # A handful of rows: the planner would rather scan or sort them than walk an index.
            cursor.execute("SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off")
            cursor.execute("EXPLAIN " + statement, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


@pytest.mark.parametrize("view", ["due_soon", "overdue"])
def test_the_deadline_views_read_the_open_tickets_deadline_index_in_order(queue, view):
    plan = _plan_of_find(queue, view)
    assert "ix_tickets_open_due_at" in plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan


def test_the_open_deadline_index_says_open_as_the_queue_does():
    from importlib import import_module

    migration = import_module("tickets.migrations.versions.0011_open_deadlines")
    assert migration.OPEN_SQL == OPEN_SQL
