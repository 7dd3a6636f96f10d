"""Surges (投诉激增): per business, industry, town, business district and hot term, the daily count of new
complaints and reports — read from the statistics' rollup — against the same weekday of recent weeks. Two
detectors share one false-alarm rate: an exact test of the day's count against its baseline (Poisson, or negative
binomial when the baseline is over-dispersed) and a CUSUM of the days' standardised excess for slower rises. A
surge raises one alert per series through the alerts' mechanism, with the tickets behind it; the README says how.

`detect` is the statistics alone (a list of daily counts in, the surge days out); `scan` reads the series, runs it
and raises the alerts — the job, the command line and the benchmark call these."""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Callable, Optional, Sequence

import structlog
from scipy import stats as sps
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notify.outbound import Recipient, plan
from stats.facts import cst_day
from stats.models import StatsCell, StatsFact, StatsTermCell
from tickets.db import is_postgres, utcnow
from tickets.models import Counter
from tickets.upsert import insert_or_ignore
from watch.alert_rules import AlertsFile, Surge, duty_contacts
from watch.models import Alert, AlertTicket, Business, BusinessTicket

log = structlog.get_logger("watch")

SERIES_LABELS = {"business": "商家", "industry": "行业", "town": "镇街", "district": "商圈", "term": "热词"}
METHOD_LABELS = {"poisson": "泊松检验", "negbin": "负二项检验", "cusum": "累积和"}
DISPERSION_LEVEL = 0.05  # the baseline is over-dispersed when its index of dispersion is this unlikely for Poisson
MU_FLOOR = 0.1           # a weekday never seen in the baseline is expected to bring this many, not none
RECHECK_DAYS = 2         # a scan looks at today and the days before (a late rollup, a job that did not run)
DAYS_A_YEAR = 365.0


@dataclass(frozen=True)
class Signal:
    """A surge day of a series: which detector saw it, the count, what the baseline expected, and the evidence."""

    day: int            # the index into the counts given to `detect`
    method: str         # poisson | negbin | cusum
    count: int          # the day's count (for cusum: the rise's, since it began)
    expected: float     # what the baseline expected of the day (of the rise's days)
    p_value: Optional[float]  # the test's; None for cusum
    first: int          # the first day behind it (the day itself for a test, the rise's start for cusum)


def day_level(settings: Surge) -> float:
    """The per-day, per-detector test level: the year's false alarms of a series shared by its days and by the two
    detectors."""
    return settings.false_alarms_per_year / DAYS_A_YEAR / 2


@lru_cache(maxsize=64)
def cusum_threshold(arl: float, k: float) -> float:
    """The decision interval h whose in-control average run length is `arl` days, for a CUSUM of unit-variance
    steps with reference value k (Siegmund's approximation: ARL = (e^{2kb} - 2kb - 1) / 2k², b = h + 1.166)."""
    lo, hi = 0.0, 50.0
    for _ in range(60):
        h = (lo + hi) / 2
        b = 2 * k * (h + 1.166)
        if (math.exp(b) - b - 1) / (2 * k * k) < arl:
            lo = h
        else:
            hi = h
    return (lo + hi) / 2


def _test(x: int, baseline: Sequence[int], alpha: float) -> tuple[bool, str, float, float]:
    """The day's count against the same weekday's counts: (surge, method, expected, p-value)."""
    n, total = len(baseline), sum(baseline)
    mean = total / n
    # exact conditional test of two Poisson rates: given x + total, x is Binomial(x + total, 1 / (n + 1))
    p = float(sps.binom.sf(x - 1, x + total, 1.0 / (n + 1)))
    method = "poisson"
    if n >= 3 and mean > 0:
        var = sum((b - mean) ** 2 for b in baseline) / (n - 1)
        dispersion = (n - 1) * var / mean
        if var > mean and sps.chi2.sf(dispersion, n - 1) < DISPERSION_LEVEL:
            size = mean * mean / (var - mean)
            p_nb = float(sps.nbinom.sf(x - 1, size, size / (size + mean)))
            p, method = max(p, p_nb), "negbin"   # the plug-in NB alone would forget the baseline's own noise
    return p < alpha, method, mean, p


def detect(counts: Sequence[int], settings: Surge, first_day: int = 0, test_from: int = 0) -> list[Signal]:
    """The surge days among counts[test_from:], counts[i] being a series' count on day i and counts before
    `first_day` unknown (before the rollup began), not zero."""
    alpha = day_level(settings)
    k = settings.cusum_shift / 2
    h = cusum_threshold(1 / alpha, k)
    signals: list[Signal] = []
    s, run_count, run_expected, run_start = 0.0, 0, 0.0, None
    for t in range(max(first_day, test_from - settings.cusum_days), len(counts)):
        baseline = [counts[t - 7 * w] for w in range(1, settings.weeks + 1) if t - 7 * w >= first_day]
        if len(baseline) < settings.min_weeks:
            continue
        x = counts[t]
        surge = False
        if t >= test_from and x >= settings.min_count and x > sum(baseline) / len(baseline):
            surge, method, mean, p = _test(x, baseline, alpha)
        # the slow rise: Anscombe's root makes a Poisson count's step about unit variance
        mu = max(sum(baseline) / len(baseline), MU_FLOOR)
        z = 2 * (math.sqrt(x + 0.375) - math.sqrt(mu + 0.375))
        s = max(0.0, s + z - k)
        if s == 0:
            run_count, run_expected, run_start = 0, 0.0, None
        else:
            run_start = t if run_start is None else run_start
            run_count, run_expected = run_count + x, run_expected + mu
        if t < test_from:
            continue
        if surge:
            signals.append(Signal(t, method, x, mean, p, t))
        elif s > h and run_count >= settings.min_count and x > 0:
            signals.append(Signal(t, "cusum", run_count, run_expected, None, run_start))
        if s > h:   # seen: the detector starts again
            s, run_count, run_expected, run_start = 0.0, 0, 0.0, None
    return signals


# --- the series, read from the rollup ----------------------------------------------------------------------------

def _series(session: Session, dim: str, since: date, until: date, kinds: Sequence[str]) -> dict[str, dict[date, int]]:
    out: dict[str, dict[date, int]] = defaultdict(dict)
    if dim == "business":
        rows = session.execute(
            select(BusinessTicket.business_id, StatsFact.day, func.count())
            .join(BusinessTicket, BusinessTicket.ticket_id == StatsFact.ticket_id)
            .where(StatsFact.day >= since, StatsFact.day <= until, StatsFact.tickets == 1,
                   StatsFact.kind.in_(kinds))
            .group_by(BusinessTicket.business_id, StatsFact.day))
    elif dim == "term":
        rows = session.execute(
            select(StatsTermCell.term, StatsTermCell.day, func.sum(StatsTermCell.tickets))
            .where(StatsTermCell.day >= since, StatsTermCell.day <= until)
            .group_by(StatsTermCell.term, StatsTermCell.day))
    else:
        col = StatsCell.__table__.c[dim]
        rows = session.execute(
            select(col, StatsCell.day, func.sum(StatsCell.tickets))
            .where(StatsCell.day >= since, StatsCell.day <= until, StatsCell.kind.in_(kinds), col != "")
            .group_by(col, StatsCell.day))
    for value, day, n in rows:
        if n:
            out[str(value)][day] = int(n)
    return out


def _tickets_behind(session: Session, dim: str, value: str, days: Sequence[date], kinds: Sequence[str]) -> list[int]:
    q = select(StatsFact.ticket_id).where(StatsFact.day.in_(list(days)), StatsFact.tickets == 1)
    if dim == "business":
        q = q.join(BusinessTicket, BusinessTicket.ticket_id == StatsFact.ticket_id).where(
            BusinessTicket.business_id == int(value), StatsFact.kind.in_(kinds))
    elif dim == "term":
        return [tid for tid, terms in session.execute(select(StatsFact.ticket_id, StatsFact.terms).where(
            StatsFact.day.in_(list(days)), StatsFact.tickets == 1)) if value in (terms or [])]
    else:
        q = q.where(StatsFact.__table__.c[dim] == value, StatsFact.kind.in_(kinds))
    return list(session.scalars(q))


def hold(session: Session, name: str) -> None:
    """One worker at a time runs this job: the others wait for its transaction, then find its alerts."""
    session.execute(insert_or_ignore(session, Counter, ["name"]).values(name=name, value=0))
    stmt = select(Counter.value).where(Counter.name == name)
    if is_postgres(session):
        stmt = stmt.with_for_update()   # SQLite's BEGIN IMMEDIATE already is one at a time
    session.scalar(stmt)


@dataclass
class Raised:
    alert: Alert
    label: str
    urgent: bool


def scan(session: Session, rules: AlertsFile, units=None, today: Optional[date] = None,
         calendar=None, label: Callable[[str, str], str] = lambda dim, value: value) -> list[Alert]:
    """Look at every series for surges on today and the days just before; raise an alert for a new surge (one not
    closed per series: later surge days join it) and text the duty contacts — urgent surges at once, the others in
    one digest at the next working time; `label` names an industry's or district's id as people say it. Returns
    the alerts raised."""
    settings = rules.surge
    if not settings.enabled:
        return []
    today = today or cst_day(utcnow())
    hold(session, "watch:surge")
    first = session.scalar(select(func.min(StatsCell.day)))
    if first is None:
        return []
    span = settings.cusum_days + 7 * settings.weeks + RECHECK_DAYS
    since = max(first, today - timedelta(days=span))
    days = [since + timedelta(days=i) for i in range((today - since).days + 1)]
    test_from = max(0, len(days) - 1 - RECHECK_DAYS)
    raised: list[Raised] = []
    for dim in settings.series:
        for value, by_day in _series(session, dim, since, today, settings.kinds).items():
            if not any(by_day.get(d, 0) for d in days[test_from:]):
                continue
            counts = [by_day.get(d, 0) for d in days]
            offset = (first - since).days if first > since else 0
            for sig in detect(counts, settings, first_day=offset, test_from=test_from):
                r = _raise(session, dim, value, days, sig, settings, label)
                if r is not None:
                    raised.append(r)
    if raised:
        _text(session, rules, units, raised, calendar)
    return [r.alert for r in raised]


def _raise(session: Session, dim: str, value: str, days: list[date], sig: Signal, settings: Surge,
           label_of: Callable[[str, str], str]) -> Optional[Raised]:
    series = f"surge:{dim}:{value}"[:64]
    day = days[sig.day]
    last = session.scalars(select(Alert).where(Alert.series == series).order_by(Alert.id.desc()).limit(1)).first()
    ongoing = last is not None and last.status != "closed"
    if not ongoing and last is not None and last.detail and date.fromisoformat(last.detail["last_day"]) >= day:
        return None   # this surge day is behind a closed alert: only a later surge raises a new one
    behind_days = days[sig.first:sig.day + 1]
    tickets = _tickets_behind(session, dim, value, behind_days, settings.kinds)
    known = set(session.scalars(select(AlertTicket.ticket_id).join(Alert, Alert.id == AlertTicket.alert_id)
                                .where(Alert.series == series)))
    fresh = [t for t in tickets if t not in known]
    detail = {"series": dim, "value": value,
              "first_day": last.detail["first_day"] if ongoing and last.detail else behind_days[0].isoformat(),
              "last_day": max(day.isoformat(), last.detail["last_day"]) if ongoing and last.detail else day.isoformat(), "count": sig.count, "expected": round(sig.expected, 2),
              "method": sig.method, "p_value": sig.p_value}
    if ongoing:
        last.detail = detail   # a surge day more: it joins the alert not yet closed, without a message
        for t in fresh:
            session.add(AlertTicket(alert_id=last.id, ticket_id=t))
        session.flush()
        return None
    business_id, label = None, label_of(dim, value)
    if dim == "business":
        business = session.get(Business, int(value))
        business_id = int(value)
        label = f"{business.name}（{business.town or '镇街未明'}）" if business else value
    what = f"{SERIES_LABELS[dim]}{label}"
    expected = f"{sig.expected:.1f}"
    when = f"{day.month}月{day.day}日" if sig.first == sig.day else \
        f"{behind_days[0].month}月{behind_days[0].day}日起{len(behind_days)}天"
    summary = f"投诉激增：{what} {when}{sig.count}宗，同期基线{expected}宗（{METHOD_LABELS[sig.method]}）"
    urgent = sig.count >= settings.urgent_count and sig.method != "cusum"
    alert = Alert(rule="surge", series=series, business_id=business_id, level="urgent" if urgent else "normal",
                  status="open", summary=summary[:300], detail=detail)
    session.add(alert)
    session.flush()
    for t in fresh:
        session.add(AlertTicket(alert_id=alert.id, ticket_id=t))
    session.flush()
    log.warning("surge_alert_raised", alert=alert.id, series=dim, method=sig.method, count=sig.count,
                expected=round(sig.expected, 2), tickets=len(fresh))
    return Raised(alert, f"{what}{when}{sig.count}宗（基线{expected}）", urgent)


def _text(session: Session, rules: AlertsFile, units, raised: list[Raised], calendar) -> None:
    unit = units.get(rules.duty.unit) if units is not None else None
    recipients = [Recipient(c.phone, c.name, c.role) for c in duty_contacts(rules, unit)]
    now = utcnow()
    for urgent, group in ((True, [r for r in raised if r.urgent]), (False, [r for r in raised if not r.urgent])):
        if not group:
            continue
        not_before = None
        if not urgent and calendar is not None and not calendar.is_working_time(now):
            not_before = calendar.next_working_time(now)
        plan(session, key=f"surge:{group[0].alert.id}", ticket_id=None, unit_id=rules.duty.unit, purpose="alert",
             recipients=recipients, template=rules.surge.template, urgent=urgent, not_before=not_before,
             values=dict(count=len(group), items="；".join(r.label for r in group[:5])
                         + ("等" if len(group) > 5 else "")))
