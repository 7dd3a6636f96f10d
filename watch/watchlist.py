"""The watch list (重点监控): businesses put on it by the rules of alerts.yaml (an alert of a named rule; failed or
overdue cases piling up) or by a person with a reason, every entry and exit on record. A new ticket about a watched
business is flagged on its history, and dispatch rules can ask `business_watched`."""
from __future__ import annotations

from datetime import timedelta
from typing import Iterable, Optional, Sequence

import structlog
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tickets import store
from tickets.db import utcnow
from tickets.models import Ticket
from tickets.states import OPEN_STATUSES
from watch.credit_code import clean_code, valid_credit_code
from watch.models import Business, BusinessTicket, WatchEntry
from watch.names import name_key

log = structlog.get_logger("watch")

FLAG_ACTION = "business_watched"   # the ticket's history: its business is on the watch list
RULE_LABELS = {"after_alert": "预警", "failed_cases": "调解不成功或超期"}


class WatchRefused(ValueError):
    """A step the watch list does not allow (already on it, not on it, no reason); says why."""


def current_entry(session: Session, business_id: int) -> Optional[WatchEntry]:
    return session.scalar(select(WatchEntry).where(WatchEntry.business_id == business_id,
                                                   WatchEntry.left_at.is_(None)))


def enter(session: Session, business: Business, actor: str, reason: str, rule: Optional[str] = None) -> WatchEntry:
    """Put a business on the watch list. By hand a reason is needed and a business already on it is refused; a rule
    that finds it already there changes nothing and returns the entry it has."""
    reason = (reason or "").strip()
    if not reason:
        raise WatchRefused("列入重点监控须写明原因")
    entry = current_entry(session, business.id)
    if entry is not None:
        if rule is not None:
            return entry
        raise WatchRefused(f"商家 {business.id}（{business.name}）已在重点监控名单中（{entry.reason}）")
    entry = WatchEntry(business_id=business.id, rule=rule, reason=reason[:1000], entered_by=actor)
    session.add(entry)
    session.flush()
    log.info("business_watched", business=business.id, rule=rule, actor=actor)
    return entry


def leave(session: Session, business: Business, actor: str, reason: str) -> WatchEntry:
    """Take a business off the watch list, saying why."""
    reason = (reason or "").strip()
    if not reason:
        raise WatchRefused("移出重点监控须写明原因")
    entry = current_entry(session, business.id)
    if entry is None:
        raise WatchRefused(f"商家 {business.id}（{business.name}）不在重点监控名单中")
    entry.left_at, entry.left_by, entry.left_reason = utcnow(), actor, reason[:1000]
    session.flush()
    log.info("business_unwatched", business=business.id, actor=actor)
    return entry


def watched(session: Session) -> list[dict]:
    """The businesses on the watch list now, the latest put on first."""
    rows = session.execute(select(WatchEntry, Business).join(Business, Business.id == WatchEntry.business_id)
                           .where(WatchEntry.left_at.is_(None)).order_by(WatchEntry.entered_at.desc())).all()
    return [dict(business_id=b.id, name=b.name, town=b.town, credit_code=b.credit_code, **_entry(e)) for e, b in rows]


def history(session: Session, business_id: int) -> list[dict]:
    """Every entry and exit of a business, oldest first."""
    return [_entry(e) for e in session.scalars(select(WatchEntry).where(WatchEntry.business_id == business_id)
                                               .order_by(WatchEntry.id))]


def _entry(e: WatchEntry) -> dict:
    return dict(rule=e.rule, by_rule=RULE_LABELS.get(e.rule, "人工") if e.rule else "人工", reason=e.reason,
                entered_at=e.entered_at, entered_by=e.entered_by, left_at=e.left_at, left_by=e.left_by,
                left_reason=e.left_reason)


def watched_tickets(session: Session, tickets: Sequence[Ticket]) -> set[int]:
    """Which of these tickets are about a watched business — those the registry has placed, and new ones not yet
    placed, by their valid credit code or their name's key (in their town, when dispatch has given one)."""
    ids = list(session.scalars(select(WatchEntry.business_id).where(WatchEntry.left_at.is_(None))))
    if not ids or not tickets:
        return set()
    businesses = list(session.scalars(select(Business).where(or_(Business.id.in_(ids),
                                                                 Business.merged_into.in_(ids)))))
    watched_ids = {b.id for b in businesses}
    codes = {b.credit_code for b in businesses if b.credit_code}
    towns_of: dict[str, set[str]] = {}
    for b in businesses:
        towns_of.setdefault(b.name_key, set()).add(b.town)
    placed = dict(session.execute(select(BusinessTicket.ticket_id, BusinessTicket.business_id).where(
        BusinessTicket.ticket_id.in_([t.id for t in tickets]))).all())
    out = set()
    for t in tickets:
        if t.id in placed:
            if placed[t.id] in watched_ids:
                out.add(t.id)
            continue
        code = clean_code(t.business_code)
        if code and valid_credit_code(code):
            if code in codes:
                out.add(t.id)
            continue
        towns = towns_of.get(name_key(t.business_name))
        if towns is not None and (not t.town or t.town in towns or "" in towns):
            out.add(t.id)
    return out


def flag(session: Session, ticket_ids: Iterable[int]) -> int:
    """Put on each of these tickets' history that its business is watched (once per ticket); returns how many."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return 0
    rows = session.execute(select(Ticket, WatchEntry, Business).join(
        BusinessTicket, BusinessTicket.ticket_id == Ticket.id).join(
        Business, Business.id == BusinessTicket.business_id).join(
        WatchEntry, (WatchEntry.business_id == Business.id) & WatchEntry.left_at.is_(None)).where(
        Ticket.id.in_(ids))).all()
    done = 0
    for ticket, entry, business in rows:
        if any(e.action == FLAG_ACTION and e.detail.get("entry") == entry.id for e in ticket.events):
            continue
        store.add_event(session, ticket, FLAG_ACTION, "watch", detail={
            "business": business.id, "name": business.name, "entry": entry.id, "reason": entry.reason})
        done += 1
    return done


def left_since(session: Session, business_id: int, days: float) -> bool:
    """True if a person took the business off the list within `days`: the same cases do not put it back."""
    return session.scalar(select(func.count()).select_from(WatchEntry).where(
        WatchEntry.business_id == business_id, WatchEntry.left_at >= utcnow() - timedelta(days=days))) > 0


def failed_cases(session: Session, business_id: int, days: float) -> int:
    """The business's tickets of the last `days` not settled (调解不成功) or open past their deadline."""
    now = utcnow()
    return session.scalar(select(func.count()).select_from(Ticket).join(
        BusinessTicket, BusinessTicket.ticket_id == Ticket.id).where(
        BusinessTicket.business_id == business_id, Ticket.received_at >= now - timedelta(days=days),
        or_(Ticket.outcome == "not_settled",
            Ticket.status.in_(sorted(OPEN_STATUSES)) & (Ticket.due_at < now)))) or 0
