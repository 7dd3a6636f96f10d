"""The listings of SMS sent and received, for the command line and the pages: filters as keyword arguments,
a limit, newest first. Rows carry the ticket's number; phones are as stored, for the caller to mask."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from notify.models import SmsInbound, SmsMessage
from tickets.models import Ticket


@dataclass(frozen=True)
class Sent:
    message: SmsMessage
    ticket_number: Optional[str]


@dataclass(frozen=True)
class Received:
    message: SmsInbound
    ticket_number: Optional[str]


def list_sent(session: Session, *, ticket_id: Optional[int] = None, status: Optional[str] = None,
              unit: Optional[str] = None, limit: int = 50) -> list[Sent]:
    """Messages sent (or to send) about a ticket, in a delivery status, to a unit (each optional), newest first."""
    stmt = (select(SmsMessage, Ticket.number).outerjoin(Ticket, Ticket.id == SmsMessage.ticket_id)
            .order_by(SmsMessage.id.desc()).limit(limit))
    if ticket_id is not None:
        stmt = stmt.where(SmsMessage.ticket_id == ticket_id)
    if status:
        stmt = stmt.where(SmsMessage.status == status)
    if unit:
        stmt = stmt.where(SmsMessage.unit_id == unit)
    return [Sent(m, number) for m, number in session.execute(stmt)]


def list_received(session: Session, *, ticket_id: Optional[int] = None, outcome: Optional[str] = None,
                  limit: int = 50) -> list[Received]:
    """SMS received from staff, about a ticket, with an outcome (each optional), newest first."""
    stmt = (select(SmsInbound, Ticket.number).outerjoin(Ticket, Ticket.id == SmsInbound.ticket_id)
            .order_by(SmsInbound.id.desc()).limit(limit))
    if ticket_id is not None:
        stmt = stmt.where(SmsInbound.ticket_id == ticket_id)
    if outcome:
        stmt = stmt.where(SmsInbound.outcome == outcome)
    return [Received(m, number) for m, number in session.execute(stmt)]
