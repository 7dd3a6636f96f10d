"""A working stand-in of the part of Twilio's Messages API that onequeue uses (../shared/specs/sms-twilio.md),
close enough that the real `twilio` client works against it: sending, listing, fetching, delivery-status
callbacks and inbound SMS, each signed as Twilio signs them."""
from __future__ import annotations

import base64
import binascii
import hmac
import heapq
import itertools
import queue
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email.utils import format_datetime
from typing import Any, Callable, Iterable
from urllib.parse import urlencode, urlsplit

import requests
from twilio.request_validator import RequestValidator

from simulators.http_base import Reply, Request, StandInServer, RateLimiter, json_reply, log, retry_after_header
from simulators.sms_segments import count_segments

API_VERSION = "2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
CN_MOBILE = re.compile(r"^\+861[3-9]\d{9}$")
ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
MAX_BODY = 1600
# Error codes after which a message never left Twilio (status "failed"); any other delivery
# error code means it left and the carrier could not deliver it (status "undelivered").
FAILED_CODES = {30001, 30002, 30036}
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP", "YES"}
PRICE_PER_SEGMENT = "0.05000"


def twilio_error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    """An error answer in Twilio's shape, which the client turns into TwilioRestException."""
    return json_reply(
        status,
        {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
        headers,
    )


def rfc2822(moment: datetime | None) -> str | None:
    return format_datetime(moment.astimezone(timezone.utc)) if moment else None


@dataclass
class _Message:
    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    status: str
    num_segments: int
    date_created: datetime
    date_updated: datetime
    messaging_service_sid: str | None = None
    validity_period: int | None = None
    status_callback: str | None = None
    date_sent: datetime | None = None
    error_code: int | None = None
    history: list[str] = field(default_factory=list)

    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def resource(self) -> dict[str, Any]:
        """The message as Twilio's API shows it."""
        sent = self.status in ("sent", "delivered", "undelivered")
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.date_created),
            "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.date_updated),
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": None if self.error_code is None else _ERROR_MESSAGES.get(self.error_code, "Error"),
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            # A message sent through a Messaging Service has no sender, hence no segments, until queued.
            "num_segments": str(self.num_segments if self.from_ else 0),
            "price": f"-{float(PRICE_PER_SEGMENT) * self.num_segments:.5f}" if sent else None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": self.uri().replace(".json", "/Media.json"),
                "feedback": self.uri().replace(".json", "/Feedback.json"),
            },
            "to": self.to,
            "uri": self.uri(),
        }

    def as_dict(self) -> dict[str, Any]:
        """The message for Python callers (tests, benchmarks)."""
        return {
            "sid": self.sid,
            "to": self.to,
            "from_": self.from_,
            "body": self.body,
            "status": self.status,
            "num_segments": self.num_segments,
            "validity_period": self.validity_period,
            "status_callback": self.status_callback,
            "messaging_service_sid": self.messaging_service_sid,
            "date_created": self.date_created,
            "date_sent": self.date_sent,
            "error_code": self.error_code,
            "history": list(self.history),
        }


_ERROR_MESSAGES = {
    30001: "Queue overflow",
    30002: "Account suspended",
    30003: "Unreachable destination handset",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
    30036: "Validity Period Expired",
}


class TwilioStandIn(StandInServer):
    """Twilio's Messages API on loopback, for one account.

    Configuration (plain attributes, changeable while running): `opted_out` and `unroutable`
    (sets of numbers refused with 21610 / 21612), `undeliverable` (number → error code, e.g.
    30003 or 30006: the message is accepted and then reported undelivered or failed),
    `rate_limit_rps` (429 / 20429 above it), `delivery_delay` (seconds from queued to sent and
    from sent to delivered), `segments_per_second` (a single long code's throughput: messages
    queue behind each other and expire after their ValidityPeriod; None sends at once).
    `go_down()` takes only the API away: messages already accepted are still delivered and
    their callbacks still sent, as when Twilio's edge fails and its core does not.
    """

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        phone_number: str = "+15005550006",
        opted_out: Iterable[str] = (),
        unroutable: Iterable[str] = (),
        undeliverable: dict[str, int] | None = None,
        rate_limit_rps: float | None = None,
        delivery_delay: float = 0.05,
        segments_per_second: float | None = None,
        callback_attempts: int = 3,
        clock: Callable[[], datetime] | None = None,
    ):
        super().__init__(host, port)
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self.phone_number = phone_number
        self.opted_out: set[str] = set(opted_out)
        self.unroutable: set[str] = set(unroutable)
        self.undeliverable: dict[str, int] = dict(undeliverable or {})
        self.delivery_delay = delivery_delay
        self.segments_per_second = segments_per_second
        self.callback_attempts = callback_attempts
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._limiter = RateLimiter(rate_limit_rps)
        self._validator = RequestValidator(self.auth_token)
        self._lock = threading.Condition(threading.RLock())
        self._messages: list[_Message] = []
        self._by_sid: dict[str, _Message] = {}
        self._inbound: list[dict] = []
        self._callbacks: list[dict] = []
        self._timeline: list[tuple[float, int, str, str, int | None]] = []  # (due, seq, sid, status, error)
        self._timeline_seq = itertools.count()
        self._sender_free_at = 0.0
        self._callback_queue: queue.Queue = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._running = False
        self._session = requests.Session()
        self._session.trust_env = False  # callbacks go to loopback; never through a proxy

    @property
    def rate_limit_rps(self) -> float | None:
        return self._limiter.rps

    @rate_limit_rps.setter
    def rate_limit_rps(self, value: float | None) -> None:
        self._limiter = RateLimiter(value)

    # -- Python control API -----------------------------------------------------------------

    @property
    def messages(self) -> list[dict]:
        """Messages sent through the API, oldest first."""
        with self._lock:
            return [m.as_dict() for m in self._messages]

    def messages_to(self, number: str) -> list[dict]:
        with self._lock:
            return [m.as_dict() for m in self._messages if m.to == number]

    def count_by(self, to: str | None = None, body: str | None = None) -> int:
        """How many messages went to `to` (any if None) with exactly `body` (any if None)."""
        with self._lock:
            return sum(1 for m in self._messages if to in (None, m.to) and body in (None, m.body))

    def get(self, sid: str) -> dict:
        with self._lock:
            return self._by_sid[sid].as_dict()

    def wait_for_status(self, sid: str, statuses: str | Iterable[str], timeout: float = 5.0) -> dict:
        """Block until message `sid` reaches one of `statuses`; TimeoutError if it does not."""
        wanted = {statuses} if isinstance(statuses, str) else set(statuses)
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._by_sid[sid].status not in wanted:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{sid} is {self._by_sid[sid].status}, not {sorted(wanted)}")
                self._lock.wait(left)
            return self._by_sid[sid].as_dict()

    @property
    def callbacks(self) -> list[dict]:
        """Status callbacks attempted: {url, params, status (HTTP) or error, attempts}."""
        with self._lock:
            return [dict(c) for c in self._callbacks]

    @property
    def inbound(self) -> list[dict]:
        """Inbound messages delivered with send_inbound(): {params, url, status, body}."""
        with self._lock:
            return [dict(i) for i in self._inbound]

    def reset(self) -> None:
        """Forget all traffic and staged failures; configuration (opted_out, ...) stays."""
        with self._lock:
            self._messages.clear()
            self._by_sid.clear()
            self._inbound.clear()
            self._callbacks.clear()
            self._timeline.clear()
            self._sender_free_at = 0.0
        self.clear_faults()

    def send_inbound(self, from_: str, body: str, webhook_url: str, to: str | None = None) -> tuple[int, str]:
        """Deliver an SMS from `from_` to the webhook as Twilio does, signed; returns (status, body)."""
        to = to or self.phone_number
        sid = "SM" + secrets.token_hex(16)
        params = {
            "ToCountry": _country(to), "ToState": "", "ToCity": "", "ToZip": "",
            "FromCountry": _country(from_), "FromState": "", "FromCity": "", "FromZip": "",
            "SmsMessageSid": sid, "SmsSid": sid, "MessageSid": sid,
            "SmsStatus": "received", "NumMedia": "0", "NumSegments": str(count_segments(body)),
            "Body": body, "To": to, "From": from_, "AccountSid": self.account_sid, "ApiVersion": API_VERSION,
        }
        keyword = body.strip().upper()
        with self._lock:
            if keyword in STOP_WORDS:
                self.opted_out.add(from_)
            elif keyword in START_WORDS:
                self.opted_out.discard(from_)
        with requests.Session() as session:
            session.trust_env = False
            response = self._post_signed(session, webhook_url, params)
        with self._lock:
            self._inbound.append({"url": webhook_url, "params": params, "status": response.status_code,
                                  "body": response.text})
        return response.status_code, response.text

    def sign(self, url: str, params: dict[str, str]) -> str:
        """The X-Twilio-Signature Twilio would send with `params` to `url`."""
        return self._validator.compute_signature(url, params)

    # -- life cycle -------------------------------------------------------------------------

    def on_start(self) -> None:
        self._running = True
        self._threads = [
            threading.Thread(target=self._run_timeline, name="twilio-delivery", daemon=True),
            threading.Thread(target=self._run_callbacks, name="twilio-callbacks", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def on_stop(self) -> None:
        with self._lock:
            self._running = False
            self._lock.notify_all()
        self._callback_queue.put(None)
        for thread in self._threads:
            thread.join(timeout=3)
        self._threads = []

    # -- HTTP -------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        wait = self._limiter.admit()
        if wait is not None:
            return twilio_error(429, 20429, "Too Many Requests", retry_after_header(wait))
        failure = self._take_failure()
        if failure:
            status = failure[0]
            message = "Service Unavailable" if status == 503 else "Internal Server Error"
            return twilio_error(status, 20000 + status, message)
        match = re.fullmatch(rf"/{API_VERSION}/Accounts/([^/]+)/Messages(?:/([^/]+))?\.json", request.path)
        if not match:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        unauthorized = self._check_auth(request, match.group(1))
        if unauthorized:
            return unauthorized
        sid = match.group(2)
        if sid is None and request.method == "POST":
            return self._create(request.form())
        if sid is None and request.method == "GET":
            return self._list(request)
        if sid is not None and request.method == "GET":
            with self._lock:
                message = self._by_sid.get(sid)
                if message is not None:
                    return json_reply(200, message.resource())
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        return twilio_error(405, 20004, "Method not allowed")

    def _check_auth(self, request: Request, path_account: str) -> Reply | None:
        scheme, _, encoded = (request.headers.get("Authorization") or "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        if scheme.lower() != "basic" or not (
            hmac.compare_digest(user, self.account_sid) and hmac.compare_digest(password, self.auth_token)
        ):
            return twilio_error(401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        if path_account != self.account_sid:
            resource = f"/{API_VERSION}/Accounts/{path_account}"
            return twilio_error(404, 20404, f"The requested resource {resource} was not found")
        return None

    def _create(self, form: dict[str, str]) -> Reply:
        to, body = form.get("To", ""), form.get("Body", "")
        from_, service = form.get("From") or None, form.get("MessagingServiceSid") or None
        if not to:
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        if not body:
            return twilio_error(400, 21602, "Message body is required.")
        if not from_ and not service:
            return twilio_error(400, 21603, "A 'From' phone number is required.")
        if len(body) > MAX_BODY:
            return twilio_error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if not E164.match(to):
            return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if from_ and not (E164.match(from_) or ALPHANUMERIC_SENDER.match(from_)):
            return twilio_error(400, 21212, f"The 'From' number {from_} is not a valid phone number, "
                                            "shortcode, or alphanumeric sender ID.")
        if service and not re.fullmatch(r"MG[0-9a-f]{32}", service):
            return twilio_error(400, 21701, f"The Messaging Service Sid {service} is invalid.")
        if to.startswith("+86") and not CN_MOBILE.match(to):
            return twilio_error(400, 21614, f"'To' number {to} is not a valid mobile number")
        validity = form.get("ValidityPeriod")
        if validity is not None:
            if not validity.isdigit() or not 1 <= int(validity) <= 36000:
                return twilio_error(400, 21624, "Invalid validity period value")
            validity = int(validity)
        callback = form.get("StatusCallback") or None
        if callback and urlsplit(callback).scheme not in ("http", "https"):
            return twilio_error(400, 21609, "Invalid StatusCallback url")
        with self._lock:
            if to in self.opted_out:
                return twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
            if to in self.unroutable:
                return twilio_error(
                    400, 21612,
                    f"The 'To' phone number: {to}, is not currently reachable using the 'From' phone number: "
                    f"{from_ or service} via SMS.",
                )
            now = self.clock()
            message = _Message(
                sid="SM" + secrets.token_hex(16), account_sid=self.account_sid, to=to, from_=from_, body=body,
                status="queued" if from_ else "accepted", num_segments=count_segments(body),
                date_created=now, date_updated=now, messaging_service_sid=service,
                validity_period=validity, status_callback=callback,
            )
            message.history.append(message.status)
            self._messages.append(message)
            self._by_sid[message.sid] = message
            self._schedule(message)
            return json_reply(201, message.resource())

    def _list(self, request: Request) -> Reply:
        filters = {name: request.arg(name) for name in ("To", "From", "DateSent", "DateSent<", "DateSent>")}
        filters = {name: value for name, value in filters.items() if value}
        try:
            page_size = min(1000, max(1, int(request.arg("PageSize") or 50)))
            page = max(0, int(request.arg("Page") or 0))
            bounds = {name: _parse_date_filter(value) for name, value in filters.items() if name.startswith("DateSent")}
        except ValueError as e:
            return twilio_error(400, 20001, f"Invalid parameter: {e}")
        token = request.arg("PageToken")
        with self._lock:
            chosen = [m for m in reversed(self._messages) if _matches(m, filters, bounds)]
            start = page * page_size
            if token and token.startswith("PASM"):  # continue after the last message of the page before
                after = [i for i, m in enumerate(chosen) if m.sid == token[2:]]
                start = after[0] + 1 if after else start
            rows = chosen[start:start + page_size]
            has_more = start + page_size < len(chosen)
            resources = [m.resource() for m in rows]
        path = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"

        def uri(page_number: int, page_token: str | None = None) -> str:
            query = dict(filters, PageSize=page_size, Page=page_number)
            if page_token:
                query["PageToken"] = page_token
            return f"{path}?{urlencode(query)}"

        return json_reply(200, {
            "messages": resources,
            "page": page,
            "page_size": page_size,
            "start": start,
            "end": start + len(rows) - 1 if rows else start,
            "uri": uri(page, token),
            "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1, "PA" + rows[-1].sid) if has_more and rows else None,
            "previous_page_uri": uri(page - 1, "PB" + rows[0].sid) if page > 0 and rows else None,
        })

    # -- delivery ---------------------------------------------------------------------------

    def _schedule(self, message: _Message) -> None:
        # Called under the lock. One long code sends `segments_per_second`; the rest queue, and a
        # message still queued when its ValidityPeriod runs out is dropped with 30036.
        now = time.monotonic()
        sent_at = now + self.delivery_delay
        if self.segments_per_second:
            sent_at = max(sent_at, self._sender_free_at)
            if message.validity_period and sent_at - now > message.validity_period:
                self._at(now + message.validity_period, message.sid, "failed", 30036)
                return
            self._sender_free_at = sent_at + message.num_segments / self.segments_per_second
        code = self.undeliverable.get(message.to)
        if code in FAILED_CODES:
            self._at(sent_at, message.sid, "failed", code)
            return
        self._at(sent_at, message.sid, "sent", None)
        if code is None:
            self._at(sent_at + self.delivery_delay, message.sid, "delivered", None)
        else:
            self._at(sent_at + self.delivery_delay, message.sid, "undelivered", code)

    def _at(self, due: float, sid: str, status: str, error_code: int | None) -> None:
        heapq.heappush(self._timeline, (due, next(self._timeline_seq), sid, status, error_code))
        self._lock.notify_all()

    def _run_timeline(self) -> None:
        with self._lock:
            while self._running:
                if not self._timeline:
                    self._lock.wait()
                    continue
                due, _, sid, status, error_code = self._timeline[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._lock.wait(wait)
                    continue
                heapq.heappop(self._timeline)
                message = self._by_sid.get(sid)
                if message is None:  # forgotten by reset()
                    continue
                self._advance(message, status, error_code)
                self._lock.notify_all()

    def _advance(self, message: _Message, status: str, error_code: int | None) -> None:
        now = self.clock()
        if message.from_ is None:
            message.from_ = self.phone_number  # the Messaging Service picks its sender when it sends
        message.status = status
        message.error_code = error_code
        message.date_updated = now
        if status == "sent":
            message.date_sent = now
        message.history.append(status)
        if message.status_callback:
            params = {
                "AccountSid": message.account_sid, "ApiVersion": API_VERSION,
                "MessageSid": message.sid, "SmsSid": message.sid,
                "MessageStatus": status, "SmsStatus": status,
                "To": message.to, "From": message.from_,
            }
            if message.messaging_service_sid:
                params["MessagingServiceSid"] = message.messaging_service_sid
            if error_code is not None:
                params["ErrorCode"] = str(error_code)
            self._callback_queue.put((message.status_callback, params))

    def _run_callbacks(self) -> None:
        # One at a time, so a message's callbacks arrive in the order its statuses changed.
        while True:
            item = self._callback_queue.get()
            if item is None:
                return
            url, params = item
            record = {"url": url, "params": params, "status": None, "error": None, "attempts": 0}
            for attempt in range(1, max(1, self.callback_attempts) + 1):
                record["attempts"] = attempt
                try:
                    response = self._post_signed(self._session, url, params)
                    record["status"], record["error"] = response.status_code, None
                    if response.status_code < 500:
                        break
                except requests.RequestException as e:
                    record["error"] = f"{type(e).__name__}: {e}"
                if not self._running:
                    break
                time.sleep(0.1 * 2 ** (attempt - 1))
            if record["error"] or (record["status"] or 500) >= 400:
                log.info("status callback to %s ended with %s", url, record["error"] or record["status"])
            with self._lock:
                self._callbacks.append(record)
                self._lock.notify_all()

    def _post_signed(self, session: requests.Session, url: str, params: dict[str, str]) -> requests.Response:
        headers = {
            "X-Twilio-Signature": self.sign(url, params),
            "User-Agent": "TwilioProxy/1.1",
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        }
        return session.post(url, data=params, headers=headers, timeout=(2, 5))


def _country(number: str) -> str:
    return "CN" if number.startswith("+86") else "US" if number.startswith("+1") else ""


def _parse_date_filter(value: str) -> date | datetime:
    """Twilio's DateSent filters take a day (YYYY-MM-DD) or a moment (YYYY-MM-DDTHH:MM:SSZ)."""
    if len(value) == 10:
        return date.fromisoformat(value)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _matches(message: _Message, filters: dict[str, str], bounds: dict[str, date | datetime]) -> bool:
    if "To" in filters and message.to != filters["To"]:
        return False
    if "From" in filters and message.from_ != filters["From"]:
        return False
    if bounds:
        sent = message.date_sent or message.date_created
        sent = sent.astimezone(timezone.utc)
        for name, bound in bounds.items():
            if name == "DateSent":  # the day it was sent; the client sends a date as its midnight
                if sent.date() != (bound.date() if isinstance(bound, datetime) else bound):
                    return False
                continue
            value = sent if isinstance(bound, datetime) else sent.date()
            if (name == "DateSent<" and value > bound) or (name == "DateSent>" and value < bound):
                return False
    return True
