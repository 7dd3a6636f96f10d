"""The figures, read from the rollup: counts by any dimension or two against the previous period and the same
period a year before, handling per unit, hot words and rising words. One function per figure set; the command
line, the pages and the JSON API call these alone. A person's scope (accounts.scope) limits every figure to the
tickets of the units they may see."""
from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Optional, Sequence

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from accounts.scope import ALL_UNITS, Scope
from stats.models import DIMENSIONS, StatsCell, StatsTermCell
from stats.periods import Period
from tickets.db import utcnow
from tickets.handling import OUTCOMES
from tickets.models import Ticket
from tickets.states import OPEN_SQL

# Rising words: a term is rising when its tickets in the period are at least RISE_RATIO times what its own
# last BASELINE_DAYS days let one expect for a period as long, by three standard deviations of a Poisson count
# and by at least RISE_MIN tickets.
# and by at least RISE_MIN tickets. A baseline of fewer than BASELINE_MIN tickets in all (a new installation)
# tells nothing: no word is rising then.
BASELINE_DAYS, RISE_RATIO, RISE_MIN, BASELINE_MIN = 28, 2.0, 3, 50


class BadDimension(ValueError):
    pass


def check_dimensions(by: Sequence[str]) -> list[str]:
    by = [d for d in by if d]
    if not 1 <= len(by) <= 2:
        raise BadDimension("give one dimension, or two to cross them")
    for d in by:
        if d not in DIMENSIONS:
            raise BadDimension(f"unknown dimension {d!r}; dimensions: {', '.join(DIMENSIONS)}")
    if len(by) == 2 and by[0] == by[1]:
        raise BadDimension("two different dimensions are crossed")
    return by


def _scoped(stmt, model, scope: Scope):
    if scope == ALL_UNITS:
        return stmt
    return stmt.where(model.unit.in_(sorted(scope)))


def _in(stmt, model, period: Period):
    return stmt.where(model.day >= period.start, model.day <= period.end)


def _grouped(session: Session, period: Period, by: list[str], scope: Scope, filters: dict) -> dict[tuple, tuple]:
    cols = [StatsCell.__table__.c[d] for d in by]
    stmt = select(*cols, func.sum(StatsCell.tickets), func.sum(StatsCell.duplicates)).group_by(*cols)
    for d, v in filters.items():
        stmt = stmt.where(StatsCell.__table__.c[d] == v)
    stmt = _scoped(_in(stmt, StatsCell, period), StatsCell, scope)
    return {tuple(r[:len(by)]): (int(r[-2] or 0), int(r[-1] or 0)) for r in session.execute(stmt)}


def counts(session: Session, period: Period, by: Sequence[str], scope: Scope = ALL_UNITS,
           filters: Optional[dict] = None) -> dict:
    """Complaints (a duplicate counted apart) by one dimension or two crossed, each against the previous period
    and the same period a year before; `filters` narrows to dimension values (e.g. {"town": "大良街道"})."""
    by = check_dimensions(by)
    filters = {d: v for d, v in (filters or {}).items() if d in DIMENSIONS}
    now = _grouped(session, period, by, scope, filters)
    before = _grouped(session, period.previous(), by, scope, filters)
    year = _grouped(session, period.year_before(), by, scope, filters)
    rows = []
    for key in set(now) | set(before) | set(year):
        tickets, dups = now.get(key, (0, 0))
        rows.append({**dict(zip(by, key)), "tickets": tickets, "duplicates": dups,
                     "previous": before.get(key, (0, 0))[0], "year_before": year.get(key, (0, 0))[0],
                     "change": _change(tickets, before.get(key, (0, 0))[0]),
                     "change_year": _change(tickets, year.get(key, (0, 0))[0])})
    rows.sort(key=lambda r: (-r["tickets"], -r["previous"], *(r[d] for d in by)))
    total = {k: sum(r[k] for r in rows) for k in ("tickets", "duplicates", "previous", "year_before")}
    total["change"] = _change(total["tickets"], total["previous"])
    total["change_year"] = _change(total["tickets"], total["year_before"])
    return {**period.as_dict(), "previous_period": str(period.previous()), "year_before_period":
            str(period.year_before()), "by": by, "filters": filters, "rows": rows, "total": total}


def _change(now: int, then: int) -> Optional[float]:
    """The change as a fraction of `then` (0.25 is +25%); None when there was nothing then."""
    return round((now - then) / then, 4) if then else None


def handling(session: Session, period: Period, scope: Scope = ALL_UNITS, now: Optional[datetime] = None) -> dict:
    """How well each unit handled the tickets received in the period: taken on (受理) and taken on within the
    deadline (响应率), resolved and resolved within the deadline, returned, outcomes (解决率 = settled of
    resolved), the complainants' answers (满意率 = satisfied of rated), the amount recovered and the mean hours
    to each step; and the unit's tickets overdue now."""
    c = StatsCell
    sums = [func.sum(getattr(c, m)) for m in HANDLED]
    stmt = _scoped(_in(select(c.unit, c.outcome, *sums).group_by(c.unit, c.outcome), c, period), c, scope)
    units: dict[str, dict] = {}
    for unit, outcome, *v in session.execute(stmt):
        u = units.setdefault(unit, _blank())
        for name, value in zip(HANDLED, v):
            u[name] += value or 0
        if outcome:
            u["outcomes"][outcome] += int(v[3] or 0)
    for unit, n in overdue_now(session, scope, now).items():
        units.setdefault(unit, _blank())["overdue_now"] = n
    total = _blank()
    for u in units.values():
        for k, v in u.items():
            if k == "outcomes":
                for o, n in v.items():
                    total["outcomes"][o] += n
            else:
                total[k] += v
    rows = [{"unit": unit, **_rates(u)} for unit, u in units.items() if u["tickets"] or u["overdue_now"]]
    rows.sort(key=lambda r: (-r["tickets"], r["unit"]))
    return {**period.as_dict(), "rows": rows, "total": _rates(total)}


HANDLED = ("tickets", "accepted", "accepted_on_time", "resolved", "resolved_on_time", "returned", "accept_seconds",
           "resolve_seconds", "recovered", "rated", "satisfied", "first_contact", "first_contact_on_time",
           "escalated")


def _blank() -> dict:
    return {**dict.fromkeys(HANDLED, 0), "recovered": Decimal("0"), "overdue_now": 0, "outcomes": defaultdict(int)}


def _rates(u: dict) -> dict:
    settled = u["outcomes"].get("settled", 0)
    out = {k: (int(v) if k not in ("recovered", "outcomes") else v) for k, v in u.items()
           if k not in ("accept_seconds", "resolve_seconds")}
    out["recovered"] = Decimal(u["recovered"]).quantize(Decimal("0.01"))
    out["outcomes"] = {o: u["outcomes"][o] for o in OUTCOMES if u["outcomes"].get(o)}
    out["acceptance_rate"] = _ratio(u["accepted_on_time"], u["tickets"])      # 响应率
    out["on_time_resolution_rate"] = _ratio(u["resolved_on_time"], u["resolved"])
    out["settlement_rate"] = _ratio(settled, u["resolved"])                   # 解决率
    out["satisfaction_rate"] = _ratio(u["satisfied"], u["rated"])             # 满意率
    out["first_contact_rate"] = _ratio(u["first_contact_on_time"], u["first_contact"])  # within one working hour
    out["mean_hours_to_accept"] = _ratio(u["accept_seconds"] / 3600, u["accepted"], 1)
    out["mean_hours_to_resolve"] = _ratio(u["resolve_seconds"] / 3600, u["resolved"], 1)
    return out


def _ratio(part, whole, digits: int = 4) -> Optional[float]:
    return round(float(part) / whole, digits) if whole else None


def overdue_now(session: Session, scope: Scope = ALL_UNITS, now: Optional[datetime] = None) -> dict[str, int]:
    """Open tickets past their deadline now, per unit: read from the open tickets' deadline index, as the queue's
    已超期 view is, not from the rollup (a ticket falls overdue with no change to it)."""
    stmt = (select(Ticket.assigned_unit, func.count()).where(text(OPEN_SQL), Ticket.due_at < (now or utcnow()))
            .group_by(Ticket.assigned_unit))
    if scope != ALL_UNITS:
        stmt = stmt.where(Ticket.assigned_unit.in_(sorted(scope)))
    return {unit or "": n for unit, n in session.execute(stmt)}


def hot_words(session: Session, period: Period, scope: Scope = ALL_UNITS, limit: int = 20) -> dict:
    """The terms in the most tickets of the period (a term's heat), each against the period before and its own
    baseline, and the rising terms: well above what their last four weeks let one expect."""
    heat = _terms(session, period, scope)
    before = _terms(session, period.previous(), scope)
    base_period = Period(period.start - timedelta(days=BASELINE_DAYS), period.start - timedelta(days=1))
    base = _terms(session, base_period, scope)
    c = StatsCell
    base_tickets = session.scalar(_scoped(_in(select(func.coalesce(func.sum(c.tickets), 0)), c, base_period), c,
                                          scope)) or 0
    rows = []
    for term, n in heat.items():
        expected = base.get(term, 0) * period.days / BASELINE_DAYS
        rising = (base_tickets >= BASELINE_MIN and n >= RISE_MIN and n >= RISE_RATIO * expected
                  and n >= expected + 3 * math.sqrt(max(expected, 1)))
        rows.append({"term": term, "tickets": n, "previous": before.get(term, 0),
                     "expected": round(expected, 2), "rising": rising})
    rows.sort(key=lambda r: (-r["tickets"], r["term"]))
    rising = sorted((r for r in rows if r["rising"]), key=lambda r: (-(r["tickets"] - r["expected"]), r["term"]))
    return {**period.as_dict(), "baseline": {"start": base_period.start.isoformat(),
                                             "end": base_period.end.isoformat(), "tickets": int(base_tickets)},
            "rising_judged": base_tickets >= BASELINE_MIN,
            "terms": rows[:limit], "rising": rising[:limit]}


def _terms(session: Session, period: Period, scope: Scope) -> dict[str, int]:
    t = StatsTermCell
    stmt = _scoped(_in(select(t.term, func.sum(t.tickets)).group_by(t.term), t, period), t, scope)
    return {term: int(n) for term, n in session.execute(stmt) if n}


def counted_as(session: Session, ticket_id: int) -> Optional[dict]:
    """How one ticket is counted now: its industry and its business district with what decided them, and its hot
    words; None until the rollup has taken it in."""
    from stats.models import StatsFact

    fact = session.get(StatsFact, ticket_id)
    if fact is None:
        return None
    return {"industry": fact.industry, "industry_basis": fact.industry_basis, "district": fact.district,
            "district_basis": fact.district_basis, "terms": list(fact.terms or []),
            "duplicate": bool(fact.duplicates)}


def open_by_town(session: Session, now: Optional[datetime] = None) -> dict[str, dict[str, int]]:
    """Open tickets and those overdue now, per town: read from the open tickets (as the queue's views are), since a
    ticket's being open or overdue now is not a count of the day it came in."""
    rows = session.execute(select(Ticket.town, func.count(), func.count().filter(Ticket.due_at < (now or utcnow())))
                           .where(text(OPEN_SQL), Ticket.status != "duplicate").group_by(Ticket.town))
    return {town or "": {"open": n, "overdue": late} for town, n, late in rows}


def screen(session: Session, today: Period, month: Period, now: Optional[datetime] = None) -> dict:
    """The big screen's figures: today's intake by channel, open and overdue by town, today's hot words, and
    this month's industries and business districts."""
    return {"today": today.as_dict(), "month": month.as_dict(),
            "intake": counts(session, today, ["channel"]),
            "towns": open_by_town(session, now),
            "words": hot_words(session, today, limit=12),
            "industries": counts(session, month, ["industry"]),
            "districts": counts(session, month, ["district"], filters=None)}
