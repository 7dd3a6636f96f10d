"""Open311 GeoReport v2: any Open311 client app files a ticket with onequeue and reads its status.

onequeue is the server here: web/open311_routes.py serves the endpoints; this kind holds the service list,
the API keys, how a request becomes a ticket, and how a ticket reads as a service request.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors.base import Connector, ConnectorConfig, WriteBackRequest, WriteBackResult
from settings.masking import mask_text
from tickets.dates import DEADLINE_AHEAD, plausible_window
from tickets.schema import IncomingTicket
from tickets.vocabulary import CHINA_TZ as CST, Kind

CLOSED = frozenset({"resolved", "closed", "rejected", "withdrawn", "returned"})
# What a client may store with a request: each field at most this long (the description is refused beyond its
# limit; the rest is cut), other fields at most OTHER_LIMIT, at most MAX_FIELDS fields.
LIMITS = {"description": 4000, "first_name": 32, "last_name": 32, "phone": 32, "email": 254, "address_string": 300,
          "address_id": 64, "device_id": 64, "account_id": 64, "zipcode": 16, "media_url": 1000}
OTHER_LIMIT, MAX_FIELDS, MAX_KEY = 200, 40, 64
# Characters no text of ours holds: control characters (NUL included) and the noncharacters XML refuses.
UNWANTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_form(form: dict[str, str]) -> dict[str, str]:
    """The form's fields without control characters, each cut to its limit, at most MAX_FIELDS of them."""
    cleaned: dict[str, str] = {}
    for key, value in form.items():
        key = UNWANTED.sub("", key)[:MAX_KEY]
        if len(cleaned) >= MAX_FIELDS or not key:
            continue
        value = UNWANTED.sub("", value).strip()
        cleaned[key] = value if key == "description" else value[: LIMITS.get(key, OTHER_LIMIT)]
    return cleaned


class Service(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_code: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    service_name: str
    description: str = ""
    group: str = ""
    keywords: list[str] = Field(default_factory=list)
    kind: Kind = "complaint"


class Settings(ConnectorConfig):
    jurisdiction_id: Optional[str] = Field(None, description="clients that name a jurisdiction must name this one")
    api_keys: list[str] = Field(default_factory=list, repr=False,
                                description="keys a client must give to POST a request; empty: no key needed")
    services: list[Service] = Field(min_length=1)
    service_notice: str = "已收到您的投诉，市场监管部门将在7个工作日内处理并回复。"
    max_results: int = Field(1000, ge=1, le=10000)

    @field_validator("services")
    @classmethod
    def _unique(cls, services: list[Service]) -> list[Service]:
        codes = [s.service_code for s in services]
        doubled = sorted({c for c in codes if codes.count(c) > 1})
        if doubled:
            raise ValueError(f"service_code used twice: {', '.join(doubled)}")
        return services


class Open311Error(Exception):
    """An Open311 error answer: HTTP status and the description the client shows."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def _float(form: dict, name: str, low: float, high: float) -> Optional[float]:
    value = (form.get(name) or "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise Open311Error(400, f"{name} {value!r} is not a number") from None
    if not low <= number <= high:
        raise Open311Error(400, f"{name} {value} is out of range")
    return number


class Open311Connector(Connector):
    kind = "open311"
    Config = Settings

    @classmethod
    def answers_complainant(cls, payload) -> bool:
        return False  # an app may read the status, but nobody tells the person who filed it

    def service(self, code: str) -> Optional[Service]:
        return next((s for s in self.config.services if s.service_code == code), None)

    def check_key(self, api_key: Optional[str]) -> None:
        keys = self.config.api_keys
        if keys and not any(secrets.compare_digest(api_key or "", k) for k in keys):
            raise Open311Error(403, "api_key is missing or not valid")

    def accept(self, form: dict[str, str], now: Optional[datetime] = None) -> IncomingTicket:
        """A POSTed service request as a ticket, or Open311Error (400 for what the request lacks)."""
        self.check_key(form.get("api_key"))
        form = clean_form(form)
        code = (form.get("service_code") or "").strip()
        if not code:
            raise Open311Error(400, "service_code is required")
        service = self.service(code)
        if service is None:
            raise Open311Error(400, f"service_code {code!r} is not one of "
                                    f"{', '.join(s.service_code for s in self.config.services)}")
        lat, lon = _float(form, "lat", -90, 90), _float(form, "long", -180, 180)
        address = (form.get("address_string") or "").strip()
        if (lat is None) != (lon is None):
            raise Open311Error(400, "lat and long go together")
        if lat is None and not address and not form.get("address_id"):
            raise Open311Error(400, "a location is required: lat and long, address_string or address_id")
        description = (form.get("description") or "").strip()
        if len(description) > LIMITS["description"]:
            raise Open311Error(400, f"description is longer than {LIMITS['description']} characters")
        at = (now or datetime.now(CST)).replace(microsecond=0)
        name = ((form.get("last_name") or "").strip() + (form.get("first_name") or "").strip()) or None
        phone = (form.get("phone") or "").strip() or None
        payload = {k: v for k, v in form.items() if k != "api_key" and v not in (None, "")}
        payload |= {"service_name": service.service_name}
        if lat is not None:
            payload |= {"lat": lat, "long": lon}
        title = f"{service.service_name}：{description[:24]}" if description else service.service_name
        try:
            return IncomingTicket(
                source_ref=f"o311-{at:%y%m%d}-{secrets.token_hex(6)}", source_updated_at=at, received_at=at,
                kind=service.kind, title=title[:200], text=description or service.service_name,
                complainant_name=name, complainant_phone=phone[:32] if phone else None,
                event_address=address[:300] or None, source_status="open", payload=payload,
            )
        except ValidationError as exc:  # a value the ticket cannot hold as given (tickets.column_fit)
            fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
            raise Open311Error(400, f"the request cannot be stored as given: {fields}") from None

    def write_back(self, request: WriteBackRequest) -> WriteBackResult:
        return WriteBackResult("done", "Open311 clients read the status with GET requests")


def service_json(service: Service) -> dict[str, Any]:
    return {"service_code": service.service_code, "service_name": service.service_name,
            "description": service.description, "metadata": False, "type": "realtime",
            "keywords": ",".join(service.keywords), "group": service.group}


def w3c(value: Optional[datetime]) -> Optional[str]:
    return value.astimezone(CST).isoformat(timespec="seconds") if value else None


def parse_w3c(value: str, name: str) -> datetime:
    """A client's date-time, with China's offset if it gives none; a date outside the plausible window (a search
    reaches at most DEADLINE_AHEAD ahead) is a 400 naming the field, before any arithmetic can overflow on it."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} {value!r} is not a W3C date-time (2026-11-22T09:00:00+08:00)") from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=CST)
    try:
        problem = plausible_window().problem(parsed, ahead=DEADLINE_AHEAD)
    except OverflowError:  # an offset that carries year 1 or 9999 past the calendar's ends
        problem = f"{value.strip()} is outside the calendar (config dates)"
    if problem:
        raise Open311Error(400, f"{name}: {problem}")
    return parsed


def request_json(ticket, agency: str, notes: str) -> dict[str, Any]:
    """A ticket as an Open311 service request, for anyone to read: the citizen's text and our notes with
    phones, identity numbers and names masked."""
    payload = ticket.payload or {}
    closed = ticket.status in CLOSED or (ticket.status == "duplicate" and bool(ticket.result_text))
    return {
        "service_request_id": ticket.number,
        "status": "closed" if closed else "open",
        "status_notes": mask_text(notes),
        "service_name": payload.get("service_name"),
        "service_code": payload.get("service_code"),
        "description": mask_text(ticket.text),
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": w3c(ticket.received_at),
        "updated_datetime": w3c(ticket.updated_at),
        "expected_datetime": w3c(ticket.due_at or ticket.source_deadline),
        "address": ticket.event_address,
        "address_id": payload.get("address_id"),
        "zipcode": payload.get("zipcode"),
        "lat": _number(payload.get("lat")),
        "long": _number(payload.get("long")),
        "media_url": payload.get("media_url"),
    }


def _number(value: Any) -> Optional[float]:
    try:
        return float(Decimal(str(value))) if value is not None else None
    except InvalidOperation:
        return None
