"""Periods of the figures, in China Standard Time days: a day, an ISO week, a month or any span, each with the
period before it and the same period a year before."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from tickets.db import utcnow
from tickets.vocabulary import CHINA_TZ


class BadPeriod(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    """Days `start` to `end`, both included."""

    start: date
    end: date
    kind: str = "custom"  # day, week, month or custom

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        """The period just before: the month before a month, the week before a week, else as many days."""
        if self.kind == "month":
            end = self.start - timedelta(days=1)
            return Period(end.replace(day=1), end, "month")
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1), self.kind)

    def year_before(self) -> "Period":
        """The same days a year before (29 February becomes the 28th); a week is the same ISO week."""
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            try:
                start = date.fromisocalendar(year - 1, week, 1)
            except ValueError:  # week 53 in a year that had 52
                start = date.fromisocalendar(year - 1, 52, 1)
            return Period(start, start + timedelta(days=6), "week")
        if self.kind == "month":
            start = _year_back(self.start)
            return Period(start, _year_back(self.end) if self.end.month != 2 else _month_end(start), "month")
        return Period(_year_back(self.start), _year_back(self.end), self.kind)

    def __str__(self) -> str:
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def as_dict(self) -> dict:
        return {"period": str(self), "kind": self.kind, "start": self.start.isoformat(), "end": self.end.isoformat()}


def _year_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _month_end(first: date) -> date:
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)


def today() -> date:
    """Today in China Standard Time."""
    return utcnow().astimezone(CHINA_TZ).date()


def parse_period(text: str) -> Period:
    """`2026-11-30` a day, `2026-W48` an ISO week, `2026-11` a month, `2026-11-01..2026-11-15` a span;
    `today`, `this-week`, `this-month` in China Standard Time."""
    text = (text or "").strip()
    now = today()
    if text == "today":
        return Period(now, now, "day")
    if text == "this-week":
        return parse_period(f"{now.isocalendar()[0]}-W{now.isocalendar()[1]:02d}")
    if text == "this-month":
        return parse_period(f"{now:%Y-%m}")
    try:
        if m := re.fullmatch(r"(\d{4})-W(\d{1,2})", text):
            start = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            return Period(start, start + timedelta(days=6), "week")
        if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            start = date(int(m[1]), int(m[2]), 1)
            return Period(start, _month_end(start), "month")
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", text):
            start, end = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            if end < start:
                raise BadPeriod(f"period {text!r} ends before it starts")
            if (end - start).days > 3660:
                raise BadPeriod(f"period {text!r} is longer than ten years")
            return Period(start, end, "custom")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            return Period(day, day, "day")
    except ValueError as exc:
        if isinstance(exc, BadPeriod):
            raise
        raise BadPeriod(f"period {text!r} is not a date: {exc}") from None
    raise BadPeriod(f"period {text!r} is not one of: 2026-11-30 (a day), 2026-W48 (a week), 2026-11 (a month), "
                    f"2026-11-01..2026-11-15 (a span), today, this-week, this-month")
