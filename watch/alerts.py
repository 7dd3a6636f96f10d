"""Alerts: the rules that need no history (prepaid-card flight, group complaints) looked at as tickets join their
business, one alert per rule and business raised at once with one SMS to the duty contacts, and the steps people
take on it (acknowledge, close with a note) — one function each, for the command line and the back office."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterable, Optional, Sequence

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notify.outbound import Recipient, plan
from tickets.db import utcnow
from tickets.duplicates import phone_key, similarity
from tickets.models import Ticket
from watch.alert_rules import AlertsFile, duty_contacts
from watch.models import Alert, AlertTicket, Business, BusinessTicket

log = structlog.get_logger("watch")

RULE_LABELS = {"prepaid_flight": "预付卡跑路", "group_complaint": "群体投诉", "surge": "投诉激增"}
STATUS_LABELS = {"open": "待处理", "acknowledged": "已确认", "closed": "已关闭"}
LEVEL_LABELS = {"urgent": "紧急", "normal": "一般"}
NUMBERS_IN_SMS = 3  # the first tickets named in the SMS; the back office lists them all


class AlertNotFound(LookupError):
    pass


class AlertRefused(ValueError):
    """A step the alert's status does not allow, or one missing what it needs; says why in the users' words."""


@dataclass(frozen=True)
class _Complaint:
    id: int
    number: str
    received_at: datetime
    words: str     # title and text, half width
    who: str       # the complainant: their phone, else the ticket itself


@dataclass
class Warnings:
    """The hook the business registry calls with the tickets it placed: the rules of alerts.yaml looked at for
    each business those tickets joined."""

    rules: AlertsFile
    units: Callable[[], object]   # the units directory as last loaded (the duty unit's contacts)

    def __call__(self, session: Session, linked: Sequence, touched: Iterable[int] = ()) -> list[Alert]:
        from watch import watchlist

        businesses = {l.business_id for l in linked}
        raised = evaluate(session, businesses, self.rules, self.units())
        w = self.rules.watch_list
        for alert in raised:
            if alert.rule in w.after_alerts and alert.business_id is not None:
                watchlist.enter(session, session.get(Business, alert.business_id), "watch",
                                f"{RULE_LABELS[alert.rule]}预警 {alert.id}：{alert.summary}", rule="after_alert")
        if w.failed_cases is not None:
            for business_id in sorted(businesses | set(touched)):
                n = watchlist.failed_cases(session, business_id, w.failed_cases.days)
                if n >= w.failed_cases.count and not watchlist.left_since(session, business_id,
                                                                          w.failed_cases.days):
                    watchlist.enter(session, session.get(Business, business_id), "watch",
                                    f"{w.failed_cases.days:g}天内{n}宗调解不成功或超期", rule="failed_cases")
        watchlist.flag(session, [l.ticket_id for l in linked])
        return raised


def evaluate(session: Session, business_ids: Iterable[int], rules: AlertsFile, units) -> list[Alert]:
    """Look at each business's recent tickets; returns the alerts raised (those joined by a ticket are not)."""
    raised = []
    for business_id in sorted(set(business_ids)):
        business = session.get(Business, business_id)
        if business is None:
            continue
        hours = max(rules.prepaid_flight.hours, rules.group_complaint.hours)
        recent = _recent(session, business.id, hours)
        if not recent:
            continue
        newest = recent[-1].received_at
        p = rules.prepaid_flight
        if p.enabled:
            since = newest - timedelta(hours=p.hours)
            hits = [c for c in recent if c.received_at >= since and _any(c.words, p.prepaid_words)
                    and _any(c.words, p.closing_words)]
            raised += _fire(session, "prepaid_flight", business, hits, p.min_complaints, p.hours, rules, units)
        g = rules.group_complaint
        if g.enabled:
            since = newest - timedelta(hours=g.hours)
            window = [c for c in recent if c.received_at >= since]
            story = [c for c in window if similarity(window[-1].words, c.words) >= g.min_similarity]
            spoken = [c for c in window if g.words and _any(c.words, g.words)]
            if spoken:
                hits = {c.id: c for c in [*story, *spoken]}
                raised += _fire(session, "group_complaint", business, sorted(hits.values(), key=lambda c: c.received_at),
                                1, g.hours, rules, units, must_have=spoken)
            else:
                raised += _fire(session, "group_complaint", business, story, g.min_complainants, g.hours, rules, units)
    return raised


def _recent(session: Session, business_id: int, hours: float) -> list[_Complaint]:
    newest = session.scalar(select(func.max(Ticket.received_at)).join(
        BusinessTicket, BusinessTicket.ticket_id == Ticket.id).where(BusinessTicket.business_id == business_id))
    if newest is None:
        return []
    rows = session.execute(select(Ticket.id, Ticket.number, Ticket.received_at, Ticket.title, Ticket.text,
                                  Ticket.complainant_phone)
                           .join(BusinessTicket, BusinessTicket.ticket_id == Ticket.id)
                           .where(BusinessTicket.business_id == business_id,
                                  Ticket.received_at >= newest - timedelta(hours=hours))
                           .order_by(Ticket.received_at, Ticket.id)).all()
    return [_Complaint(r.id, r.number, r.received_at,
                       unicodedata.normalize("NFKC", f"{r.title or ''} {r.text or ''}"),
                       phone_key(r.complainant_phone) or f"ticket:{r.id}") for r in rows]


def _any(text: str, words: Sequence[str]) -> bool:
    return any(unicodedata.normalize("NFKC", w) in text for w in words)


def _fire(session: Session, rule: str, business: Business, hits: list[_Complaint], threshold: int, hours: float,
          rules: AlertsFile, units, must_have: Sequence[_Complaint] = ()) -> list[Alert]:
    """Raise the rule's alert about `business`, or add new tickets to the one not yet closed."""
    if not hits:
        return []
    series = f"{rule}:business:{business.id}"
    behind = set(session.scalars(select(AlertTicket.ticket_id).join(Alert, Alert.id == AlertTicket.alert_id)
                                 .where(Alert.series == series)))
    fresh = [c for c in hits if c.id not in behind]
    if not fresh:
        return []
    current = session.scalar(select(Alert).where(Alert.series == series, Alert.status != "closed"))
    if current is not None:
        _attach(session, current, fresh)
        return []
    if must_have and not any(c.id not in behind for c in must_have):
        return []
    if len({c.who for c in fresh}) < threshold:
        return []   # not enough that is new: a later, separate burst must reach the threshold on its own
    label = RULE_LABELS[rule]
    town = business.town or "镇街未明"
    alert = Alert(rule=rule, series=series, business_id=business.id, level="urgent", status="open",
                  summary=f"{label}：{business.name}（{town}）{_hours(hours)}小时内{len(fresh)}宗投诉"[:300])
    session.add(alert)
    session.flush()
    _attach(session, alert, fresh)
    unit = units.get(rules.duty.unit) if units is not None else None
    recipients = [Recipient(c.phone, c.name, c.role) for c in duty_contacts(rules, unit)]
    numbers = "、".join(c.number for c in fresh[:NUMBERS_IN_SMS]) + ("等" if len(fresh) > NUMBERS_IN_SMS else "")
    plan(session, key=f"alert:{alert.id}", ticket_id=None, unit_id=rules.duty.unit, purpose="alert",
         recipients=recipients, template=rules.template, urgent=True,
         values=dict(rule=label, business=business.name, town=town, count=len(fresh), hours=_hours(hours),
                     numbers=numbers))
    log.warning("alert_raised", alert=alert.id, rule=rule, business=business.id, tickets=len(fresh),
                texted=len(recipients))
    return [alert]


def _hours(hours: float) -> str:
    return f"{hours:g}"


def _attach(session: Session, alert: Alert, complaints: Sequence[_Complaint]) -> None:
    for c in complaints:
        session.add(AlertTicket(alert_id=alert.id, ticket_id=c.id))
    session.flush()


# --- what people do with an alert -------------------------------------------------------------------------------

def get(session: Session, alert_id: int, for_update: bool = False) -> Alert:
    stmt = select(Alert).where(Alert.id == alert_id)
    if for_update:
        stmt = stmt.with_for_update()
    alert = session.scalar(stmt)
    if alert is None:
        raise AlertNotFound(f"没有编号为 {alert_id} 的预警（`onequeue alerts list` 列出预警）")
    return alert


def acknowledge(session: Session, alert_id: int, actor: str, note: str = "") -> Alert:
    """Someone has taken the alert on: it is no longer 待处理; tickets that come later still join it."""
    alert = get(session, alert_id, for_update=True)
    if alert.status != "open":
        raise AlertRefused(f"预警 {alert.id} {STATUS_LABELS[alert.status]}，不能再确认")
    alert.status, alert.acknowledged_at, alert.acknowledged_by = "acknowledged", utcnow(), actor
    alert.acknowledged_note = (note or "").strip() or None
    session.flush()
    log.info("alert_acknowledged", alert=alert.id, actor=actor)
    return alert


def close(session: Session, alert_id: int, actor: str, note: str) -> Alert:
    """The matter is dealt with, and the note says how; a new alert of its rule needs a new burst."""
    note = (note or "").strip()
    if not note:
        raise AlertRefused("关闭预警须写明处置情况")
    alert = get(session, alert_id, for_update=True)
    if alert.status == "closed":
        raise AlertRefused(f"预警 {alert.id} 已关闭")
    alert.status, alert.closed_at, alert.closed_by, alert.closed_note = "closed", utcnow(), actor, note
    session.flush()
    log.info("alert_closed", alert=alert.id, actor=actor)
    return alert


def listing(session: Session, status: Optional[str] = None, limit: int = 50) -> list[dict]:
    """Alerts, newest first, with their business and tickets; `status` "active" is every one not closed."""
    q = select(Alert, Business.name, Business.town).outerjoin(Business, Business.id == Alert.business_id)
    if status == "active":
        q = q.where(Alert.status != "closed")
    elif status:
        q = q.where(Alert.status == status)
    rows = session.execute(q.order_by(Alert.raised_at.desc(), Alert.id.desc()).limit(limit)).all()
    numbers: dict[int, list[str]] = {}
    if rows:
        for alert_id, number in session.execute(
                select(AlertTicket.alert_id, Ticket.number).join(Ticket, Ticket.id == AlertTicket.ticket_id)
                .where(AlertTicket.alert_id.in_([r.Alert.id for r in rows])).order_by(Ticket.received_at, Ticket.id)):
            numbers.setdefault(alert_id, []).append(number)
    return [dict(id=a.id, rule=a.rule, rule_label=RULE_LABELS.get(a.rule, a.rule), level=a.level,
                 level_label=LEVEL_LABELS.get(a.level, a.level), status=a.status,
                 status_label=STATUS_LABELS.get(a.status, a.status), summary=a.summary, business_id=a.business_id,
                 business=name, town=town, raised_at=a.raised_at, tickets=numbers.get(a.id, []),
                 acknowledged_at=a.acknowledged_at, acknowledged_by=a.acknowledged_by,
                 acknowledged_note=a.acknowledged_note, closed_at=a.closed_at, closed_by=a.closed_by,
                 closed_note=a.closed_note, detail=a.detail)
            for a, name, town in rows]


def count_active(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Alert).where(Alert.status != "closed")) or 0
