"""Tables of the statistics: one fact row per ticket (what it counts as now) and the rollup those facts add up to,
one row per China-Standard-Time day and combination of dimension values, so a figure reads rollup rows, not
tickets."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Optional

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tickets.db import Base, JsonDoc
from tickets.models import Id

# The dimensions a cell of the rollup is keyed by, besides its day. "" stands for "not given" (a NULL could not
# be part of the unique key on every backend).
DIMENSIONS: tuple[str, ...] = ("channel", "kind", "category", "industry", "district", "town", "station", "unit",
                               "outcome")
# What a cell adds up; `tickets` counts complaints once (a duplicate is in `duplicates` instead).
MEASURES: tuple[str, ...] = ("tickets", "duplicates", "accepted", "accepted_on_time", "resolved",
                             "resolved_on_time", "returned", "accept_seconds", "resolve_seconds", "recovered",
                             "rated", "satisfied", "first_contact", "first_contact_on_time", "escalated")


class StatsFact(Base):
    """What one ticket counts as in the rollup now; the catch-up takes it out and puts the new one in."""

    __tablename__ = "stats_facts"

    ticket_id: Mapped[int] = mapped_column(Id, ForeignKey("tickets.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    industry: Mapped[str] = mapped_column(String(32))
    district: Mapped[str] = mapped_column(String(40), default="")  # 商圈
    town: Mapped[str] = mapped_column(String(32))
    station: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    tickets: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    accepted_on_time: Mapped[int] = mapped_column(Integer)
    resolved: Mapped[int] = mapped_column(Integer)
    resolved_on_time: Mapped[int] = mapped_column(Integer)
    returned: Mapped[int] = mapped_column(Integer)
    accept_seconds: Mapped[int] = mapped_column(BigInteger)
    resolve_seconds: Mapped[int] = mapped_column(BigInteger)
    recovered: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    rated: Mapped[int] = mapped_column(Integer, default=0)       # the complainant answered 满意度
    satisfied: Mapped[int] = mapped_column(Integer, default=0)   # ... with 4 or 5
    first_contact: Mapped[int] = mapped_column(Integer, default=0)          # had a first-contact deadline
    first_contact_on_time: Mapped[int] = mapped_column(Integer, default=0)  # ... and met it (the Shunde promise)
    escalated: Mapped[int] = mapped_column(Integer, default=0)              # fell overdue: 督办
    industry_basis: Mapped[Optional[str]] = mapped_column(String(200))  # what decided the industry
    district_basis: Mapped[Optional[str]] = mapped_column(String(200))  # what put it in its district
    terms: Mapped[list] = mapped_column(JsonDoc, default=list)  # the hot words the ticket is counted under
    text_digest: Mapped[Optional[str]] = mapped_column(String(16))  # of the title and text the terms came from


class StatsCell(Base):
    """The rollup: per CST day and combination of dimension values, the sums of its tickets' facts."""

    __tablename__ = "stats_cells"
    __table_args__ = (UniqueConstraint("day", *DIMENSIONS, name="uq_stats_cells_key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    channel: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    industry: Mapped[str] = mapped_column(String(32))
    district: Mapped[str] = mapped_column(String(40), default="")
    town: Mapped[str] = mapped_column(String(32))
    station: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    tickets: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    accepted_on_time: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    resolved_on_time: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    accept_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    resolve_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    recovered: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=Decimal("0"))
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    first_contact: Mapped[int] = mapped_column(Integer, default=0)
    first_contact_on_time: Mapped[int] = mapped_column(Integer, default=0)
    escalated: Mapped[int] = mapped_column(Integer, default=0)


class StatsTermCell(Base):
    """Hot words: per CST day, handling unit and term, the tickets (not duplicates) whose text holds it."""

    __tablename__ = "stats_term_cells"
    __table_args__ = (UniqueConstraint("day", "unit", "term", name="uq_stats_term_cells_key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    unit: Mapped[str] = mapped_column(String(64))
    term: Mapped[str] = mapped_column(String(32))
    tickets: Mapped[int] = mapped_column(Integer, default=0)
