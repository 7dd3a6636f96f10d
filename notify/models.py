"""Outbound SMS as durable rows: planned in the transaction that decided them, sent once by a worker."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tickets.db import Base, UtcDateTime, utcnow
from tickets.models import Id


class SmsMessage(Base):
    """One SMS to one phone. `dedupe_key` makes planning the same message twice a no-op.

    status: pending → sending → sent → (delivered | undelivered | failed); or pending → failed.
    A row left in `sending` by a crash is checked against the provider before any resend.
    """

    __tablename__ = "sms_messages"
    __table_args__ = (Index("ix_sms_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    ticket_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tickets.id"), index=True)
    unit_id: Mapped[Optional[str]] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(32))  # dispatched | recalled | reminder | ...
    to_phone: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    claimed_by: Mapped[Optional[str]] = mapped_column(String(64))
    claimed_until: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    provider_sid: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    segments: Mapped[Optional[int]] = mapped_column(Integer)
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    # From the provider's delivery status callback (migration 0004_sms_inbound).
    error_code: Mapped[Optional[int]] = mapped_column(Integer)
    delivered_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    # Seconds the provider may hold the message before dropping it, for time-critical texts (migration
    # 0003_sla_clocks); NULL: the configured sms.validity_seconds for non-urgent ones.
    validity_seconds: Mapped[Optional[int]] = mapped_column(Integer)


class SmsInbound(Base):
    """One SMS received from a phone, kept whole with what it did; `message_sid` makes a repeat act once.

    outcome: accepted | resolved | returned | contacted | refused | unknown_ticket | stranger |
    not_understood | ignored; from complainants: rated | opted_out.
    """

    __tablename__ = "sms_inbound"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_phone: Mapped[str] = mapped_column(String(32))
    to_phone: Mapped[Optional[str]] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(24), default="received")
    ticket_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tickets.id"), index=True)
    unit_id: Mapped[Optional[str]] = mapped_column(String(64))
    note: Mapped[Optional[str]] = mapped_column(Text)


class SmsOptOut(Base):
    """A number that replied TD (退订): it gets no more messages about its own complaints' progress."""

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)  # E.164
    opted_out_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    message_sid: Mapped[Optional[str]] = mapped_column(String(64))
