"""Tables of the business registry: a business, the tickets about it, and what administrators did to it."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import Date, Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tickets.db import Base, JsonDoc, UtcDateTime, utcnow
from tickets.models import Id


class Business(Base):
    """One business however the channels spell it: known by its credit code, else by its name's key and town.
    A business merged into another keeps its row, pointing there, so what matched it still finds the right one."""

    __tablename__ = "businesses"
    __table_args__ = (Index("ix_businesses_name_key_town", "name_key", "town"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))          # as first written, or as an administrator named it
    name_key: Mapped[str] = mapped_column(String(200))      # watch.names.name_key of the name
    town: Mapped[str] = mapped_column(String(32), default="")  # "" while no ticket about it has a town
    credit_code: Mapped[Optional[str]] = mapped_column(String(18), unique=True)  # only a code whose check holds
    merged_into: Mapped[Optional[int]] = mapped_column(ForeignKey("businesses.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class BusinessTicket(Base):
    """Which business a ticket is about, and what recognised it. A ticket an administrator placed (split or moved
    by hand) is `pinned`: the registry does not match it again."""

    __tablename__ = "business_tickets"

    ticket_id: Mapped[int] = mapped_column(Id, ForeignKey("tickets.id"), primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    matched_by: Mapped[str] = mapped_column(String(16))     # code | name | alias | merge | hand
    pinned: Mapped[bool] = mapped_column(default=False)
    note: Mapped[Optional[str]] = mapped_column(String(200))  # e.g. the credit code given failed its check
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class BusinessEvent(Base):
    """What was done to a business by whom: merged, split, ..."""

    __tablename__ = "business_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)


ALERT_STATUSES = ("open", "acknowledged", "closed")
NOT_CLOSED_SQL = "status != 'closed'"


class Alert(Base):
    """An early warning: raised by a rule, acknowledged, then closed by a person with a note. One alert of a series
    (a rule about one business) is not closed at a time; the tickets behind it are in alert_tickets."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("uq_alerts_series_not_closed", "series", unique=True, sqlite_where=text(NOT_CLOSED_SQL),
              postgresql_where=text(NOT_CLOSED_SQL)),
        Index("ix_alerts_status_raised_at", "status", "raised_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))           # prepaid_flight | group_complaint | surge
    series: Mapped[str] = mapped_column(String(64))         # e.g. prepaid_flight:business:12, surge:town:大良街道
    business_id: Mapped[Optional[int]] = mapped_column(ForeignKey("businesses.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))          # urgent | normal
    status: Mapped[str] = mapped_column(String(16), default="open")
    summary: Mapped[str] = mapped_column(String(300))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    acknowledged_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    acknowledged_by: Mapped[Optional[str]] = mapped_column(String(64))
    acknowledged_note: Mapped[Optional[str]] = mapped_column(Text)
    closed_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    closed_by: Mapped[Optional[str]] = mapped_column(String(64))
    closed_note: Mapped[Optional[str]] = mapped_column(Text)
    # a surge's: the series, its first and last surge day, the count, the baseline, the detector and p-value
    detail: Mapped[Optional[dict[str, Any]]] = mapped_column(JsonDoc)


class AlertTicket(Base):
    """A ticket behind an alert; a ticket behind one alert of a series does not count towards the next."""

    __tablename__ = "alert_tickets"

    alert_id: Mapped[int] = mapped_column(Id, ForeignKey("alerts.id"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(Id, ForeignKey("tickets.id"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class WatchEntry(Base):
    """A business's time on the watch list (重点监控): who or which rule put it there and why, and who took it off
    and why. A business is watched while it has an entry not yet left; every entry and exit stays on record."""

    __tablename__ = "watch_list"
    __table_args__ = (
        Index("uq_watch_list_business_current", "business_id", unique=True, sqlite_where=text("left_at IS NULL"),
              postgresql_where=text("left_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    rule: Mapped[Optional[str]] = mapped_column(String(32))  # the alerts.yaml rule, or None when put by hand
    reason: Mapped[str] = mapped_column(Text)
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    entered_by: Mapped[str] = mapped_column(String(64))
    left_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime())
    left_by: Mapped[Optional[str]] = mapped_column(String(64))
    left_reason: Mapped[Optional[str]] = mapped_column(Text)


class BusinessScore(Base):
    """A business's handling index (处理指数) as computed on a day: its components, score and rank within its
    industry. Each day's computation is kept; computing again on the same day replaces that day's rows."""

    __tablename__ = "business_scores"
    __table_args__ = (UniqueConstraint("day", "business_id", name="uq_business_scores_day_business"),
                      Index("ix_business_scores_business_day", "business_id", "day"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    industry: Mapped[str] = mapped_column(String(32))     # the industry most of its complaints are counted under
    tickets: Mapped[int] = mapped_column()                 # its complaints in the window
    score: Mapped[float] = mapped_column(Float)            # 0..100
    rank: Mapped[int] = mapped_column()                    # 1 is the best of its industry
    of: Mapped[int] = mapped_column()                      # businesses scored in its industry
    components: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)  # name → raw, shrunk, n
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
