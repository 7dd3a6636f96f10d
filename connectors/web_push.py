"""Web intake: partners (a mini-program backend, a partner platform) POST tickets to onequeue, signed with
a shared secret; results go back, signed the same way, to the callback URL a ticket names."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors.base import (
    Connector,
    ConnectorConfig,
    SourceUnavailable,
    WriteBackRejected,
    WriteBackRequest,
    WriteBackResult,
)
from connectors.callback_url import CallbackPolicy, CallbackRefused, Origin
from connectors.http import RetryingHttp, retry_after_seconds
from connectors.json_body import NotJson, load_json
from tickets.dates import plausible_window
from tickets.schema import IncomingTicket
from tickets.vocabulary import CHINA_TZ as CST, KIND_OF_LABEL, Kind, Priority

SIGNATURE_HEADER = "X-Signature"
KIND_WORDS = KIND_OF_LABEL


class Settings(ConnectorConfig):
    partner: str = Field(description="who pushes on this channel, e.g. 顺德市监微信小程序")
    secret: str = Field(min_length=16, repr=False, description="the shared HMAC secret; give it by ${ENV}")
    callback_prefixes: list[str] = Field(
        default_factory=list, description="a callback URL must have the scheme, host and port of one of these and a "
                                          "path under its path; empty: any http(s) URL on a public address")
    callback_private_networks: list[str] = Field(
        default_factory=list, description="internal networks (e.g. 10.8.0.0/16) a callback may reach when no "
                                          "prefix is agreed; loopback, private and link-local are refused otherwise")
    max_body_bytes: int = Field(256 * 1024, ge=1024)
    timeout_seconds: float = Field(10, gt=0)
    max_attempts: int = Field(3, ge=1, description="tries per delivery of a result before the outbox retries later")


    @field_validator("callback_prefixes")
    @classmethod
    def _prefixes_parse(cls, value: list[str]) -> list[str]:
        for prefix in value:
            try:
                Origin.parse(prefix)
            except CallbackRefused as exc:
                raise ValueError(f"{prefix!r}: {exc}") from None
        return value

    @field_validator("callback_private_networks")
    @classmethod
    def _networks_parse(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)   # a ValueError names what is wrong
        return value


def sign(body: bytes, secret: str) -> str:
    """The X-Signature value for `body`: sha256=<hex HMAC-SHA256 with the shared secret>."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_ok(body: bytes, header: Optional[str], secret: str) -> bool:
    return bool(header) and hmac.compare_digest(header.strip().lower(), sign(body, secret))


class PushedTicket(BaseModel):
    """The body a partner POSTs. Unknown fields are refused, so a misspelt field is an error, not lost."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reference: str = Field(min_length=1, max_length=100, description="the partner's own number for the ticket")
    kind: Kind = "complaint"
    title: str = Field("", max_length=200)
    text: str = Field(min_length=1, max_length=20000)
    complainant_name: Optional[str] = Field(None, max_length=100)
    complainant_phone: Optional[str] = Field(None, pattern=r"^\+?[0-9][0-9-]{5,19}$")
    business_name: Optional[str] = Field(None, max_length=200)
    business_code: Optional[str] = Field(None, pattern=r"^[0-9A-Z]{15,18}$")
    business_address: Optional[str] = Field(None, max_length=300)
    event_address: Optional[str] = Field(None, max_length=300)
    area_code: Optional[str] = Field(None, pattern=r"^\d{6}(\d{3}(\d{3})?)?$")
    amount: Optional[Decimal] = Field(None, ge=0, max_digits=14, decimal_places=2)
    priority: Priority = "normal"
    submitted_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    callback_url: Optional[str] = Field(None, max_length=500, pattern=r"^https?://[^\s]+$")
    extra: dict[str, Any] = Field(default_factory=dict, description="anything else the partner wants kept")

    @field_validator("kind", mode="before")
    @classmethod
    def _chinese_kind(cls, value: Any) -> Any:
        return KIND_WORDS.get(value, value) if isinstance(value, str) else value

    @field_validator("submitted_at", "updated_at")
    @classmethod
    def _with_offset(cls, value: Optional[datetime]) -> Optional[datetime]:
        value = value.replace(tzinfo=CST) if value is not None and value.tzinfo is None else value
        problem = value and plausible_window().problem(value)
        if problem:
            raise ValueError(f"implausible date: {problem}")
        return value


class PushRejected(Exception):
    """A push that is not taken: `status` is the HTTP answer, `errors` say which field and why."""

    def __init__(self, status: int, message: str, errors: Optional[list[dict]] = None):
        super().__init__(message)
        self.status = status
        self.errors = errors or []


# The ticket schema's names of the pushed fields, for an error the partner can act on.
_PUSHED_NAME = {"source_ref": "reference", "received_at": "submitted_at", "source_updated_at": "updated_at",
                "payload": "(body)"}


def field_errors(exc: ValidationError) -> list[dict]:
    return [{"field": ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"]} for e in exc.errors()]


class WebPushConnector(Connector):
    kind = "web_push"
    Config = Settings

    @classmethod
    def answers_complainant(cls, payload) -> bool:
        return bool(payload.get("callback_url"))  # a partner that takes the results tells its user itself

    def __init__(self, name: str, config: Settings):
        super().__init__(name, config)
        self.http = RetryingHttp("", timeout=config.timeout_seconds, max_attempts=config.max_attempts)
        self.callbacks = CallbackPolicy(config.callback_prefixes, config.callback_private_networks)

    # --- accept: a partner's POST ---------------------------------------------------------------

    def accept(self, body: bytes, signature: Optional[str], now: Optional[datetime] = None) -> IncomingTicket:
        """A pushed body as a ticket, or PushRejected (401 bad signature, 413 too large, 422 invalid)."""
        cfg = self.config
        if len(body) > cfg.max_body_bytes:
            raise PushRejected(413, f"the body is larger than {cfg.max_body_bytes} bytes")
        if not signature_ok(body, signature, cfg.secret):
            raise PushRejected(401, f"{SIGNATURE_HEADER} must be sha256=<hex HMAC-SHA256 of the raw body with "
                                    f"the secret shared with {cfg.partner}>")
        try:
            data = load_json(body)
        except NotJson as exc:
            raise PushRejected(422, str(exc), [{"field": "(body)", "message": str(exc)}]) from None
        try:
            pushed = PushedTicket.model_validate(data)
        except ValidationError as exc:
            raise PushRejected(422, "the ticket is not valid", field_errors(exc)) from None
        if pushed.callback_url:
            try:
                self.callbacks.check(pushed.callback_url)
            except CallbackRefused as exc:
                raise PushRejected(422, "the callback URL is not one agreed with onequeue",
                                   [{"field": "callback_url", "message": str(exc)}]) from None
        received = (now or datetime.now(CST)).replace(microsecond=0)
        try:
            return self._ticket(pushed, data, received)
        except ValidationError as exc:  # a value the database cannot store as given (tickets.column_fit)
            raise PushRejected(422, "the ticket cannot be stored as given", [
                e | {"field": _PUSHED_NAME.get(e["field"], e["field"])} for e in field_errors(exc)]) from None

    def _ticket(self, pushed: PushedTicket, data: dict, received: datetime) -> IncomingTicket:
        submitted = pushed.submitted_at or received
        return IncomingTicket(
            source_ref=pushed.reference, source_updated_at=pushed.updated_at or submitted, received_at=submitted,
            kind=pushed.kind, title=pushed.title or pushed.text[:30], text=pushed.text,
            complainant_name=pushed.complainant_name, complainant_phone=pushed.complainant_phone,
            business_name=pushed.business_name, business_code=pushed.business_code,
            business_address=pushed.business_address, event_address=pushed.event_address,
            area_code=pushed.area_code, amount=pushed.amount, priority=pushed.priority,
            payload=data | {"partner": self.config.partner},
        )

    # --- write-back: POST the result to the callback URL ----------------------------------------

    @classmethod
    def writeback_requests(cls, config: Settings) -> int:
        return config.max_attempts   # the callback, tried up to max_attempts times

    def write_back(self, request: WriteBackRequest) -> WriteBackResult:
        url = request.source_payload.get("callback_url")
        if not url:
            return WriteBackResult("done", "the partner gave no callback URL")
        try:
            self.callbacks.check(url, resolve=True)   # the rules or the name's addresses may have changed
        except CallbackRefused as exc:
            raise WriteBackRejected(f"the callback URL is not one results may go to: {exc}") from None
        b = request.body
        event = {"reference": request.source_ref, "event": request.effect, "idempotency_key": request.key,
                 "at": b.get("at") or datetime.now(CST).isoformat(timespec="seconds")}
        for name in ("result", "reason", "unit_name", "handler"):
            if b.get(name):
                event[name] = b[name]
        raw = json.dumps(event, ensure_ascii=False, sort_keys=True).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", SIGNATURE_HEADER: sign(raw, self.config.secret),
                   "Idempotency-Key": request.key}
        resp = self.http.request("POST", url, data=raw, headers=headers, defer_retry_after=True,
                                 allow_redirects=False, stream=True)
        resp.close()   # the reply's body is never read nor kept: only its status counts
        if 200 <= resp.status_code < 300:
            return WriteBackResult("done", f"callback {resp.status_code}")
        if resp.status_code == 409:
            return WriteBackResult("already_done", "callback 409: the partner has it")
        if resp.status_code in (400, 401, 403, 404, 410, 422):
            raise WriteBackRejected(f"{self.config.partner} refused the callback: HTTP {resp.status_code}")
        if 300 <= resp.status_code < 400:
            raise WriteBackRejected(f"the callback answered a redirect (HTTP {resp.status_code}); redirects are "
                                    "not followed: agree the final address with the partner")
        raise SourceUnavailable(f"callback answered HTTP {resp.status_code}", retry_after_seconds(resp))
