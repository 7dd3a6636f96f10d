"""The normalised ticket every connector produces, whatever its source looks like."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from tickets import column_fit
from tickets.dates import DEADLINE_AHEAD, plausible_window
from tickets.models import Ticket
from tickets.vocabulary import Kind, Priority


class IncomingTicket(BaseModel):
    """A source record made into the ticket schema; `payload` keeps the record as received."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_ref: str = Field(min_length=1, max_length=128)
    source_updated_at: datetime
    received_at: datetime
    kind: Kind = "complaint"
    title: str = ""
    text: str = ""
    complainant_name: Optional[str] = None
    complainant_phone: Optional[str] = None
    business_name: Optional[str] = None
    business_code: Optional[str] = None
    business_address: Optional[str] = None
    event_address: Optional[str] = None
    area_code: Optional[str] = None
    amount: Optional[Decimal] = None
    priority: Priority = "normal"
    source_status: Optional[str] = None
    source_deadline: Optional[datetime] = None
    withdrawn: bool = False
    intake_station: Optional[str] = None  # walk-ins: the service station that took the visit
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("source_updated_at", "received_at", "source_deadline")
    @classmethod
    def _aware(cls, value: Optional[datetime]) -> Optional[datetime]:
        if value is not None and value.tzinfo is None:
            raise ValueError("a timestamp needs its UTC offset")
        return value

    @field_validator("source_updated_at", "received_at")
    @classmethod
    def _plausible(cls, value: datetime) -> datetime:
        problem = plausible_window().problem(value)
        if problem:
            raise ValueError(f"implausible date: {problem}")
        return value

    @field_validator("source_deadline")
    @classmethod
    def _plausible_deadline(cls, value: Optional[datetime]) -> Optional[datetime]:
        problem = value and plausible_window().problem(value, ahead=DEADLINE_AHEAD)
        if problem:
            raise ValueError(f"implausible deadline: {problem}")
        return value

    @field_validator("*")
    @classmethod
    def _fits_its_column(cls, value: Any, info: ValidationInfo) -> Any:
        """Each field must be storable as given in its `tickets` column, on SQLite as on PostgreSQL: no NUL byte,
        no longer than the column, the payload valid JSONB. A record that is not is set aside, never cut."""
        problem = column_fit.problem(Ticket, info.field_name, value)
        if problem:
            raise ValueError(f"does not fit: {problem}")
        return value


class BadRecord(BaseModel):
    """A record set aside: what it was, why, and its key if it had one."""

    raw: Any
    reason: str
    source_ref: Optional[str] = None
