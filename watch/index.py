"""The handling index (处理指数) per business: from the statistics' facts of its complaints (not duplicates) of the
last `days`, five components from 0 to 1 — timeliness, settlement, cooperation (not returned or refused),
satisfaction, no repeat complaints — each pulled towards its industry's average by `prior_weight` cases, and a score
from 0 to 100 weighted by index.yaml; ranked within the industry; kept per day (`compute`), read by `latest`."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Optional

import structlog
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from stats.facts import cst_day
from stats.models import StatsFact
from tickets.db import utcnow
from tickets.duplicates import phone_key
from tickets.models import Ticket
from watch.index_rules import COMPONENTS, IndexFile
from watch.models import Business, BusinessScore, BusinessTicket
from watch.surge import hold

log = structlog.get_logger("watch")

COMPONENT_LABELS = {"timeliness": "办理及时", "settlement": "调解成功", "cooperation": "配合处理",
                    "satisfaction": "消费者满意", "repeat": "无重复投诉"}
SETTLED = {"settled": 1.0, "partly_settled": 0.5, "not_settled": 0.0}
REFUSED = {"not_in_remit"}


def _components(facts: list) -> dict[str, tuple[float, float]]:
    """Numerator and denominator of each component over one business's facts (time-ordered, with the phone)."""
    timely = sum(f.accepted_on_time + f.resolved_on_time for f in facts)
    timed = sum(f.accepted + f.resolved for f in facts)
    with_result = [f for f in facts if f.resolved and f.outcome in SETTLED]
    returned = sum(1 for f in facts if f.returned or (f.resolved and f.outcome in REFUSED))
    seen, repeats = set(), 0
    for f in facts:
        key = phone_key(f.complainant_phone)
        if key and key in seen:
            repeats += 1
        if key:
            seen.add(key)
    n = len(facts)
    return {"timeliness": (timely, timed),
            "settlement": (sum(SETTLED[f.outcome] for f in with_result), len(with_result)),
            "cooperation": (n - returned, n),
            "satisfaction": (sum(f.satisfied for f in facts), sum(f.rated for f in facts)),
            "repeat": (n - repeats, n)}


def compute(session: Session, rules: IndexFile, today: Optional[date] = None) -> int:
    """Compute every business's index as of `today` (China time) and keep it as that day's; returns the businesses
    scored."""
    today = today or cst_day(utcnow())
    hold(session, "watch:index")
    since = today - timedelta(days=rules.days - 1)
    rows = session.execute(
        select(BusinessTicket.business_id, StatsFact.industry, StatsFact.accepted, StatsFact.accepted_on_time,
               StatsFact.resolved, StatsFact.resolved_on_time, StatsFact.returned, StatsFact.outcome,
               StatsFact.rated, StatsFact.satisfied, Ticket.complainant_phone)
        .join(BusinessTicket, BusinessTicket.ticket_id == StatsFact.ticket_id)
        .join(Ticket, Ticket.id == StatsFact.ticket_id)
        .where(StatsFact.day >= since, StatsFact.day <= today, StatsFact.tickets == 1,
               StatsFact.kind == "complaint")
        .order_by(BusinessTicket.business_id, Ticket.received_at, Ticket.id)).all()
    by_business: dict[int, list] = defaultdict(list)
    for r in rows:
        by_business[r.business_id].append(r)
    industry_of = {b: Counter(f.industry for f in facts).most_common(1)[0][0] for b, facts in by_business.items()}
    parts = {b: _components(facts) for b, facts in by_business.items()}
    pooled: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    for b, comps in parts.items():
        for name, (num, den) in comps.items():
            pooled[industry_of[b]][name][0] += num
            pooled[industry_of[b]][name][1] += den
    weights = rules.weights.model_dump()
    m = rules.prior_weight
    scored: dict[str, list[tuple[float, int, dict, int]]] = defaultdict(list)
    for b, comps in parts.items():
        n = len(by_business[b])
        if n < rules.min_tickets:
            continue
        shown, total, weight = {}, 0.0, 0.0
        for name in COMPONENTS:
            num, den = comps[name]
            pnum, pden = pooled[industry_of[b]][name]
            if pden == 0:
                continue   # nobody in the industry has this component yet
            mean = pnum / pden
            value = (num + m * mean) / (den + m) if den + m > 0 else mean
            shown[name] = {"value": round(num / den, 4) if den else None, "shrunk": round(value, 4),
                           "cases": den, "industry": round(mean, 4)}
            total += weights[name] * value
            weight += weights[name]
        if weight == 0:
            continue
        scored[industry_of[b]].append((round(100 * total / weight, 2), b, shown, n))
    session.execute(delete(BusinessScore).where(BusinessScore.day == today))
    now, count = utcnow(), 0
    for industry, entries in scored.items():
        entries.sort(key=lambda e: (-e[0], e[1]))
        rank = 0
        for i, (score, b, shown, n) in enumerate(entries):
            if i == 0 or score != entries[i - 1][0]:
                rank = i + 1   # equal scores share a rank
            session.add(BusinessScore(day=today, business_id=b, industry=industry, tickets=n, score=score,
                                      rank=rank, of=len(entries), components=shown, computed_at=now))
            count += 1
    session.flush()
    log.info("index_computed", day=today.isoformat(), businesses=count)
    return count


def latest(session: Session, industry: Optional[str] = None, business_id: Optional[int] = None,
           limit: int = 200) -> list[dict]:
    """The last day's index of each business (or of one, or one industry's), best first within each industry."""
    day = session.scalar(select(func.max(BusinessScore.day)))
    if day is None:
        return []
    q = select(BusinessScore, Business.name, Business.town).join(Business, Business.id == BusinessScore.business_id) \
        .where(BusinessScore.day == day)
    if industry:
        q = q.where(BusinessScore.industry == industry)
    if business_id is not None:
        q = q.where(BusinessScore.business_id == business_id)
    rows = session.execute(q.order_by(BusinessScore.industry, BusinessScore.rank, BusinessScore.business_id)
                           .limit(limit)).all()
    return [dict(day=s.day.isoformat(), business_id=s.business_id, business=name, town=town, industry=s.industry,
                 tickets=s.tickets, score=s.score, rank=s.rank, of=s.of, components=s.components)
            for s, name, town in rows]


def history(session: Session, business_id: int) -> list[dict]:
    """A business's index day by day, oldest first."""
    return [dict(day=s.day.isoformat(), score=s.score, rank=s.rank, of=s.of) for s in session.scalars(
        select(BusinessScore).where(BusinessScore.business_id == business_id).order_by(BusinessScore.day))]
