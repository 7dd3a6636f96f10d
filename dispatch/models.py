"""What dispatch keeps in the database: the running rules' status (for `onequeue health` in another process), and
the address fragments staff taught it by reassigning tickets (for `onequeue gazetteer suggestions`)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tickets.db import Base, UtcDateTime, utcnow
from tickets.models import Id


class RulesStatus(Base):
    """Which units and rules files the workers run, since when, and the last file they refused and why.

    One row (name "dispatch"), written by whichever worker last loaded or refused a file.
    """

    __tablename__ = "dispatch_rules_status"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    rules_file: Mapped[str] = mapped_column(Text)
    units_file: Mapped[str] = mapped_column(Text)
    digest: Mapped[Optional[str]] = mapped_column(String(64))   # sha256 of the running files' text
    rule_count: Mapped[Optional[int]]
    loaded_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    loaded_by: Mapped[Optional[str]] = mapped_column(String(64))
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    last_error_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class GazetteerSuggestion(Base):
    """An address fragment no gazetteer name covered (a road, a building, an estate) that staff sent to one
    station; open until an administrator accepts it into gazetteer.yaml or rejects it."""

    __tablename__ = "gazetteer_suggestions"
    __table_args__ = (UniqueConstraint("fragment", "station"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    fragment: Mapped[str] = mapped_column(String(64))
    station: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")     # open | accepted | rejected
    decided_by: Mapped[Optional[str]] = mapped_column(String(64))
    decided_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    written_at: Mapped[Optional[str]] = mapped_column(Text)              # file:line the accepted entry went to
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class GazetteerCorrection(Base):
    """One ticket a person sent to the suggestion's station: three of them make a suggestion worth showing."""

    __tablename__ = "gazetteer_corrections"
    __table_args__ = (UniqueConstraint("suggestion_id", "ticket_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("gazetteer_suggestions.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
