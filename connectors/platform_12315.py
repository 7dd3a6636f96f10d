"""The 12315 platform's data exchange: pull cases by modification time, write results back as case events.

Write-back, effect by effect (the outbox key is the event's idempotencyKey):
- accepted → ACCEPTED (受理);
- resolved → CLOSED (办结) with the result as the note;
- returned → REJECTED (不予受理) with the reason as the note: "not ours" is a refusal to take the case on.
  The platform allows that only before acceptance; if the case was accepted already (409 from ACCEPTED or
  MEDIATING), the return becomes TRANSFERRED with the same reason, the platform's way to hand an accepted
  case on.
A 409 that shows the case already where the effect would put it counts as done; any other 409 is a refusal.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator, Optional
from urllib.parse import quote

import structlog
from pydantic import Field

from connectors.base import (
    Batch,
    Connector,
    ConnectorConfig,
    CursorExpired,
    SourceUnavailable,
    WriteBackRejected,
    WriteBackRequest,
    WriteBackResult,
)
from connectors.change_cursor import ChangeCursor, cursor_lag
from connectors.http import BearerToken, RetryingHttp, json_body
from connectors.paging import OpaqueCursors
from tickets.schema import IncomingTicket
from tickets.vocabulary import CHINA_TZ as CST

log = structlog.get_logger("connectors.12315")

KINDS = {"COMPLAINT": "complaint", "REPORT": "report", "CONSULT": "consultation"}
WITHDRAWN = "WITHDRAWN"
USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
REGION = re.compile(r"^\d{6,12}$")

EVENTS = {"accepted": "ACCEPTED", "resolved": "CLOSED", "returned": "REJECTED"}
# Case statuses that already show an effect, so a 409 from them means the effect is in place.
IN_PLACE = {"accepted": {"ACCEPTED", "MEDIATING"}, "resolved": {"CLOSED"}, "returned": {"REJECTED"}}


class Settings(ConnectorConfig):
    base_url: str
    client_id: str
    client_secret: str = Field(repr=False)
    page_size: int = Field(100, ge=1, le=500)
    overlap_seconds: int = Field(120, ge=0, description="re-read this much before the cursor on every poll; "
                                 "more than the platform's clocks disagree")
    start_from: Optional[datetime] = None
    timeout_seconds: float = 10.0
    max_attempts: int = Field(5, ge=1)
    max_restarts: int = Field(3, ge=0, description="restarts of one pull after expired cursors (410)")


def parse_time(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field} is missing")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{field} is not a date: {value[:40]!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=CST)


def _obj(item: dict, field: str) -> dict:
    value = item.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{field} is not an object")
    return value


def normalise(item: Any) -> IncomingTicket:
    """One case in the ticket schema; ValueError with the reason if the case breaks the contract."""
    if not isinstance(item, dict):
        raise ValueError("not an object")
    ref = item.get("caseId")
    if isinstance(ref, int) and not isinstance(ref, bool):
        ref = str(ref)
    if not isinstance(ref, str) or not ref.strip():
        raise ValueError("caseId is missing")
    kind = item.get("kind")
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    received = parse_time(item.get("receivedAt"), "receivedAt")
    modified = parse_time(item.get("modifiedAt"), "modifiedAt")
    due = parse_time(item["dueAt"], "dueAt") if item.get("dueAt") else None
    consumer, business = _obj(item, "consumer"), _obj(item, "business")
    goods, problem = _obj(item, "goodsCategory"), _obj(item, "problemCategory")
    amount = None
    if item.get("amount") not in (None, ""):
        try:
            amount = Decimal(str(item["amount"]))
        except InvalidOperation:
            raise ValueError(f"amount {str(item['amount'])[:20]!r} is not a decimal") from None
        if not amount.is_finite():
            raise ValueError(f"amount {str(item['amount'])[:20]!r} is not a decimal")
    uscc = business.get("uscc")
    region = business.get("regionCode")
    description = item.get("description") or ""
    demand = item.get("demand") or ""
    title = "·".join(str(c["name"]) for c in (goods, problem) if c.get("name")) or description[:30]
    status = item.get("status")
    return IncomingTicket(
        source_ref=ref.strip(),
        source_updated_at=modified,
        received_at=received,
        kind=KINDS[kind],
        title=title[:200],
        text=description + (f"\n诉求：{demand}" if demand else ""),
        complainant_name=consumer.get("name") or None,
        complainant_phone=consumer.get("mobile") or None,
        business_name=business.get("name") or None,
        # A malformed credit code is left off the ticket (the payload keeps it) rather than losing the case.
        business_code=uscc if isinstance(uscc, str) and USCC.match(uscc) else None,
        business_address=business.get("address") or None,
        area_code=str(region) if region and REGION.match(str(region)) else None,
        amount=amount,
        source_status=status,
        source_deadline=due,
        withdrawn=status == WITHDRAWN,
        payload=item,
    )


class Platform12315Connector(Connector):
    kind = "12315"
    Config = Settings
    effect_statuses = {
        "accepted": frozenset({"ACCEPTED", "MEDIATING", "CLOSED"}),
        "resolved": frozenset({"CLOSED"}),
        "returned": frozenset({"REJECTED", "CLOSED"}),
    }

    def __init__(self, name: str, config: Settings):
        super().__init__(name, config)
        self.http = RetryingHttp(config.base_url, timeout=config.timeout_seconds, max_attempts=config.max_attempts)
        self.auth = BearerToken(self.http, self._fetch_token)

    # --- authentication: OAuth 2.0 client credentials ---------------------------------------

    def _fetch_token(self, attempts: Optional[int]) -> tuple[str, float]:
        cfg = self.config
        resp = self.http.request("POST", "/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": cfg.client_id, "client_secret": cfg.client_secret,
        }, attempts=attempts)
        body = json_body(resp)
        if resp.status_code != 200 or not body.get("access_token"):
            raise SourceUnavailable(f"12315 refused the credentials of client_id {cfg.client_id!r}: "
                                    f"HTTP {resp.status_code} {body.get('error', '')}".rstrip())
        return body["access_token"], float(body.get("expires_in", 3600))

    def _call(self, method: str, path: str, attempts: Optional[int] = None, **kw):
        # a 401 (invalid_token: expired early or revoked) renews the token once
        return self.auth.call(method, path, attempts=attempts, **kw)

    # --- pull ------------------------------------------------------------------------------

    def pull(self, cursor: Optional[str]) -> Iterator[Batch]:
        """Follow nextCursor from the stored modifiedSince less the overlap; on 410 start again from where the
        pages read so far surely end (less the overlap), so an expired cursor skips nothing, even after a page out
        of order. A pull stopped inside a query (more pages than one poll takes, or a crash) resumes it at its
        next page while the platform's cursor lives, rather than re-reading the whole overlap."""
        cfg = self.config
        read = ChangeCursor(cursor)
        paginator = OpaqueCursors((read.newest or self._start) - timedelta(seconds=cfg.overlap_seconds),
                                  lambda body: body.get("nextCursor"), max_restarts=cfg.max_restarts)
        paginator.take_up(read.state)
        yield from self.request_records(read, paginator)

    @property
    def _start(self) -> datetime:
        return self.config.start_from or datetime(2000, 1, 1, tzinfo=CST)

    def restart_since(self, read: ChangeCursor) -> Optional[datetime]:
        return (read.read_to or self._start) - timedelta(seconds=self.config.overlap_seconds)

    def request_page(self, paginator: OpaqueCursors) -> tuple[list, Any]:
        params: dict[str, Any] = {"modifiedSince": paginator.since.astimezone(CST).isoformat(timespec="seconds"),
                                  "limit": self.config.page_size}
        if paginator.token:
            params["cursor"] = paginator.token
        resp = self._call("GET", "/openapi/v1/cases", params=params)
        body = json_body(resp)
        # An expired cursor (410), or one the platform no longer knows (400 invalid_cursor: a cursor kept
        # from a pull that died after using it): start again from what was read.
        if paginator.token and (resp.status_code == 410 or
                                (resp.status_code == 400 and body.get("error") == "invalid_cursor")):
            raise CursorExpired(resp.status_code)
        items = body.get("data")
        if resp.status_code != 200 or not isinstance(items, list):
            raise SourceUnavailable(f"12315 case list answered HTTP {resp.status_code} {body.get('error', '')}"
                                    .rstrip())
        return items, body

    def record(self, item: Any) -> IncomingTicket:
        return normalise(item)

    def record_ref(self, item: Any) -> Optional[str]:
        return _case_ref(item)

    def scan_since(self, since: datetime) -> Iterator[Batch]:
        yield from self.pull(json.dumps({"since": (since + timedelta(seconds=self.config.overlap_seconds))
                                         .isoformat()}))

    def lag(self, cursor: Optional[str], now: datetime) -> Optional[float]:
        return cursor_lag(cursor, now)

    # --- write-back ------------------------------------------------------------------------

    @classmethod
    def writeback_requests(cls, config: Settings) -> int:
        # A token fetch (when none is held) and the event, each tried twice. Not counted: a return the platform
        # refuses as a transition is sent once more as a transfer, up to two more tries.
        return 4

    def write_back(self, request: WriteBackRequest) -> WriteBackResult:
        if request.effect not in EVENTS:
            raise WriteBackRejected(f"12315 has no case event for effect {request.effect!r}")
        body = request.body
        note = {"accepted": f"{body.get('unit_name', '')}已受理" if body.get("unit_name") else "",
                "resolved": body.get("result", ""), "returned": body.get("reason", "")}[request.effect]
        event = EVENTS[request.effect]
        try:
            return self._post_event(request, event, request.key, note)
        except _Conflict as conflict:
            if conflict.current in IN_PLACE[request.effect]:
                return WriteBackResult("already_done", f"{event}: case is {conflict.current} already")
            if request.effect == "returned" and conflict.current in ("ACCEPTED", "MEDIATING"):
                try:
                    return self._post_event(request, "TRANSFERRED", request.key + "-t", note)
                except _Conflict as again:
                    conflict = again
            raise WriteBackRejected(f"12315 refused {conflict.event}: invalid_transition from {conflict.current}")

    def _post_event(self, request: WriteBackRequest, event: str, key: str, note: str) -> WriteBackResult:
        payload: dict[str, Any] = {"idempotencyKey": key, "type": event,
                                   "occurredAt": request.body.get("at") or datetime.now(CST).isoformat(timespec="seconds")}
        if note:
            payload["note"] = note
        resp = self._call("POST", f"/openapi/v1/cases/{quote(request.source_ref, safe='')}/events", json=payload,
                          attempts=2, defer_retry_after=True)
        answer = json_body(resp)
        if resp.status_code == 201:
            return WriteBackResult("done", event)
        if resp.status_code == 200:
            return WriteBackResult("already_done", f"{event}: the platform has this idempotencyKey")
        if resp.status_code == 409:
            raise _Conflict(event, str(answer.get("from")))
        if resp.status_code in (400, 404, 422):
            raise WriteBackRejected(f"12315 refused {event}: HTTP {resp.status_code} {answer.get('error', '')} "
                                    f"{answer.get('detail', '')}".rstrip())
        raise SourceUnavailable(f"12315 {event} answered HTTP {resp.status_code} {answer.get('error', '')}".rstrip())


class _Conflict(Exception):
    def __init__(self, event: str, current: str):
        super().__init__(f"{event} from {current}")
        self.event, self.current = event, current


def _case_ref(item: Any) -> Optional[str]:
    ref = item.get("caseId") if isinstance(item, dict) else None
    return ref if isinstance(ref, str) else None
