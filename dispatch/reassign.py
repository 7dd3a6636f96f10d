"""Staff override a dispatch decision: a `dispatched` event that names who, from which unit to which, and why,
and the dispatch SMS to the new unit's contacts, planned in the same transaction."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlalchemy.orm import Session

from dispatch.learning import record_correction
from notify import plan_dispatch_sms
from tickets import store
from tickets.models import Ticket, TicketEvent
from tickets.states import TransitionError


class UnknownUnit(LookupError):
    pass


@dataclass(frozen=True)
class Reassigned:
    number: str
    status: str
    unit_id: str
    unit_name: str
    previous_unit: Optional[str]
    sms_planned: int


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


def request_reassignment(session: Session, ticket: Ticket, actor: str, reason: str) -> TicketEvent:
    """The unit holding the ticket asks the back office to send it elsewhere (请求改派): it leaves the unit and goes
    to triage (待分派) with the reason on its history, for a person to dispatch it again."""
    if not reason.strip():
        raise ValueError("a request to reassign needs a reason, for the back office")
    if ticket.status not in ("dispatched", "accepted", "in_progress"):
        raise TransitionError(ticket.number, ticket.status, "triage")
    ev = store.transition(session, ticket, "triage", actor, "reassign_requested",
                          {"previous_unit": ticket.assigned_unit, "reason": reason})
    ticket.assigned_unit = None
    return ev


def reassign_and_text(session: Session, number: str, units, unit_id: str, actor: str, reason: str,
                      template: str) -> Reassigned:
    """Staff send the ticket numbered `number` to `unit_id` of the directory `units`, and its contacts get the
    dispatch SMS (`template`); a station chosen for an address the gazetteer could not read is recorded, for
    `onequeue gazetteer suggestions`. Refused with UnknownUnit, TicketNotFound, TransitionError or ValueError."""
    unit = units.get(unit_id)
    if unit is None:
        raise UnknownUnit(f"no unit {unit_id!r} in the units directory")
    ticket = store.get_by_number(session, number, for_update=True)
    previous = ticket.assigned_unit
    reassign(session, ticket, unit.id, actor, reason)
    record_correction(session, ticket, unit, units, actor)
    texts = plan_dispatch_sms(session, ticket, unit, template)
    return Reassigned(ticket.number, ticket.status, unit.id, unit.name, previous, texts)
