"""A ticket's clocks from dispatch to their end: started, kept in step with its history, suspended and resumed,
extended, and recomputed when the calendar changes. Functions take a session; the caller owns the transaction."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Iterable, Optional, Sequence

import structlog
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sla.config import ClockConfig
from sla.models import TicketClock
from sla.policy import Deadlines
from tickets import store
from tickets.db import Database, is_postgres
from tickets.models import Ticket, TicketEvent
from tickets.upsert import insert_or_ignore

log = structlog.get_logger("sla")

ACTOR = "sla"
# The clock whose deadline is the ticket's own (`tickets.due_at`).
RESOLUTION = "resolution"


def iso(moment: Optional[datetime]) -> Optional[str]:
    return moment.isoformat() if moment is not None else None


class SlaError(ValueError):
    """A deadline operation that does not apply (nothing to suspend, no extension allowed, ...)."""


@dataclass(frozen=True)
class Step:
    """One entry of a ticket's history that may start or stop a clock."""

    at: datetime
    to_status: Optional[str]
    action: str


def load_history(session: Session, ticket_ids: Iterable[int]) -> dict[int, list[Step]]:
    ids = list(set(ticket_ids))
    history: dict[int, list[Step]] = defaultdict(list)
    if not ids:
        return history
    rows = session.execute(
        select(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.to_status, TicketEvent.action)
        .where(TicketEvent.ticket_id.in_(ids), or_(TicketEvent.to_status.is_not(None),
                                                    TicketEvent.action == "contacted"))
        .order_by(TicketEvent.id))
    for tid, at, to_status, action in rows:
        history[tid].append(Step(at, to_status, action))
    return history


def clocks_of(session: Session, ticket_ids: Iterable[int], lock: bool = False) -> dict[int, list[TicketClock]]:
    stmt = select(TicketClock).where(TicketClock.ticket_id.in_(list(ticket_ids))).order_by(TicketClock.id)
    if lock and is_postgres(session):
        stmt = stmt.with_for_update()
    out: dict[int, list[TicketClock]] = defaultdict(list)
    for row in session.scalars(stmt):
        out[row.ticket_id].append(row)
    return out


def start_clocks(session: Session, deadlines: Deadlines, ticket: Ticket, unit=None,
                 now: Optional[datetime] = None) -> list[str]:
    """Start the ticket's clocks at dispatch, in the dispatch transaction. A ticket dispatched again keeps the
    clocks it has: reassignment never restarts a deadline. Returns the clocks started."""
    return start_clocks_many(session, deadlines, [(ticket, unit)], now).get(ticket.id, [])


def start_clocks_many(session: Session, deadlines: Deadlines, dispatched: Sequence[tuple[Ticket, object]],
                      now: Optional[datetime] = None) -> dict[int, list[str]]:
    """`start_clocks` for each (ticket, unit) of a dispatch batch: one query for the clocks they have, one insert
    for the rest. Returns the clocks started by ticket id."""
    if not dispatched:
        return {}
    now = now or deadlines.now()
    table = TicketClock.__table__
    blank = {c.key: None for c in table.columns if c.key != "id"}
    # A ticket dispatched again (released from a duplicate, unlinked) has its clocks already.
    ids = [ticket.id for ticket, _ in dispatched]
    existing = select(table.c.ticket_id, table.c.clock).where(table.c.ticket_id.in_(ids))
    kept = {(tid, name) for tid, name in session.connection().execute(existing)}
    fresh: dict[tuple[int, str], tuple[Ticket, SimpleNamespace]] = {}
    for ticket, unit in dispatched:
        policy_id, configs = deadlines.policy_for(ticket)
        unit_id = unit.id if unit is not None else ticket.assigned_unit
        for name, cfg in configs.items():
            if (ticket.id, name) in kept:
                continue
            # The row to be, as a plain object: recompute and schedule read and set it as they would a TicketClock.
            row = SimpleNamespace(**blank)
            row.__dict__.update(
                ticket_id=ticket.id, clock=name, policy=policy_id or "-", hours_unit=unit_id, start_on=cfg.from_,
                stop_on="," + ",".join(cfg.stops()) + ",",
                started_at={"received": ticket.received_at, "dispatched": now}.get(cfg.from_), source_due=False,
                uncertain=False, suspended_seconds=0.0, extended_days=0, points_done=[], created_at=now,
                updated_at=now)
            if row.started_at is not None:
                recompute(session, deadlines, ticket, row, cfg, announce=False)
            schedule(deadlines, row, cfg, now)
            fresh[(ticket.id, name)] = (ticket, row)
    if not fresh:
        return {}
    rows = [row.__dict__ for _, row in fresh.values()]
    columns = [k for k in blank if any(row[k] is not None for row in rows)]  # the rest take their defaults
    session.connection().execute(insert_or_ignore(session, table, ["ticket_id", "clock"]),
                                 [{k: row[k] for k in columns} for row in rows])
    out: dict[int, list[str]] = defaultdict(list)
    for ticket_id, name in sorted(fresh):
        ticket, row = fresh[(ticket_id, name)]
        if row.uncertain:
            _announce_uncertain(session, ticket, row)
        if name == RESOLUTION:
            ticket.due_at = row.due_at
        out[ticket_id].append(name)
    return dict(out)


def refresh(session: Session, deadlines: Deadlines, ticket: Ticket, clocks: Sequence[TicketClock], now: datetime,
            history: Optional[list[Step]] = None, reason: Optional[str] = None) -> None:
    """Bring the clocks in step with the ticket's history, recompute their deadlines and schedule their next
    action. Deadline changes (other than the first) are put on the history with `reason`."""
    if history is None:
        history = load_history(session, [ticket.id])[ticket.id]
    for row in clocks:
        cfg = deadlines.clock_config(ticket, row.clock)
        change = sync(row, history)
        if change == "stopped":
            log.info("clock_stopped", ticket_id=ticket.id, clock=row.clock, reason=row.stop_reason)
        if cfg is None:  # the policy no longer has this clock: it keeps the deadline it had
            if row.stopped_at is None and row.due_at is None:
                row.stopped_at, row.stop_reason = now, "no_policy"
            row.calendar_version = deadlines.calendar.version
        elif row.started_at is not None and row.stopped_at is None:
            recompute(session, deadlines, ticket, row, cfg, reason)
        schedule(deadlines, row, cfg, now)
        row.updated_at = now
    set_ticket_due(ticket, clocks)


def sync(row: TicketClock, history: Sequence[Step]) -> Optional[str]:
    """Start a waiting clock at the first event it waits for; stop a running one at the first event after its
    start that ends it. Returns "started", "stopped" or None."""
    if row.stopped_at is not None:
        return None
    change = None
    if row.started_at is None:
        first = next((h for h in history if h.to_status == row.start_on), None)
        if first is None:
            return None
        row.started_at, change = first.at, "started"
    for h in history:
        if h.at >= row.started_at and ((h.to_status and row.stops_on(h.to_status)) or row.stops_on(h.action)):
            row.stopped_at, row.stop_reason = h.at, h.to_status or h.action
            row.suspended_at = None
            row.next_reminder_at = row.next_action_at = None
            return "stopped"
    return change


def recompute(session: Session, deadlines: Deadlines, ticket: Ticket, row: TicketClock, cfg: ClockConfig,
              reason: Optional[str] = None, announce: bool = True) -> bool:
    """Compute the clock's deadline again; True if it moved. A deadline computed over a year without calendar
    data is flagged on the clock, on the ticket's history and in the log."""
    due = deadlines.due(row, ticket, cfg)
    before, was_uncertain = row.due_at, row.uncertain
    row.due_at, row.uncertain, row.source_due = due.at, due.uncertain, due.from_source
    row.calendar_version = deadlines.calendar.version
    moved = before is not None and before != due.at
    row.uncertain_years = due.uncertain_years
    if due.uncertain and not was_uncertain and announce:
        _announce_uncertain(session, ticket, row)
    if moved and reason:
        store.add_event(session, ticket, "deadline_changed", ACTOR, detail={
            "clock": row.clock, "from": iso(before), "to": iso(due.at), "reason": reason, "uncertain": due.uncertain})
    return moved


def _announce_uncertain(session: Session, ticket: Ticket, row: TicketClock) -> None:
    years = list(getattr(row, "uncertain_years", ()))
    log.warning("deadline_uncertain", ticket_id=ticket.id, clock=row.clock, due=iso(row.due_at),
                years_without_data=years)
    store.add_event(session, ticket, "deadline_uncertain", ACTOR, detail={
        "clock": row.clock, "due": iso(row.due_at), "years_without_data": years,
        "note": "computed on weekends alone: give the year's holidays in config.yaml sla.calendar.years"})


def schedule(deadlines: Deadlines, row: TicketClock, cfg: Optional[ClockConfig], now: datetime) -> None:
    """The next moment the scan must look at the clock: its next reminder point not yet handled, or its deadline."""
    if cfg is None or row.started_at is None or row.stopped_at is not None or row.suspended_at is not None \
            or row.due_at is None:
        row.next_reminder_at = row.next_action_at = None
        return
    done = set(row.points_done or ())
    pending = [at for label, at in deadlines.reminder_times(row, cfg) if label not in done]
    row.next_reminder_at = min(pending) if pending and row.breached_at is None else None
    moments = [m for m in (row.next_reminder_at, None if row.breached_at else row.due_at) if m is not None]
    row.next_action_at = min(moments) if moments else None


def set_ticket_due(ticket: Ticket, clocks: Sequence[TicketClock]) -> None:
    for row in clocks:
        if row.clock == RESOLUTION:
            ticket.due_at = row.due_at


# --- staff actions ------------------------------------------------------------------------------

def _prepare(session: Session, deadlines: Deadlines, ticket: Ticket, now: datetime) -> list[TicketClock]:
    clocks = clocks_of(session, [ticket.id], lock=True)[ticket.id]
    if not clocks:
        raise SlaError(f"ticket {ticket.number} has no deadlines (it has not been dispatched)")
    refresh(session, deadlines, ticket, clocks, now)
    return clocks


def suspend(session: Session, deadlines: Deadlines, ticket: Ticket, reason: str, actor: str,
            now: Optional[datetime] = None, clock: Optional[str] = None) -> list[str]:
    """Stop the running clocks (testing, appraisal, negotiation); the time until `resume` is added back."""
    now = now or deadlines.now()
    if not reason.strip():
        raise SlaError("a suspension needs a reason (testing, appraisal, negotiation, ...)")
    names = []
    for row in _prepare(session, deadlines, ticket, now):
        if row.running and clock in (None, row.clock):
            row.suspended_at, row.next_reminder_at, row.next_action_at = now, None, None
            names.append(row.clock)
    if not names:
        raise SlaError(f"ticket {ticket.number} has no running deadline" + (f" named {clock}" if clock else ""))
    store.add_event(session, ticket, "sla_suspended", actor, detail={"reason": reason, "clocks": names, "at": iso(now)})
    log.info("clocks_suspended", ticket_id=ticket.id, clocks=names)
    return names


def resume(session: Session, deadlines: Deadlines, ticket: Ticket, reason: str, actor: str,
           now: Optional[datetime] = None) -> dict[str, datetime]:
    """Restart suspended clocks; each deadline moves on by the working time it was suspended."""
    now = now or deadlines.now()
    clocks = _prepare(session, deadlines, ticket, now)
    moved: dict[str, dict] = {}
    for row in clocks:
        if row.suspended_at is None or row.stopped_at is not None:
            continue
        seconds, _ = deadlines.calendar.working_time_between(row.suspended_at, now, deadlines.hours(row))
        row.suspended_seconds = (row.suspended_seconds or 0) + seconds
        row.suspended_at = None
        cfg = deadlines.clock_config(ticket, row.clock)
        if cfg is not None:
            recompute(session, deadlines, ticket, row, cfg)
            schedule(deadlines, row, cfg, now)
        moved[row.clock] = {"working_hours_added": round(seconds / 3600, 2), "due": iso(row.due_at)}
    if not moved:
        raise SlaError(f"ticket {ticket.number} has no suspended deadline")
    set_ticket_due(ticket, clocks)
    store.add_event(session, ticket, "sla_resumed", actor, detail={"reason": reason, "clocks": moved, "at": iso(now)})
    log.info("clocks_resumed", ticket_id=ticket.id, clocks=list(moved))
    return {row.clock: row.due_at for row in clocks if row.clock in moved}


def extend(session: Session, deadlines: Deadlines, ticket: Ticket, reason: str, actor: str, clock: str = RESOLUTION,
           now: Optional[datetime] = None) -> datetime:
    """Extend a clock once by its policy's `extendable_working_days` (e.g. a report's verification: 15 + 15 WD)."""
    now = now or deadlines.now()
    if not reason.strip():
        raise SlaError("an extension needs a reason")
    clocks = _prepare(session, deadlines, ticket, now)
    row = next((c for c in clocks if c.clock == clock), None)
    cfg = deadlines.clock_config(ticket, clock)
    if row is None or cfg is None:
        raise SlaError(f"ticket {ticket.number} has no {clock} deadline")
    if not cfg.extendable_working_days:
        raise SlaError(f"the {clock} deadline of ticket {ticket.number} cannot be extended under its policy")
    if row.extended_days:
        raise SlaError(f"the {clock} deadline of ticket {ticket.number} was extended already")
    if row.stopped_at is not None:
        raise SlaError(f"the {clock} deadline of ticket {ticket.number} has ended")
    before = row.due_at
    row.extended_days = cfg.extendable_working_days
    if row.started_at is not None:
        recompute(session, deadlines, ticket, row, cfg)
        schedule(deadlines, row, cfg, now)
    set_ticket_due(ticket, clocks)
    store.add_event(session, ticket, "sla_extended", actor, detail={
        "reason": reason, "clock": clock, "working_days": cfg.extendable_working_days, "from": iso(before),
        "to": iso(row.due_at)})
    return row.due_at


# --- calendar changes ---------------------------------------------------------------------------

def recompute_stale(db: Database, deadlines: Deadlines, now: Optional[datetime] = None, batch: int = 500) -> int:
    """Recompute every running clock computed under another calendar (2027 holidays added, hours changed);
    moved deadlines go on the tickets' histories. Returns how many clocks were looked at."""
    now = now or deadlines.now()
    version = deadlines.calendar.version
    total = 0
    while True:
        with db.transaction() as s:
            stmt = (select(TicketClock.ticket_id).where(
                TicketClock.stopped_at.is_(None), TicketClock.started_at.is_not(None),
                or_(TicketClock.calendar_version.is_(None), TicketClock.calendar_version != version))
                .group_by(TicketClock.ticket_id).order_by(TicketClock.ticket_id).limit(batch))
            ids = list(s.scalars(stmt))
            if not ids:
                return total
            tickets = {t.id: t for t in s.scalars(select(Ticket).where(Ticket.id.in_(ids)))}
            clocks = clocks_of(s, ids, lock=True)
            history = load_history(s, ids)
            for tid in ids:
                refresh(s, deadlines, tickets[tid], clocks[tid], now, history[tid], reason="calendar changed")
                total += len(clocks[tid])
        log.info("clocks_recomputed", clocks=total, calendar=version)
