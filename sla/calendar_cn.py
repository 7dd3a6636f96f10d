"""Working time under the official Chinese holiday schedule: which days are worked (make-up days, 调休,
included), in which hours, and deadline arithmetic over them.

Days come from the `chinesecalendar` package; a year it lacks can be given in config.yaml. Arithmetic that
crosses a year with no data counts weekends alone and says so (`Reckoning.uncertain`), never silently.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Iterable, Mapping, Optional

import chinese_calendar

from tickets.vocabulary import CHINA_TZ

DAY = 86400
_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
# The walk over days gives up past this: a calendar without any working day is a configuration error.
MAX_DAYS = 3700
# How many worked-out answers a calendar keeps (it forgets them all when full).
MEMO_SIZE = 20000

PACKAGE_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)
_PACKAGE_HOLIDAYS = frozenset(chinese_calendar.holidays)
_PACKAGE_WORKDAYS = frozenset(chinese_calendar.workdays)


class CalendarError(ValueError):
    pass


@dataclass(frozen=True)
class WorkingHours:
    """The hours worked on a working day, as (start, end) seconds after local midnight."""

    spans: tuple[tuple[int, int], ...]

    @classmethod
    def parse(cls, text: str) -> "WorkingHours":
        """"09:00-12:00,14:00-18:00" (the format of units.yaml contact hours)."""
        spans = []
        for part in text.replace(" ", "").split(","):
            m = _SPAN.match(part)
            if not m:
                raise CalendarError(f"expected hours like 09:00-12:00,14:00-18:00, got {text!r}")
            start = int(m.group(1)) * 3600 + int(m.group(2)) * 60
            end = int(m.group(3)) * 3600 + int(m.group(4)) * 60
            if end <= start or end > DAY:
                raise CalendarError(f"{part!r}: the end must come after the start, within the day")
            spans.append((start, end))
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:]):
            if start < end:
                raise CalendarError(f"{text!r}: the spans overlap")
        return cls(tuple(spans))

    @property
    def seconds_per_day(self) -> int:
        return sum(end - start for start, end in self.spans)

    def __str__(self) -> str:
        def hm(s: int) -> str:
            return f"{s // 3600:02d}:{s % 3600 // 60:02d}"
        return ",".join(f"{hm(a)}-{hm(b)}" for a, b in self.spans)


DEFAULT_HOURS = WorkingHours.parse("09:00-12:00,14:00-18:00")


@dataclass(frozen=True)
class YearDays:
    """One year's official schedule: the holidays, and the weekend days worked instead (调休)."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Reckoning:
    """A moment computed over the calendar; `uncertain` when a day it crossed is in a year without data."""

    at: datetime
    uncertain_years: tuple[int, ...] = ()

    @property
    def uncertain(self) -> bool:
        return bool(self.uncertain_years)


@dataclass
class _Tracker:
    years: set[int] = field(default_factory=set)

    def result(self, at: datetime) -> Reckoning:
        return Reckoning(at.astimezone(timezone.utc), tuple(sorted(self.years)))


class WorkCalendar:
    """Working days and hours. `years` (from config.yaml) adds years the package lacks and overrides those it has."""

    def __init__(self, years: Optional[Mapping[int, YearDays]] = None, hours: WorkingHours = DEFAULT_HOURS,
                 unit_hours: Optional[Mapping[str, WorkingHours]] = None):
        self.years = dict(years or {})
        self.hours = hours
        self.unit_hours = dict(unit_hours or {})
        self.version = self._version()
        # Answers already worked out: a dispatch batch asks the same few questions for every ticket (the same
        # start of a one-hour clock, the same day of receipt). The calendar never changes once made.
        self._memo: dict[tuple, Reckoning] = {}

    def _remembered(self, key: tuple, compute: Callable[[], Reckoning]) -> Reckoning:
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            found = self._memo[key] = compute()
        return found

    def _version(self) -> str:
        data = {
            "package": getattr(chinese_calendar, "__version__", "?"),
            "package_years": [PACKAGE_YEARS.start, PACKAGE_YEARS.stop],
            "years": {str(y): [sorted(map(str, d.holidays)), sorted(map(str, d.workdays))]
                      for y, d in sorted(self.years.items())},
            "hours": str(self.hours),
            "unit_hours": {u: str(h) for u, h in sorted(self.unit_hours.items())},
        }
        return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]

    # --- days ---------------------------------------------------------------------------------

    def knows(self, year: int) -> bool:
        """Whether the year's official schedule is known (package or config)."""
        return year in self.years or year in PACKAGE_YEARS

    def years_without_data(self, years: Iterable[int]) -> list[int]:
        return [y for y in years if not self.knows(y)]

    def is_workday(self, day: date, tracker: Optional[_Tracker] = None) -> bool:
        given = self.years.get(day.year)
        if given is not None:
            if day in given.workdays:
                return True
            return day.weekday() < 5 and day not in given.holidays
        if day.year in PACKAGE_YEARS:
            # The package's own rule, without its per-call range check (which scans every holiday it knows).
            return day in _PACKAGE_WORKDAYS or (day.weekday() < 5 and day not in _PACKAGE_HOLIDAYS)
        if tracker is not None:
            tracker.years.add(day.year)
        return day.weekday() < 5

    def hours_for(self, unit_id: Optional[str]) -> WorkingHours:
        return self.unit_hours.get(unit_id, self.hours) if unit_id else self.hours

    def _spans(self, day: date, hours: WorkingHours, tracker: _Tracker) -> list[tuple[datetime, datetime]]:
        if not self.is_workday(day, tracker):
            return []
        midnight = datetime.combine(day, time(0), CHINA_TZ)
        return [(midnight + timedelta(seconds=a), midnight + timedelta(seconds=b)) for a, b in hours.spans]

    # --- arithmetic ---------------------------------------------------------------------------

    def add_working_days(self, start: datetime, days: int, hours: Optional[WorkingHours] = None) -> Reckoning:
        """The close of the `days`-th working day after the day of `start` (the day itself is not counted)."""
        hours = hours or self.hours
        key = ("days", _local(start).date() if days > 0 else start, days, hours)
        return self._remembered(key, lambda: self._add_working_days(start, days, hours))

    def _add_working_days(self, start: datetime, days: int, hours: WorkingHours) -> Reckoning:
        tracker = _Tracker()
        day = _local(start).date()
        if days <= 0:
            return tracker.result(start)
        counted = 0
        for _ in range(MAX_DAYS):
            day += timedelta(days=1)
            if self.is_workday(day, tracker):
                counted += 1
                if counted == days:
                    close = datetime.combine(day, time(0), CHINA_TZ) + timedelta(seconds=hours.spans[-1][1])
                    return tracker.result(close)
        raise CalendarError(f"no {days} working days within {MAX_DAYS} days of {start:%Y-%m-%d}")

    def add_working_time(self, start: datetime, seconds: float, hours: Optional[WorkingHours] = None) -> Reckoning:
        """`start` moved on by `seconds` of working time; 0 gives the next moment that is working time."""
        hours = hours or self.hours
        return self._remembered(("on", start, seconds, hours), lambda: self._add_working_time(start, seconds, hours))

    def _add_working_time(self, start: datetime, seconds: float, hours: WorkingHours) -> Reckoning:
        tracker = _Tracker()
        now = _local(start)
        day = now.date()
        remaining = float(seconds)
        for _ in range(MAX_DAYS):
            for a, b in self._spans(day, hours, tracker):
                a = max(a, now)
                if a >= b:
                    continue
                available = (b - a).total_seconds()
                if remaining <= available:
                    return tracker.result(a + timedelta(seconds=remaining))
                remaining -= available
            day += timedelta(days=1)
        raise CalendarError(f"no working time within {MAX_DAYS} days of {start:%Y-%m-%d}")

    def subtract_working_time(self, end: datetime, seconds: float, hours: Optional[WorkingHours] = None) -> Reckoning:
        """`end` moved back by `seconds` of working time. Landing on the end of a span gives the start of the
        next one instead (the same working moment, but one inside working hours, when an SMS may go)."""
        hours = hours or self.hours
        return self._remembered(("back", end, seconds, hours),
                                lambda: self._subtract_working_time(end, seconds, hours))

    def _subtract_working_time(self, end: datetime, seconds: float, hours: WorkingHours) -> Reckoning:
        tracker = _Tracker()
        now = _local(end)
        day = now.date()
        remaining = float(seconds)
        if remaining <= 0:
            return tracker.result(end)
        for _ in range(MAX_DAYS):
            for a, b in reversed(self._spans(day, hours, tracker)):
                b = min(b, now)
                if b <= a:
                    continue
                available = (b - a).total_seconds()
                if remaining < available:
                    return tracker.result(b - timedelta(seconds=remaining))
                if remaining == available:
                    return Reckoning(self.add_working_time(a, 0, hours).at, tuple(sorted(tracker.years)))
                remaining -= available
            day -= timedelta(days=1)
        raise CalendarError(f"no working time within {MAX_DAYS} days before {end:%Y-%m-%d}")

    def working_time_between(self, start: datetime, end: datetime,
                             hours: Optional[WorkingHours] = None) -> tuple[float, bool]:
        """Seconds of working time from `start` to `end` (0 if end is not after start), and whether uncertain."""
        hours = hours or self.hours
        tracker = _Tracker()
        a0, b0 = _local(start), _local(end)
        total = 0.0
        day = a0.date()
        while day <= b0.date():
            for a, b in self._spans(day, hours, tracker):
                lo, hi = max(a, a0), min(b, b0)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total, bool(tracker.years)

    def next_working_time(self, moment: datetime, hours: Optional[WorkingHours] = None) -> datetime:
        """`moment` itself if it is working time, else the start of the next working span (UTC)."""
        return self.add_working_time(moment, 0, hours).at

    def is_working_time(self, moment: datetime, hours: Optional[WorkingHours] = None) -> bool:
        return self.next_working_time(moment, hours) == moment.astimezone(timezone.utc)


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise CalendarError("a moment needs its timezone")
    return moment.astimezone(CHINA_TZ)


def parse_days(items: Iterable[object]) -> frozenset[date]:
    """Dates, "2027-01-01" or ranges "2027-02-05..2027-02-11", as a set of days."""
    days: set[date] = set()
    for item in items:
        if isinstance(item, datetime):
            days.add(item.date())
        elif isinstance(item, date):
            days.add(item)
        else:
            text = str(item).strip()
            if ".." in text:
                first, last = (date.fromisoformat(p.strip()) for p in text.split("..", 1))
                if last < first:
                    raise CalendarError(f"{text!r}: the range ends before it starts")
                while first <= last:
                    days.add(first)
                    first += timedelta(days=1)
            else:
                days.add(date.fromisoformat(text))
    return frozenset(days)
