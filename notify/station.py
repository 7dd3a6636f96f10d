"""What a station's contact does through the link in their SMS: open it (the link must still be usable, and the
browser remembered for the contact the SMS went to), read their unit's tickets, and act on them. Each action is
the one function the SMS reply and the back office call, with the contact as the actor on the history."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

import structlog
from sqlalchemy.orm import Session

from notify import links
from notify.links import LinkRefused
from notify.outbound import e164
from tickets import handling, store
from tickets.attachments import add_photos, check_photo
from tickets.models import Ticket
from tickets.states import TransitionError

log = structlog.get_logger("notify")

# What a station may do to a ticket its unit holds, by status; any other status leaves the page read-only.
ACTIONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    "dispatched": ("accept", "contact", "resolve", "return", "reassign"),
    "accepted": ("contact", "resolve", "return", "reassign"),
    "in_progress": ("contact", "resolve", "reassign"),
}
ACTIONS = ("accept", "contact", "resolve", "return", "reassign")


class NeedsDigits(Exception):
    """This browser is not (or no longer) remembered for the contact the link was sent to."""


class NotOfUnit(Exception):
    """The ticket asked for is not held by the link's unit."""


@dataclass(frozen=True)
class Station:
    """A contact of a unit, acting through a usable link from a browser remembered for them."""

    link_id: int
    ticket_id: Optional[int]  # the link's own ticket; None for a digest's link
    unit_id: str
    unit_name: str
    contact_name: str
    phone: str
    ticket_number: Optional[str] = None

    @property
    def actor(self) -> str:
        return f"station:{self.contact_name}"[:64]


def open_station(session: Session, token: str, device_secret: Optional[str], units) -> Station:
    """The contact behind `token`. LinkRefused when the link is unknown, expired, locked or revoked, or its ticket
    or its contact has left the unit; NeedsDigits when this browser must first give the four digits."""
    link = links.find(session, token)
    unit = units.get(link.unit_id)
    contact = next((c for c in (unit.contacts if unit else []) if e164(c.phone) == link.phone), None)
    if contact is None:
        raise LinkRefused("revoked")  # no longer a contact of the unit (units.yaml changed)
    ticket = session.get(Ticket, link.ticket_id) if link.ticket_id is not None else None
    if link.ticket_id is not None and (ticket is None or ticket.assigned_unit != link.unit_id):
        raise LinkRefused("revoked")
    if links.device_phone(session, device_secret) != link.phone:
        raise NeedsDigits()
    return Station(link.id, link.ticket_id, link.unit_id, unit.name, contact.name, link.phone,
                   ticket.number if ticket is not None else None)


def ticket_of(session: Session, station: Station, number: str, for_update: bool = False) -> Ticket:
    """A ticket the station's unit holds (its own link's ticket, or another of the unit's); NotOfUnit otherwise."""
    try:
        ticket = store.get_by_number(session, number, for_update=for_update)
    except store.TicketNotFound:
        raise NotOfUnit(number)
    if ticket.assigned_unit != station.unit_id:
        raise NotOfUnit(number)
    return ticket


def actions_for(ticket: Ticket) -> tuple[str, ...]:
    return ACTIONS_BY_STATUS.get(ticket.status, ())


@dataclass(frozen=True)
class Step:
    """One action as the page's form gives it."""

    action: str
    result: str = ""
    outcome: Optional[str] = None
    recovered_amount: Optional[Decimal] = None
    reason: str = ""
    photos: tuple[bytes, ...] = ()


def act(session: Session, station: Station, ticket: Ticket, step: Step, photo_max_bytes: int) -> None:
    """Do `step` to `ticket` as the station's contact, in the caller's transaction. Refused with TransitionError
    (not in this status), ValueError (a result or reason missing) or NotAnImage (a photo not taken)."""
    from dispatch.reassign import request_reassignment

    if step.action not in actions_for(ticket):
        raise TransitionError(ticket.number, ticket.status, step.action)
    actor = station.actor
    if step.action == "accept":
        handling.accept(session, ticket, actor, station.unit_name)
    elif step.action == "contact":
        handling.mark_contacted(session, ticket, actor, "station")
    elif step.action == "resolve":
        for photo in step.photos:  # every photo checked before anything changes
            check_photo(photo, photo_max_bytes)
        ev = handling.resolve(session, ticket, actor, step.result, station.unit_name, handler=station.contact_name,
                              outcome=step.outcome, recovered_amount=step.recovered_amount)
        if step.photos:
            add_photos(session, ticket, actor, list(step.photos), photo_max_bytes, event_id=ev.id)
    elif step.action == "return":
        handling.return_to_source(session, ticket, actor, step.reason)
    elif step.action == "reassign":
        request_reassignment(session, ticket, actor, step.reason)
    log.info("station_action", action=step.action, ticket_id=ticket.id, unit=station.unit_id,
             link_id=station.link_id, photos=len(step.photos))
