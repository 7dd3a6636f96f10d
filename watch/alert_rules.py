"""alerts.yaml: the early-warning rules that need no history — their words and thresholds — and who on duty is
texted when one raises an alert. Validated like the other YAML files (file, line and field)."""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from notify.templates import template_fields
from settings.yaml_loader import ConfigError, ConfigProblem, parse_yaml_model, read_yaml_text, yaml_lines

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "alerts.yaml"
TEMPLATE_FIELDS = {"rule", "business", "town", "count", "hours", "numbers"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _words(value: list[str]) -> list[str]:
    words = [w.strip() for w in value if w and w.strip()]
    if not words:
        raise ValueError("give at least one word")
    return words


class PrepaidFlight(Strict):
    """预付卡跑路: complaints about one business that speak of prepaid cards together with the owner gone."""

    enabled: bool = True
    hours: float = Field(72, gt=0, description="the complaints fall within this many hours")
    min_complaints: int = Field(3, ge=1, description="from this many complainants (a phone counts once)")
    prepaid_words: list[str]
    closing_words: list[str]

    _check = field_validator("prepaid_words", "closing_words")(classmethod(lambda cls, v: _words(v)))


class GroupComplaint(Strict):
    """群体投诉: many complainants, one business, one story — or one ticket that says it speaks for many."""

    enabled: bool = True
    hours: float = Field(24, gt=0)
    min_complainants: int = Field(5, ge=2, description="complainants telling one story about one business")
    min_similarity: float = Field(0.5, gt=0, le=1, description="how alike their stories are (0..1)")
    words: list[str] = Field(default_factory=list, description="words by which one ticket speaks for many")


class FailedCases(Strict):
    count: int = Field(3, ge=1, description="cases not settled (调解不成功) or open past their deadline")
    days: float = Field(90, gt=0, description="... among the business's tickets of this many days")


class WatchListRules(Strict):
    """The rules that put a business on the watch list (重点监控) by themselves."""

    after_alerts: list[Literal["prepaid_flight", "group_complaint"]] = Field(
        default_factory=list, description="an alert of these rules about a business puts it on the list")
    failed_cases: Optional[FailedCases] = None


SURGE_SERIES = ("business", "industry", "town", "district", "term")
SURGE_TEMPLATE_FIELDS = {"count", "items"}


class Surge(Strict):
    """投诉激增: a series' daily count well above the same weekday of recent weeks, or a slower rise (CUSUM).
    `false_alarms_per_year` is the one setting of how often a series without any change is flagged."""

    enabled: bool = True
    false_alarms_per_year: float = Field(1, gt=0, le=60, description="per series, shared by the two detectors")
    weeks: int = Field(8, ge=2, le=52, description="the baseline: the same weekday of this many weeks before")
    min_weeks: int = Field(4, ge=2, le=52, description="no test before a series has this many weeks of baseline")
    min_count: int = Field(3, ge=1, description="a day (or a slow rise) of fewer complaints is never a surge")
    cusum_days: int = Field(28, ge=7, le=180, description="the slow-rise detector looks this many days back")
    cusum_shift: float = Field(1.0, gt=0, le=5, description="the rise it is tuned to, in standard deviations")
    urgent_count: int = Field(20, ge=1, description="a surge day of this many complaints is texted at once")
    series: list[Literal["business", "industry", "town", "district", "term"]] = Field(
        default_factory=lambda: list(SURGE_SERIES))
    kinds: list[str] = Field(default_factory=lambda: ["complaint", "report"])
    template: str = "【预警】投诉激增{count}项：{items}。详见预警页。"

    @field_validator("template")
    @classmethod
    def _fields(cls, v: str) -> str:
        unknown = template_fields(v) - SURGE_TEMPLATE_FIELDS
        if unknown:
            raise ValueError(f"unknown field {{{sorted(unknown)[0]}}}; a template may use "
                             + ", ".join(f"{{{f}}}" for f in sorted(SURGE_TEMPLATE_FIELDS)))
        return v


class Duty(Strict):
    unit: str = Field(min_length=1, description="the unit of units.yaml whose contacts are on duty")
    roles: list[str] = Field(default_factory=list, description="only its contacts of these roles; empty: all")


class AlertsFile(Strict):
    duty: Duty
    template: str = Field(min_length=1, description="the SMS to the duty contacts")
    prepaid_flight: PrepaidFlight
    group_complaint: GroupComplaint
    watch_list: WatchListRules = Field(default_factory=WatchListRules)
    surge: Surge = Field(default_factory=Surge)

    @field_validator("template")
    @classmethod
    def _fields(cls, v: str) -> str:
        unknown = template_fields(v) - TEMPLATE_FIELDS
        if unknown:
            raise ValueError(f"unknown field {{{sorted(unknown)[0]}}}; a template may use "
                             + ", ".join(f"{{{f}}}" for f in sorted(TEMPLATE_FIELDS)))
        return v


def load_alert_rules(path: str | Path = DEFAULT_FILE, units=None) -> AlertsFile:
    """alerts.yaml, checked against units.yaml when `units` is given: the duty unit must exist and have someone
    to text. ConfigError naming file, line and field otherwise."""
    text = read_yaml_text(path, "alert rules")
    rules = parse_yaml_model(text, AlertsFile, file=str(path))
    if units is not None:
        problem: Optional[tuple[tuple, str]] = None
        unit = units.get(rules.duty.unit)
        if unit is None:
            problem = (("duty", "unit"), f"no unit {rules.duty.unit!r} in units.yaml")
        elif not duty_contacts(rules, unit):
            problem = (("duty", "roles"), f"unit {rules.duty.unit!r} has no contact"
                       + (f" with the role {'/'.join(rules.duty.roles)}" if rules.duty.roles else "")
                       + " to text")
        if problem is not None:
            line = yaml_lines(text).line_for(problem[0])
            raise ConfigError([ConfigProblem(str(path), line, ".".join(problem[0]), problem[1])])
    return rules


def duty_contacts(rules: AlertsFile, unit) -> list:
    """The contacts of the duty unit who are texted an alert."""
    contacts = list(unit.contacts) if unit is not None else []
    return [c for c in contacts if not rules.duty.roles or c.role in rules.duty.roles]
