"""Registering one record as it arrives (a walk-in typed at the counter, a partner's push, an Open311 request),
answering with the ticket it became: the same reference registered again is the same ticket."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tickets import store
from tickets.models import Ticket
from tickets.queries import find_by_source_ref
from tickets.schema import IncomingTicket


@dataclass(frozen=True)
class Registered:
    ticket: Ticket
    created: bool


def register(session: Session, channel: str, channel_kind: str, record: IncomingTicket) -> Registered:
    """Store `record` once in the caller's transaction: a reference seen before (a retry, a replay) is the same
    ticket, updated only when the record carries a newer source time."""
    existing = find_by_source_ref(session, channel, record.source_ref)
    try:
        with session.begin_nested():
            store.ingest(session, channel, channel_kind, [record])
    except IntegrityError:
        # another request stored the same reference at the same moment; theirs is the ticket
        existing = find_by_source_ref(session, channel, record.source_ref)
        if existing is None:
            raise
        return Registered(existing, False)
    return Registered(existing or find_by_source_ref(session, channel, record.source_ref), existing is None)
