"""What `onequeue health` shows of the deadlines: overdue tickets, deadlines computed without calendar data,
clocks waiting for the scan, and the years ahead the calendar does not know."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sla.config import SlaConfig
from sla.models import TicketClock

ACTIVE = TicketClock.stopped_at.is_(None)


def sla_health(session: Session, config: SlaConfig, now: datetime) -> dict:
    calendar = config.calendar.build()
    overdue = session.scalar(select(func.count(func.distinct(TicketClock.ticket_id)))
                             .where(ACTIVE, TicketClock.breached_at.is_not(None))) or 0
    uncertain = session.scalar(select(func.count()).select_from(TicketClock)
                               .where(ACTIVE, TicketClock.uncertain.is_(True))) or 0
    due = session.scalar(select(func.count()).select_from(TicketClock)
                         .where(TicketClock.next_action_at <= now)) or 0
    return {
        "overdue_tickets": overdue,
        "uncertain_deadlines": uncertain,
        "clocks_due_for_scan": due,
        # This year and the next: deadlines of 45 working days reach into the next year from October on.
        "years_without_calendar": calendar.years_without_data([now.year, now.year + 1]),
    }
