"""The listings of tickets and of records set aside, for the command line, the pages and Open311: filters as
keyword arguments, a limit, newest first. Each takes a session and only reads."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Optional

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, lazyload

from tickets.duplicates import business_stem, phone_forms
from tickets.models import QuarantinedRecord, Ticket
from tickets.states import OPEN_STATUSES
from tickets import worklist
from tickets.db import utcnow
from tickets.worklist import Filters, Moments, escape_like


def list_tickets(session: Session, *, status: Optional[str] = None, unit: Optional[str] = None,
                 channel: Optional[str] = None, limit: int = 50) -> list[Ticket]:
    """Tickets in a status, with a unit, from a channel (each filter optional), newest first: the queue's own
    query (tickets.worklist), as the command line asks it."""
    filters = Filters(view="all", status=status or "", unit=unit or "", channel=channel or "")
    now = utcnow()
    return worklist.find(session, filters, Moments(now, now), limit=limit).tickets


def find_by_source_ref(session: Session, channel: str, source_ref: str) -> Optional[Ticket]:
    """The ticket a channel's record became, or None."""
    return session.scalars(select(Ticket).where(Ticket.channel == channel, Ticket.source_ref == source_ref)).first()


def find_in_channel(session: Session, channel: str, number: str) -> Optional[Ticket]:
    """The ticket numbered `number` if it came from `channel`, or None (a client sees only its channel's)."""
    return session.scalars(select(Ticket).where(Ticket.channel == channel, Ticket.number == number)).first()


def search_channel(session: Session, channel: str, *, numbers: Optional[Collection[str]] = None,
                   received_from: Optional[datetime] = None, received_to: Optional[datetime] = None,
                   finished: Optional[bool] = None, finished_statuses: Collection[str] = (),
                   service_codes: Optional[Collection[str]] = None, limit: int = 100) -> list[Ticket]:
    """A channel's tickets, newest first: with these numbers, received in [received_from, received_to],
    finished or not (in `finished_statuses`, or a duplicate that has a result), filed under one of
    `service_codes` (the `service_code` in the record as received)."""
    stmt = select(Ticket).where(Ticket.channel == channel).order_by(Ticket.id.desc())
    if numbers is not None:
        stmt = stmt.where(Ticket.number.in_(list(numbers)))
    if received_from is not None:
        stmt = stmt.where(Ticket.received_at >= received_from)
    if received_to is not None:
        stmt = stmt.where(Ticket.received_at <= received_to)
    if finished is not None:
        done = or_(Ticket.status.in_(list(finished_statuses)),
                   and_(Ticket.status == "duplicate", Ticket.result_text.is_not(None)))
        stmt = stmt.where(done if finished else ~done)
    if not service_codes:
        return list(session.scalars(stmt.limit(limit)))
    found: list[Ticket] = []
    for ticket in session.scalars(stmt):  # the code is inside the payload: read on until `limit` match
        if (ticket.payload or {}).get("service_code") in service_codes:
            found.append(ticket)
            if len(found) >= limit:
                break
    return found


def open_tickets_like(session: Session, *, phone: Optional[str] = None, business: Optional[str] = None,
                      limit: int = 10) -> list[Ticket]:
    """Open tickets from the same phone (in any of its stored forms) or about the same business, newest first:
    what staff are warned of before they register a visit again."""
    found = []
    forms = phone_forms(phone)
    if forms:
        found.append(Ticket.complainant_phone.in_(forms))
    stem = business_stem(business)
    if len(stem) >= 2:
        found.append(Ticket.business_name.like(f"%{escape_like(stem)}%", escape="\\"))
    if not found:
        return []
    stmt = (select(Ticket).where(Ticket.status.in_(sorted(OPEN_STATUSES)), or_(*found))
            .order_by(Ticket.id.desc()).limit(limit))
    return list(session.scalars(stmt))


def list_quarantined(session: Session, *, channel: Optional[str] = None, limit: int = 100) -> list[QuarantinedRecord]:
    """Records set aside with their reasons, from one channel or all, newest first."""
    stmt = select(QuarantinedRecord).order_by(QuarantinedRecord.id.desc()).limit(limit)
    if channel:
        stmt = stmt.where(QuarantinedRecord.channel == channel)
    return list(session.scalars(stmt))


def open_of_unit(session: Session, unit_id: str, limit: int = 100) -> list[Ticket]:
    """The unit's open tickets, the one due first at the top (those with no deadline last), for the station's page."""
    stmt = (select(Ticket).where(Ticket.assigned_unit == unit_id,
                                 Ticket.status.in_(("dispatched", "accepted", "in_progress")))
            .order_by(Ticket.due_at.is_(None), Ticket.due_at, Ticket.id).limit(limit).options(lazyload(Ticket.events)))
    return list(session.scalars(stmt))
