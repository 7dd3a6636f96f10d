"""What staff do to a ticket (accept, resolve, return), each with the write-back its source must learn and, where
the source does not tell the complainant itself, the SMS that does (notify.complainant)."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from sqlalchemy.orm import Session

from notify import complainant
from tickets import column_fit, duplicates, store
from tickets.db import utcnow
from tickets.models import Ticket, TicketEvent
from tickets.states import TransitionError
from tickets.vocabulary import CHINA_TZ
from writeback import enqueue


def _local_now() -> str:
    return utcnow().astimezone(CHINA_TZ).isoformat(timespec="seconds")


def accept(session: Session, ticket: Ticket, actor: str, unit_name: str) -> TicketEvent:
    """The assigned unit takes the ticket on; the source is told it is signed for."""
    ev = store.transition(session, ticket, "accepted", actor, "accepted", {"unit": ticket.assigned_unit})
    enqueue(session, ticket, "accepted", ev, {"unit_name": unit_name, "at": _local_now()})
    complainant.after_accept(session, ticket, ev, unit_name)  # where the source does not tell them itself
    return ev


# How a complaint ended, as the regulators report it; a resolution may name one.
OUTCOMES: dict[str, str] = {
    "settled": "调解成功",
    "partly_settled": "部分和解",
    "not_settled": "调解不成功",
    "not_in_remit": "不属于受理范围",
    "withdrawn": "消费者撤回",
    "answered": "已解答（咨询）",
    "referred": "已移交处理",
}

# A unit can say it has reached the complainant while it holds the ticket.
CONTACTABLE = frozenset({"dispatched", "accepted", "in_progress"})


def resolve(session: Session, ticket: Ticket, actor: str, result: str, unit_name: str,
            handler: Optional[str] = None, outcome: Optional[str] = None,
            recovered_amount: Optional[Decimal] = None) -> TicketEvent:
    """Record the result; a dispatched ticket is accepted first, so the source sees signing before the reply.

    `outcome` (a key of OUTCOMES) and `recovered_amount` (挽回经济损失, yuan) stay with the ticket for the
    statistics; the source gets the result text."""
    if not result.strip():
        raise ValueError("a resolution needs a result text for the complainant and the source")
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; outcomes: {', '.join(OUTCOMES)}")
    if recovered_amount is not None and recovered_amount < 0:
        raise ValueError("the amount recovered cannot be negative")
    column_fit.check(Ticket, {"result_text": result, "recovered_amount": recovered_amount})
    if ticket.status == "dispatched":
        accept(session, ticket, actor, unit_name)
    detail: dict = {"result": result}
    if outcome:
        detail["outcome"] = outcome
    if recovered_amount is not None:
        detail["recovered_amount"] = str(recovered_amount)
    ev = store.transition(session, ticket, "resolved", actor, "resolved", detail)
    ticket.result_text = result
    ticket.outcome = outcome
    ticket.recovered_amount = recovered_amount
    body = {"result": result, "unit_name": unit_name, "handler": handler or unit_name, "at": _local_now()}
    enqueue(session, ticket, "resolved", ev, body)
    complainant.after_resolve(session, ticket, ev, unit_name, result)  # the result, and how satisfied they are
    duplicates.share_result(session, ticket, actor, result, body)  # every source it came in from
    return ev


def return_to_source(session: Session, ticket: Ticket, actor: str, reason: str) -> TicketEvent:
    """The bureau says "not ours": the ticket goes back to its source with the reason."""
    if not reason.strip():
        raise ValueError("a return needs a reason")
    ev = store.transition(session, ticket, "returned", actor, "returned", {"reason": reason})
    enqueue(session, ticket, "returned", ev, {"reason": reason, "at": _local_now()})
    return ev


def mark_contacted(session: Session, ticket: Ticket, actor: str, via: str, **detail) -> TicketEvent:
    """The unit has reached the complainant (已联系): a step of the history, timed for the first-contact promise."""
    if ticket.status not in CONTACTABLE:
        raise TransitionError(ticket.number, ticket.status, "contacted")
    return store.add_event(session, ticket, "contacted", actor, detail={"via": via, **detail})


def add_note(session: Session, ticket: Ticket, actor: str, text: str) -> TicketEvent:
    """An internal note on the history (备注): never written back to the source nor sent to anyone."""
    text = text.strip()
    if not text:
        raise ValueError("a note needs some text")
    if len(text) > 2000:
        raise ValueError("a note is at most 2000 characters")
    return store.add_event(session, ticket, "note", actor, detail={"text": text})
