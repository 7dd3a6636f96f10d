"""A channel defined entirely in YAML: any JSON API that lists records, with its URL, auth, paging style,
where the records are and how their fields become a ticket's. No Python per source.

    kind: rest
    settings:
      base_url: https://partner.example
      auth: {type: oauth_client_credentials, token_url: /oauth/token, client_id: .., client_secret: ..}
      records: {path: /api/v2/complaints, list: data.list, ok: {path: success, equals: true}}
      paging: {style: cursor, size: 50, size_param: pageSize, cursor_param: pageToken,
               next_cursor: data.nextPageToken, since_param: modifiedAfter, since_format: "%Y-%m-%d %H:%M:%S"}
      mapping: {source_ref: complaintNo, received_at: {from: createdTime, date_format: "%Y/%m/%d %H:%M"}, ...}
      write_back: {path: "/api/v2/complaints/{source_ref}/feedback", body: {state: {by_effect: {...}}}}
"""
from __future__ import annotations

import json
import string
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.base import (
    Batch,
    Connector,
    ConnectorConfig,
    SourceUnavailable,
    WriteBackRejected,
    WriteBackRequest,
    WriteBackResult,
)
from connectors.change_cursor import ChangeCursor, cursor_lag
from connectors.field_mapping import FieldMapping, Spec, dig, format_date, parse_offset
from connectors.http import RetryingHttp, retry_after_seconds
from connectors.paging import ChangeTimes, OpaqueCursors, PageNumbers, Paginator
from connectors.rest_auth import AuthConfig, Authenticator, NoAuth, OAuthClientCredentials
from tickets.schema import IncomingTicket

EFFECTS = ("accepted", "resolved", "returned")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Check(_Strict):
    """The answer is good only if the value at `path` equals `equals` (e.g. success: true, code: 0)."""

    path: str
    equals: Any


class Records(_Strict):
    path: str = Field(description="the list endpoint, e.g. /api/v2/complaints")
    params: dict[str, Any] = Field(default_factory=dict, description="fixed query parameters")
    list: str = Field("", description="dotted path of the record list in the answer; empty: the answer is the list")
    ok: Optional[Check] = None


class Paging(_Strict):
    style: Literal["page", "cursor", "timestamp"]
    size: int = Field(50, ge=1, le=1000)
    size_param: Optional[str] = "page_size"
    page_param: str = "page"
    first_page: int = Field(1, ge=0)
    cursor_param: str = "cursor"
    next_cursor: Optional[str] = Field(None, description="dotted path of the next page's cursor in the answer")
    since_param: Optional[str] = Field(None, description="asks only for records changed since the cursor")
    since_format: str = Field("iso", description="iso, epoch, epoch_ms or a strftime pattern")
    overlap_seconds: float = Field(0, ge=0, description="every poll re-reads this much before its cursor")
    step_back_seconds: float = Field(0, ge=0, description="timestamp style: for a source whose filter is "
                                     "strictly 'after', step back this much so records sharing a time are not lost")
    start_from: Optional[datetime] = None

    @model_validator(mode="after")
    def _complete(self) -> "Paging":
        if self.style == "cursor" and not self.next_cursor:
            raise ValueError("cursor paging needs next_cursor: where the answer gives the next page's cursor")
        if self.style == "timestamp" and not self.since_param:
            raise ValueError("timestamp paging needs since_param: the query parameter that takes the time")
        return self


class ByEffect(_Strict):
    by_effect: dict[Literal["accepted", "resolved", "returned"], Any]


class AlreadyDone(_Strict):
    """An answer that means "the source has this already": a status, optionally with a value at a path."""

    status: list[int] = Field(default_factory=lambda: [409])
    path: Optional[str] = None
    values: list[Any] = Field(default_factory=list)


class WriteBack(_Strict):
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    path: str = Field(description="a template: {source_ref} and the effect's fields")
    # Each body field is a template ("{result}{reason}") or {by_effect: {accepted: .., resolved: ..}}.
    # Fields: source_ref, effect, key, result, reason, unit_name, handler, at.
    body: dict[str, Union[ByEffect, str, int, float, bool, None]] = Field(default_factory=dict)
    skip_effects: list[Literal["accepted", "resolved", "returned"]] = Field(default_factory=list)
    idempotency_header: Optional[str] = "Idempotency-Key"
    already_done: Optional[AlreadyDone] = None
    ok: Optional[Check] = None


class Settings(ConnectorConfig):
    base_url: str
    timezone: str = Field("+08:00", description="the offset of source times given without one")
    auth: AuthConfig = Field(default_factory=NoAuth)
    records: Records
    paging: Paging
    mapping: dict[str, Spec]
    write_back: Optional[WriteBack] = None
    timeout_seconds: float = Field(10, gt=0)
    max_attempts: int = Field(5, ge=1)

    @field_validator("timezone")
    @classmethod
    def _offset(cls, value: str) -> str:
        parse_offset(value)
        return value

    @field_validator("mapping")
    @classmethod
    def _mapping(cls, value: dict) -> dict:
        return FieldMapping(fields=value).fields


class _Blank(dict):
    def __missing__(self, key):
        return ""


def fill(template: str, values: dict) -> str:
    return string.Formatter().vformat(template, (), _Blank(values))


class RestChannelConnector(Connector):
    kind = "rest"
    Config = Settings

    def __init__(self, name: str, config: Settings):
        super().__init__(name, config)
        self.http = RetryingHttp(config.base_url, timeout=config.timeout_seconds, max_attempts=config.max_attempts)
        self.auth = Authenticator(config.auth, self.http)
        self.mapping = FieldMapping(fields=config.mapping)
        self.tz = parse_offset(config.timezone)

    # --- calling the source ---------------------------------------------------------------------

    def _call(self, method: str, path: str, params: Optional[dict] = None, body: Optional[bytes] = None,
              headers: Optional[dict] = None, attempts: Optional[int] = None, defer_retry_after: bool = False):
        params = {k: v for k, v in (params or {}).items() if v is not None}
        for renewal in (False, True):
            extra = dict(headers or {})
            extra |= self.auth.headers(method, path, params, body or b"", attempts=attempts)
            if body is not None:
                extra.setdefault("Content-Type", "application/json; charset=utf-8")
            resp = self.http.request(method, path, params=params, data=body, headers=extra, attempts=attempts,
                                     defer_retry_after=defer_retry_after)
            if resp.status_code == 401 and self.auth.renewable and not renewal:
                self.auth.renew()
                continue
            return resp
        return resp

    def _answer(self, resp, what: str, check: Optional[Check]) -> Any:
        if resp.status_code == 401:
            raise SourceUnavailable(f"{what}: the source refused our credentials (HTTP 401)")
        if resp.status_code >= 400:
            raise SourceUnavailable(f"{what}: HTTP {resp.status_code} {resp.text[:200]}", retry_after_seconds(resp))
        try:
            body = resp.json()
        except ValueError:
            raise SourceUnavailable(f"{what}: the answer is not JSON ({resp.headers.get('Content-Type', '?')})") \
                from None
        if check is not None and dig(body, check.path) != check.equals:
            raise SourceUnavailable(f"{what}: {check.path} is {dig(body, check.path)!r}, not {check.equals!r}")
        return body

    # --- pull -------------------------------------------------------------------------------------

    def pull(self, cursor: Optional[str]) -> Iterator[Batch]:
        paging = self.config.paging
        read = ChangeCursor(cursor)
        since = read.newest or paging.start_from
        since = since - timedelta(seconds=paging.overlap_seconds) if since else None
        if paging.style == "page":
            paginator: Paginator = PageNumbers(since, paging.size, paging.first_page)
        elif paging.style == "cursor":
            paginator = OpaqueCursors(since, lambda body: dig(body, paging.next_cursor))
        else:
            paginator = ChangeTimes(since, paging.size, timedelta(seconds=paging.step_back_seconds))
        yield from self.request_records(read, paginator)

    def request_page(self, paginator: Paginator) -> tuple[list, Any]:
        records, paging = self.config.records, self.config.paging
        params = dict(records.params)
        if paging.size_param:
            params[paging.size_param] = paging.size
        if paging.since_param and paginator.since is not None:
            params[paging.since_param] = format_date(paginator.since, paging.since_format, self.tz)
        if paging.style == "page":
            params[paging.page_param] = paginator.page
        elif paging.style == "cursor" and paginator.token:
            params[paging.cursor_param] = paginator.token
        body = self._answer(self._call("GET", records.path, params), f"GET {records.path}", records.ok)
        items = dig(body, records.list) if records.list else body
        if not isinstance(items, list):
            raise SourceUnavailable(f"GET {records.path}: no list at {records.list or 'the top'} "
                                    "of the answer (records.list)")
        return items, body

    def record(self, item: Any) -> IncomingTicket:
        return self.mapping.ticket(item, self.tz)

    def record_ref(self, item: Any) -> Optional[str]:
        return _ref(self.mapping, item)

    def stored_cursor(self, read: ChangeCursor, paginator: Paginator) -> Optional[str]:
        # A pull that stops before its last page stores only how far it surely read: the next poll
        # starts there, past no record a page out of order put behind a later one.
        return read.dump(finished=paginator.finished) if self.config.paging.since_param else None

    def lag(self, cursor: Optional[str], now: datetime) -> Optional[float]:
        return cursor_lag(cursor, now)

    # --- write-back -----------------------------------------------------------------------------

    @classmethod
    def writeback_requests(cls, config: Settings) -> int:
        if config.write_back is None:
            return 0
        # The write tried twice, after a token fetch tried twice when OAuth has none.
        return 4 if isinstance(config.auth, OAuthClientCredentials) else 2

    def write_back(self, request: WriteBackRequest) -> WriteBackResult:
        wb = self.config.write_back
        if wb is None or request.effect in wb.skip_effects:
            return WriteBackResult("done", f"this channel takes no {request.effect} write-back")
        values = {"source_ref": request.source_ref, "effect": request.effect, "key": request.key} | {
            k: v for k, v in request.body.items() if isinstance(v, (str, int, float))}
        body = {}
        for name, spec in wb.body.items():
            if isinstance(spec, ByEffect):
                if request.effect in spec.by_effect:
                    body[name] = spec.by_effect[request.effect]
            elif isinstance(spec, str):
                body[name] = fill(spec, values)
            else:
                body[name] = spec
        path = fill(wb.path, values)
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {wb.idempotency_header: request.key} if wb.idempotency_header else {}
        resp = self._call(wb.method, path, body=raw, headers=headers, attempts=2, defer_retry_after=True)
        try:
            answer = resp.json()
        except ValueError:
            answer = None
        done = wb.already_done
        if done and resp.status_code in done.status and (done.path is None or dig(answer, done.path) in done.values):
            return WriteBackResult("already_done", f"HTTP {resp.status_code}")
        if 200 <= resp.status_code < 300:
            if wb.ok is not None and dig(answer, wb.ok.path) != wb.ok.equals:
                raise WriteBackRejected(f"{wb.method} {path}: {wb.ok.path} is {dig(answer, wb.ok.path)!r}")
            return WriteBackResult("done", f"HTTP {resp.status_code}")
        if resp.status_code in (400, 403, 404, 409, 410, 422):
            raise WriteBackRejected(f"{wb.method} {path}: HTTP {resp.status_code} {resp.text[:200]}")
        raise SourceUnavailable(f"{wb.method} {path}: HTTP {resp.status_code}", retry_after_seconds(resp))


def _ref(mapping: FieldMapping, item: Any) -> Optional[str]:
    try:
        ref = mapping.fields["source_ref"].value(item, timezone.utc) if isinstance(item, dict) else None
    except ValueError:
        return None
    return str(ref)[:128] if ref not in (None, "") else None
