"""A field mapping written in YAML: how a source record's fields become the ticket's, with simple
transforms (rename, template, date format, enum map, default)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tickets.schema import IncomingTicket

TARGETS = frozenset(IncomingTicket.model_fields) - {"payload"}
_MISSING = object()
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def dig(data: Any, path: str, default: Any = None) -> Any:
    """The value at a dotted path (`data.list`, `customer.mobile`, `items.0.id`), or `default`."""
    value = data
    for part in path.split(".") if path else []:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return default
    return value


def parse_offset(text: str) -> timezone:
    m = _OFFSET.match(text.strip())
    if not m:
        raise ValueError(f"timezone {text!r}: expected an offset like +08:00")
    minutes = int(m[2]) * 60 + int(m[3])
    return timezone(timedelta(minutes=minutes if m[1] == "+" else -minutes))


def parse_date(value: Any, fmt: str, tz: timezone) -> datetime:
    """`fmt` is iso, epoch, epoch_ms or a strptime pattern; a time without offset is in `tz`."""
    if isinstance(value, datetime):
        parsed = value
    elif fmt in ("epoch", "epoch_ms"):
        try:
            seconds = float(value) / (1000 if fmt == "epoch_ms" else 1)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a {fmt} time") from None
        return datetime.fromtimestamp(seconds, timezone.utc)
    elif not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date")
    elif fmt == "iso":
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value[:40]!r} is not an ISO date") from None
    else:
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            raise ValueError(f"{value[:40]!r} does not match {fmt!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def format_date(value: datetime, fmt: str, tz: timezone) -> str:
    if fmt == "epoch":
        return str(int(value.timestamp()))
    if fmt == "epoch_ms":
        return str(int(value.timestamp() * 1000))
    local = value.astimezone(tz)
    return local.isoformat(timespec="seconds") if fmt == "iso" else local.strftime(fmt)


def _key(value: Any) -> str:
    """Enum-map keys as text, so YAML's true/false/numbers match the record's values."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class FieldSpec(BaseModel):
    """One ticket field: `from` a dotted path (or a `template` of several), then `date_format` or `map`,
    and `default` when the record has nothing there."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: Optional[str] = Field(None, alias="from")
    template: Optional[str] = Field(None, description='e.g. "{mallAddress}{shop.unitNo}"')
    date_format: Optional[str] = Field(None, description="iso, epoch, epoch_ms or a strptime pattern")
    map: Optional[dict[Any, Any]] = Field(None, description="source value → ticket value")
    strict: bool = Field(True, description="with `map` and no `default`: a value not in the map makes the record "
                         "bad; false: such a value leaves the field empty")
    default: Any = None

    @model_validator(mode="after")
    def _one_source(self) -> "FieldSpec":
        if self.source and self.template:
            raise ValueError("give `from` or `template`, not both")
        if not self.source and not self.template and self.default is None:
            raise ValueError("give `from`, `template` or `default`")
        if self.map is not None:
            self.map = {_key(k): v for k, v in self.map.items()}
        return self

    def fields_used(self) -> list[str]:
        if self.template:
            return _PLACEHOLDER.findall(self.template)
        return [self.source] if self.source else []

    def value(self, record: dict, tz: timezone) -> Any:
        if self.template:
            parts = {name: dig(record, name) for name in self.fields_used()}
            raw = _MISSING if all(v in (None, "") for v in parts.values()) else _PLACEHOLDER.sub(
                lambda m: "" if parts[m[1]] is None else str(parts[m[1]]), self.template)
        else:
            raw = dig(record, self.source, _MISSING) if self.source else _MISSING
        if raw is _MISSING or raw is None or raw == "":
            return self.default
        if self.map is not None:
            key = _key(raw)
            if key in self.map:
                return self.map[key]
            if self.strict and self.default is None:  # with a default, an unmapped value falls back to it
                raise ValueError(f"{self.source or self.template} {raw!r} is not one of {', '.join(self.map)}")
            return self.default
        if self.date_format:
            return parse_date(raw, self.date_format, tz)
        return raw


Spec = Union[str, FieldSpec]


class FieldMapping(BaseModel):
    """Ticket field → how to get it from a record. A plain string is a dotted path (a rename)."""

    model_config = ConfigDict(extra="forbid")

    fields: dict[str, Spec]

    @field_validator("fields")
    @classmethod
    def _targets(cls, fields: dict[str, Spec]) -> dict[str, Spec]:
        unknown = sorted(set(fields) - TARGETS)
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not ticket fields; use {', '.join(sorted(TARGETS))}")
        for needed in ("source_ref", "received_at"):
            if needed not in fields:
                raise ValueError(f"the mapping needs {needed}")
        return {name: FieldSpec(**{"from": spec}) if isinstance(spec, str) else spec for name, spec in fields.items()}

    def ticket(self, record: Any, tz: timezone) -> IncomingTicket:
        """The record as a ticket; ValueError (or pydantic's ValidationError) says which field is wrong."""
        if not isinstance(record, dict):
            raise ValueError("the record is not an object")
        values: dict[str, Any] = {}
        for name, spec in self.fields.items():
            try:
                value = spec.value(record, tz)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
            if value is not None:
                values[name] = value
        for name in ("source_ref", "received_at"):
            if name not in values:
                raise ValueError(f"{name}: {self.fields[name].source or self.fields[name].template} is missing")
        values["source_ref"] = str(values["source_ref"]).strip()
        for name in ("received_at", "source_updated_at", "source_deadline"):
            if isinstance(values.get(name), str):  # a date field mapped without date_format
                values[name] = parse_date(values[name], "iso", tz)
        values.setdefault("source_updated_at", values["received_at"])
        for name in ("title", "text", "complainant_name", "complainant_phone", "business_name", "business_code",
                     "business_address", "event_address", "area_code", "source_status"):
            if name in values and not isinstance(values[name], str):
                values[name] = str(values[name])
        return IncomingTicket(**values, payload=record)
