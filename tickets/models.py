"""Tables of the one queue: tickets, their events (the audit trail), quarantine, cursors and counters."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tickets.db import Base, JsonDoc, UtcDateTime, utcnow
from tickets.states import OPEN_SQL

# BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("channel", "source_ref"),
        Index("ix_tickets_status_id", "status", "id"),
        Index("ix_tickets_assigned_status", "assigned_unit", "status"),
        Index("ix_tickets_complainant_phone", "complainant_phone"),  # duplicates across channels
        Index("ix_tickets_source_ref", "source_ref"),  # the back office's search
        Index("ix_tickets_status_due_at", "status", "due_at"),  # overdue, due soon
        Index("ix_tickets_business_name", "business_name"),
        Index("ix_tickets_duplicate_of", "duplicate_of"),  # a ticket's linked duplicates
        # 即将超期 and 已超期: open tickets in deadline order
        Index("ix_tickets_open_due_at", "due_at", "id", postgresql_where=text(OPEN_SQL), sqlite_where=text(OPEN_SQL)),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[str] = mapped_column(String(64))
    channel_kind: Mapped[str] = mapped_column(String(32))
    source_ref: Mapped[str] = mapped_column(String(128))
    source_status: Mapped[Optional[str]] = mapped_column(String(32))
    source_updated_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    source_deadline: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(16), default="complaint")
    title: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    complainant_name: Mapped[Optional[str]] = mapped_column(String(100))
    complainant_phone: Mapped[Optional[str]] = mapped_column(String(32))
    business_name: Mapped[Optional[str]] = mapped_column(String(200))
    business_code: Mapped[Optional[str]] = mapped_column(String(32))
    business_address: Mapped[Optional[str]] = mapped_column(String(300))
    event_address: Mapped[Optional[str]] = mapped_column(String(300))
    area_code: Mapped[Optional[str]] = mapped_column(String(12))
    town: Mapped[Optional[str]] = mapped_column(String(32))
    station: Mapped[Optional[str]] = mapped_column(String(64))
    intake_station: Mapped[Optional[str]] = mapped_column(String(64))  # the station a walk-in was taken at
    amount: Mapped[Optional[Decimal]] = mapped_column(Numeric(14, 2))
    category: Mapped[Optional[str]] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    status: Mapped[str] = mapped_column(String(16), default="new")
    assigned_unit: Mapped[Optional[str]] = mapped_column(String(64))
    due_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    result_text: Mapped[Optional[str]] = mapped_column(Text)
    outcome: Mapped[Optional[str]] = mapped_column(String(32))  # settled, partly_settled, ... (vocabulary)
    recovered_amount: Mapped[Optional[Decimal]] = mapped_column(Numeric(14, 2))  # 挽回经济损失, yuan
    duplicate_of: Mapped[Optional[int]] = mapped_column(ForeignKey("tickets.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    events: Mapped[list["TicketEvent"]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", lazy="selectin", viewonly=True
    )


class TicketEvent(Base):
    """One change to a ticket: who, when, what, from which status to which."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[Optional[str]] = mapped_column(String(16))
    to_status: Mapped[Optional[str]] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class QuarantinedRecord(Base):
    """A source record that could not be made into a ticket, kept whole with the reason."""

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("channel", "fingerprint"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(64), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    source_ref: Mapped[Optional[str]] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    resolved_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    # how it left quarantine: "discarded" (with the operator's reason) or "taken_in" (the ticket it became)
    resolution: Mapped[Optional[str]] = mapped_column(String(16))
    resolution_note: Mapped[Optional[str]] = mapped_column(Text)
    resolved_by: Mapped[Optional[str]] = mapped_column(String(64))


class ChannelCursor(Base):
    """Where a channel's pull stopped, and which worker holds the channel's poll right now."""

    __tablename__ = "channel_cursors"

    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[Optional[str]] = mapped_column(Text)
    lease_owner: Mapped[Optional[str]] = mapped_column(String(64))
    lease_until: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    last_success_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    last_error_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Counter(Base):
    """Named sequences, e.g. the monthly ticket number."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class SavedView(Base):
    """A person's own filter of the queue, kept under a name; a lead may share it with a unit."""

    __tablename__ = "saved_views"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)  # the login
    shared_unit: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(60))
    query: Mapped[str] = mapped_column(Text)  # the query string of the queue page
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Followup(Base):
    """The complainant kept in the loop on one ticket: the progress page's token, what they said of the result
    (满意度, 1-5) and the call-back an unhappy answer calls for (回访)."""

    __tablename__ = "followups"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)  # random: the progress page's address
    phone: Mapped[Optional[str]] = mapped_column(String(32), index=True)  # E.164: whose SMS answer is this
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    asked_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())  # the result went out with the question
    rating: Mapped[Optional[int]] = mapped_column(Integer)  # 1 (very dissatisfied) .. 5 (very satisfied)
    rated_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    rated_via: Mapped[Optional[str]] = mapped_column(String(8))  # sms | page
    callback: Mapped[Optional[str]] = mapped_column(String(8), index=True)  # due | done
    callback_done_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    callback_done_by: Mapped[Optional[str]] = mapped_column(String(64))
