"""The rollup kept current from the history equals the one rebuilt from scratch, and holds the day worked out by
hand (tests/stats/history.py): the CST day boundary, the reassigned, returned and duplicate tickets."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from stats import MEASURES, Deciders, StatsCell, StatsFact, catch_up, rebuild
from stats.hotwords import Segmenter
from stats.models import DIMENSIONS
from tickets import IncomingTicket, Ticket, handling, store


def ticket(s, ref: str) -> Ticket:
    return s.scalars(select(Ticket).where(Ticket.source_ref == ref)).one()


def cells(db) -> dict:
    with db.transaction() as s:
        rows = s.execute(select(StatsCell)).scalars()
        return {(c.day, *(getattr(c, d) for d in DIMENSIONS)): tuple(getattr(c, m) for m in MEASURES) for c in rows}


def total(db, day: date, measure: str, **dims) -> object:
    with db.transaction() as s:
        rows = s.scalars(select(StatsCell).where(StatsCell.day == day, *(
            getattr(StatsCell, d) == v for d, v in dims.items())))
        return sum((getattr(c, measure) for c in rows), 0)


def test_the_rollup_kept_current_equals_the_one_rebuilt_after_a_day_of_mixed_changes(db, steps):
    steps.take_in(db)
    assert catch_up(db) == 7          # received, linked, dispatched in bulk: every ticket is taken in
    steps.handle(db)
    catch_up(db)
    kept = cells(db)
    assert rebuild(db) == 7
    assert cells(db) == kept
    assert catch_up(db) == 0 or cells(db) == kept   # a catch-up after a rebuild changes nothing


def test_the_day_worked_out_by_hand(day):
    db = day
    catch_up(db)
    nov29, nov30 = date(2026, 11, 29), date(2026, 11, 30)
    # A at 23:50 CST belongs to the 29th; B at 00:10 CST (16:10 UTC on the 29th) to the 30th
    assert total(db, nov29, "tickets") == 1 and total(db, nov30, "tickets") == 3
    # D repeats B: a duplicate, not a second complaint
    assert total(db, nov30, "duplicates") == 1 and total(db, nov30, "tickets", channel="12315-gd") == 2
    # B was reassigned: it counts once, under the unit that has it now
    assert total(db, nov30, "tickets", unit="sd-amr-food") == 3
    assert total(db, nov30, "tickets", unit="st-daliang-01") == 0
    assert total(db, nov30, "returned", unit="sd-amr-food") == 1
    assert total(db, nov30, "accepted", unit="sd-amr-food") == 1
    assert total(db, nov29, "resolved", unit="st-daliang-01", outcome="settled") == 1
    assert total(db, nov29, "recovered") == Decimal("800")
    assert total(db, nov30, "tickets", kind="consultation") == 1


def test_a_change_after_the_catch_up_moves_the_count_rather_than_adding_one(db, steps):
    steps.take_in(db)
    catch_up(db)
    steps.handle(db)
    catch_up(db)
    catch_up(db)  # the last minutes of history are looked at again: nothing is counted twice
    assert total(db, date(2026, 11, 30), "tickets") == 3
    assert total(db, date(2026, 11, 30), "duplicates") == 1


@pytest.mark.postgres_only
def test_an_event_that_commits_after_a_later_one_is_still_taken_in(db, steps):
    """On PostgreSQL an event can get its id, then commit after an event with a higher id was taken in: the
    catch-up looks at the last minutes of history again, so the ticket it changed is counted as it is."""
    steps.take_in(db)
    catch_up(db)
    slow = db.sessions()   # holds its event, uncommitted, while another change commits and is taken in
    handling.return_to_source(slow, ticket(slow, "C"), "user:food", "不属于本区管辖")
    slow.flush()
    with db.transaction() as s:
        handling.accept(s, ticket(s, "E"), "user:food", "食品安全科")
    catch_up(db)
    slow.commit()
    slow.close()
    assert total(db, date(2026, 11, 30), "returned") == 0
    catch_up(db)
    assert total(db, date(2026, 11, 30), "returned") == 1
    kept = cells(db)
    rebuild(db)
    assert cells(db) == kept


@pytest.mark.postgres_only
def test_workers_catching_up_at_once_count_each_change_once(db, steps):
    steps.take_in(db)
    steps.handle(db)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: catch_up(db, batch=2), range(4)))
    kept = cells(db)
    rebuild(db)
    assert cells(db) == kept and total(db, date(2026, 11, 30), "tickets") == 3


def test_a_status_change_keeps_the_hot_words_without_cutting_the_text_again(db, steps):
    """Cutting words is the costly part of the catch-up: a ticket's text is cut when it comes in and again only
    when its source changes the text, not at each step of its handling."""
    segmenter = Segmenter.from_file()
    cut: list[str] = []

    def terms_of(t):
        cut.append(t.source_ref)
        return segmenter.terms_of(t)

    deciders = Deciders(terms_of=terms_of)
    steps.take_in(db)
    catch_up(db, deciders)
    assert sorted(cut) == ["A", "B", "C", "E", "F", "G"]   # D is a duplicate: counted under no word
    cut.clear()
    steps.handle(db)
    catch_up(db, deciders)
    assert cut == []
    with db.transaction() as s:   # the source sends B again with a new text
        b = ticket(s, "B")
        store.ingest(s, "12345-sd", "12345", [IncomingTicket(
            source_ref="B", source_updated_at=b.source_updated_at + timedelta(hours=1), received_at=b.received_at,
            title="投诉", text="火锅店短斤缺两，还收开台费")])
    catch_up(db, deciders)
    assert cut == ["B"]
    with db.transaction() as s:
        assert "开台费" in s.get(StatsFact, ticket(s, "B").id).terms
    kept = cells(db)
    rebuild(db, deciders)
    assert cells(db) == kept


@pytest.mark.postgres_only
def test_a_bi_tool_reads_the_views_with_a_role_that_may_only_read_them(db, db_url, steps):
    """Superset or Metabase connect to PostgreSQL as a role granted SELECT on the two views: they read the same
    counts as the figures, and cannot read the tickets (with the people in them) nor write."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ProgrammingError

    steps.take_in(db)
    steps.handle(db)
    catch_up(db, Deciders(terms_of=Segmenter.from_file().terms_of))
    role = "bi_" + uuid.uuid4().hex[:8]
    schema = db.engine.url.query["options"].split("=")[-1]
    with db.engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} NOLOGIN"))
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}'))
        conn.execute(text(f"GRANT SELECT ON bi_stats_daily, bi_hot_words_daily TO {role}"))
    try:
        with db.engine.connect() as conn:
            conn.execute(text(f"SET ROLE {role}"))
            rows = conn.execute(text("SELECT day, sum(tickets), sum(duplicates) FROM bi_stats_daily "
                                     "GROUP BY day ORDER BY day")).all()
            assert [(str(d), int(t), int(dup)) for d, t, dup in rows] == [
                ("2025-11-20", 1, 0), ("2026-10-15", 1, 0), ("2026-11-29", 1, 0), ("2026-11-30", 3, 1)]
            assert conn.execute(text("SELECT count(*) FROM bi_hot_words_daily")).scalar() > 0
            with pytest.raises(ProgrammingError, match="permission denied"):
                conn.execute(text("SELECT complainant_phone FROM tickets"))
            conn.rollback()
    finally:
        with db.engine.begin() as conn:
            conn.execute(text(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {role}'))
            conn.execute(text(f'REVOKE USAGE ON SCHEMA "{schema}" FROM {role}'))
            conn.execute(text(f"DROP ROLE {role}"))
