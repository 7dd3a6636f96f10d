"""Which deadlines a ticket has, and when each falls: the policies of config.yaml over the working calendar."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Optional

from sla.calendar_cn import Reckoning, WorkCalendar, WorkingHours
from sla.config import ClockConfig, SlaConfig
from sla.models import TicketClock
from tickets.db import utcnow
from tickets.models import Ticket


@dataclass(frozen=True)
class Due:
    at: datetime
    uncertain_years: tuple[int, ...] = ()
    from_source: bool = False  # the source's own deadline (BLSX), earlier than the policy's

    @property
    def uncertain(self) -> bool:
        return bool(self.uncertain_years)


class Deadlines:
    """The configured policies and calendar, with the arithmetic every clock needs.

    `clock` gives "now" where a caller does not pass it (tests and simulations replace it)."""

    def __init__(self, config: SlaConfig, units=None, clock: Callable[[], datetime] = utcnow):
        self.config = config
        self._units = units
        self.calendar: WorkCalendar = config.calendar.build()
        self.clock = clock

    @property
    def units(self):
        """The units directory (or None); `units` may be given as a function returning the current one."""
        return self._units() if callable(self._units) else self._units

    def now(self) -> datetime:
        return self.clock()

    # --- policies -----------------------------------------------------------------------------

    def policy_for(self, ticket: Ticket) -> tuple[Optional[str], dict[str, ClockConfig]]:
        """The first policy whose conditions the ticket meets, with `all_tickets` clocks merged in."""
        for policy in self.config.policies:
            if policy.when.matches(ticket.channel_kind, ticket.channel, ticket.kind):
                clocks = dict(self.config.all_tickets)
                for name, cfg in policy.clocks.items():
                    if cfg is None:
                        clocks.pop(name, None)
                    else:
                        clocks[name] = cfg
                return policy.id, clocks
        return None, dict(self.config.all_tickets)

    def clock_config(self, ticket: Ticket, clock: str) -> Optional[ClockConfig]:
        return self.policy_for(ticket)[1].get(clock)

    # --- arithmetic ---------------------------------------------------------------------------

    def hours(self, row: TicketClock) -> WorkingHours:
        return self.calendar.hours_for(row.hours_unit)

    def due(self, row: TicketClock, ticket: Ticket, cfg: ClockConfig) -> Due:
        """The clock's deadline: its length from its start, plus extensions and the working time it was
        suspended; the source's own deadline instead when that is earlier and the policy says so."""
        cal, hours = self.calendar, self.hours(row)
        if cfg.working_days:
            r = cal.add_working_days(row.started_at, cfg.working_days + (row.extended_days or 0), hours)
        else:
            r = cal.add_working_time(row.started_at, cfg.working_hours * 3600, hours)
            if row.extended_days:
                r = _chain(r, cal.add_working_days(r.at, row.extended_days, hours))
        if row.suspended_seconds:
            r = _chain(r, cal.add_working_time(r.at, row.suspended_seconds, hours))
        if cfg.source_deadline and ticket.source_deadline is not None and ticket.source_deadline < r.at:
            return Due(ticket.source_deadline, (), True)
        return Due(r.at, r.uncertain_years)

    def reminder_times(self, row: TicketClock, cfg: ClockConfig) -> list[tuple[str, datetime]]:
        """(label, moment) of each reminder point before the deadline, earliest first; points that fall before
        the clock started are left out."""
        hours = self.hours(row)
        points = cfg.reminders if cfg.reminders is not None else self.config.reminders
        out = []
        for point in points:
            at = self.calendar.subtract_working_time(row.due_at, point.seconds(hours), hours).at
            if at > row.started_at and at < row.due_at:
                out.append((point.label, at))
        return sorted(out, key=lambda p: p[1])


def _chain(first: Reckoning, second: Reckoning) -> Reckoning:
    return Reckoning(second.at, tuple(sorted(set(first.uncertain_years) | set(second.uncertain_years))))
