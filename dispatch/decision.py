"""The plain data dispatch takes in and gives back: the facts of one ticket and the decision on it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What dispatch needs to know about a ticket; everything but the channel is optional."""

    channel: str
    channel_kind: str | None = None
    kind: str | None = None                 # complaint / report / consultation / help / suggestion
    title: str | None = None
    text: str | None = None
    event_address: str | None = None
    business_name: str | None = None
    business_address: str | None = None
    area_code: str | None = None            # 6-, 9- or 12-digit division code given by the source
    amount: float | None = None
    priority: str = "normal"                # as the source gave it: normal | urgent | very_urgent
    walk_in_station: str | None = None      # the station a walk-in visit was taken at
    category: str | None = None             # a dispute nature the source already gave, if any
    received_at: datetime | None = None
    business_watched: bool = False          # the business is on the watch list (重点监控)


@dataclass(frozen=True, slots=True)
class TraceStep:
    rule_id: str
    matched: bool
    why: str

    def __iter__(self):             # so a step unpacks as (rule_id, matched, why)
        return iter((self.rule_id, self.matched, self.why))


@dataclass(frozen=True, slots=True)
class Decision:
    """Where a ticket goes (unit_id, or triage), which rule decided, and what was learnt on the way."""

    unit_id: str | None
    triage: bool
    rule_id: str | None
    reason: str
    town: str | None
    station: str | None
    place_method: str
    place_confidence: float
    category: str
    group: str | None
    priority: str
    trace: list[TraceStep] = field(default_factory=list)
    # An `assign_group` rule decided: unit_id is the first of group_units, a fallback; the dispatch job
    # picks the unit by group_strategy (round_robin | least_open) against the database.
    group_units: tuple[str, ...] = ()
    group_strategy: str | None = None
    # What the gazetteer read: the words that decided, or the stations a shared or unsure name could be, and why
    # the place did not decide (outside Shunde, a name two towns share, a confidence under min_confidence).
    place_found: str = ""
    place_candidates: tuple[str, ...] = ()
    place_note: str = ""
