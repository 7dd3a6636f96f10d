"""The window of dates a source may plausibly give: one place every connector's dates are checked against, so a
record dated in year 9999 or 0001 is set aside instead of overflowing (or firing) the deadline arithmetic."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Optional

from tickets.vocabulary import CHINA_TZ

# A source's own deadline may lie further ahead than its other dates (a long extension), never years ahead.
DEADLINE_AHEAD = timedelta(days=400)


@dataclass(frozen=True)
class DateWindow:
    """Dates before `earliest` or more than `ahead` after now are not believed."""

    earliest: date = date(2000, 1, 1)
    ahead: timedelta = timedelta(days=1)

    def problem(self, value: datetime, now: Optional[datetime] = None, ahead: Optional[timedelta] = None) -> Optional[str]:
        """Why `value` (aware) is outside the window, or None when it is inside."""
        start = datetime.combine(self.earliest, time(0), CHINA_TZ)
        now = now or datetime.now(timezone.utc)
        span = ahead if ahead is not None else self.ahead
        try:
            end = now + span
        except OverflowError:
            end = datetime.max.replace(tzinfo=timezone.utc)
        if value < start:
            return f"{value.isoformat()} is before {self.earliest.isoformat()}, the earliest date believed (config dates.earliest)"
        if value > end:
            return (f"{value.isoformat()} is more than {_hours(span)} ahead of now "
                    "(config dates.ahead_hours)")
        return None

    def contains(self, value: Optional[datetime]) -> bool:
        return value is not None and value.tzinfo is not None and self.problem(value) is None


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} hours" if hours <= 48 else f"{hours / 24:g} days"


_window = DateWindow()


def plausible_window() -> DateWindow:
    """The window this process checks dates against (set once from config.yaml at start)."""
    return _window


def use_window(window: DateWindow) -> None:
    """Set the process's window; the composition root calls this with config.yaml's `dates`."""
    global _window
    _window = window
