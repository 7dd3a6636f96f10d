"""Tables of the deadlines: one clock per ticket and step, and one row per reminder or notice sent, so
that none is ever sent twice to the same person."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tickets.db import Base, JsonDoc, UtcDateTime, utcnow
from tickets.models import Id


class TicketClock(Base):
    """A deadline running on a ticket (first_contact, acceptance, resolution, ...).

    `next_action_at` is the next moment the scan must look at this clock (a reminder point or the
    deadline); NULL once nothing is left to do. The scan selects on it alone, through a partial index,
    so its cost follows the clocks that are due, not the tickets that are open.
    """

    __tablename__ = "ticket_clocks"
    __table_args__ = (
        UniqueConstraint("ticket_id", "clock"),
        Index("ix_ticket_clocks_next_action", "next_action_at",
              postgresql_where=text("next_action_at IS NOT NULL"), sqlite_where=text("next_action_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    clock: Mapped[str] = mapped_column(String(32))
    policy: Mapped[str] = mapped_column(String(64))
    hours_unit: Mapped[Optional[str]] = mapped_column(String(64))  # whose working hours the clock counts
    start_on: Mapped[str] = mapped_column(String(16))  # received | dispatched | accepted | resolved
    stop_on: Mapped[str] = mapped_column(String(200))  # ",accepted,resolved," — events that stop it
    started_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())  # NULL: waiting for start_on
    due_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    source_due: Mapped[bool] = mapped_column(Boolean, default=False)  # due_at is the source's own deadline
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)  # computed over a year without data
    suspended_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    suspended_seconds: Mapped[float] = mapped_column(Float, default=0.0)  # working time spent suspended
    extended_days: Mapped[int] = mapped_column(Integer, default=0)
    stopped_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    stop_reason: Mapped[Optional[str]] = mapped_column(String(32))
    breached_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    next_reminder_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    next_action_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    points_done: Mapped[list] = mapped_column(JsonDoc, default=list)  # reminder points handled, e.g. ["1WD"]
    calendar_version: Mapped[Optional[str]] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    @property
    def running(self) -> bool:
        return self.started_at is not None and self.stopped_at is None and self.suspended_at is None

    def stops_on(self, event: str) -> bool:
        return f",{event}," in self.stop_on


class SlaNotice(Base):
    """One reminder point or overdue notice of one clock, to one phone: the key that makes it happen once."""

    __tablename__ = "sla_notices"
    __table_args__ = (UniqueConstraint("ticket_id", "clock", "point", "phone"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    clock: Mapped[str] = mapped_column(String(32))
    point: Mapped[str] = mapped_column(String(16))  # "1WD", "2WH", "overdue"
    phone: Mapped[str] = mapped_column(String(32))
    sms_key: Mapped[Optional[str]] = mapped_column(String(128))  # the dedupe key of the SMS that carried it
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
