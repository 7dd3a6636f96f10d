"""Reconciliation: compare what each source shows for recently changed tickets with what onequeue delivered."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Mapping

import structlog
from sqlalchemy import func, select

from connectors.base import Connector
from tickets.db import Database, utcnow
from tickets.models import Ticket
from writeback.models import OutboxItem

log = structlog.get_logger("writeback.reconcile")


@dataclass
class Difference:
    channel: str
    source_ref: str
    number: str
    effect: str
    expected: list[str]
    source_status: str | None
    requeued: bool = False


@dataclass
class ReconcileReport:
    checked: int = 0
    differences: list[Difference] = field(default_factory=list)
    skipped_channels: list[str] = field(default_factory=list)


def reconcile(db: Database, connectors: Mapping[str, Connector], hours: float = 24, requeue: bool = False) -> ReconcileReport:
    """For every delivered effect of tickets changed in the last `hours`, check the source shows it.

    With `requeue`, a missing effect is queued again under a new idempotency key (the source may have
    remembered and dropped the old one)."""
    report = ReconcileReport()
    since = utcnow() - timedelta(hours=hours)
    for name, connector in connectors.items():
        if not connector.effect_statuses or type(connector).scan_since is Connector.scan_since:
            continue
        with db.transaction() as s:
            rows = s.execute(
                select(OutboxItem, Ticket.number).join(Ticket, Ticket.id == OutboxItem.ticket_id)
                .where(OutboxItem.channel == name, OutboxItem.status == "delivered", Ticket.updated_at >= since)
                .order_by(OutboxItem.id)
            ).all()
        if not rows:
            continue
        # The last delivered effect of each record is what the source should show now.
        latest: dict[str, tuple[OutboxItem, str]] = {}
        for item, number in rows:
            latest[item.source_ref] = (item, number)
        try:
            seen = {}
            for batch in connector.scan_since(since - timedelta(hours=1)):
                for rec in batch.records:
                    if rec.source_ref in latest:
                        seen[rec.source_ref] = rec.source_status
        except Exception as exc:  # a source that is down now is checked next time
            log.warning("reconcile_source_unavailable", connector=name, error=str(exc))
            report.skipped_channels.append(name)
            continue
        for ref, (item, number) in latest.items():
            report.checked += 1
            expected = connector.effect_statuses.get(item.effect)
            if not expected or seen.get(ref) in expected:
                continue
            diff = Difference(name, ref, number, item.effect, sorted(expected), seen.get(ref))
            if requeue:
                _requeue(db, item)
                diff.requeued = True
            report.differences.append(diff)
            log.warning("reconcile_difference", connector=name, ticket=number, effect=item.effect,
                        source_status=seen.get(ref))
    return report


def _requeue(db: Database, item: OutboxItem) -> None:
    base = item.key[:32]  # the original key; re-queued copies carry -r1, -r2, ...
    with db.transaction() as s:
        n = 1 + s.scalar(select(func.count()).select_from(OutboxItem).where(OutboxItem.key.like(base + "-r%")))
        s.add(OutboxItem(key=f"{base}-r{n}", ticket_id=item.ticket_id, channel=item.channel,
                         source_ref=item.source_ref, effect=item.effect, body=item.body, status="pending",
                         attempts=0, next_attempt_at=utcnow(), history=[{"at": utcnow().isoformat(),
                                                                         "outcome": "requeued",
                                                                         "error": f"reconcile of {item.id}"}]))
