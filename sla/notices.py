"""Reminders and overdue notices as SMS: one message per recipient per scan listing all their tickets, each
(ticket, clock, point, phone) sent once ever, held for working hours unless a ticket is urgent."""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy.orm import Session

from notify import LinkTo, Recipient, e164, message_key, plan
from notify.templates import render
from sla.calendar_cn import CalendarError, WorkingHours
from sla.models import SlaNotice
from sla.policy import Deadlines
from tickets.models import Ticket
from tickets.upsert import insert_or_ignore
from tickets.vocabulary import CHINA_TZ, is_urgent


@dataclass
class Item:
    """One clock of one ticket that a recipient must hear about."""

    ticket: Ticket
    clock: str
    point: str  # "1WD", "2WH", ... or "overdue"
    due: datetime
    unit_id: Optional[str]
    transfer_to: Optional[str] = None


@dataclass(frozen=True)
class Addressee:
    """A recipient, with the unit they answer for (whose hours hold their non-urgent messages)."""

    phone: str
    name: str
    unit_id: Optional[str]
    hours: Optional[str] = None


def due_text(moment: datetime) -> str:
    local = moment.astimezone(CHINA_TZ)
    return f"{local.month}月{local.day}日{local:%H:%M}"


def item_text(deadlines: Deadlines, item: Item, kind: str) -> str:
    t = deadlines.config.templates
    unit = deadlines.units.get(item.unit_id) if deadlines.units is not None and item.unit_id else None
    to_unit = deadlines.units.get(item.transfer_to) if deadlines.units is not None and item.transfer_to else None
    values = {"number": item.ticket.number, "step": t.steps.get(item.clock, item.clock), "due": due_text(item.due),
              "unit": unit.name if unit else (item.unit_id or ""),
              "transfer": render(t.transfer, {"to_unit": to_unit.name if to_unit else item.transfer_to})
              if item.transfer_to else ""}
    return render(t.reminder_item if kind == "reminder" else t.overdue_item, values)


def message_text(deadlines: Deadlines, items: list[Item], kind: str, link: str = "") -> str:
    t = deadlines.config.templates
    listed = t.separator.join(item_text(deadlines, i, kind) for i in items)
    return render(t.reminder if kind == "reminder" else t.overdue, {"count": len(items), "items": listed, "link": link})


def _message_template(deadlines: Deadlines, items: list[Item], kind: str) -> str:
    """The message as a template whose one field left is {link}, each recipient's own station link."""
    text = message_text(deadlines, items, kind, link="\0link\0")
    return text.replace("{", "{{").replace("}", "}}").replace("\0link\0", "{link}")


def _link_for(who: Addressee, tickets: list[Ticket]) -> Optional[LinkTo]:
    """One ticket of the recipient's unit: its page; several, or another unit's: the unit's due tickets."""
    if who.unit_id is None:
        return None
    if len(tickets) == 1 and tickets[0].assigned_unit == who.unit_id:
        return LinkTo(who.unit_id, tickets[0].id)
    return LinkTo(who.unit_id, None)


def send(session: Session, deadlines: Deadlines, kind: str, wanted: dict[Addressee, list[Item]],
         now: datetime) -> dict[int, int]:
    """Plan the messages of one scan round; returns, per ticket id, how many recipients were newly told.

    A (ticket, clock, point, phone) told before, by this worker or another, is left out of the message."""
    # One message per phone, even for a person who is a contact of two units.
    by_phone: dict[str, tuple[Addressee, dict[tuple, Item]]] = {}
    for who, items in wanted.items():
        entry = by_phone.setdefault(e164(who.phone), (who, {}))
        for it in items:
            entry[1].setdefault((it.ticket.id, it.clock, it.point), it)
    # A message's key comes from what it was meant to carry; each notice row names the message that carried it.
    keys = {(phone, urgent): f"sla-{kind}:" + hashlib.sha1(repr((phone, sorted(
        k for k, it in items.items() if is_urgent(it.ticket.priority) == urgent))).encode()).hexdigest()[:24]
        for phone, (_, items) in by_phone.items() for urgent in (True, False)}
    rows = [dict(ticket_id=tid, clock=clock, point=point, phone=phone, created_at=now,
                 sms_key=message_key(keys[(phone, is_urgent(it.ticket.priority))], phone))
            for phone, (_, items) in by_phone.items() for (tid, clock, point), it in items.items()]
    if not rows:
        return {}
    fresh = session.execute(
        insert_or_ignore(session, SlaNotice, ["ticket_id", "clock", "point", "phone"])
        .returning(SlaNotice.id, SlaNotice.ticket_id, SlaNotice.clock, SlaNotice.point, SlaNotice.phone),
        rows).all()
    fresh_ids = {(r.ticket_id, r.clock, r.point, r.phone): r.id for r in fresh}
    told: dict[int, int] = defaultdict(int)
    t = deadlines.config.templates
    validity = t.reminder_validity_seconds if kind == "reminder" else t.overdue_validity_seconds
    for phone, (who, items) in by_phone.items():
        new = [(fresh_ids[k + (phone,)], it) for k, it in items.items() if k + (phone,) in fresh_ids]
        # Urgent tickets go at once, the rest wait for working hours: two messages at most.
        for urgent in (True, False):
            group = [(nid, it) for nid, it in new if is_urgent(it.ticket.priority) == urgent]
            if not group:
                continue
            group.sort(key=lambda p: (p[1].due, p[1].ticket.number))
            key = keys[(phone, urgent)]
            body = _message_template(deadlines, [it for _, it in group], kind)
            single = {it.ticket.id for _, it in group}
            tickets = list({it.ticket.id: it.ticket for _, it in group}.values())
            plan(session, key=key, ticket_id=next(iter(single)) if len(single) == 1 else None, unit_id=who.unit_id,
                 purpose=f"sla_{kind}", recipients=[Recipient(who.phone, who.name)], template=body,
                 values={}, urgent=urgent,
                 not_before=now if urgent else _next_working_time(deadlines, who, now), validity_seconds=validity,
                 link=_link_for(who, tickets))
            for _, it in group:
                told[it.ticket.id] += 1
    return told


def _next_working_time(deadlines: Deadlines, who: Addressee, now: datetime) -> datetime:
    """Quiet hours: the recipient's on-duty hours (units.yaml) if given, else their unit's working hours."""
    hours = deadlines.calendar.hours_for(who.unit_id)
    if who.hours:
        try:
            hours = WorkingHours.parse(who.hours)
        except CalendarError:
            pass
    return deadlines.calendar.next_working_time(now, hours)
