"""Storing one record a partner pushed, in a transaction of its own: a new ticket, or the ticket the same
reference already became."""
from __future__ import annotations

from dataclasses import dataclass

from tickets.db import Database
from tickets.intake import register
from tickets.schema import IncomingTicket


@dataclass(frozen=True)
class Received:
    number: str
    status: str
    created: bool


def receive(db: Database, channel: str, channel_kind: str, record: IncomingTicket) -> Received:
    """Register `record` and commit; called from a thread of the web server's pool."""
    with db.transaction() as s:
        got = register(s, channel, channel_kind, record)
        return Received(got.ticket.number, got.ticket.status, got.created)
