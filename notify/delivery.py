"""What the provider says became of a message: delivered, retried later, or given up with the unit's next
contact tried and the failure put on the ticket's history for staff to see."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Optional

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from notify.models import SmsMessage
from notify.outbound import Recipient, e164, message_key, plan
from settings.masking import mask_phone, mask_text
from tickets import store
from tickets.backoff import backoff_seconds
from tickets.db import is_postgres, utcnow
from tickets.models import Ticket

log = structlog.get_logger("notify")

# Delivery error codes worth sending the same message again later: the handset was off or out of
# coverage (30003), a queue overflowed (30001), the carrier did not say (30008), a segment went missing.
TEMPORARY_CODES = frozenset({30001, 30003, 30008, 30009})
# The message expired in the provider's queue (ValidityPeriod): late is useless, to anyone.
EXPIRED_CODES = frozenset({30036})
FINAL = ("delivered", "undelivered", "failed")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    backoff_seconds: float = 10.0
    max_backoff_seconds: float = 1800.0

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=backoff_seconds(attempts, self.backoff_seconds, self.max_backoff_seconds))


def find_message(session: Session, sid: str, sms_id: Optional[int] = None) -> Optional[SmsMessage]:
    """The row a callback is about: by our id (in the callback URL, known before the provider's sid is
    recorded), else by the provider's sid. A callback about an earlier attempt of a re-sent row matches none."""
    stmt = select(SmsMessage)
    stmt = stmt.where(SmsMessage.id == sms_id) if sms_id is not None else stmt.where(SmsMessage.provider_sid == sid)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    msg = session.scalars(stmt.limit(1)).first()
    if msg is not None and msg.provider_sid not in (None, sid):
        return None
    return msg


def apply_status(session: Session, msg: SmsMessage, sid: str, status: str, error_code: Optional[int],
                 policy: RetryPolicy, units) -> str:
    """Record a final delivery status on `msg`; returns what was done: delivered, retry, expired, gave_up, ignored.

    Statuses only move forward; a repeated or late callback changes nothing. Interim statuses (queued, sent)
    say nothing the sender does not record itself, so they are ignored."""
    if status not in FINAL or msg.status not in ("sending", "sent"):
        return "ignored"  # interim; or final already, or re-queued after an earlier report
    msg.provider_sid = sid
    now = utcnow()
    msg.error_code = error_code
    if status == "delivered":
        msg.status, msg.delivered_at, msg.last_error = "delivered", now, None
        return "delivered"
    # The sender counts an attempt when it records the send; a report that beats it counts it here.
    attempts = msg.attempts + (1 if msg.status == "sending" else 0)
    reason = f"{status} {error_code}" if error_code else status
    if error_code in EXPIRED_CODES:
        msg.status, msg.last_error = "failed", f"{reason}: expired before it could be sent"
        return "expired"
    if (error_code is None or error_code in TEMPORARY_CODES) and attempts < policy.max_attempts:
        msg.status, msg.attempts, msg.last_error = "pending", attempts, reason
        msg.next_attempt_at = now + policy.delay(attempts)
        msg.claimed_by = msg.claimed_until = None
        log.warning("sms_retry", sms_id=msg.id, ticket_id=msg.ticket_id, unit=msg.unit_id,
                    to=mask_phone(msg.to_phone), error_code=error_code, attempts=attempts)
        return "retry"
    msg.status, msg.last_error = status if status == "failed" else "undelivered", reason
    give_up(session, msg, error_code, reason, units)
    return "gave_up"


def give_up(session: Session, msg: SmsMessage, error_code: Optional[int], reason: str, units) -> Optional[str]:
    """A message to a unit's contact will not arrive: tell the ticket's history and text the unit's next
    contact not yet tried for the same message. Returns the phone texted instead, if any."""
    if not msg.unit_id:
        return None  # a reply to a sender: nobody else to try
    unit = units.get(msg.unit_id) if units is not None else None
    contacts = list(unit.contacts) if unit is not None else []
    failed = e164(msg.to_phone)
    key = msg.dedupe_key.rsplit(":", 1)[0]  # the key it was planned under: see message_key
    keys = {message_key(key, c.phone): e164(c.phone) for c in contacts}
    tried = {keys[k] for k in session.scalars(select(SmsMessage.dedupe_key).where(SmsMessage.dedupe_key.in_(keys)))}
    tried.add(failed)
    start = next((i + 1 for i, c in enumerate(contacts) if e164(c.phone) == failed), 0)
    order = contacts[start:] + contacts[:start]
    nxt = next((c for c in order if e164(c.phone) not in tried), None)
    if nxt is not None:
        plan(session, key=key, ticket_id=msg.ticket_id, unit_id=msg.unit_id, purpose=msg.purpose,
             recipients=[Recipient(nxt.phone, nxt.name, nxt.role)], template="{body}", values={"body": msg.body},
             urgent=msg.urgent)
    failed_contact = next((c for c in contacts if e164(c.phone) == failed), None)
    ticket = session.get(Ticket, msg.ticket_id) if msg.ticket_id else None
    if ticket is not None:
        store.add_event(session, ticket, "sms_undeliverable", "notify", detail={
            "purpose": msg.purpose, "unit": msg.unit_id, "error_code": error_code, "reason": mask_text(reason),
            "contact": failed_contact.name if failed_contact else None, "phone": mask_phone(failed),
            "next_contact": nxt.name if nxt else None,
            "next_phone": mask_phone(e164(nxt.phone)) if nxt else None,
        })
    log.error("sms_undeliverable", sms_id=msg.id, ticket_id=msg.ticket_id, unit=msg.unit_id,
              to=mask_phone(failed), error_code=error_code, purpose=msg.purpose,
              next_to=mask_phone(e164(nxt.phone)) if nxt else None)
    return e164(nxt.phone) if nxt else None
