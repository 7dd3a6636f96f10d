"""The complainant's side of a ticket after intake: the progress page's token, their satisfaction answer (满意度,
1-5) and the call-back (回访) an unhappy answer calls for. notify.complainant texts them; this records what they say."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tickets import store
from tickets.db import utcnow
from tickets.models import Followup, Ticket, TicketEvent

RATING_WORDS = {1: "很不满意", 2: "不满意", 3: "基本满意", 4: "满意", 5: "很满意"}
CALL_BACK_AT_MOST = 2     # an answer of 1 or 2 puts the ticket in the back office's 回访 view
SATISFIED_FROM = 4        # 4 and 5 count as satisfied (满意率)
RATEABLE = frozenset({"resolved", "closed"})
ACTOR = "complainant"     # on the history: the person who complained, never by name
TOKEN_BYTES = 9           # 12 characters in the link: 72 bits, for a page that shows nothing personal


class NotRateable(ValueError):
    """The answer cannot be taken: not resolved yet, already answered, or not 1-5."""


def followup_of(session: Session, ticket_id: int) -> Optional[Followup]:
    return session.scalar(select(Followup).where(Followup.ticket_id == ticket_id))


def open_followup(session: Session, ticket: Ticket, phone: Optional[str]) -> Followup:
    """The ticket's follow-up, made on first need with a random token for its progress page."""
    found = followup_of(session, ticket.id)
    if found is not None:
        return found
    found = Followup(ticket_id=ticket.id, token=secrets.token_urlsafe(TOKEN_BYTES), phone=phone, created_at=utcnow())
    session.add(found)
    session.flush()
    return found


def by_token(session: Session, token: str) -> Optional[Followup]:
    if not token or len(token) > 32:
        return None
    return session.scalar(select(Followup).where(Followup.token == token))


def awaiting_answer(session: Session, phone: str) -> Optional[Followup]:
    """The newest follow-up of `phone` whose satisfaction question went out and is not answered yet."""
    return session.scalar(select(Followup).where(Followup.phone == phone, Followup.asked_at.is_not(None),
                                                 Followup.rating.is_(None)).order_by(Followup.asked_at.desc()).limit(1))


def record_rating(session: Session, followup: Followup, rating: int, via: str) -> TicketEvent:
    """Keep the complainant's answer on the ticket; 1 or 2 makes a call-back due (回访). One answer per ticket."""
    if rating not in RATING_WORDS:
        raise NotRateable("a satisfaction answer is 1 to 5")
    ticket = session.get(Ticket, followup.ticket_id, with_for_update=True)
    if ticket.status not in RATEABLE:
        raise NotRateable(f"ticket {ticket.number} is not resolved yet")
    if followup.rating is not None:
        raise NotRateable(f"ticket {ticket.number} was rated already")
    call_back = rating <= CALL_BACK_AT_MOST
    followup.rating, followup.rated_at, followup.rated_via = rating, utcnow(), via
    if call_back:
        followup.callback = "due"
    return store.add_event(session, ticket, "rated", ACTOR,
                           detail={"rating": rating, "via": via, "call_back": call_back})


def mark_called_back(session: Session, ticket: Ticket, actor: str, note: str) -> TicketEvent:
    """Staff called the unhappy complainant back (已回访): the ticket leaves the 回访 view, the note stays."""
    note = " ".join((note or "").split())
    if not note:
        raise ValueError("a call-back needs a note of what was said")
    found = followup_of(session, ticket.id)
    if found is None or found.callback != "due":
        raise ValueError(f"ticket {ticket.number} has no call-back due")
    found.callback, found.callback_done_at, found.callback_done_by = "done", utcnow(), actor[:64]
    return store.add_event(session, ticket, "called_back", actor, detail={"text": note[:2000]})


# --- what the public progress page shows: nothing personal ---------------------------------------

@dataclass(frozen=True)
class Progress:
    number: str
    kind: str
    status: str
    unit_id: Optional[str]
    received_at: datetime
    accepted_at: Optional[datetime]
    resolved_at: Optional[datetime]
    rating: Optional[int]
    can_rate: bool


def progress(session: Session, token: str) -> Optional[Progress]:
    """The ticket behind a progress link, as its complainant may read it without signing in: number, kind, status,
    the unit, dates and their own answer. Never the name, phone, address, story or result."""
    found = by_token(session, token)
    if found is None:
        return None
    ticket = session.get(Ticket, found.ticket_id)
    steps = {e.action: e.at for e in ticket.events if e.action in ("accepted", "resolved")}
    return Progress(ticket.number, ticket.kind, ticket.status, ticket.assigned_unit, ticket.received_at,
                    steps.get("accepted"), steps.get("resolved") if ticket.status in RATEABLE else None,
                    found.rating, ticket.status in RATEABLE and found.rating is None)


# --- what the statistics read -------------------------------------------------------------------

@dataclass(frozen=True)
class Rating:
    ticket_id: int
    number: str
    channel: str
    kind: str
    unit: Optional[str]
    town: Optional[str]
    business_name: Optional[str]
    rating: int
    via: str
    rated_at: datetime


def ratings(session: Session, since: Optional[datetime] = None, until: Optional[datetime] = None,
            unit: Optional[str] = None) -> list[Rating]:
    """Every satisfaction answer given in [since, until), with what the figures group by (unit, business, ...)."""
    stmt = (select(Followup, Ticket).join(Ticket, Ticket.id == Followup.ticket_id)
            .where(Followup.rating.is_not(None)).order_by(Followup.rated_at))
    if since is not None:
        stmt = stmt.where(Followup.rated_at >= since)
    if until is not None:
        stmt = stmt.where(Followup.rated_at < until)
    if unit is not None:
        stmt = stmt.where(Ticket.assigned_unit == unit)
    return [Rating(t.id, t.number, t.channel, t.kind, t.assigned_unit, t.town, t.business_name, f.rating,
                   f.rated_via or "", f.rated_at) for f, t in session.execute(stmt)]


@dataclass(frozen=True)
class Satisfaction:
    answers: int
    by_rating: dict[int, int]
    satisfied: int            # answers of 4 or 5
    call_backs_due: int

    @property
    def rate(self) -> Optional[float]:
        """满意率: the share of answers that are satisfied; None without answers."""
        return self.satisfied / self.answers if self.answers else None


def satisfaction(session: Session, since: Optional[datetime] = None, until: Optional[datetime] = None,
                 unit: Optional[str] = None) -> Satisfaction:
    """The answers in [since, until) counted: per score, satisfied, and call-backs still due."""
    found = ratings(session, since, until, unit)
    by_rating = {n: 0 for n in RATING_WORDS}
    for r in found:
        by_rating[r.rating] += 1
    due = select(func.count()).select_from(Followup).join(Ticket, Ticket.id == Followup.ticket_id).where(
        Followup.callback == "due", *([Ticket.assigned_unit == unit] if unit else []))
    due_count = session.scalar(due) or 0
    return Satisfaction(len(found), by_rating, sum(1 for r in found if r.rating >= SATISFIED_FROM), due_count)
