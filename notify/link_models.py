"""The station's links: one row per link sent by SMS (its token kept only as a hash), and one per phone browser
that proved it holds the contact's phone by the last four digits."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tickets.db import Base, UtcDateTime, utcnow
from tickets.models import Id


class StationLink(Base):
    """A link `/m/TOKEN` sent to one contact of one unit: for one ticket, or (a digest's, ticket_id NULL) for the
    unit's due tickets. Refused once expired, revoked (the ticket left the unit) or locked (wrong digits)."""

    __tablename__ = "station_links"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the token, hex
    ticket_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tickets.id"), index=True)
    unit_id: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(32))  # E.164, the number the SMS went to
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    revoke_reason: Mapped[Optional[str]] = mapped_column(String(32))
    failed_tries: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())


class StationDevice(Base):
    """A browser remembered for one contact's phone (its cookie's secret kept only as a hash)."""

    __tablename__ = "station_devices"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
