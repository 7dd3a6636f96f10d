"""A working stand-in of the 12345 hotline's work-order interface (../shared/specs/12345-workorder-api.md):
it keeps orders, tokens and write effects, and can be told to throttle, go into maintenance or fail."""
from __future__ import annotations

import copy
import json
import math
import os
import random
import secrets
import threading
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote

from simulators.http_base import (
    Reply,
    Request,
    StandInServer,
    RateLimiter,
    html_reply,
    json_reply,
    log,
    retry_after_header,
)
from simulators.record_store import EffectsLog, RecordStore, Stored
from simulators.order_factory import OrderFactory, add_working_days, iso, load_places


def _shanghai() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Shanghai")
    except Exception:  # no tz database on this machine: China keeps +08:00 all year
        return timezone(timedelta(hours=8), "CST")


SHANGHAI = _shanghai()

# Which write call moves an order from which hotline status to which. Anything not listed is
# refused with 40902, except signing an order that is already signed, which is 40901.
TRANSITIONS: dict[tuple[str, str | None], dict[str, str]] = {
    ("sign", None): {"待签收": "已签收"},
    ("reply", "阶段答复"): {"已签收": "办理中", "办理中": "办理中"},
    ("reply", "办结"): {"已签收": "已办结", "办理中": "已办结"},
    ("return", None): {"待签收": "已退回", "已签收": "已退回", "办理中": "已退回"},
    ("extend", None): {"已签收": "已签收", "办理中": "办理中"},
}
SIGNED = ("已签收", "办理中")
WRITE_CALLS = ("sign", "reply", "return", "extend")

_MAINTENANCE_HTML = (
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>系统维护</title></head>"
    "<body><h1>系统维护中</h1><p>12345 工单接口每日 01:00-01:30 例行维护，请稍后再试。</p></body></html>"
)
_BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class _BadRequest(Exception):
    pass


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


class WorkOrder12345(StandInServer):
    """The 12345 work-order interface on loopback.

    Tests drive it with add_orders(), update_order(), withdraw() and generate_every(), read it
    with orders, get(), effects, effect_count() and token_requests, and move time with `clock`. Faults:
    `rate_limit_rps` (429 above it), `maintenance` (503, every other answer HTML), `nightly_maintenance` (503
    from 01:00 to 01:30 by `clock`), `fail_next(n, status)`, `error_rate` (random 500/502), `latency`,
    `go_down()` / `come_up()`, `unsort_next_page()` (one page out of order).
    """

    def __init__(
        self,
        app_id: str = "onequeue-demo",
        app_secret: str = "demo-secret",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token_ttl: float = 7200,
        rate_limit_rps: float | None = 20,
        clock: Callable[[], datetime] | None = None,
        state_file: str | os.PathLike | None = None,
        seed: int | None = None,
    ):
        super().__init__(host, port)
        self.app_id = app_id
        self.app_secret = app_secret
        self.token_ttl = token_ttl
        self.clock = clock or (lambda: datetime.now(SHANGHAI))
        self.state_file = Path(state_file) if state_file else None
        self.maintenance = False
        self.nightly_maintenance = False
        self.error_rate = 0.0
        self.on_list: Callable[[dict], None] | None = None
        self._limiter = RateLimiter(rate_limit_rps)
        self._rng = random.Random(seed)
        self._fault_rng = random.Random(None if seed is None else seed + 1)
        self._places = load_places()
        self._lock = threading.RLock()
        # Orders that changed in the same second list by GDBH, so malformed ones (no GDBH) come first.
        self._orders = RecordStore(self._lock, stamp=self._next_stamp, time_field="GXSJ", time_text=iso,
                                   tie_break=lambda stored: str(stored.record.get("GDBH") or ""))
        self._effects = EffectsLog(self._lock)
        self._answers: dict[str, tuple[int, dict]] = {}
        self._tokens: dict[str, datetime] = {}
        self._seq = 4700
        self._last_stamp: datetime | None = None
        self._maintenance_answers = 0
        self.token_requests = 0  # token calls answered, refused ones included

    # -- faults -----------------------------------------------------------------------------

    @property
    def rate_limit_rps(self) -> float | None:
        return self._limiter.rps

    @rate_limit_rps.setter
    def rate_limit_rps(self, value: float | None) -> None:
        self._limiter = RateLimiter(value)

    def fail_next(self, n: int = 1, status: int = 500, *, after_effect: bool = False,
                  retry_after: float | None = None) -> None:
        """The next `n` requests answer `status`; with `after_effect` the request is carried out
        first and only its answer is lost (the case idempotent retries exist for); with `retry_after`
        the answer asks the client to come back after that many seconds."""
        super().fail_next(n, status, after_effect=after_effect, retry_after=retry_after)

    def clear_faults(self) -> None:
        super().clear_faults()
        self.maintenance = False
        self.nightly_maintenance = False
        self.error_rate = 0.0

    def unsort_next_page(self, n: int = 1) -> None:
        """The next `n` list answers come out of order, as from a source whose index lags its rows: the order
        in the middle of the page is updated as it is read and shows its new GXSJ, later than every order after
        it, on this page and on the pages to come."""
        self._orders.unsort_next_page(n)

    def expire_tokens(self) -> None:
        """Make every token issued so far expired, as if token_ttl had passed."""
        with self._lock:
            self._tokens.clear()

    # -- orders -----------------------------------------------------------------------------

    def now(self) -> datetime:
        value = self.clock()
        value = value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
        return value.astimezone(SHANGHAI).replace(microsecond=0)

    def add_orders(self, n: int, *, malformed: int = 0, seed: int | None = None) -> list[dict]:
        """Add `n` realistic new orders (待签收) and `malformed` broken ones; returns copies of them."""
        rng = random.Random(seed) if seed is not None else self._rng
        factory = OrderFactory(rng, self._places)
        added = []
        with self._lock:
            for i in range(n + malformed):
                stamp = self._next_stamp(None)
                gdbh = self._new_gdbh(stamp)
                if i < n:
                    record = factory.order(gdbh, stamp)
                else:
                    record = factory.malformed(gdbh, stamp, i - n)
                key = record.get("GDBH") or f"~malformed-{gdbh}"
                self._orders.add(key, record, stamp)
                added.append(copy.deepcopy(record))
        return added

    def update_order(self, gdbh: str, **fields: Any) -> dict:
        """Change fields of an order as the hotline would (e.g. ZT="已撤销", SQNR=...); bumps GXSJ."""
        with self._lock:
            stored = self._get(gdbh)
            stored.record.update(copy.deepcopy(fields))
            self._orders.touch(stored)
            return copy.deepcopy(stored.record)

    def withdraw(self, gdbh: str) -> dict:
        """The caller withdrew the appeal: ZT becomes 已撤销."""
        return self.update_order(gdbh, ZT="已撤销")

    def get(self, gdbh: str) -> dict:
        with self._lock:
            return copy.deepcopy(self._get(gdbh).record)

    @property
    def orders(self) -> list[dict]:
        """Every order, malformed ones included, in listing order."""
        return self._orders.copies()

    @property
    def effects(self) -> list[dict]:
        """Applied write effects in order: {gdbh, call, request_id, body, at}. Repeats are not here."""
        return self._effects.copies()

    def effect_count(self, gdbh: str, call: str) -> int:
        return self._effects.count(gdbh=gdbh, call=call)

    def generate(self, batch: int) -> None:
        self.add_orders(batch)

    def _get(self, gdbh: str) -> Stored:
        stored = self._orders.find(gdbh)
        if stored is None:
            raise KeyError(f"no work order {gdbh!r}")
        return stored

    def _new_gdbh(self, stamp: datetime) -> str:
        while True:
            self._seq += 1
            gdbh = f"FS12345-{stamp:%Y%m%d}-{self._seq:06d}"
            if gdbh not in self._orders:
                return gdbh

    def _next_stamp(self, previous: datetime | None) -> datetime:
        # GXSJ never goes backwards across orders (so a client's cursor never skips a change),
        # and each update of one order moves its GXSJ strictly forward, if need be by a second.
        stamp = self.now()
        if self._last_stamp and stamp < self._last_stamp:
            stamp = self._last_stamp
        if previous and stamp <= previous:
            stamp = previous + timedelta(seconds=1)
        self._last_stamp = stamp
        return stamp

    # -- HTTP -------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        wait = self._limiter.admit()
        if wait is not None:
            return json_reply(429, {"code": 42900, "msg": "请求过于频繁，请稍后再试"}, retry_after_header(wait))
        if self.maintenance or (self.nightly_maintenance and self._in_nightly_window()):
            return self._maintenance_reply()
        failure = self._take_failure()
        if failure and not failure[1].get("after_effect"):
            return self._failure_reply(failure[0], failure[1].get("retry_after"))
        if failure is None and self.error_rate and self._fault_rng.random() < self.error_rate:
            return self._failure_reply(self._fault_rng.choice([500, 502]))
        try:
            reply = self._route(request)
        except _BadRequest as e:
            reply = json_reply(400, {"code": 40000, "msg": str(e)})
        if failure:  # carried out, but the answer never reaches the client
            return self._failure_reply(failure[0], failure[1].get("retry_after"))
        return reply

    def _route(self, request: Request) -> Reply:
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        if parts == ["api", "v1", "auth", "token"] and request.method == "POST":
            return self._issue_token(request)
        if parts[:3] != ["api", "v1", "workorders"] or len(parts) not in (3, 5):
            return json_reply(404, {"code": 40400, "msg": "接口不存在"})
        unauthorized = self._check_token(request)
        if unauthorized:
            return unauthorized
        if len(parts) == 3 and request.method == "GET":
            return self._list(request)
        if len(parts) == 5 and parts[4] in WRITE_CALLS and request.method == "POST":
            return self._write(parts[4], parts[3], self._json_body(request))
        return json_reply(405, {"code": 40500, "msg": "方法不允许"})

    def _in_nightly_window(self) -> bool:
        now = self.now()
        return now.hour == 1 and now.minute < 30

    def _maintenance_reply(self) -> Reply:
        with self._lock:
            self._maintenance_answers += 1
            as_html = self._maintenance_answers % 2 == 0
        if as_html:
            return html_reply(503, _MAINTENANCE_HTML)
        return json_reply(503, {"code": 50301, "msg": "系统维护中，请稍后再试"})

    @staticmethod
    def _failure_reply(status: int, retry_after: float | None = None) -> Reply:
        if status == 502:
            return html_reply(502, _BAD_GATEWAY_HTML)
        headers = retry_after_header(retry_after) if retry_after is not None else None
        return json_reply(status, {"code": status * 100, "msg": "系统繁忙" if status >= 500 else "请求失败"}, headers)

    @staticmethod
    def _json_body(request: Request) -> dict:
        try:
            body = request.json()
        except ValueError:
            raise _BadRequest("请求体不是合法的 JSON") from None
        if not isinstance(body, dict):
            raise _BadRequest("请求体必须是 JSON 对象")
        return body

    def _issue_token(self, request: Request) -> Reply:
        with self._lock:
            self.token_requests += 1
        body = self._json_body(request)
        if body.get("app_id") != self.app_id or body.get("app_secret") != self.app_secret:
            return json_reply(401, {"code": 40100, "msg": "app_id 或 app_secret 错误"})
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = self.now() + timedelta(seconds=self.token_ttl)
        return json_reply(200, {"code": 0, "token": token, "expires_in": math.ceil(self.token_ttl)})

    def _check_token(self, request: Request) -> Reply | None:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        with self._lock:
            expires = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
            if expires is not None and self.now() >= expires:
                del self._tokens[token.strip()]
                expires = None
        if expires is None:
            return json_reply(401, {"code": 40101, "msg": "token expired"})
        return None

    def _list(self, request: Request) -> Reply:
        since = request.arg("updated_since")
        try:
            # A client that forgets to encode "+08:00" sends a space; read it as the plus it meant.
            since_time = _parse_time(since.replace(" ", "+")) if since else None
        except ValueError:
            raise _BadRequest(f"updated_since 不是合法的 ISO-8601 时间: {since}") from None
        page = _int_arg(request, "page", 1)
        page_size = _int_arg(request, "page_size", 100)
        if page < 1:
            raise _BadRequest("page 必须 >= 1")
        if not 1 <= page_size <= 200:
            raise _BadRequest("page_size 必须在 1 到 200 之间")
        if self.on_list:
            self.on_list({"updated_since": since, "page": page, "page_size": page_size})
        with self._lock:
            listing = self._orders.listing(since_time)
            start = (page - 1) * page_size
            items = self._orders.read_page(listing[start:start + page_size])
            total = len(listing)
        return json_reply(200, {"code": 0, "total": total, "page": page, "page_size": page_size, "items": items})

    def _write(self, call: str, gdbh: str, body: dict) -> Reply:
        request_id = body.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise _BadRequest("缺少 request_id")
        variant = _validate_write(call, body)
        with self._lock:
            if request_id in self._answers:
                status, payload = self._answers[request_id]
                return json_reply(status, payload)
            stored = self._orders.find(gdbh) if not gdbh.startswith("~") else None
            if stored is None:
                answer = (404, {"code": 40400, "msg": "工单不存在"})
            else:
                answer = self._apply(call, variant, stored, body, request_id)
            self._answers[request_id] = answer
        return json_reply(*answer)

    def _apply(self, call: str, variant: str | None, stored: Stored, body: dict, request_id: str):
        record = stored.record
        status = record.get("ZT")
        if call == "sign" and status in SIGNED:
            return 409, {"code": 40901, "msg": "已签收"}
        new_status = TRANSITIONS[(call, variant)].get(status)
        if new_status is None:
            return 409, {"code": 40902, "msg": "状态不允许"}
        now = iso(self.now())
        if call == "sign":
            record.update(CBDW=body["CBDW"], QSSJ=body.get("QSSJ") or now)
        elif call == "reply":
            record.update(HFLX=variant, HFNR=body["HFNR"], CBR=body.get("CBR", ""))
            if variant == "办结":
                record["BJSJ"] = body.get("BJSJ") or now
        elif call == "return":
            record.update(THYY=body["THYY"], THSJ=now)
        elif call == "extend":
            record.update(YQTS=body["YQTS"], YQYY=body.get("YQYY", ""))
            try:
                record["BLSX"] = iso(add_working_days(_parse_time(record["BLSX"]), body["YQTS"]))
            except (KeyError, TypeError, ValueError):
                pass  # a deadline that is not a date stays as it is
        record["ZT"] = new_status
        self._orders.touch(stored)
        self._effects.add(
            {"gdbh": stored.key, "call": call, "request_id": request_id, "body": copy.deepcopy(body), "at": now}
        )
        return 200, {"code": 0, "msg": "成功"}

    # -- state file -------------------------------------------------------------------------

    def on_start(self) -> None:
        if self.state_file and self.state_file.exists():
            self._load()

    def on_stop(self) -> None:
        if self.state_file:
            self.save()

    def save(self) -> None:
        """Write orders, effects and idempotency answers to `state_file`."""
        if not self.state_file:
            raise ValueError("no state_file was given")
        with self._lock:
            state = {
                "version": 1,
                "seq": self._seq,
                "last_stamp": iso(self._last_stamp) if self._last_stamp else None,
                "orders": [{"key": s.key, "updated": iso(s.changed), "record": s.record}
                           for s in self._orders.listing()],
                "effects": self._effects.entries,
                "answers": {rid: [status, payload] for rid, (status, payload) in self._answers.items()},
            }
            text = json.dumps(state, ensure_ascii=False, indent=1)
        temporary = self.state_file.with_name(self.state_file.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.state_file)

    def _load(self) -> None:
        state = json.loads(self.state_file.read_text(encoding="utf-8"))
        with self._lock:
            self._seq = state["seq"]
            self._last_stamp = _parse_time(state["last_stamp"]) if state["last_stamp"] else None
            self._orders.replace(Stored(o["key"], o["record"], _parse_time(o["updated"])) for o in state["orders"])
            self._effects.entries = state["effects"]
            self._answers = {rid: (status, payload) for rid, (status, payload) in state["answers"].items()}
        log.info("12345 stand-in loaded %d orders from %s", len(self._orders), self.state_file)


def _int_arg(request: Request, name: str, default: int) -> int:
    value = request.arg(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise _BadRequest(f"{name} 必须是整数") from None


def _validate_write(call: str, body: dict) -> str | None:
    """Checks the fields a write call needs; returns the reply type for `reply`, else None."""

    def text(name: str) -> None:
        if not isinstance(body.get(name), str) or not body[name].strip():
            raise _BadRequest(f"缺少 {name}")

    if call == "sign":
        text("CBDW")
    elif call == "reply":
        if body.get("HFLX") not in ("办结", "阶段答复"):
            raise _BadRequest("HFLX 必须是 办结 或 阶段答复")
        text("HFNR")
        return body["HFLX"]
    elif call == "return":
        text("THYY")
    elif call == "extend":
        days = body.get("YQTS")
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 30:
            raise _BadRequest("YQTS 必须是 1 到 30 之间的整数")
    return None
