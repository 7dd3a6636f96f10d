"""What follows when a source withdraws a ticket: the unit that had it is told, and the tickets merged into it
stand on their own again, since the matter lives on in the channels they came in by."""
from __future__ import annotations

from sqlalchemy.orm import Session

from notify import plan_recall_sms
from tickets.duplicates import release
from tickets.models import Ticket
from tickets.store import IngestResult


def withdrawn_at_source(session: Session, result: IngestResult, units, recall_template: str) -> None:
    """For a batch just stored: a recall SMS for each ticket withdrawn after a unit had it, and the duplicates of
    each withdrawn ticket released. `units` is the directory the unit contacts are read from."""
    for ticket_id in result.recalled:
        ticket = session.get(Ticket, ticket_id)
        unit = units.get(ticket.assigned_unit) if ticket.assigned_unit else None
        plan_recall_sms(session, ticket, unit, recall_template)
    for ticket_id in result.withdrawn:
        release(session, session.get(Ticket, ticket_id), "connector")
