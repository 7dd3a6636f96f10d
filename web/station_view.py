"""What the station's phone page shows, gathered from the parts' reading functions (no SQL here): a ticket as
the contact who must handle it reads it, and their unit's open tickets, due first."""
from __future__ import annotations

from sqlalchemy.orm import Session

from notify.station import Station, actions_for
from sla.clocks import clocks_of
from sla.remaining import remaining
from tickets import Ticket, handling
from tickets.attachments import MAX_PHOTOS, photos_of
from tickets.db import utcnow
from tickets.queries import open_of_unit
from tickets.vocabulary import kind_label, priority_label, status_label
from web import parts
from web.dossier import CLOCK_WORDS, COMMON_RESULTS, HISTORY_WORDS, actor_label

HISTORY_SHOWN = 8  # the last steps; the back office has the whole history


def ticket_view(ctx, s: Session, station: Station, ticket: Ticket) -> dict:
    deadlines = parts.deadlines_of(ctx)
    now = utcnow()
    clocks = []
    working = bool(actions_for(ticket))
    for c in clocks_of(s, [ticket.id]).get(ticket.id, []):
        if not working or c.due_at is None or c.stopped_at is not None or _ended(c, ticket.events):
            continue
        left = remaining(deadlines.calendar, c.due_at, now, deadlines.hours(c)) if c.suspended_at is None else None
        clocks.append(dict(name=CLOCK_WORDS.get(c.clock, c.clock), due_at=c.due_at, left=left,
                           suspended=c.suspended_at is not None))
    events = list(ticket.events)[-HISTORY_SHOWN:]
    history = [dict(at=e.at, actor=actor_label(e.actor), action=HISTORY_WORDS.get(e.action, e.action)) for e in events]
    return dict(
        t=ticket, kind=kind_label(ticket.kind), priority=priority_label(ticket.priority),
        status=status_label(ticket.status), channel=parts.channel_labels(ctx).get(ticket.channel, ticket.channel),
        clocks=clocks, history=history, more_history=len(ticket.events) > HISTORY_SHOWN,
        actions=actions_for(ticket), outcomes=handling.OUTCOMES, common_results=COMMON_RESULTS,
        photos=len(photos_of(s, ticket.id)), max_photos=MAX_PHOTOS, station=station,
        writes_back=parts.writes_back(ctx, ticket.channel),
    )


def _ended(clock, events) -> bool:
    """A clock the history has already stopped (受理 stops 首次联系), before the deadline scan records it."""
    return clock.started_at is not None and any(
        e.at >= clock.started_at and ((e.to_status and clock.stops_on(e.to_status)) or clock.stops_on(e.action))
        for e in events)


def unit_list_view(ctx, s: Session, station: Station) -> dict:
    deadlines = parts.deadlines_of(ctx)
    now = utcnow()
    rows = []
    for t in open_of_unit(s, station.unit_id):
        left = remaining(deadlines.calendar, t.due_at, now, deadlines.calendar.hours_for(t.assigned_unit)) \
            if t.due_at else None
        rows.append(dict(number=t.number, title=t.title or (t.text or "")[:30], status=status_label(t.status),
                         priority=t.priority, priority_label=priority_label(t.priority), left=left))
    return dict(rows=rows, station=station)
