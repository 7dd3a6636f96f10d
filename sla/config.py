"""The `sla:` section of config.yaml: working hours, calendar years, reminder points, SMS templates and the
deadline policies. The defaults are those of ../shared/specs/deadlines.md, so a config.yaml without `sla:`
still follows the law; config.yaml repeats them with their sources."""
from __future__ import annotations

from datetime import date
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sla.calendar_cn import CalendarError, WorkCalendar, WorkingHours, YearDays, parse_days
from tickets.vocabulary import Kind

# Events that stop a clock: a status the ticket moves to, or `contacted` (the unit reported contact by SMS).
StopOn = Literal["accepted", "in_progress", "resolved", "closed", "returned", "rejected", "withdrawn", "duplicate",
                 "contacted"]
# Every clock stops when the ticket leaves the queue for good.
FINAL = ("closed", "rejected", "withdrawn", "duplicate")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Offset(Strict):
    """An amount of working time: whole working days or working hours (one of the two)."""

    working_days: Optional[int] = Field(None, ge=1, le=365)
    working_hours: Optional[float] = Field(None, gt=0, le=2000)

    @model_validator(mode="after")
    def _one(self):
        if (self.working_days is None) == (self.working_hours is None):
            raise ValueError("give either working_days or working_hours")
        return self

    @property
    def label(self) -> str:
        return f"{self.working_days}WD" if self.working_days else f"{self.working_hours:g}WH"

    def seconds(self, hours: WorkingHours) -> float:
        """As working seconds: a working day is the day's working hours (7 by default)."""
        return self.working_days * hours.seconds_per_day if self.working_days else self.working_hours * 3600


class BreachAction(Strict):
    notify_head: bool = Field(True, description="text the unit's head(s)")
    notify_parent: bool = Field(True, description="text the parent unit's head(s)")
    transfer_to_parent: bool = Field(False, description="超时转办: dispatch the ticket to the parent unit")


class ClockConfig(Offset):
    """One step's deadline: how long, counted from which moment, ended by which events."""

    from_: Literal["received", "dispatched", "accepted", "resolved"] = Field("dispatched", alias="from")
    stop_on: list[StopOn] = Field(min_length=1)
    extendable_working_days: Optional[int] = Field(None, ge=1, le=365,
                                                   description="`onequeue tickets extend` adds this once")
    source_deadline: bool = Field(False, description="the source's own deadline (12345 BLSX) wins when earlier")
    reminders: Optional[list[Offset]] = Field(None, description="points before the deadline; default sla.reminders")
    on_breach: BreachAction = Field(default_factory=BreachAction)

    def stops(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.stop_on, *FINAL]))


class PolicyWhen(Strict):
    """Which tickets a policy covers; an empty condition matches all."""

    channel_kind: Optional[list[str]] = None
    channel: Optional[list[str]] = None
    kind: Optional[list[Kind]] = None

    def matches(self, channel_kind: str, channel: str, kind: str) -> bool:
        return ((self.channel_kind is None or channel_kind in self.channel_kind)
                and (self.channel is None or channel in self.channel)
                and (self.kind is None or kind in self.kind))


ClockName = str


class PolicyConfig(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    when: PolicyWhen = Field(default_factory=PolicyWhen)
    clocks: dict[ClockName, Optional[ClockConfig]] = Field(
        description="clock name → deadline; null switches off a clock of `all_tickets`")

    @field_validator("clocks")
    @classmethod
    def _names(cls, clocks: dict) -> dict:
        for name in clocks:
            if not name.replace("_", "").isalpha() or not name.islower() or len(name) > 32:
                raise ValueError(f"clock name {name!r}: expected lower-case letters and _, e.g. resolution")
        return clocks


class YearCalendar(Strict):
    """A year's official schedule, for a year the chinesecalendar package does not carry yet."""

    holidays: list[date | str] = Field(default_factory=list, description="days off, or ranges a..b")
    workdays: list[date | str] = Field(default_factory=list, description="weekend days worked instead (调休)")

    def days(self) -> YearDays:
        return YearDays(parse_days(self.holidays), parse_days(self.workdays))


class CalendarConfig(Strict):
    working_hours: str = "09:00-12:00,14:00-18:00"
    unit_hours: dict[str, str] = Field(default_factory=dict, description="unit id → its own working hours")
    years: dict[int, YearCalendar] = Field(default_factory=dict)

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        try:
            WorkingHours.parse(value)
        except CalendarError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("unit_hours")
    @classmethod
    def _unit_hours(cls, value: dict[str, str]) -> dict[str, str]:
        for unit, text in value.items():
            try:
                WorkingHours.parse(text)
            except CalendarError as exc:
                raise ValueError(f"{unit}: {exc}") from None
        return value

    @field_validator("years")
    @classmethod
    def _years(cls, value: dict[int, YearCalendar]) -> dict[int, YearCalendar]:
        for year, data in value.items():
            try:
                days = data.days()
            except (CalendarError, ValueError) as exc:
                raise ValueError(f"{year}: {exc}") from None
            stray = sorted(d for d in days.holidays | days.workdays if d.year != year)
            if stray:
                raise ValueError(f"{year}: {stray[0]} is not in {year}")
        return value

    def build(self) -> WorkCalendar:
        return WorkCalendar(
            years={y: c.days() for y, c in self.years.items()},
            hours=WorkingHours.parse(self.working_hours),
            unit_hours={u: WorkingHours.parse(h) for u, h in self.unit_hours.items()},
        )


class SlaTemplates(Strict):
    """SMS texts. A reminder or an overdue notice lists every ticket of one recipient in one message."""

    # {link}: the station's page, of the ticket, or of the recipient's due tickets when several are listed.
    reminder: str = "【顺德市场监管】催办：你单位{count}件工单临近期限：{items}。请及时处理：{link}"
    reminder_item: str = "{number}{step}限{due}"
    overdue: str = "【顺德市场监管】超时：{items}。请立即处理并说明原因：{link}"
    overdue_item: str = "{unit}{number}{step}已超期（限{due}）{transfer}"
    transfer: str = "，已转{to_unit}办理"
    separator: str = "；"
    steps: dict[str, str] = Field(default_factory=lambda: {
        "first_contact": "联系", "acceptance": "受理", "resolution": "办结", "closure_notice": "告知结果"})
    reminder_validity_seconds: Optional[int] = Field(7200, ge=1, le=36000, description=(
        "a reminder that has not reached the phone by then is dropped: the next one or the breach follows"))
    overdue_validity_seconds: Optional[int] = Field(14400, ge=1, le=36000)


FIRST_CONTACT = {"working_hours": 1, "from": "dispatched", "reminders": [{"working_hours": 0.5}],
                 "stop_on": ["contacted", "accepted", "in_progress", "resolved", "returned", "rejected"]}
_RESOLVED = ["resolved", "returned"]

# The defaults of ../shared/specs/deadlines.md (config.yaml carries the same, with sources).
DEFAULT_POLICIES = [
    {"id": "12345-consultation", "when": {"channel_kind": ["12345"], "kind": ["consultation"]},
     "clocks": {"resolution": {"working_days": 2, "from": "received", "source_deadline": True, "stop_on": _RESOLVED}}},
    {"id": "12345-help-suggestion", "when": {"channel_kind": ["12345"], "kind": ["help", "suggestion"]},
     "clocks": {"resolution": {"working_days": 10, "from": "received", "source_deadline": True,
                               "stop_on": _RESOLVED}}},
    {"id": "12345-complaint-report", "when": {"channel_kind": ["12345"], "kind": ["complaint", "report"]},
     "clocks": {"resolution": {"working_days": 15, "from": "received", "source_deadline": True,
                               "stop_on": _RESOLVED}}},
    {"id": "complaint", "when": {"kind": ["complaint"]},
     "clocks": {
         "acceptance": {"working_days": 7, "from": "received",
                        "stop_on": ["accepted", "in_progress", "resolved", "returned"]},
         "resolution": {"working_days": 45, "from": "accepted", "source_deadline": True, "stop_on": _RESOLVED},
         "closure_notice": {"working_days": 7, "from": "resolved", "stop_on": ["closed"]},
     }},
    {"id": "report", "when": {"kind": ["report"]},
     "clocks": {"resolution": {"working_days": 15, "extendable_working_days": 15, "from": "received",
                               "source_deadline": True, "stop_on": _RESOLVED}}},
    {"id": "consultation", "when": {"kind": ["consultation"]},
     "clocks": {"resolution": {"working_days": 2, "from": "received", "source_deadline": True,
                               "stop_on": _RESOLVED}}},
    {"id": "help-suggestion", "when": {"kind": ["help", "suggestion"]},
     "clocks": {"resolution": {"working_days": 10, "from": "received", "source_deadline": True,
                               "stop_on": _RESOLVED}}},
]


class SlaConfig(Strict):
    enabled: bool = True
    scan_seconds: float = Field(30, gt=0)
    batch_size: int = Field(500, ge=1, le=10000, description="clocks claimed per scan transaction")
    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    reminders: list[Offset] = Field(default_factory=lambda: [Offset(working_days=1), Offset(working_hours=2)])
    all_tickets: dict[ClockName, ClockConfig] = Field(
        default_factory=lambda: {"first_contact": ClockConfig.model_validate(FIRST_CONTACT)},
        description="clocks every policy has unless it switches them off")
    policies: list[PolicyConfig] = Field(
        default_factory=lambda: [PolicyConfig.model_validate(p) for p in DEFAULT_POLICIES])
    templates: SlaTemplates = Field(default_factory=SlaTemplates)

    @field_validator("policies")
    @classmethod
    def _unique(cls, policies: list[PolicyConfig]) -> list[PolicyConfig]:
        seen = set()
        for p in policies:
            if p.id in seen:
                raise ValueError(f"policy id {p.id!r} is used twice")
            seen.add(p.id)
        return policies
