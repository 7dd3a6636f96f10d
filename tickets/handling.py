"""What staff do to a ticket (accept, resolve, return), each with the write-back its source must learn."""
from __future__ import annotations

from typing import Optional

from sqlalchemy.orm import Session

from tickets import duplicates, store
from tickets.db import utcnow
from tickets.models import Ticket, TicketEvent
from writeback import enqueue

CST_FORMAT = "%Y-%m-%dT%H:%M:%S+08:00"


def _local_now() -> str:
    return utcnow().astimezone(store.LOCAL).strftime(CST_FORMAT)


def accept(session: Session, ticket: Ticket, actor: str, unit_name: str) -> TicketEvent:
    """The assigned unit takes the ticket on; the source is told it is signed for."""
    ev = store.transition(session, ticket, "accepted", actor, "accepted", {"unit": ticket.assigned_unit})
    enqueue(session, ticket, "accepted", ev, {"unit_name": unit_name, "at": _local_now()})
    return ev


def resolve(session: Session, ticket: Ticket, actor: str, result: str, unit_name: str,
            handler: Optional[str] = None) -> TicketEvent:
    """Record the result; a dispatched ticket is accepted first, so the source sees signing before the reply."""
    if not result.strip():
        raise ValueError("a resolution needs a result text for the complainant and the source")
    if ticket.status == "dispatched":
        accept(session, ticket, actor, unit_name)
    ev = store.transition(session, ticket, "resolved", actor, "resolved", {"result": result})
    ticket.result_text = result
    body = {"result": result, "unit_name": unit_name, "handler": handler or unit_name, "at": _local_now()}
    enqueue(session, ticket, "resolved", ev, body)
    duplicates.share_result(session, ticket, actor, result, body)  # every source it came in from
    return ev


def return_to_source(session: Session, ticket: Ticket, actor: str, reason: str) -> TicketEvent:
    """The bureau says "not ours": the ticket goes back to its source with the reason."""
    if not reason.strip():
        raise ValueError("a return needs a reason")
    ev = store.transition(session, ticket, "returned", actor, "returned", {"reason": reason})
    enqueue(session, ticket, "returned", ev, {"reason": reason, "at": _local_now()})
    return ev
