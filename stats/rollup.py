"""Keeping the rollup current: a job follows the tickets' history (every change is an event row, however it was
inserted) from a stored high-water mark, recomputes the fact of each ticket it names and moves the ticket's counts
from its old cell to its new one. Recomputing is idempotent, so the job also looks again at the last minutes of
history, where an event may commit after one with a higher id; and `rebuild` makes the same rollup from scratch."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Optional, Sequence

import structlog
from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import Session, lazyload

from stats.facts import DistrictOf, Fact, IndustryOf, TermsOf, facts_of, text_digest
from stats.models import DIMENSIONS, MEASURES, StatsCell, StatsFact, StatsTermCell
from tickets.db import Database, utcnow
from tickets.marks import hold_mark, set_mark
from tickets.models import Counter, Ticket, TicketEvent
from tickets.upsert import dialect_insert

log = structlog.get_logger("stats")

MARK = "stats:last_event"  # the counters row holding the id of the last event the rollup has taken in
# An event inserted before another may commit after it: the catch-up looks again at this much recent history
# (and at most this many events back, so the look costs a range of the primary key, not a scan).
LOOK_BACK = timedelta(minutes=2)
LOOK_BACK_EVENTS = 20000


@dataclass(frozen=True)
class Deciders:
    """How a ticket's industry and hot words are decided (the taxonomy and the segmenter, from configuration)."""

    industry_of: Optional[IndustryOf] = None
    terms_of: Optional[TermsOf] = None
    district_of: Optional[DistrictOf] = None


def catch_up(db: Database, deciders: Deciders = Deciders(), batch: int = 2000,
             stopping: Callable[[], bool] = lambda: False) -> int:
    """Take the history written since the last run into the rollup; returns the tickets recomputed. Safe in
    several workers at once: each run holds the mark's row while it works."""
    done = 0
    while not stopping():
        cut = _cut_ahead(db, deciders, batch)
        with db.transaction() as s:
            mark = hold_mark(s, MARK)
            rows = s.execute(select(TicketEvent.id, TicketEvent.ticket_id).where(TicketEvent.id > mark)
                             .order_by(TicketEvent.id).limit(batch)).all()
            ids = {r.ticket_id for r in rows}
            if done == 0:  # once per run: the recent history again, through the primary key's range
                since = utcnow() - LOOK_BACK
                ids.update(s.scalars(select(TicketEvent.ticket_id).distinct().where(
                    TicketEvent.id > mark - LOOK_BACK_EVENTS, TicketEvent.id <= mark, TicketEvent.at >= since)))
            refresh(s, sorted(ids), deciders, cut)
            if rows:
                set_mark(s, MARK, rows[-1].id)
            done += len(ids)
        if len(rows) < batch:
            break
    if done:
        log.info("stats_caught_up", tickets=done)
    return done


def _cut_ahead(db: Database, deciders: Deciders, batch: int) -> dict[int, tuple[str, list]]:
    """The hot words of the tickets the next round takes in whose text is new to the rollup, cut before the round
    holds the mark (ticket id → text digest, terms): cutting is the slow part, and on SQLite the round's
    transaction keeps dispatch and SMS from the database while it lasts."""
    if deciders.terms_of is None:
        return {}
    with db.transaction() as s:
        mark = s.scalar(select(Counter.value).where(Counter.name == MARK)) or 0
        changed = (select(TicketEvent.ticket_id).where(TicketEvent.id > mark).order_by(TicketEvent.id)
                   .limit(batch).scalar_subquery())
        tickets = list(s.scalars(select(Ticket).options(lazyload(Ticket.events)).where(Ticket.id.in_(changed))))
        known = dict(s.execute(select(StatsFact.ticket_id, StatsFact.text_digest)
                               .where(StatsFact.ticket_id.in_([t.id for t in tickets]))).all())
    out = {}
    for ticket in tickets:
        digest = text_digest(ticket)
        if ticket.status != "duplicate" and known.get(ticket.id) != digest:
            out[ticket.id] = (digest, deciders.terms_of(ticket))
    return out


def refresh(session: Session, ticket_ids: Sequence[int], deciders: Deciders = Deciders(),
            cut: Optional[dict[int, tuple[str, list]]] = None) -> None:
    """Recompute these tickets' facts and move their counts from the cells they were in to the cells they are in;
    `cut` holds terms already cut (ticket id → text digest, terms)."""
    for start in range(0, len(ticket_ids), 500):
        chunk = list(ticket_ids[start:start + 500])
        old = {f["ticket_id"]: f for f in session.execute(
            select(StatsFact.__table__).where(StatsFact.ticket_id.in_(chunk))).mappings()}
        known = {tid: (f["text_digest"], f["terms"] or []) for tid, f in old.items()}
        known.update({tid: cut[tid] for tid in chunk if cut and tid in cut})
        new = facts_of(session, chunk, deciders.industry_of, deciders.terms_of, deciders.district_of, known)
        cells: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(MEASURES, 0))
        terms: dict[tuple, int] = defaultdict(int)
        for tid in chunk:
            before, after = old.get(tid), new.get(tid)
            if before is not None:
                _add(cells, terms, _stored(before), -1)
            if after is not None:
                _add(cells, terms, after, +1)
        _apply(session, cells, terms)
        if old:
            session.execute(delete(StatsFact).where(StatsFact.ticket_id.in_(list(old))))
        if new:
            session.execute(StatsFact.__table__.insert(), [f.row() for f in new.values()])


def rebuild(db: Database, deciders: Deciders = Deciders(), batch: int = 2000) -> int:
    """Make the rollup again from every ticket, in one transaction; returns the tickets counted."""
    with db.transaction() as s:
        hold_mark(s, MARK)
        top = s.scalar(select(func.max(TicketEvent.id))) or 0
        for table in (StatsTermCell, StatsCell, StatsFact):
            s.execute(delete(table))
        last, counted = 0, 0
        while True:
            ids = list(s.scalars(select(Ticket.id).where(Ticket.id > last).order_by(Ticket.id).limit(batch)))
            if not ids:
                break
            refresh(s, ids, deciders)
            s.expunge_all()  # a million tickets are not kept in the session
            last, counted = ids[-1], counted + len(ids)
        set_mark(s, MARK, top)
    log.info("stats_rebuilt", tickets=counted)
    return counted




def _stored(row) -> Fact:
    """A fact as it was stored, to be taken out of its cells."""
    return Fact(row["ticket_id"], row["day"], {d: row[d] for d in DIMENSIONS}, {m: row[m] for m in MEASURES},
                row["industry_basis"], list(row["terms"] or []), row["district_basis"], row["text_digest"])


def _add(cells: dict, terms: dict, fact, sign: int) -> None:
    key = (fact.day, *(fact.dims[d] for d in DIMENSIONS))
    cell = cells[key]
    for m in MEASURES:
        cell[m] += sign * fact.measures[m]
    for term in fact.terms:
        terms[(fact.day, fact.dims["unit"], term)] += sign


def _apply(session: Session, cells: dict, terms: dict) -> None:
    rows = [{"day": k[0], **dict(zip(DIMENSIONS, k[1:])), **v} for k, v in cells.items()
            if any(v[m] for m in MEASURES)]
    if rows:
        t = StatsCell.__table__
        ins = dialect_insert(session, StatsCell)
        ins = ins.on_conflict_do_update(index_elements=["day", *DIMENSIONS],
                                        set_={m: t.c[m] + ins.excluded[m] for m in MEASURES})
        session.execute(ins, rows)
        keys = [(r["day"], *(r[d] for d in DIMENSIONS)) for r in rows]
        session.execute(delete(StatsCell).where(
            tuple_(StatsCell.day, *(StatsCell.__table__.c[d] for d in DIMENSIONS)).in_(keys),
            StatsCell.tickets == 0, StatsCell.duplicates == 0))
    term_rows = [{"day": k[0], "unit": k[1], "term": k[2], "tickets": n} for k, n in terms.items() if n]
    if term_rows:
        t = StatsTermCell.__table__
        ins = dialect_insert(session, StatsTermCell)
        ins = ins.on_conflict_do_update(index_elements=["day", "unit", "term"],
                                        set_={"tickets": t.c.tickets + ins.excluded.tickets})
        session.execute(ins, term_rows)
        session.execute(delete(StatsTermCell).where(
            tuple_(StatsTermCell.day, StatsTermCell.unit, StatsTermCell.term).in_(
                [(r["day"], r["unit"], r["term"]) for r in term_rows]), StatsTermCell.tickets == 0))
