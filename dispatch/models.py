"""The running rules' status, kept in the database so that `onequeue health` in another process can show it."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tickets.db import Base, UtcDateTime, utcnow


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
