"""A ticket as a row of the queue: the labels and the working time left that the templates show."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from accounts import ALL_UNITS, Viewer, subtree
from sla.remaining import Remaining, remaining
from tickets import Ticket
from tickets.vocabulary import kind_label, priority_label, status_label
from tickets.worklist import Viewer as WorklistViewer


@dataclass(frozen=True)
class Row:
    id: int
    number: str
    channel: str
    kind: str
    priority: str  # normal, urgent, very_urgent: the template marks the last two
    priority_label: str
    title: str
    unit: str
    town: str
    received_at: datetime
    deadline: Optional[Remaining]
    status: str
    status_label: str


def row_of(ticket: Ticket, units, channel_labels: dict, deadlines, now: datetime) -> Row:
    unit = units.get(ticket.assigned_unit) if ticket.assigned_unit else None
    left = None
    if ticket.due_at:
        left = remaining(deadlines.calendar, ticket.due_at, now, deadlines.calendar.hours_for(ticket.assigned_unit))
    return Row(ticket.id, ticket.number, channel_labels.get(ticket.channel, ticket.channel), kind_label(ticket.kind),
               ticket.priority, priority_label(ticket.priority), ticket.title or "（无标题）",
               unit.name if unit else (ticket.assigned_unit or ""), ticket.town or "", ticket.received_at,
               left,
               ticket.status, status_label(ticket.status))


def worklist_viewer(viewer: Viewer, units) -> WorklistViewer:
    """The queue's view of a person: what they may see, and their own unit with those under it."""
    scope = None if viewer.units == ALL_UNITS else frozenset(viewer.units)
    return WorklistViewer(scope_units=scope, own_units=subtree(viewer.unit_id, units))
