"""Staff override a dispatch decision: a `dispatched` event that names who, from which unit to which, and why."""
from __future__ import annotations

from sqlalchemy.orm import Session

from tickets import store
from tickets.models import Ticket, TicketEvent


def reassign(session: Session, ticket: Ticket, unit_id: str, actor: str, reason: str) -> TicketEvent:
    """Send `ticket` to `unit_id`; the caller plans the new unit's SMS in the same transaction."""
    if not reason.strip():
        raise ValueError("a reassignment needs a reason, for the history")
    if ticket.status == "dispatched" and ticket.assigned_unit == unit_id:
        raise ValueError(f"ticket {ticket.number} is already dispatched to {unit_id}")
    ev = store.transition(session, ticket, "dispatched", actor, "dispatched",
                          {"unit": unit_id, "previous_unit": ticket.assigned_unit, "reason": reason,
                           "reassigned": True})
    ticket.assigned_unit = unit_id
    return ev
