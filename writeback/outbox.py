"""Enqueue write-backs with the change that causes them; deliver them in order, once in effect, with retries."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Mapping, Optional

import structlog
from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from connectors.base import Connector, SourceUnavailable, WriteBackRejected, WriteBackRequest
from settings.masking import error_summary
from tickets import wake
from tickets.backoff import backoff_seconds
from tickets.claims import Claims, work_through
from tickets.clock import SYSTEM_CLOCK, Clock
from tickets.db import Database, utcnow
from tickets.models import Ticket, TicketEvent
from writeback.models import OutboxItem

log = structlog.get_logger("writeback")


def idempotency_key(ticket: Ticket, effect: str, event: TicketEvent) -> str:
    """Stable for one intended effect: the ticket's source record, the effect and the event that caused it."""
    raw = f"{ticket.channel}|{ticket.source_ref}|{effect}|{event.id}"
    return "oq-" + hashlib.sha256(raw.encode()).hexdigest()[:29]


def enqueue(session: Session, ticket: Ticket, effect: str, event: TicketEvent, body: dict) -> OutboxItem:
    """Write the outbox row in the caller's transaction, beside the status change it reports."""
    item = OutboxItem(
        key=idempotency_key(ticket, effect, event), ticket_id=ticket.id, channel=ticket.channel,
        source_ref=ticket.source_ref, effect=effect, body=body, status="pending", attempts=0,
        next_attempt_at=utcnow(), history=[], created_at=utcnow(),
    )
    session.add(item)
    session.flush()
    wake.work_for(session, "outbox")
    return item


@dataclass
class DeliveryPolicy:
    max_attempts: int = 8
    backoff_seconds: float = 5.0
    max_backoff_seconds: float = 3600.0
    claim_seconds: float = 120.0
    # How long one run starts new attempts before it hands back what it holds; half a claim unless set, so a
    # run ends before its claims lapse and other workers take up the rest at once rather than a claim later.
    pass_seconds: Optional[float] = None


@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    claims_lost: int = 0   # lapsed while this run worked on others, and taken up by another worker: left to it
    handed_back: int = 0   # claimed, not tried, released at the end of the run's time or when stopping


def _claim(claims: Claims, channels: list[str], limit: int) -> list[OutboxItem]:
    now = claims.clock.now()
    earlier = aliased(OutboxItem)
    # A source never sees an effect before an earlier one of the same ticket is through (or dead).
    blocked = exists().where(
        earlier.ticket_id == OutboxItem.ticket_id, earlier.id < OutboxItem.id,
        earlier.status.in_(("pending", "dead")),
    )
    with claims.db.transaction() as s:
        stmt = (
            select(OutboxItem)
            .where(
                OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now, OutboxItem.channel.in_(channels),
                or_(OutboxItem.claimed_until.is_(None), OutboxItem.claimed_until < now), ~blocked,
            )
            .order_by(OutboxItem.id)
            .limit(limit)
        )
        return claims.take(s, stmt)


def deliver_due(
    db: Database, connectors: Mapping[str, Connector], owner: str, policy: DeliveryPolicy = DeliveryPolicy(),
    limit: int = 100, stopping: Callable[[], bool] = lambda: False, clock: Clock = SYSTEM_CLOCK,
) -> DeliveryReport:
    """Deliver what is due, batch after batch, until nothing is claimable, the run's time is spent
    (`policy.pass_seconds`) or `stopping()` says the worker is stopping; what is claimed and not tried is handed back.

    Each attempt renews this worker's claim first, and is skipped if the claim lapsed and another worker took the
    row: a row is sent by the one worker that holds it, however long a run takes."""
    report = DeliveryReport()
    able = [name for name, c in connectors.items() if type(c).write_back is not Connector.write_back]
    if not able:
        return report
    budget = policy.pass_seconds if policy.pass_seconds is not None else policy.claim_seconds / 2
    claims = Claims(db, OutboxItem, owner, "pending", policy.claim_seconds, clock)
    payloads: dict[int, dict] = {}

    def claim_batch() -> list[OutboxItem]:
        items = _claim(claims, able, limit)
        payloads.clear()
        payloads.update(_source_payloads(db, items) if items else {})
        return items

    def lost(item: OutboxItem) -> None:  # another worker holds it now: it may have delivered it, or be sending it
        log.info("writeback_claim_lost", ticket_id=item.ticket_id, connector=item.channel, effect=item.effect,
                 outbox_id=item.id)

    # The attempt must end within a claim: connector timeouts are kept below it.
    end = work_through(claims, claim_batch, lambda item: _deliver_one(
        db, connectors[item.channel], item, owner, policy, report, payloads.get(item.ticket_id), clock),
        ends=clock.monotonic() + budget, stopping=stopping, on_lost=lost)
    report.claims_lost += end.lost
    report.handed_back += end.handed_back
    if end.handed_back:
        log.info("writeback_run_ended", reason=end.reason, handed_back=end.handed_back, delivered=report.delivered)
    return report


def _source_payloads(db: Database, items: list[OutboxItem]) -> dict[int, dict]:
    """Each ticket's record as its source sent it, for connectors that answer where the record says."""
    with db.transaction() as s:
        rows = s.execute(select(Ticket.id, Ticket.payload).where(Ticket.id.in_({i.ticket_id for i in items})))
        return {tid: payload or {} for tid, payload in rows}


def _deliver_one(db: Database, connector: Connector, item: OutboxItem, owner: str, policy: DeliveryPolicy,
                 report: DeliveryReport, source_payload: Optional[dict] = None, clock: Clock = SYSTEM_CLOCK) -> None:
    bound = log.bind(ticket_id=item.ticket_id, connector=item.channel, effect=item.effect, outbox_id=item.id)
    request = WriteBackRequest(item.source_ref, item.effect, item.key, dict(item.body), dict(source_payload or {}))
    outcome, error, retry_after = "delivered", None, None
    try:
        result = connector.write_back(request)
        detail = f"{result.outcome}: {result.detail}"
    except WriteBackRejected as exc:
        outcome, error = "dead", f"rejected: {exc}"
    except SourceUnavailable as exc:
        outcome, error, retry_after = "retry", str(exc), exc.retry_after
    except Exception as exc:  # a bug or an unexpected answer: keep the row and retry, never lose it
        outcome, error = "retry", f"{type(exc).__name__}: {exc}"
    error = error_summary(error) if error else error
    now = clock.now()
    attempts = item.attempts + 1
    if outcome == "retry" and attempts >= policy.max_attempts:
        outcome, error = "dead", f"attempts spent ({attempts}); last error: {error}"
    values: dict = {"attempts": attempts, "claimed_by": None, "claimed_until": None,
                    "history": list(item.history or []) + [{"at": now.isoformat(), "outcome": outcome,
                                                            "error": error}]}
    if outcome == "delivered":
        values.update(status="delivered", delivered_at=now, last_error=None)
        report.delivered += 1
        bound.info("writeback_delivered", detail=detail)
    elif outcome == "dead":
        values.update(status="dead", last_error=error)
        report.dead += 1
        bound.error("writeback_dead", error=error)
    else:
        delay = max(retry_after or 0.0, backoff_seconds(attempts, policy.backoff_seconds, policy.max_backoff_seconds))
        values.update(next_attempt_at=now + timedelta(seconds=delay), last_error=error)
        report.retried += 1
        bound.warning("writeback_retry", error=error, attempt=attempts, delay=round(delay, 1))
    with db.transaction() as s:
        kept = s.execute(update(OutboxItem).where(OutboxItem.id == item.id, OutboxItem.claimed_by == owner)
                         .values(**values)).rowcount
    if not kept:  # the attempt outlasted the claim: the source's timeouts are too long for jobs.claim_seconds
        bound.warning("writeback_claim_lapsed_during_attempt", outcome=outcome, claim_seconds=policy.claim_seconds)


def retry_dead(session: Session, ids: Optional[list[int]] = None) -> int:
    """Put dead letters back in the queue after their cause is fixed."""
    stmt = update(OutboxItem).where(OutboxItem.status == "dead")
    if ids:
        stmt = stmt.where(OutboxItem.id.in_(ids))
    return session.execute(stmt.values(status="pending", attempts=0, next_attempt_at=utcnow())).rowcount
