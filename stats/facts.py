"""What a ticket counts as, read from the ticket, its history and its deadline clocks: the one place that says
which day, which dimension values and which handling measures a ticket adds to the rollup."""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Callable, Iterable, Optional, Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, lazyload

from sla.models import TicketClock
from stats.models import DIMENSIONS, MEASURES
from tickets.followup import SATISFIED_FROM
from tickets.models import Followup, Ticket, TicketEvent
from tickets.vocabulary import CHINA_TZ

# A ticket is taken on (受理) by the first move to one of these; it is resolved while in one of RESOLVED.
TAKEN_ON = frozenset({"accepted", "in_progress", "resolved"})
RESOLVED = frozenset({"resolved", "closed"})
ACCEPTANCE, RESOLUTION, FIRST_CONTACT = "acceptance", "resolution", "first_contact"
# The unit has reached the complainant (首次联系) at the first of these steps (a return says "not ours": no
# contact); a breach of any of the ticket's deadlines is 督办.
CONTACTED_BY = frozenset({"contacted", "accepted", "in_progress", "resolved"})
STEPS = ("contacted", "overdue")


@dataclass(frozen=True)
class Decision:
    """A dimension decided from the ticket's words (its industry), with what decided it."""

    value: str
    basis: Optional[str] = None


@dataclass
class Fact:
    """One ticket's contribution: its CST day, its dimension values and its measures."""

    ticket_id: int
    day: date
    dims: dict[str, str]
    measures: dict[str, object]
    industry_basis: Optional[str] = None
    terms: list[str] = field(default_factory=list)
    district_basis: Optional[str] = None
    text_digest: Optional[str] = None  # of the words the terms were cut from

    def row(self) -> dict:
        return {"ticket_id": self.ticket_id, "day": self.day, **self.dims, **self.measures,
                "industry_basis": self.industry_basis, "terms": self.terms, "district_basis": self.district_basis,
                "text_digest": self.text_digest}


# Decide a ticket's industry, its business district and its hot words; none until stats is given its files.
IndustryOf = Callable[[Ticket], Decision]
DistrictOf = Callable[[Ticket], Decision]
TermsOf = Callable[[Ticket], list[str]]


def cst_day(moment: datetime) -> date:
    """The day in China Standard Time a moment falls on."""
    return moment.astimezone(CHINA_TZ).date()


def facts_of(session: Session, ticket_ids: Sequence[int], industry_of: Optional[IndustryOf] = None,
             terms_of: Optional[TermsOf] = None, district_of: Optional[DistrictOf] = None,
             known_terms: Optional[dict[int, tuple[Optional[str], list]]] = None) -> dict[int, Fact]:
    """The facts of the tickets that exist among `ticket_ids`, read in four statements whatever their number.
    `known_terms` (ticket id → text digest, terms) spares cutting a text again that has not changed."""
    if not ticket_ids:
        return {}
    tickets = list(session.scalars(select(Ticket).options(lazyload(Ticket.events)).where(Ticket.id.in_(ticket_ids))))
    history: dict[int, list[tuple]] = defaultdict(list)
    for row in session.execute(select(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.to_status, TicketEvent.action)
                               .where(TicketEvent.ticket_id.in_(ticket_ids),
                                      or_(TicketEvent.to_status.is_not(None), TicketEvent.action.in_(STEPS)))
                               .order_by(TicketEvent.id)):
        history[row.ticket_id].append((row.at, row.to_status or row.action))
    clocks: dict[int, dict[str, Optional[datetime]]] = defaultdict(dict)
    for row in session.execute(select(TicketClock.ticket_id, TicketClock.clock, TicketClock.due_at)
                               .where(TicketClock.ticket_id.in_(ticket_ids),
                                      TicketClock.clock.in_((ACCEPTANCE, RESOLUTION, FIRST_CONTACT)))):
        clocks[row.ticket_id][row.clock] = row.due_at
    ratings = dict(session.execute(select(Followup.ticket_id, Followup.rating).where(
        Followup.ticket_id.in_(ticket_ids), Followup.rating.is_not(None))).all())
    known_terms = known_terms or {}
    return {t.id: fact_of(t, history[t.id], clocks[t.id], industry_of, terms_of, ratings.get(t.id), district_of,
                          known_terms.get(t.id)) for t in tickets}


def fact_of(ticket: Ticket, history: Iterable[tuple[datetime, str]], due: dict[str, Optional[datetime]],
            industry_of: Optional[IndustryOf] = None, terms_of: Optional[TermsOf] = None,
            rating: Optional[int] = None, district_of: Optional[DistrictOf] = None,
            known: Optional[tuple[Optional[str], list]] = None) -> Fact:
    """A ticket's fact. Every measure is of the ticket received that day: taken on within its acceptance
    deadline (a ticket with no such clock is on time when taken on), resolved now and by its resolution
    deadline, returned at least once, the amount recovered for the consumer, the complainant's answer
    (满意度, satisfied at 4 or 5), the complainant reached within the first-contact deadline (one working hour
    from dispatch: the Shunde promise), and escalated (督办: a deadline of it breached)."""
    history = list(history)
    duplicate = ticket.status == "duplicate"
    taken_on = next((at for at, to in history if to in TAKEN_ON), None)
    resolved_at = None
    if ticket.status in RESOLVED:
        resolved_at = next((at for at, to in reversed(history) if to == "resolved"), None)
    contacted = next((at for at, step in history if step in CONTACTED_BY), None)
    contact_due = due.get(FIRST_CONTACT)
    accept_due = due.get(ACCEPTANCE)
    resolve_due = due.get(RESOLUTION, ticket.due_at)
    counted = 0 if duplicate else 1
    decision = industry_of(ticket) if industry_of and not duplicate else Decision("")
    district = district_of(ticket) if district_of and not duplicate else Decision("")
    measures = {
        "tickets": counted,
        "duplicates": 1 - counted,
        "accepted": counted if taken_on else 0,
        "accepted_on_time": counted if taken_on and (accept_due is None or taken_on <= accept_due) else 0,
        "resolved": counted if resolved_at else 0,
        "resolved_on_time": counted if resolved_at and (resolve_due is None or resolved_at <= resolve_due) else 0,
        "returned": counted if any(to == "returned" for _, to in history) else 0,
        "accept_seconds": _seconds(ticket.received_at, taken_on) if counted else 0,
        "resolve_seconds": _seconds(ticket.received_at, resolved_at) if counted else 0,
        "recovered": Decimal(ticket.recovered_amount or 0) if counted and resolved_at else Decimal("0"),
        "rated": counted if rating is not None else 0,
        "satisfied": counted if rating is not None and rating >= SATISFIED_FROM else 0,
        "first_contact": counted if contact_due else 0,
        "first_contact_on_time": counted if contact_due and contacted and contacted <= contact_due else 0,
        "escalated": counted if any(step == "overdue" for _, step in history) else 0,
    }
    dims = {"channel": ticket.channel, "kind": ticket.kind or "", "category": ticket.category or "",
            "industry": decision.value, "district": district.value, "town": ticket.town or "", "station": ticket.station or "",
            "unit": ticket.assigned_unit or "", "outcome": (ticket.outcome or "") if resolved_at else ""}
    assert set(dims) == set(DIMENSIONS) and set(measures) == set(MEASURES)
    terms, digest = [], None
    if terms_of and not duplicate:
        digest = text_digest(ticket)
        terms = list(known[1]) if known and known[0] == digest else terms_of(ticket)
    return Fact(ticket.id, cst_day(ticket.received_at), dims, measures, decision.basis, terms, district.basis,
                digest)


def text_digest(ticket: Ticket) -> str:
    """A short digest of the words hot words are cut from: a status change leaves it, and the terms, as they were."""
    return hashlib.blake2b(f"{ticket.title or ''}\x00{ticket.text or ''}".encode("utf-8", "surrogatepass"),
                           digest_size=8).hexdigest()


def _seconds(start: datetime, end: Optional[datetime]) -> int:
    return max(0, int((end - start).total_seconds())) if end else 0
