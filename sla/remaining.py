"""The working time left before a deadline, as staff read it: 剩 1 个工作日 3 小时, and green, amber or red."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sla.calendar_cn import WorkCalendar, WorkingHours


@dataclass(frozen=True)
class Remaining:
    due_at: datetime
    seconds: float  # working seconds left; negative once the deadline has passed
    day_seconds: int  # one working day of the hours the clock counts

    @property
    def state(self) -> str:
        """ok (more than one working day left), soon (within one working day) or overdue."""
        if self.seconds < 0:
            return "overdue"
        return "soon" if self.seconds <= self.day_seconds else "ok"

    @property
    def label(self) -> str:
        left = abs(self.seconds)
        days, rest = divmod(int(left), self.day_seconds or 1)
        hours, minutes = rest // 3600, rest % 3600 // 60
        if days:
            parts = [f"{days} 个工作日"] + ([f"{hours} 小时"] if hours else [])
        else:
            parts = ([f"{hours} 小时"] if hours else []) + ([f"{minutes} 分钟"] if minutes or not hours else [])
        return ("已超期 " if self.seconds < 0 else "剩 ") + " ".join(parts)


def remaining(calendar: WorkCalendar, due_at: Optional[datetime], now: datetime,
              hours: Optional[WorkingHours] = None) -> Optional[Remaining]:
    """The working time from `now` to `due_at` (or past it), in the working hours of the clock's unit."""
    if due_at is None:
        return None
    hours = hours or calendar.hours
    if due_at >= now:
        seconds, _ = calendar.working_time_between(now, due_at, hours)
        if seconds == 0 and due_at > now:
            seconds = 1  # due at the start of the next working span: not yet overdue
    else:
        seconds = -calendar.working_time_between(due_at, now, hours)[0]
        if seconds == 0:
            seconds = -1  # passed outside working hours: overdue all the same
    return Remaining(due_at, seconds, hours.seconds_per_day)
