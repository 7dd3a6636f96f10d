"""Health: queue depth by state, per-channel pull state, SMS and write-back counts, from the database."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from connectors import build_connector
from notify.models import SmsMessage
from sla.health import sla_health
from tickets.db import Database
from tickets.models import ChannelCursor, QuarantinedRecord
from tickets.store import counts_by_status
from writeback import OutboxItem


def collect(config, db: Database) -> dict:
    now = datetime.now(timezone.utc)
    with db.transaction() as s:
        tickets = counts_by_status(s)
        cursors = {c.channel: c for c in s.scalars(select(ChannelCursor))}
        quarantined = dict(s.execute(select(QuarantinedRecord.channel, func.count())
                                     .where(QuarantinedRecord.resolved_at.is_(None))
                                     .group_by(QuarantinedRecord.channel)).all())
        sms = dict(s.execute(select(SmsMessage.status, func.count()).group_by(SmsMessage.status)).all())
        outbox = dict(s.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status)).all())
        deadlines = sla_health(s, config.sla, now)
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
            "last_error": cur.last_error if cur and cur.error_count else None,
            "quarantined": quarantined.get(ch.name, 0),
        })
    return {"tickets": tickets, "channels": channels, "sms": sms, "outbox": outbox, "deadlines": deadlines}
