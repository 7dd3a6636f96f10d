"""Which SMS a ticket's changes call for: the dispatch notice to the unit's contacts, the recall notice."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from notify.outbound import LinkTo, Planned, Recipient, plan, plan_many
from tickets.models import Ticket, TicketEvent
from tickets.vocabulary import is_urgent, kind_label, priority_label


# Title and place are cut so that the default dispatch notice, link included, stays within two segments (134
# characters) whatever the ticket holds, for a web.public_url of up to 21 characters; the page shows them whole.
TITLE_CHARS, PLACE_CHARS = 30, 24


def ticket_values(ticket: Ticket) -> dict:
    return {
        "number": ticket.number,
        "kind": kind_label(ticket.kind),
        "priority": priority_label(ticket.priority),
        "title": (ticket.title or ticket.text or "")[:TITLE_CHARS],
        "place": (ticket.event_address or ticket.business_address or ticket.town or "未明")[:PLACE_CHARS],
        "business": ticket.business_name or "",
    }


def _last_event_id(session: Session, ticket: Ticket, action: str) -> int:
    return session.scalar(
        select(TicketEvent.id).where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == action)
        .order_by(TicketEvent.id.desc()).limit(1)
    ) or 0


def recipients_of(unit) -> list[Recipient]:
    return [Recipient(c.phone, c.name, c.role) for c in (unit.contacts if unit is not None else [])]


def plan_dispatch_sms(session: Session, ticket: Ticket, unit, template: str, event_id: Optional[int] = None) -> int:
    """One message to each contact of the unit the ticket was dispatched to (once per dispatch event)."""
    event_id = event_id or _last_event_id(session, ticket, "dispatched")
    return plan_many(session, [dispatch_notice(ticket, unit, template, event_id)])


def dispatch_notice(ticket: Ticket, unit, template: str, event_id: int) -> Planned:
    """The dispatch notice of one dispatch event, for `plan_many`."""
    return Planned(key=f"dispatched:{ticket.id}:{event_id}", ticket_id=ticket.id, unit_id=ticket.assigned_unit,
                   purpose="dispatched", recipients=recipients_of(unit), template=template,
                   values=ticket_values(ticket), urgent=is_urgent(ticket.priority),
                   link=LinkTo(ticket.assigned_unit, ticket.id) if ticket.assigned_unit else None)


def plan_recall_sms(session: Session, ticket: Ticket, unit, template: str) -> int:
    """Tell the unit that had the ticket that its source withdrew it."""
    event_id = _last_event_id(session, ticket, "withdrawn")
    return plan(session, key=f"recalled:{ticket.id}:{event_id}", ticket_id=ticket.id, unit_id=unit.id if unit else None,
                purpose="recalled", recipients=recipients_of(unit), template=template, values=ticket_values(ticket),
                urgent=True)
