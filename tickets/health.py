"""The health of the whole queue, gathered from each part's own figures: the command line (`onequeue health`,
the worker's status line) and the HTTP service (`GET /health`) all read it from here."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors import build_connector
from dispatch.health import rules_health
from dispatch.job import FAILED_ACTION
from notify.health import sms_health
from notify.models import SmsMessage
from sla.health import sla_health
from settings.masking import mask_text
from tickets.db import Database
from tickets.models import ChannelCursor, QuarantinedRecord, Ticket, TicketEvent
from tickets.store import counts_by_status
from writeback import OutboxItem


def _by_status(session: Session, column) -> dict[str, int]:
    return dict(session.execute(select(column, func.count()).group_by(column)).all())


# How many of the tickets dispatch could not decide are named; the count is of them all.
FAILURES_SHOWN = 20


def dispatch_failures(session: Session) -> dict:
    """Tickets in triage because deciding them failed (the dispatch job set them aside), newest first, with the
    error on their history."""
    failed = (select(Ticket.number, TicketEvent.at, TicketEvent.detail)
              .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
              .where(Ticket.status == "triage", TicketEvent.action == FAILED_ACTION, TicketEvent.to_status == "triage"))
    count = session.scalar(select(func.count()).select_from(failed.subquery()))
    rows = session.execute(failed.order_by(TicketEvent.at.desc(), TicketEvent.id.desc()).limit(FAILURES_SHOWN)).all()
    return {"count": count or 0, "tickets": [{"number": number, "at": at, "error": (detail or {}).get("error")}
                                             for number, at, detail in rows]}


def collect(config, db: Database) -> dict:
    """Queue depth by state, per-channel pull state, SMS and write-back counts, deadlines and rules."""
    now = datetime.now(timezone.utc)
    with db.transaction() as s:
        tickets = counts_by_status(s)
        cursors = {c.channel: c for c in s.scalars(select(ChannelCursor))}
        quarantined = dict(s.execute(select(QuarantinedRecord.channel, func.count())
                                     .where(QuarantinedRecord.resolved_at.is_(None))
                                     .group_by(QuarantinedRecord.channel)).all())
        sms, outbox = _by_status(s, SmsMessage.status), _by_status(s, OutboxItem.status)
        deadlines = sla_health(s, config.sla, now)
        sms_delivery = sms_health(s)
        failures = dispatch_failures(s)
        rules = rules_health(s, str(config.path(config.rules_file)), str(config.path(config.units_file)))
    channels = []
    for ch in config.channels:
        cur = cursors.get(ch.name)
        lag = None
        if cur is not None and cur.cursor:
            try:
                lag = build_connector(ch.name, ch.kind, ch.settings).lag(cur.cursor, now)
            except Exception:  # health must answer even when a channel's settings are off
                lag = None
        channels.append({
            "name": ch.name, "kind": ch.kind, "enabled": ch.enabled,
            "last_success_at": cur.last_success_at if cur else None,
            "lag_seconds": round(lag) if lag is not None else None,
            "error_count": cur.error_count if cur else 0,
            # masked again when shown: an error stored before masking was added still names people
            "last_error": mask_text(cur.last_error) if cur and cur.error_count else None,
            "quarantined": quarantined.get(ch.name, 0),
        })
    return {"tickets": tickets, "channels": channels, "sms": sms, "sms_delivery": sms_delivery, "outbox": outbox,
            "deadlines": deadlines, "rules": rules, "dispatch_failures": failures}


def status_line(db: Database) -> str:
    """One line for a running worker's console: tickets by state, SMS and write-backs."""
    with db.transaction() as s:
        counts = counts_by_status(s)
        sms, outbox = _by_status(s, SmsMessage.status), _by_status(s, OutboxItem.status)
    parts = [f"tickets {sum(counts.values())}"] + [f"{k} {v}" for k, v in sorted(counts.items())]
    out = sms.get("sent", 0) + sms.get("delivered", 0)
    parts.append(f"sms sent {out} (delivered {sms.get('delivered', 0)}) pending {sms.get('pending', 0)} "
                 f"failed {sms.get('failed', 0) + sms.get('undelivered', 0)}")
    parts.append(f"write-backs done {outbox.get('delivered', 0)} pending {outbox.get('pending', 0)} "
                 f"dead {outbox.get('dead', 0)}")
    return " | ".join(parts)
