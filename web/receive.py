"""Storing one record a partner pushed: a new ticket, or the ticket the same reference already became."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tickets import store
from tickets.db import Database
from tickets.models import Ticket
from tickets.schema import IncomingTicket


@dataclass(frozen=True)
class Received:
    number: str
    status: str
    created: bool


def _find(session, channel: str, source_ref: str):
    return session.scalars(select(Ticket).where(Ticket.channel == channel, Ticket.source_ref == source_ref)).first()


def receive(db: Database, channel: str, channel_kind: str, record: IncomingTicket) -> Received:
    """Store `record` once: the same reference pushed again (a retry, a replay) is the same ticket, and is
    updated only when it carries a newer source time."""
    try:
        with db.transaction() as s:
            existing = _find(s, channel, record.source_ref)
            created = existing is None
            store.ingest(s, channel, channel_kind, [record])
            ticket = existing or _find(s, channel, record.source_ref)
            return Received(ticket.number, ticket.status, created)
    except IntegrityError:
        # the same reference pushed twice at once: the other request stored it
        with db.transaction() as s:
            ticket = _find(s, channel, record.source_ref)
            if ticket is None:
                raise
            return Received(ticket.number, ticket.status, False)
