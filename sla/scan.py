"""The deadline scan, a worker job: reminders before each deadline, and at a breach the overdue mark, the
notices up the hierarchy and, where the policy says so, the transfer to the parent unit (超时转办).

It reads only the clocks whose next action is due (`next_action_at <= now`, a partial index, LIMIT), never
every open ticket, and claims them with FOR UPDATE SKIP LOCKED on PostgreSQL, so workers share the work."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

import structlog
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, lazyload

from sla.clocks import ACTOR, iso, load_history, recompute, schedule, set_ticket_due, sync
from sla.models import TicketClock
from sla.notices import Addressee, Item, send
from sla.policy import Deadlines
from tickets import store
from tickets.db import Database, is_postgres, utcnow
from tickets.models import Ticket, TicketEvent
from tickets.states import TransitionError

log = structlog.get_logger("sla")


@dataclass
class ScanReport:
    clocks: int = 0
    reminders: int = 0  # (ticket, clock, point) reminders that told someone new
    overdue: int = 0
    transferred: int = 0
    stopped: int = 0
    skipped: int = 0  # clocks of tickets another transaction held; the next scan takes them


def scan_due(db: Database, deadlines: Deadlines, now: Optional[datetime] = None,
             batch_size: Optional[int] = None) -> ScanReport:
    """One scan round at `now`: every clock due by then is handled once, in transactions of `batch_size`."""
    now = now or deadlines.now()
    batch_size = batch_size or deadlines.config.batch_size
    report = ScanReport()
    passed: set[int] = set()
    while True:
        with db.transaction() as s:
            stmt = select(TicketClock).where(TicketClock.next_action_at <= now)
            if passed:
                stmt = stmt.where(TicketClock.id.not_in(passed))
            stmt = stmt.order_by(TicketClock.next_action_at).limit(batch_size)
            if is_postgres(s):
                stmt = stmt.with_for_update(skip_locked=True)
            rows = list(s.scalars(stmt))
            if rows:
                passed.update(_handle(s, deadlines, rows, now, report))
        if len(rows) < batch_size:
            break
    if report.reminders or report.overdue or report.transferred:
        log.info("sla_scan", clocks=report.clocks, reminders=report.reminders, overdue=report.overdue,
                 transferred=report.transferred)
    return report


def _handle(s: Session, deadlines: Deadlines, rows: list[TicketClock], now: datetime, report: ScanReport) -> set[int]:
    """Handle one claimed batch; returns the ids of clocks left as they were (their ticket was busy)."""
    ids = sorted({r.ticket_id for r in rows})
    stmt = select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id).options(lazyload(Ticket.events))
    if is_postgres(s):
        # A ticket being changed right now (an SMS reply, a dispatch) is left for the next scan, never waited on.
        stmt = stmt.with_for_update(skip_locked=True)
    tickets = {t.id: t for t in s.scalars(stmt)}
    history = load_history(s, tickets)
    skipped: set[int] = set()
    reminders: dict[Addressee, list[Item]] = defaultdict(list)
    overdue: dict[Addressee, list[Item]] = defaultdict(list)
    breaches: list[tuple[Item, object]] = []
    reminded: dict[int, list[Item]] = defaultdict(list)
    touched: set[int] = set()
    for row in rows:
        ticket = tickets.get(row.ticket_id)
        if ticket is None:
            skipped.add(row.id)
            report.skipped += 1
            continue
        report.clocks += 1
        touched.add(ticket.id)
        cfg = deadlines.clock_config(ticket, row.clock)
        if sync(row, history[ticket.id]) == "stopped":
            report.stopped += 1
        if cfg is not None and row.started_at is not None and row.stopped_at is None:
            recompute(s, deadlines, ticket, row, cfg)
        if cfg is None or not row.running:
            schedule(deadlines, row, cfg, now)
            row.updated_at = now
            continue
        done = list(row.points_done or ())
        if row.breached_at is None and now >= row.due_at:
            row.breached_at = now
            done += [label for label, _ in deadlines.reminder_times(row, cfg) if label not in done]
            item = Item(ticket, row.clock, "overdue", row.due_at, ticket.assigned_unit)
            breaches.append((item, cfg))
        else:
            due_points = [(at, label) for label, at in deadlines.reminder_times(row, cfg)
                          if label not in done and at <= now]
            if due_points:
                # After a pause (worker down), only the latest point is sent; the earlier ones are passed over.
                _, label = max(due_points)
                done += [lb for _, lb in due_points]
                item = Item(ticket, row.clock, label, row.due_at, ticket.assigned_unit)
                for who in _unit_contacts(deadlines, ticket.assigned_unit):
                    reminders[who].append(item)
                reminded[ticket.id].append(item)
        row.points_done = done
        schedule(deadlines, row, cfg, now)
        row.updated_at = now
    for ticket_id in touched:
        set_ticket_due(tickets[ticket_id], [r for r in rows if r.ticket_id == ticket_id])

    told = send(s, deadlines, "reminder", reminders, now)
    events = [dict(ticket_id=ticket_id, at=utcnow(), actor=ACTOR, action="reminded", from_status=None, to_status=None,
                   detail={"clock": item.clock, "point": item.point, "due": iso(item.due), "unit": item.unit_id,
                           "recipients": told.get(ticket_id, 0)})
              for ticket_id, items in reminded.items() for item in items]
    if events:  # one statement for the round: no status changes here, only the record
        s.execute(insert(TicketEvent), events)
        report.reminders += len(events)

    for item, cfg in breaches:
        _breach(s, deadlines, item, cfg, overdue, report)
    send(s, deadlines, "overdue", overdue, now)
    return skipped


def _breach(s: Session, deadlines: Deadlines, item: Item, cfg, overdue: dict, report: ScanReport) -> None:
    """Mark the ticket overdue on its history, address the notices, and transfer it if the policy says so."""
    ticket, unit_id = item.ticket, item.unit_id
    parent = deadlines.units.parent_of(unit_id) if deadlines.units is not None and unit_id else None
    action = cfg.on_breach
    told_units = []
    if action.notify_head and unit_id:
        for who in _heads(deadlines, unit_id):
            overdue[who].append(item)
        told_units.append(unit_id)
    if action.transfer_to_parent and parent is not None:
        try:
            store.transition(s, ticket, "dispatched", ACTOR, "overdue_transfer", {
                "from_unit": unit_id, "to_unit": parent.id, "clock": item.clock, "reason": "超时转办"})
            ticket.assigned_unit = parent.id
            item.transfer_to = parent.id
            report.transferred += 1
        except TransitionError as exc:
            log.warning("overdue_transfer_refused", ticket_id=ticket.id, error=str(exc))
    if parent is not None and (action.notify_parent or item.transfer_to):
        for who in _heads(deadlines, parent.id):
            overdue[who].append(item)
        told_units.append(parent.id)
    report.overdue += 1
    store.add_event(s, ticket, "overdue", ACTOR, detail={
        "clock": item.clock, "due": iso(item.due), "unit": unit_id, "told": told_units,
        "transferred_to": item.transfer_to})
    log.warning("ticket_overdue", ticket_id=ticket.id, unit=unit_id, clock=item.clock,
                transferred_to=item.transfer_to)


def _unit_contacts(deadlines: Deadlines, unit_id: Optional[str]) -> list[Addressee]:
    unit = deadlines.units.get(unit_id) if deadlines.units is not None and unit_id else None
    return [Addressee(c.phone, c.name, unit_id, c.hours) for c in (unit.contacts if unit else [])]


def _heads(deadlines: Deadlines, unit_id: str) -> list[Addressee]:
    return [Addressee(c.phone, c.name, unit_id, c.hours) for c in deadlines.units.head_contacts(unit_id)]
