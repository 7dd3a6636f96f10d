"""Health: queue depth by state, per-channel pull state, SMS and write-back counts, from the database."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from connectors import build_connector
from dispatch.models import RulesStatus
from notify.health import sms_health
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
        sms_delivery = sms_health(s)
        rules = rules_health(config, s)
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
    return {"tickets": tickets, "channels": channels, "sms": sms, "sms_delivery": sms_delivery, "outbox": outbox,
            "deadlines": deadlines, "rules": rules}


def rules_health(config, session) -> dict:
    """The rules the workers run: "refused" when the file on disk was refused and older rules still run."""
    status = session.get(RulesStatus, "dispatch")
    if status is None:
        return {"state": "not loaded", "file": str(config.path(config.rules_file)),
                "units_file": str(config.path(config.units_file)), "rule_count": None, "loaded_at": None,
                "loaded_by": None, "last_error": None, "last_error_at": None}
    refused = status.last_error_at is not None and (status.loaded_at is None or status.last_error_at > status.loaded_at)
    return {"state": "refused" if refused else "running", "file": status.rules_file, "units_file": status.units_file,
            "rule_count": status.rule_count, "loaded_at": status.loaded_at, "loaded_by": status.loaded_by,
            "last_error": status.last_error, "last_error_at": status.last_error_at}
