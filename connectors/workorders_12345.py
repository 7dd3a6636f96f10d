"""The 12345 government hotline's work-order interface: pull orders by update time, sign, reply and return."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Iterator, Optional

import structlog
from pydantic import Field

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
from connectors.http import BearerToken, RetryingHttp, json_body
from connectors.paging import ChangeTimes
from tickets.schema import IncomingTicket
from tickets.vocabulary import CHINA_TZ as CST, KIND_OF_LABEL, PRIORITY_OF_LABEL

log = structlog.get_logger("connectors.12345")

KINDS = KIND_OF_LABEL                                   # SQLX: the hotline writes our kinds' labels
URGENCY = {**PRIORITY_OF_LABEL, "": "normal", None: "normal"}  # JJCD: 一般, 紧急, 特急 (none given: 一般)
WITHDRAWN = "已撤销"


class Settings(ConnectorConfig):
    base_url: str
    app_id: str
    app_secret: str = Field(repr=False)
    page_size: int = Field(100, ge=1, le=200)
    overlap_seconds: int = Field(300, ge=0, description="re-read this much before the cursor on every poll")
    page_overlap_seconds: int = Field(1, ge=0, description="re-read this much before the last page's newest order")
    start_from: Optional[datetime] = None
    timeout_seconds: float = 10.0
    max_attempts: int = Field(5, ge=1)
    rate_limit_rps: Optional[float] = Field(
        18, gt=0, description="requests per second this worker sends at most (the hotline allows 20); "
        "with several workers, divide the source's limit among them")


def parse_time(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field} is missing")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{field} is not a date: {value[:40]!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=CST)


def normalise(item: dict) -> IncomingTicket:
    """One work order in the ticket schema; ValueError with the reason if the order breaks the contract."""
    if not isinstance(item, dict):
        raise ValueError("not an object")
    ref = item.get("GDBH")
    if not isinstance(ref, str) or not ref.strip():
        raise ValueError("GDBH (work-order number) is missing")
    received = parse_time(item.get("LDSJ"), "LDSJ")
    updated = parse_time(item.get("GXSJ"), "GXSJ")
    deadline = parse_time(item["BLSX"], "BLSX") if item.get("BLSX") else None
    sqlx = item.get("SQLX") or "投诉"
    if sqlx not in KINDS:
        raise ValueError(f"SQLX {sqlx!r} is not one of {', '.join(KINDS)}")
    urgency = item.get("JJCD")
    if urgency not in URGENCY:
        raise ValueError(f"JJCD {urgency!r} is not one of {', '.join(PRIORITY_OF_LABEL)}")
    status = item.get("ZT")
    return IncomingTicket(
        source_ref=ref.strip(),
        source_updated_at=updated,
        received_at=received,
        kind=KINDS[sqlx],
        title=(item.get("BT") or "")[:200],
        text=item.get("SQNR") or "",
        complainant_name=item.get("LDRXM") or None,
        complainant_phone=item.get("LDHM") or None,
        business_name=item.get("BSQYMC") or None,
        event_address=item.get("SFDZ") or None,
        area_code=str(item["QYDM"]) if item.get("QYDM") else None,
        priority=URGENCY[urgency],
        source_status=status,
        source_deadline=deadline,
        withdrawn=status == WITHDRAWN,
        payload=item,
    )


class WorkOrder12345Connector(Connector):
    kind = "12345"
    read_ahead = True
    Config = Settings
    source_names = {"source_ref": "GDBH", "received_at": "LDSJ", "source_updated_at": "GXSJ",
                    "source_deadline": "BLSX", "title": "BT", "text": "SQNR", "complainant_name": "LDRXM",
                    "complainant_phone": "LDHM", "business_name": "BSQYMC", "event_address": "SFDZ",
                    "area_code": "QYDM", "source_status": "ZT"}
    effect_statuses = {
        "accepted": frozenset({"已签收", "办理中", "已办结"}),
        "resolved": frozenset({"已办结"}),
        "returned": frozenset({"已退回"}),
    }

    def __init__(self, name: str, config: Settings):
        super().__init__(name, config)
        self.http = RetryingHttp(config.base_url, timeout=config.timeout_seconds, max_attempts=config.max_attempts,
                                 rate_limit=config.rate_limit_rps)
        self.auth = BearerToken(self.http, self._fetch_token)

    # --- authentication -------------------------------------------------------------------

    def _fetch_token(self, attempts: Optional[int]) -> tuple[str, float]:
        resp = self.http.request(
            "POST", "/api/v1/auth/token", json={"app_id": self.config.app_id, "app_secret": self.config.app_secret},
            attempts=attempts,
        )
        body = json_body(resp)
        if resp.status_code != 200 or body.get("code") != 0 or not body.get("token"):
            # Wrong credentials will not fix themselves by retrying: say so plainly.
            raise SourceUnavailable(f"12345 refused the credentials of app_id {self.config.app_id!r}: "
                                    f"HTTP {resp.status_code} code {body.get('code')}")
        return body["token"], float(body.get("expires_in", 7200))

    def _call(self, method: str, path: str, attempts: Optional[int] = None, **kw):
        return self.auth.call(method, path, attempts=attempts, **kw)

    # --- pull ------------------------------------------------------------------------------

    def pull(self, cursor: Optional[str]) -> Iterator[Batch]:
        """Page by update time; restart each page from where the page surely ends, so shifting pages skip
        nothing, nor does a page out of order. A pull stopped inside a query (more pages than one poll takes, or
        a crash) resumes that query a page back, rather than re-reading the whole overlap: a burst of orders
        within the overlap still gets through."""
        cfg = self.config
        read = ChangeCursor(cursor)
        since = read.newest or cfg.start_from or datetime(2000, 1, 1, tzinfo=CST)
        paginator = ChangeTimes(since - timedelta(seconds=cfg.overlap_seconds), cfg.page_size,
                                timedelta(seconds=cfg.page_overlap_seconds), numbered=True)
        paginator.take_up(read.state)
        yield from self.request_records(read, paginator)

    def request_page(self, paginator: ChangeTimes) -> tuple[list, Any]:
        resp = self._call("GET", "/api/v1/workorders", params={
            "updated_since": paginator.since.astimezone(CST).isoformat(timespec="seconds"),
            "page": paginator.page, "page_size": self.config.page_size,
        })
        body = json_body(resp)
        if resp.status_code != 200 or body.get("code") != 0:
            raise SourceUnavailable(f"12345 list answered HTTP {resp.status_code} code {body.get('code')}")
        return body.get("items") or [], body

    def record(self, item: Any) -> IncomingTicket:
        return normalise(item)

    def record_ref(self, item: Any) -> Optional[str]:
        return _order_ref(item)

    def scan_since(self, since: datetime) -> Iterator[Batch]:
        yield from self.pull(json.dumps({"since": (since + timedelta(seconds=self.config.overlap_seconds)).isoformat()}))

    def lag(self, cursor: Optional[str], now: datetime) -> Optional[float]:
        return cursor_lag(cursor, now)

    # --- write-back ------------------------------------------------------------------------

    @classmethod
    def writeback_requests(cls, config: Settings) -> int:
        return 4   # a token fetch (when none is held) and the write, each tried twice

    def write_back(self, request: WriteBackRequest) -> WriteBackResult:
        body = request.body
        at = body.get("at") or datetime.now(CST).isoformat(timespec="seconds")
        if request.effect == "accepted":
            call, payload = "sign", {"CBDW": body.get("unit_name", ""), "QSSJ": at}
        elif request.effect == "resolved":
            call, payload = "reply", {"HFLX": "办结", "HFNR": body.get("result", ""), "CBR": body.get("handler", ""),
                                      "BJSJ": at}
        elif request.effect == "returned":
            call, payload = "return", {"THYY": body.get("reason", "")}
        else:
            raise WriteBackRejected(f"12345 has no write-back for effect {request.effect!r}")
        payload["request_id"] = request.key
        resp = self._call("POST", f"/api/v1/workorders/{request.source_ref}/{call}", json=payload, attempts=2,
                          defer_retry_after=True)
        answer = json_body(resp)
        code = answer.get("code")
        if resp.status_code == 200 and code == 0:
            return WriteBackResult("done", call)
        if resp.status_code == 409 and code == 40901:
            return WriteBackResult("already_done", f"{call}: {answer.get('msg', '')}")
        if resp.status_code in (400, 404, 409, 422):
            raise WriteBackRejected(f"12345 refused {call}: HTTP {resp.status_code} code {code} {answer.get('msg', '')}")
        raise SourceUnavailable(f"12345 {call} answered HTTP {resp.status_code} code {code}")


def _order_ref(item: Any) -> Optional[str]:
    ref = item.get("GDBH") if isinstance(item, dict) else None
    return ref if isinstance(ref, str) else None
