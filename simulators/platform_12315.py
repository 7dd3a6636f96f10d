"""A working stand-in of the 12315 platform's data exchange (../shared/specs/12315-platform-api.md): it keeps
cases, OAuth tokens, paging cursors and case events, and can be told to throttle, skew its clocks or fail."""
from __future__ import annotations

import copy
import math
import random
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Callable
from urllib.parse import unquote

from simulators.http_base import RateLimiter, Reply, Request, StandInServer, json_reply, retry_after_header
from simulators.record_store import EffectsLog, RecordStore, Stored
from simulators.order_factory import OrderFactory, Place, add_working_days, iso, load_places
from simulators.workorders_12345 import SHANGHAI

KINDS = {"投诉": "COMPLAINT", "举报": "REPORT", "咨询": "CONSULT", "求助": "COMPLAINT", "建议": "CONSULT"}
EVENT_TYPES = ("ACCEPTED", "REJECTED", "TRANSFERRED", "MEDIATION_SUCCEEDED", "MEDIATION_FAILED", "CLOSED")

# Which event moves a case from which status to which; anything else is 409 invalid_transition.
# Rejection (不予受理) is a decision before acceptance; a transfer hands the case on at any open step.
TRANSITIONS: dict[str, dict[str, str]] = {
    "ACCEPTED": {"PENDING_ACCEPTANCE": "ACCEPTED"},
    "REJECTED": {"PENDING_ACCEPTANCE": "REJECTED"},
    "TRANSFERRED": {"PENDING_ACCEPTANCE": "CLOSED", "ACCEPTED": "CLOSED", "MEDIATING": "CLOSED"},
    "MEDIATION_SUCCEEDED": {"ACCEPTED": "MEDIATING", "MEDIATING": "MEDIATING"},
    "MEDIATION_FAILED": {"ACCEPTED": "MEDIATING", "MEDIATING": "MEDIATING"},
    "CLOSED": {"ACCEPTED": "CLOSED", "MEDIATING": "CLOSED"},
}

# Goods/service and problem categories, chosen from the words of the complaint (first match wins).
GOODS = [
    (r"外卖|餐|饭|奶茶|烧腊", "0601", "餐饮服务"), (r"健身|私教", "0703", "健身服务"),
    (r"美容|皮肤|护理", "0704", "美容美发服务"), (r"培训|课程|课时", "0801", "教育培训服务"),
    (r"手机", "0203", "通讯器材"), (r"装修", "0502", "装修装饰服务"), (r"车辆|汽车|维修", "0904", "汽车维修服务"),
    (r"空调|家电", "0201", "家用电器"), (r"保健品", "0105", "保健食品"), (r"预付卡|会员卡", "0799", "其他生活服务"),
    (r"过期|食品|猪肉|超市|商品", "0101", "食品"),
]
PROBLEMS = [
    (r"短斤|电子秤|计量", "04", "计量"), (r"标价|多收|价格|收费", "03", "价格"), (r"虚假宣传|疗效", "05", "虚假宣传"),
    (r"无证|无照|无实体店", "10", "无照经营"), (r"过期|变质|质量|异物|开裂|渗水|翻新", "01", "质量"),
    (r"退款|退费|退还|退货|合同|押金", "07", "合同"),
]
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass
class _Cursor:
    since: datetime | None
    after: tuple[datetime, str] | None
    limit: int
    issued: datetime


class _Problem(Exception):
    def __init__(self, status: int, payload: dict):
        super().__init__(payload.get("error"))
        self.status, self.payload = status, payload


class Platform12315(StandInServer):
    """The 12315 platform's exchange interface on loopback. See the module docstring and the spec.

    Faults: `rate_limit_rps` (429 with Retry-After above it), `cursor_ttl` and `expire_cursors()` (410),
    `token_ttl` and `expire_tokens()` (401), `unsort_next_page()` (one page out of order), `skew_seconds` (modifiedAt up to that much behind the true
    time, as if stamped by servers with slow clocks), `maintenance` (503 to every request),
    `fail_next(n, status, after_effect=...)`, `error_rate` (random 500/502/503), `latency`, `go_down()` / `come_up()`.
    """

    def __init__(
        self,
        client_id: str = "onequeue-demo",
        client_secret: str = "demo-secret",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token_ttl: float = 3600,
        cursor_ttl: float = 600,
        skew_seconds: float = 0,
        rate_limit_rps: float | None = 50,
        clock: Callable[[], datetime] | None = None,
        seed: int | None = None,
    ):
        super().__init__(host, port)
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl = token_ttl
        self.cursor_ttl = cursor_ttl
        self.skew_seconds = skew_seconds
        self.clock = clock or (lambda: datetime.now(SHANGHAI))
        self.maintenance = False
        self.error_rate = 0.0
        self.on_list: Callable[[dict], None] | None = None
        self._limiter = RateLimiter(rate_limit_rps)
        self._rng = random.Random(seed)
        self._fault_rng = random.Random(None if seed is None else seed + 1)
        self._places = load_places()
        self._lock = threading.RLock()
        self._cases = RecordStore(self._lock, stamp=self._stamp, time_field="modifiedAt", time_text=iso)
        self._cursors: dict[str, _Cursor] = {}
        self._tokens: dict[str, datetime] = {}
        self._answers: dict[str, tuple[str, dict]] = {}  # idempotencyKey -> (caseId, first answer)
        self._effects = EffectsLog(self._lock)
        self._seq = 120

    # -- faults -----------------------------------------------------------------------------

    @property
    def rate_limit_rps(self) -> float | None:
        return self._limiter.rps

    @rate_limit_rps.setter
    def rate_limit_rps(self, value: float | None) -> None:
        self._limiter = RateLimiter(value)

    def fail_next(self, n: int = 1, status: int = 503, *, after_effect: bool = False) -> None:
        """The next `n` requests answer `status`; with `after_effect` the request is carried out first
        and only its answer is lost."""
        super().fail_next(n, status, after_effect=after_effect)

    def clear_faults(self) -> None:
        super().clear_faults()
        self.maintenance = False
        self.error_rate = 0.0
        self.skew_seconds = 0

    def expire_tokens(self) -> None:
        """Every token issued so far is expired, as if token_ttl had passed."""
        with self._lock:
            self._tokens.clear()

    def unsort_next_page(self, n: int = 1) -> None:
        """The next `n` list answers come out of order, as from a platform whose index lags its rows: the case
        in the middle of the page is changed as it is read and shows its new modifiedAt, later than every case
        after it, on this page and on the pages to come."""
        self._cases.unsort_next_page(n)

    def expire_cursors(self) -> None:
        """Every paging cursor issued so far is expired, as if cursor_ttl had passed."""
        with self._lock:
            for cursor in self._cursors.values():
                cursor.issued = datetime(2000, 1, 1, tzinfo=SHANGHAI)

    # -- cases ------------------------------------------------------------------------------

    def now(self) -> datetime:
        value = self.clock()
        value = value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
        return value.astimezone(SHANGHAI).replace(microsecond=0)

    def add_cases(self, n: int, *, malformed: int = 0, seed: int | None = None) -> list[dict]:
        """Add `n` realistic new cases (PENDING_ACCEPTANCE) and `malformed` broken ones; returns copies."""
        rng = random.Random(seed) if seed is not None else self._rng
        factory = OrderFactory(rng, self._places)
        added = []
        with self._lock:
            for i in range(n + malformed):
                stamp = self._stamp(None)
                case_id = self._new_case_id(stamp)
                record = self._case(factory, case_id, stamp)
                if i >= n:
                    record = self._break(rng, record, i - n)
                key = record.get("caseId") if isinstance(record.get("caseId"), str) and record["caseId"] else None
                key = key or f"~malformed-{case_id}"
                self._cases.add(key, record, stamp)
                added.append(copy.deepcopy(record))
        return added

    def add_case(self, **fields: Any) -> dict:
        """Add one realistic case with some fields given, e.g. consumer={...}, business={...}, description=..."""
        with self._lock:
            stamp = self._stamp(None)
            case_id = self._new_case_id(stamp)
            record = self._case(OrderFactory(self._rng, self._places), case_id, stamp)
            for name, value in copy.deepcopy(fields).items():
                if isinstance(value, dict) and isinstance(record.get(name), dict):
                    record[name].update(value)
                else:
                    record[name] = value
            self._cases.add(case_id, record, stamp)
            return copy.deepcopy(record)

    def update_case(self, case_id: str, **fields: Any) -> dict:
        """Change fields of a case as the platform would (e.g. status="MEDIATING"); moves modifiedAt on."""
        with self._lock:
            case = self._get(case_id)
            case.record.update(copy.deepcopy(fields))
            self._cases.touch(case)
            return copy.deepcopy(case.record)

    def withdraw(self, case_id: str) -> dict:
        """The consumer withdrew the complaint."""
        return self.update_case(case_id, status="WITHDRAWN")

    def get(self, case_id: str) -> dict:
        with self._lock:
            return copy.deepcopy(self._get(case_id).record)

    @property
    def cases(self) -> list[dict]:
        """Every case, malformed ones included, in listing order."""
        return self._cases.copies()

    @property
    def effects(self) -> list[dict]:
        """Applied case events in order: {caseId, type, idempotencyKey, body, at}. Repeats are not here."""
        return self._effects.copies()

    def effect_count(self, case_id: str, event_type: str) -> int:
        return self._effects.count(caseId=case_id, type=event_type)

    def generate(self, batch: int) -> None:
        self.add_cases(batch)

    def _get(self, case_id: str) -> Stored:
        case = self._cases.find(case_id)
        if case is None:
            raise KeyError(f"no case {case_id!r}")
        return case

    def _new_case_id(self, stamp: datetime) -> str:
        while True:
            self._seq += 1
            case_id = f"440606{stamp:%Y%m%d}{self._seq:05d}"
            if case_id not in self._cases:
                return case_id

    def _stamp(self, previous: datetime | None) -> datetime:
        # Several servers stamp cases; with skew their clocks run up to `skew_seconds` behind, so a case
        # changed later can carry an earlier modifiedAt than one changed before it. One case's own
        # modifiedAt still moves forward with each change.
        stamp = self.now()
        if self.skew_seconds:
            stamp -= timedelta(seconds=self._fault_rng.randint(0, int(self.skew_seconds)))
        if previous is not None and stamp <= previous:
            stamp = previous + timedelta(seconds=1)
        return stamp

    def _case(self, factory: OrderFactory, case_id: str, now: datetime) -> dict:
        """A case made from a realistic hotline order, reworded as the platform records it."""
        rng = factory.rng
        order = factory.order(case_id, now)
        description = order["SQNR"].replace("来电人", "消费者")
        words = order["BT"] + description
        goods = next(((c, n) for pattern, c, n in GOODS if re.search(pattern, words)), ("9999", "其他"))
        problem = next(((c, n) for pattern, c, n in PROBLEMS if re.search(pattern, words)), ("99", "其他"))
        kind = KINDS[order["SQLX"]]
        demand = re.search(r"要求([^。]*)。", description)
        amount = re.search(r"(\d+(?:\.\d+)?)元", description)
        received = datetime.fromisoformat(order["LDSJ"])
        home: Place = rng.choice(self._places)
        business: dict[str, Any] = {"name": order["BSQYMC"] or None, "address": order["SFDZ"],
                                    "regionCode": order["QYDM"]}
        if order["BSQYMC"] and ("有限公司" in order["BSQYMC"] or rng.random() < 0.5):
            business["uscc"] = "91440606" + "".join(rng.choice(_USCC_CHARS) for _ in range(10))
        consumer: dict[str, Any] = {"name": order["LDRXM"] or "匿名", "address": factory.address(home)}
        if rng.random() < 0.9:
            consumer["mobile"] = order["LDHM"]
        record = {
            "caseId": case_id,
            "kind": kind,
            "receivedAt": order["LDSJ"],
            "modifiedAt": iso(now),
            "consumer": consumer,
            "business": business,
            "goodsCategory": {"code": goods[0], "name": goods[1]},
            "problemCategory": {"code": problem[0], "name": problem[1]},
            "description": description,
            "demand": ("要求" + demand.group(1)) if demand else {"CONSULT": "请予以解答"}.get(kind, "请依法处理"),
            "status": "PENDING_ACCEPTANCE",
            "dueAt": iso(add_working_days(received, 7)),
            "attachments": [{"name": f"凭证{i}.jpg", "url": f"https://files.12315.example/{case_id}/{i}.jpg"}
                            for i in range(1, rng.choice([1, 1, 1, 2, 3]))],
        }
        if amount and kind == "COMPLAINT":
            record["amount"] = f"{Decimal(amount.group(1)):.2f}"
        return record

    @staticmethod
    def _break(rng: random.Random, record: dict, variant: int) -> dict:
        """A case that breaks the contract in one of the ways real feeds do."""
        kind = variant % 5
        if kind == 0:
            del record["caseId"]
        elif kind == 1:
            record["kind"] = rng.choice(["投诉", "SUGGESTION", ""])
        elif kind == 2:
            record["receivedAt"] = rng.choice(["2026年11月22日", "N/A", "2026-13-45T99:00:00+08:00"])
        elif kind == 3:
            record["amount"] = rng.choice(["约三千元", "1,280.00", "12.5.0"])
        else:
            record["consumer"] = "匿名"
        return record

    # -- HTTP -------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        wait = self._limiter.admit()
        if wait is not None:
            return json_reply(429, {"error": "rate_limited"}, retry_after_header(wait))
        if self.maintenance:
            return json_reply(503, {"error": "service_unavailable", "detail": "platform maintenance"})
        failure = self._take_failure()
        if failure and not failure[1].get("after_effect"):
            return _failure(failure[0])
        if failure is None and self.error_rate and self._fault_rng.random() < self.error_rate:
            return _failure(self._fault_rng.choice([500, 502, 503]))
        try:
            reply = self._route(request)
        except _Problem as p:
            reply = json_reply(p.status, p.payload)
        if failure:  # carried out, but the answer never reaches the client
            return _failure(failure[0])
        return reply

    def _route(self, request: Request) -> Reply:
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        if parts == ["oauth2", "token"] and request.method == "POST":
            return self._issue_token(request)
        if parts[:3] != ["openapi", "v1", "cases"] or len(parts) not in (3, 5):
            return json_reply(404, {"error": "not_found"})
        self._check_token(request)
        if len(parts) == 3 and request.method == "GET":
            return self._list(request)
        if len(parts) == 5 and parts[4] == "events" and request.method == "POST":
            return self._event(parts[3], request)
        return json_reply(405, {"error": "method_not_allowed"})

    def _issue_token(self, request: Request) -> Reply:
        form = request.form()
        if form.get("grant_type") != "client_credentials":
            return json_reply(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return json_reply(401, {"error": "invalid_client"})
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = self.now() + timedelta(seconds=self.token_ttl)
        return json_reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": math.ceil(self.token_ttl)})

    def _check_token(self, request: Request) -> None:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        with self._lock:
            expires = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
            if expires is not None and self.now() >= expires:
                del self._tokens[token.strip()]
                expires = None
        if expires is None:
            raise _Problem(401, {"error": "invalid_token"})

    def _list(self, request: Request) -> Reply:
        token = request.arg("cursor")
        try:
            limit = int(request.arg("limit", "100"))
        except ValueError:
            raise _Problem(400, {"error": "invalid_request", "detail": "limit must be a number"}) from None
        if not 1 <= limit <= 500:
            raise _Problem(400, {"error": "invalid_request", "detail": "limit must be 1..500"})
        if self.on_list:
            self.on_list({"modifiedSince": request.arg("modifiedSince"), "cursor": token, "limit": limit})
        with self._lock:
            if token:
                cursor = self._cursors.get(token)
                if cursor is None:
                    raise _Problem(400, {"error": "invalid_cursor"})
                if (self.now() - cursor.issued).total_seconds() >= self.cursor_ttl:
                    del self._cursors[token]
                    raise _Problem(410, {"error": "cursor_expired"})
                del self._cursors[token]
            else:
                cursor = _Cursor(_since(request.arg("modifiedSince")), None, limit, self.now())
            listing = [c for c in self._cases.listing(cursor.since)
                       if cursor.after is None or self._cases.sort_key(c) > cursor.after]
            page = listing[:limit]
            next_token = None
            if len(listing) > limit:
                next_token = secrets.token_urlsafe(18)
                self._cursors[next_token] = _Cursor(cursor.since, self._cases.sort_key(page[-1]), limit, self.now())
            data = self._cases.read_page(page)
        return json_reply(200, {"data": data, "nextCursor": next_token})

    def _event(self, case_id: str, request: Request) -> Reply:
        body = _event_body(request)
        key = body["idempotencyKey"]
        with self._lock:
            if key in self._answers:
                first_case, answer = self._answers[key]
                if first_case != case_id:
                    raise _Problem(422, {"error": "invalid_body",
                                         "detail": "idempotencyKey was already used for another case"})
                return json_reply(200, answer)
            case = self._cases.find(case_id) if not case_id.startswith("~") else None
            if case is None:
                raise _Problem(404, {"error": "not_found"})
            record = case.record
            target = TRANSITIONS[body["type"]].get(record.get("status"))
            if target is None:
                raise _Problem(409, {"error": "invalid_transition", "from": record.get("status"), "to": body["type"]})
            at = iso(self.now())
            record["status"] = target
            if body["type"] in ("MEDIATION_SUCCEEDED", "MEDIATION_FAILED"):
                record["mediationResult"] = body["type"].split("_")[1]
                if body.get("recoveredAmount"):
                    record["recoveredAmount"] = body["recoveredAmount"]
            if body["type"] in ("CLOSED", "REJECTED", "TRANSFERRED"):
                record["result"] = {"type": body["type"], "note": body.get("note", ""), "at": body["occurredAt"]}
            self._cases.touch(case)
            event_id = f"EV{len(self._effects.entries) + 1:08d}"
            self._effects.add({"caseId": case_id, "type": body["type"], "idempotencyKey": key,
                                  "body": copy.deepcopy(body), "at": at})
            answer = {"eventId": event_id, "caseId": case_id, "type": body["type"], "status": target,
                      "recordedAt": at}
            self._answers[key] = (case_id, answer)
        return json_reply(201, answer)


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        # A client that forgets to encode "+08:00" sends a space; read it as the plus it meant.
        parsed = datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        raise _Problem(400, {"error": "invalid_request", "detail": "modifiedSince is not ISO-8601"}) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)


def _event_body(request: Request) -> dict:
    """The event body checked against the spec's table; 422 names what is wrong."""
    def bad(detail: str):
        return _Problem(422, {"error": "invalid_body", "detail": detail})

    try:
        body = request.json()
    except ValueError:
        raise bad("body is not JSON") from None
    if not isinstance(body, dict):
        raise bad("body must be a JSON object")
    unknown = set(body) - {"idempotencyKey", "type", "occurredAt", "note", "recoveredAmount"}
    if unknown:
        raise bad(f"unknown fields: {', '.join(sorted(unknown))}")
    if not isinstance(body.get("idempotencyKey"), str) or not body["idempotencyKey"].strip():
        raise bad("idempotencyKey is required")
    if body.get("type") not in EVENT_TYPES:
        raise bad(f"type must be one of {', '.join(EVENT_TYPES)}")
    try:
        occurred = datetime.fromisoformat(body.get("occurredAt") or "")
    except (TypeError, ValueError):
        raise bad("occurredAt must be ISO-8601 with an offset") from None
    if occurred.tzinfo is None:
        raise bad("occurredAt must be ISO-8601 with an offset")
    if "note" in body and not isinstance(body["note"], str):
        raise bad("note must be a string")
    if body["type"] == "REJECTED" and not (body.get("note") or "").strip():
        raise bad("REJECTED needs a note with the reason")
    if "recoveredAmount" in body:
        if body["type"] != "MEDIATION_SUCCEEDED":
            raise bad("recoveredAmount belongs to MEDIATION_SUCCEEDED only")
        try:
            Decimal(str(body["recoveredAmount"]))
        except InvalidOperation:
            raise bad("recoveredAmount must be a decimal string") from None
    return body


def _failure(status: int) -> Reply:
    if status == 502:
        return Reply(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html; charset=utf-8")
    return json_reply(status, {"error": "server_error" if status >= 500 else "request_failed"})
