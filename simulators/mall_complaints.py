"""A shopping mall operator's complaints API (佳和广场商户投诉平台): a partner JSON API with field names,
paging, auth and write-back of its own, which onequeue reaches only through a YAML-defined `rest` channel.

GET  /api/v2/complaints?pageSize=&pageNo=|pageToken=&modifiedAfter=   newest change last
POST /api/v2/complaints/{complaintNo}/feedback  {state, replyContent, handlerOrg}  (Idempotency-Key header)
POST /oauth/token  grant_type=client_credentials&client_id=&client_secret=       (auth "oauth")

Auth is one of "none", "bearer" (a fixed token), "oauth" (client credentials) or "hmac" (X-App-Key,
X-Timestamp and X-Sign = hex HMAC-SHA256 of "METHOD\\nPATH\\nSORTED_QUERY\\nTIMESTAMP\\nSHA256(BODY)").
"""
from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import random
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Optional
from urllib.parse import urlencode

from simulators.http_base import Reply, Request, StandInServer, json_reply
from simulators.order_factory import MOBILE_PREFIXES, SURNAMES
from simulators.record_store import EffectsLog, RecordStore

CST = timezone(timedelta(hours=8))
TIME = "%Y-%m-%d %H:%M:%S"      # lastModified
CREATED = "%Y/%m/%d %H:%M"       # createdTime, as the mall's front desk types it

MALLS = [
    ("佳和广场（大良店）", "佛山市顺德区大良街道升平社区华盖路88号佳和广场"),
    ("佳和广场（容桂店）", "佛山市顺德区容桂街道容里社区桂洲大道中66号佳和广场"),
    ("佳和广场（北滘店）", "佛山市顺德区北滘镇北滘社区跃进路31号佳和广场"),
]
SHOPS = [("悦动健身", "健身"), ("星光奶茶", "餐饮"), ("顺联手机", "手机"), ("尚品女装", "服装"), ("小太阳童装", "服装"),
         ("名匠眼镜", "眼镜"), ("美好美容", "美容"), ("乐家家电", "家电"), ("博学英语", "培训"), ("优品超市", "超市")]
STORIES = [
    ("COMPLAINT", "商品质量", "在{shop}购买的{goods}穿了两次就开线，要求退货，店员称特价商品不退不换。", 399),
    ("COMPLAINT", "退换货", "{shop}购买的{goods}未拆封，次日要求退货被拒绝，店员称已过当天退换期限。", 1299),
    ("COMPLAINT", "价格", "{shop}结账价格比货架标价高，{goods}标价89元实收109元，要求退还差价。", 20),
    ("COMPLAINT", "预付卡", "{shop}办理的会员卡余额{amount}元，商家突然撤场，要求退还余额。", 2680),
    ("COMPLAINT", "服务态度", "{shop}店员态度恶劣，拒绝开具发票。", None),
    ("CONSULT", "咨询", "咨询在商场内{shop}购买的商品出现质量问题，商场是否承担先行赔付责任。", None),
    ("SUGGEST", "建议", "建议商场在各楼层设置公平秤和消费维权告示。", None),
    ("REPORT", "举报", "举报{shop}销售疑似假冒品牌的{goods}。", None),
]
GOODS = ["连衣裙", "运动鞋", "手机壳", "蓝牙耳机", "儿童外套", "太阳镜", "电饭煲", "护肤套装"]
STATES = ("PENDING", "PROCESSING", "CLOSED", "REJECTED", "CANCELLED")
# Which feedback state the mall accepts from which state; anything else is 409 STATE_CONFLICT.
MOVES = {"PROCESSING": {"PENDING"}, "CLOSED": {"PENDING", "PROCESSING"}, "REJECTED": {"PENDING", "PROCESSING"}}


class MallComplaints(StandInServer):
    """Keeps complaints, tokens and feedback; `auth` picks how clients must authenticate."""

    def __init__(self, auth: str = "oauth", *, client_id: str = "onequeue", client_secret: str = "mall-secret",
                 token: str = "mall-static-token", host: str = "127.0.0.1", port: int = 0, seed: Optional[int] = None,
                 token_ttl: float = 7200):
        super().__init__(host, port)
        if auth not in ("none", "bearer", "oauth", "hmac"):
            raise ValueError(f"auth {auth!r}: none, bearer, oauth or hmac")
        self.auth, self.client_id, self.client_secret, self.static_token = auth, client_id, client_secret, token
        self.token_ttl = token_ttl
        self.rng = random.Random(seed)
        self.requests: list[dict] = []                 # each list request's query, for tests
        self.on_list: Optional[Callable[[Request], None]] = None
        self._tokens: dict[str, float] = {}
        self._keys: dict[str, dict] = {}
        self._lock = threading.RLock()
        self._complaints = RecordStore(self._lock, stamp=lambda previous: self._tick(), time_field="lastModified",
                                       time_text=lambda stamp: stamp.strftime(TIME),
                                       tie_break=lambda stored: stored.record.get("complaintNo") or "")
        self._feedback_log = EffectsLog(self._lock)  # each feedback applied, in order
        self._seq = 0
        self._clock = datetime.now(CST).replace(microsecond=0) - timedelta(hours=2)

    # --- the mall's data ----------------------------------------------------------------------

    def _tick(self) -> datetime:
        """Every change gets its own second, so modifiedAfter works at the API's one-second resolution."""
        self._clock = max(self._clock + timedelta(seconds=1), datetime.now(CST).replace(microsecond=0))
        return self._clock

    @property
    def complaints(self) -> dict[str, dict]:
        """Copies of every complaint by number, in the order they came in."""
        return self._complaints.copies_by_key()

    def add_complaints(self, n: int, *, malformed: int = 0) -> list[dict]:
        """Add `n` new complaints and `malformed` broken ones; returns copies of them."""
        made = []
        with self._lock:
            for i in range(n + malformed):
                made.append(copy.deepcopy(self._new(broken=i >= n)))
        return made

    def _new(self, broken: bool = False) -> dict:
        rng = self.rng
        self._seq += 1
        stamp = self._tick()
        mall, address = rng.choice(MALLS)
        shop, _ = rng.choice(SHOPS)
        floor = rng.randint(1, 5)
        kind, category, text, amount = rng.choice(STORIES)
        number = f"JH{stamp:%Y%m%d}-{self._seq:04d}"
        record = {
            "complaintNo": number,
            "createdTime": (stamp - timedelta(minutes=rng.randint(1, 50))).strftime(CREATED),
            "lastModified": stamp.strftime(TIME),
            "type": kind,
            "category": category,
            "content": text.format(shop=shop, goods=rng.choice(GOODS), amount=amount or 0),
            "customer": {"nickname": rng.choice(SURNAMES) + rng.choice(["女士", "先生"]),
                         "mobile": rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"},
            "shop": {"name": f"{shop}（{mall[:4]}{floor}楼）", "floor": f"{floor}F",
                     "unitNo": f"{floor}F-{rng.randint(1, 40):02d}"},
            "mall": mall,
            "mallAddress": address,
            "amountYuan": f"{Decimal(amount):.2f}" if amount else None,
            "urgent": rng.random() < 0.1,
            "state": "PENDING",
        }
        if broken:
            variant = self._seq % 3
            if variant == 0:
                record["complaintNo"] = ""
            elif variant == 1:
                record["createdTime"] = "昨天下午"
            else:
                record["type"] = "PRAISE"
        self._complaints.add(number, record, stamp)
        return record

    def update(self, number: str, **fields: Any) -> dict:
        with self._lock:
            stored = self._complaints.find(number)
            if stored is None:
                raise KeyError(f"no complaint {number!r}")
            stored.record.update(copy.deepcopy(fields))
            self._complaints.touch(stored)
            return copy.deepcopy(stored.record)

    def cancel(self, number: str) -> dict:
        return self.update(number, state="CANCELLED")

    @property
    def feedback(self) -> list[dict]:
        """Each feedback applied, in order: {complaintNo, state, replyContent, handlerOrg}."""
        return self._feedback_log.copies()

    def effect_count(self, number: str, state: str) -> int:
        return self._feedback_log.count(complaintNo=number, state=state)

    def unsort_next_page(self, n: int = 1) -> None:
        """The next `n` list answers come out of order: the complaint in the middle of the page is changed as it
        is read and shows its new lastModified, later than every complaint after it."""
        self._complaints.unsort_next_page(n)

    def generate(self, batch: int) -> None:
        self.add_complaints(batch)

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    # --- HTTP ---------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        failure = self._take_failure()
        if failure is not None:
            busy = {"success": False, "errorCode": "SYSTEM_BUSY", "errorMsg": "系统繁忙"}
            body = failure[1].get("body", busy)
            if isinstance(body, bytes):  # a careless gateway's own page, as it is
                return Reply(failure[0], body, "text/html; charset=utf-8", dict(failure[1].get("headers") or {}))
            return json_reply(failure[0], body, failure[1].get("headers"))
        if request.method == "POST" and request.path == "/oauth/token":
            return self._token(request)
        refused = self._check_auth(request)
        if refused is not None:
            return refused
        if request.method == "GET" and request.path == "/api/v2/complaints":
            return self._list(request)
        parts = request.path.strip("/").split("/")
        if request.method == "POST" and len(parts) == 5 and parts[:3] == ["api", "v2", "complaints"] \
                and parts[4] == "feedback":
            return self._feedback(parts[3], request)
        return json_reply(404, {"success": False, "errorCode": "NOT_FOUND"})

    def _token(self, request: Request) -> Reply:
        if self.auth != "oauth":
            return json_reply(404, {"error": "not_found"})
        form = request.form()
        if form.get("grant_type") != "client_credentials":
            return json_reply(400, {"error": "unsupported_grant_type"})
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        if client_id != self.client_id or secret != self.client_secret:
            return json_reply(401, {"error": "invalid_client"})
        token = secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_ttl
        return json_reply(200, {"access_token": token, "token_type": "bearer", "expires_in": int(self.token_ttl)})

    def _check_auth(self, request: Request) -> Optional[Reply]:
        unauthorised = json_reply(401, {"success": False, "errorCode": "UNAUTHORIZED"})
        if self.auth == "none":
            return None
        if self.auth in ("bearer", "oauth"):
            header = request.headers.get("Authorization", "")
            token = header[7:] if header.startswith("Bearer ") else ""
            if self.auth == "bearer":
                return None if hmac.compare_digest(token, self.static_token) else unauthorised
            with self._lock:
                expires = self._tokens.get(token)
            return None if expires and expires > time.monotonic() else unauthorised
        stamp = request.headers.get("X-Timestamp", "")
        if request.headers.get("X-App-Key") != self.client_id or not stamp.isdigit() \
                or abs(time.time() - int(stamp)) > 300:
            return unauthorised
        query = urlencode(sorted((k, v) for k, values in request.query.items() for v in values))
        text = "\n".join([request.method, request.path, query, stamp, hashlib.sha256(request.body).hexdigest()])
        expected = hmac.new(self.client_secret.encode(), text.encode(), hashlib.sha256).hexdigest()
        return None if hmac.compare_digest(request.headers.get("X-Sign", ""), expected) else unauthorised

    def _list(self, request: Request) -> Reply:
        if self.on_list:
            self.on_list(request)
        size = int(request.arg("pageSize", "20"))
        if not 1 <= size <= 100:
            return json_reply(400, {"success": False, "errorCode": "BAD_PAGE_SIZE", "errorMsg": "pageSize 1..100"})
        after = request.arg("modifiedAfter")
        try:
            since = datetime.fromisoformat(after) if after else None
        except ValueError:
            return json_reply(400, {"success": False, "errorCode": "BAD_MODIFIED_AFTER",
                                    "errorMsg": "modifiedAfter yyyy-MM-dd HH:mm:ss"})
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=CST)
        token = request.arg("pageToken")
        with self._lock:
            self.requests.append({k: v[0] for k, v in request.query.items()})
            rows = self._complaints.listing(since)  # inclusive, to the second
            if token:
                try:
                    offset = int(base64.urlsafe_b64decode(token.encode()).decode())
                except ValueError:
                    return json_reply(400, {"success": False, "errorCode": "BAD_PAGE_TOKEN"})
            else:
                offset = (int(request.arg("pageNo", "1")) - 1) * size
            page = self._complaints.read_page(rows[offset:offset + size])
            more = offset + size < len(rows)
        next_token = base64.urlsafe_b64encode(str(offset + size).encode()).decode() if more else None
        return json_reply(200, {"success": True, "errorCode": None,
                                "data": {"total": len(rows), "list": page, "nextPageToken": next_token}})

    def _feedback(self, number: str, request: Request) -> Reply:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return json_reply(400, {"success": False, "errorCode": "BAD_JSON"})
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            if key and key in self._keys:
                return json_reply(200, self._keys[key])
            stored = self._complaints.find(number)
            if stored is None:
                return json_reply(404, {"success": False, "errorCode": "NOT_FOUND"})
            record = stored.record
            state = body.get("state")
            if state not in MOVES or not str(body.get("handlerOrg") or "").strip():
                return json_reply(400, {"success": False, "errorCode": "BAD_FEEDBACK",
                                        "errorMsg": "state PROCESSING|CLOSED|REJECTED and handlerOrg are required"})
            if record["state"] == state:
                return json_reply(409, {"success": False, "errorCode": "ALREADY_IN_STATE"})
            if record["state"] not in MOVES[state]:
                return json_reply(409, {"success": False, "errorCode": "STATE_CONFLICT",
                                        "errorMsg": f"{record['state']} → {state}"})
            record["state"] = state
            self._complaints.touch(stored)
            self._feedback_log.add({"complaintNo": number, "state": state, "replyContent": body.get("replyContent"),
                                  "handlerOrg": body.get("handlerOrg")})
            answer = {"success": True, "errorCode": None, "data": {"complaintNo": number, "state": state}}
            if key:
                self._keys[key] = answer
            return json_reply(200, answer)
