"""Station staff answer by SMS: accept, first contact made, resolve with a result, return as not ours; and
complainants answer the satisfaction question (1-5) or stop progress messages (TD), see notify.complainant.

Every message received is kept (`sms_inbound`); one whose MessageSid was seen before does nothing again.
Only a contact of the unit the ticket is assigned to can move it. The answer to the sender (done, refused,
or the format when the text was not understood) is a planned SMS like any other: durable, sent once,
tracked by delivery status. Strangers get no answer; their message is kept and logged with a masked phone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import structlog
from sqlalchemy import update
from sqlalchemy.orm import Session

from notify import complainant
from notify.models import SmsInbound
from notify.outbound import Recipient, e164, plan
from notify.reply_parser import ReplyCommand, is_keyword, parse
from settings.masking import mask_phone
from tickets import column_fit, handling, store
from tickets.db import utcnow
from tickets.states import TransitionError
from tickets.upsert import insert_or_ignore

log = structlog.get_logger("notify")

ACTION_WORDS = {"accept": "受理", "contact": "联系", "resolve": "办结", "return": "退回"}
DONE_OUTCOMES = {"accept": "accepted", "contact": "contacted", "resolve": "resolved", "return": "returned"}
STATUS_WORDS = {
    "new": "新建", "triage": "待分拣", "dispatched": "已派单", "accepted": "已受理", "in_progress": "办理中",
    "resolved": "已办结", "closed": "已关闭", "returned": "已退回", "rejected": "不予受理", "withdrawn": "已撤销",
    "duplicate": "重复件",
}
# A first contact can be recorded while the unit holds the ticket.


@dataclass
class InboundResult:
    outcome: str  # duplicate | ignored | not_understood | unknown_ticket | stranger | refused | accepted | ...
    ticket_id: Optional[int] = None
    unit_id: Optional[str] = None
    replied: bool = False


def handle_inbound(session: Session, *, message_sid: str, from_phone: str, to_phone: Optional[str], body: str,
                   units, templates) -> InboundResult:
    """Record one received SMS and act on it, in the caller's transaction."""
    row_id = _record(session, message_sid, from_phone, to_phone, body)
    if row_id is None:
        log.info("sms_inbound_repeated", message_sid=message_sid, from_phone=mask_phone(from_phone))
        return InboundResult("duplicate")
    sender = e164(from_phone)
    result, note = _act(session, row_id, message_sid, sender, body, units, templates)
    session.execute(update(SmsInbound).where(SmsInbound.id == row_id).values(
        outcome=result.outcome, ticket_id=result.ticket_id, unit_id=result.unit_id, note=note))
    level = log.warning if result.outcome in ("stranger", "unknown_ticket") else log.info
    level("sms_inbound", outcome=result.outcome, ticket_id=result.ticket_id, unit=result.unit_id,
          from_phone=mask_phone(sender), replied=result.replied, inbound_id=row_id)
    return result


def _record(session: Session, message_sid: str, from_phone: str, to_phone: Optional[str], body: str) -> Optional[int]:
    received = dict(message_sid=message_sid, from_phone=from_phone, to_phone=to_phone, body=body)
    column_fit.check(SmsInbound, received)   # a NUL byte or an over-long number is refused, naming the field
    ins = insert_or_ignore(session, SmsInbound, ["message_sid"]).values(
        **received, received_at=utcnow(), outcome="received")
    return session.execute(ins.returning(SmsInbound.id)).scalar()


def _act(session: Session, row_id: int, message_sid: str, sender: str, body: str, units,
         templates) -> tuple[InboundResult, Optional[str]]:
    def answer(template: str, ticket_id: Optional[int] = None, **values) -> bool:
        if not template:
            return False
        values = {"number": "", "action": "", "reason": "", **values}
        return plan(session, key=f"reply:{message_sid}", ticket_id=ticket_id, unit_id=None, purpose="reply",
                    recipients=[Recipient(sender)], template=template, values=values, urgent=True) > 0

    heard = complainant.answer(session, message_sid=message_sid, sender=sender, body=body)
    if heard is not None:  # a complainant's TD, or their 1-5 to the satisfaction question
        return InboundResult(heard.outcome, heard.ticket_id, None, heard.replied), heard.note
    if is_keyword(body):
        return InboundResult("ignored"), "an opt-out or help keyword: the provider answers it"
    known = _is_any_contact(units, sender)
    command = parse(body)
    if command is None:
        replied = known and answer(templates.reply_help)
        return InboundResult("not_understood", replied=replied), None if known else "sender is nobody's contact"
    verb = ACTION_WORDS[command.action]
    try:
        ticket = store.get_by_number(session, command.number, for_update=True)
    except store.TicketNotFound:
        replied = known and answer(templates.reply_refused, number=command.number, action=verb, reason="未找到该工单")
        return InboundResult("unknown_ticket", replied=replied), f"no ticket {command.number}"
    unit = units.get(ticket.assigned_unit) if ticket.assigned_unit else None
    contact = next((c for c in (unit.contacts if unit else []) if e164(c.phone) == sender), None)
    if contact is None:
        # Not a contact of the unit that holds the ticket: nothing changes, and the sender is not told more.
        return (InboundResult("stranger", ticket.id, ticket.assigned_unit),
                f"sender is not a contact of {ticket.assigned_unit or 'the (unassigned) ticket'}")
    actor = f"sms:{contact.name}"[:64]
    try:
        with session.begin_nested():
            _apply(session, ticket, command, actor, unit.name, contact.name, row_id)
    except (TransitionError, ValueError) as exc:
        reason = f"当前状态为{STATUS_WORDS.get(ticket.status, ticket.status)}"
        replied = answer(templates.reply_refused, ticket.id, number=ticket.number, action=verb, reason=reason)
        return InboundResult("refused", ticket.id, unit.id, replied), str(exc)
    outcome = DONE_OUTCOMES[command.action]
    replied = answer(templates.reply_done, ticket.id, number=ticket.number, action=verb)
    return InboundResult(outcome, ticket.id, unit.id, replied), None


def _apply(session: Session, ticket, command: ReplyCommand, actor: str, unit_name: str, handler: str,
           row_id: int) -> None:
    if command.action == "accept":
        handling.accept(session, ticket, actor, unit_name)
    elif command.action == "resolve":
        handling.resolve(session, ticket, actor, command.text, unit_name, handler=handler)
    elif command.action == "return":
        handling.return_to_source(session, ticket, actor, command.text)
    elif command.action == "contact":
        handling.mark_contacted(session, ticket, actor, "sms", inbound_id=row_id)


def _is_any_contact(units, phone: str) -> bool:
    return any(e164(c.phone) == phone for u in (units or []) for c in u.contacts)
