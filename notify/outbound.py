"""Plan SMS rows in the transaction that decides them, and send them once through Twilio's Messages API."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable, Optional, Sequence

import requests
from urllib3.exceptions import NewConnectionError
import structlog
from sqlalchemy import case, select, update
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioException, TwilioRestException

from connectors.pacing import Pacer
from notify.models import SmsMessage
from notify.templates import render, segments
from settings.masking import error_summary, mask_phone
from tickets.backoff import backoff_seconds
from tickets.claims import Claims, work_batch, work_through
from tickets.clock import SYSTEM_CLOCK, Clock
from tickets.db import Database, utcnow
from tickets import wake
from tickets.upsert import insert_or_ignore

log = structlog.get_logger("notify")

def _never_sent(exc: BaseException) -> bool:
    """True when the request cannot have reached the provider: the connection was refused or never made."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


# Twilio error codes that will not change by sending again: invalid, not mobile, opted out, unroutable.
PERMANENT_CODES = frozenset({21211, 21214, 21408, 21610, 21612, 21614})


def e164(phone: str) -> str:
    """Mainland mobiles as +86…; numbers already in E.164 are kept."""
    digits = phone.strip().replace(" ", "").replace("-", "")
    if digits.startswith("+"):
        return digits
    if digits.startswith("86") and len(digits) == 13:
        return "+" + digits
    return "+86" + digits


@dataclass(frozen=True)
class Recipient:
    phone: str
    name: str = ""
    role: str = ""


@dataclass(frozen=True)
class Planned:
    """The messages one change calls for: one per recipient, each keyed by `key` and the recipient's number."""

    key: str
    ticket_id: Optional[int]
    unit_id: Optional[str]
    purpose: str
    recipients: Sequence[Recipient]
    template: str
    values: dict
    urgent: bool = False
    not_before: Optional[datetime] = None       # held until then (quiet hours); at once if None
    validity_seconds: Optional[int] = None      # how long the provider may try; sms.validity_seconds if None
    link: Optional["LinkTo"] = None             # each recipient's own station link as {link} (notify.links)


@dataclass(frozen=True)
class LinkTo:
    """What a message's station link opens: the ticket (`ticket_id`), or the unit's due tickets (None)."""

    unit_id: str
    ticket_id: Optional[int] = None


def message_key(key: str, phone: str) -> str:
    """The key of the one message planned under `key` to `phone`."""
    return f"{key}:{e164(phone)}"


def plan(session: Session, *, key: str, ticket_id: Optional[int], unit_id: Optional[str], purpose: str,
         recipients: Iterable[Recipient], template: str, values: dict, urgent: bool = False,
         not_before: Optional[datetime] = None, validity_seconds: Optional[int] = None,
         link: Optional[LinkTo] = None) -> int:
    """Insert one message per recipient (keyed `message_key(key, phone)`); a key planned before is skipped, so
    planning twice sends once. A message is sent from `not_before` on, at once if None."""
    return plan_many(session, [Planned(key, ticket_id, unit_id, purpose, list(recipients), template, values, urgent,
                                       not_before, validity_seconds, link)])


def plan_many(session: Session, planned: Iterable[Planned]) -> int:
    """`plan` for many changes in one statement; returns how many messages were asked for. A message with a
    station link gets a link of its own per recipient, minted only for messages not planned before."""
    from notify import links

    planned = list(planned)
    rows, link_rows = [], []
    now = utcnow()
    linked = [message_key(p.key, r.phone) for p in planned if p.link for r in p.recipients]
    known = set(session.scalars(select(SmsMessage.dedupe_key).where(SmsMessage.dedupe_key.in_(linked)))) \
        if linked else set()
    for p in planned:
        for r in p.recipients:
            phone = e164(r.phone)
            values = {"link": "", **p.values, "contact_name": r.name}
            if p.link is not None:
                if message_key(p.key, phone) in known:
                    continue
                row, values["link"] = links.new_link(ticket_id=p.link.ticket_id, unit_id=p.link.unit_id,
                                                     phone=phone, contact_name=r.name, now=now)
                link_rows.append(row)
            body = render(p.template, values)
            rows.append(dict(dedupe_key=message_key(p.key, phone), ticket_id=p.ticket_id, unit_id=p.unit_id,
                             purpose=p.purpose, to_phone=phone, body=body, urgent=p.urgent, status="pending",
                             attempts=0, next_attempt_at=p.not_before or now, validity_seconds=p.validity_seconds,
                             segments=segments(body), created_at=now))
    if not rows:
        return 0
    links.insert_links(session, link_rows)
    session.connection().execute(insert_or_ignore(session, SmsMessage.__table__, ["dedupe_key"]), rows)
    if any(row["next_attempt_at"] <= now for row in rows):  # held for quiet hours: the interval finds it
        wake.work_for(session, "sms")
    return len(rows)


@dataclass
class SmsPolicy:
    from_number: str
    status_callback: Optional[str] = None
    validity_seconds: Optional[int] = None
    max_attempts: int = 6
    backoff_seconds: float = 10.0
    max_backoff_seconds: float = 1800.0
    claim_seconds: float = 120.0
    rate_limit_rps: Optional[float] = None  # messages per second this worker sends at most
    # How long one run starts new sends before it hands back what it holds; half a claim unless set, so a run
    # ends before its claims lapse and other workers take up the rest at once rather than a claim later.
    pass_seconds: Optional[float] = None
    # Messages at the provider at once: each send waits on the provider's answer, so one at a time caps a
    # worker at one message per round trip. Messages to one number stay one after another, in order.
    concurrent_sends: int = 1


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0
    handed_back: int = 0   # claimed, not tried, released at the end of the run's time or when stopping
    failures: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, what: str, failure: Optional[str] = None) -> None:
        """Count one more `what` (sent, retried, ...); the sends of one run may count from several threads."""
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)
            if failure is not None:
                self.failures.append(failure)


class SmsSender:
    """Sends due messages. A message is marked `sending` (committed) before the provider is called, so a
    crash between the call and the record leaves a row that is checked at the provider, never blindly resent."""

    def __init__(self, db: Database, client, policy: SmsPolicy, owner: str,
                 on_gave_up: Optional[Callable[[Session, SmsMessage, Optional[int], str], None]] = None,
                 clock: Clock = SYSTEM_CLOCK):
        self.db = db
        self.clock = clock
        self.client = client
        self.policy = policy
        self.pacer = Pacer(policy.rate_limit_rps)
        self.owner = owner
        # Called in the transaction that marks a message failed (session, message, error code, error).
        self.on_gave_up = on_gave_up

    @property
    def claims(self) -> Claims:
        """This worker's claims on messages: a claimed message is `sending`."""
        return Claims(self.db, SmsMessage, self.owner, "sending", self.policy.claim_seconds, self.clock)

    def send_due(self, limit: int = 100, stopping: Callable[[], bool] = lambda: False) -> SendReport:
        """Send what is due, batch after batch, until nothing is due, the run's time is spent
        (`policy.pass_seconds`) or `stopping()` says the worker is stopping; what is claimed and not tried is
        handed back, for another worker (or the next run) to send at once."""
        report = SendReport()
        budget = self.policy.pass_seconds if self.policy.pass_seconds is not None else self.policy.claim_seconds / 2
        ends = self.clock.monotonic() + budget
        self._recover_stale(report, stopping, ends)
        # Each send waits its turn under the rate limit, then renews its claim; one that lapsed and was taken up
        # by another worker is left to it. What is not tried goes back to `pending`.
        end = work_through(self.claims, lambda: self._claim(limit), lambda msg: self._send_one(msg, report),
                           ends=ends, stopping=stopping, pace=self.pacer.wait, hand_back={"status": "pending"},
                           on_lost=lambda msg: log.info("sms_claim_lost", ticket_id=msg.ticket_id, sms_id=msg.id),
                           lanes=self.policy.concurrent_sends, lane_of=lambda msg: msg.to_phone)
        report.handed_back += end.handed_back
        if end.handed_back:
            log.info("sms_run_ended", reason=end.reason, handed_back=end.handed_back, sent=report.sent)
        return report

    def _claim(self, limit: int) -> Sequence[SmsMessage]:
        now = self.clock.now()
        with self.db.transaction() as s:
            stmt = (select(SmsMessage).where(SmsMessage.status == "pending", SmsMessage.next_attempt_at <= now)
                    .order_by(SmsMessage.urgent.desc(), SmsMessage.id).limit(limit))
            return self.claims.take(s, stmt, status="sending")

    def _send_one(self, msg: SmsMessage, report: SendReport) -> None:
        bound = log.bind(ticket_id=msg.ticket_id, unit=msg.unit_id, to=mask_phone(msg.to_phone), sms_id=msg.id)
        kwargs = {"to": msg.to_phone, "from_": self.policy.from_number, "body": msg.body}
        if self.policy.status_callback:
            # Our row id rides along, so a report that arrives before the sid is recorded still finds its row.
            sep = "&" if "?" in self.policy.status_callback else "?"
            kwargs["status_callback"] = f"{self.policy.status_callback}{sep}sms={msg.id}"
        validity = msg.validity_seconds or (self.policy.validity_seconds if not msg.urgent else None)
        if validity:
            kwargs["validity_period"] = validity
        try:
            sent = self.client.messages.create(**kwargs)
        except (requests.RequestException, OSError) as exc:
            if _never_sent(exc):  # refused, or no connection in time: plainly not sent
                self._after_failure(msg, f"{type(exc).__name__}: {exc}", False, report, bound)
            else:  # a read timeout, a reset after sending: sent or not, ask the provider before any resend
                self._outcome_unknown(msg, f"{type(exc).__name__}: {exc}", bound)
            return
        except TwilioRestException as exc:
            permanent = exc.code in PERMANENT_CODES or (exc.status in (400, 401, 403, 404) and exc.status != 429)
            self._after_failure(msg, f"twilio {exc.status} code {exc.code}: {exc.msg}", permanent, report, bound,
                                code=exc.code)
            return
        except TwilioException as exc:
            self._after_failure(msg, f"{type(exc).__name__}: {exc}", False, report, bound)
            return
        with self.db.transaction() as s:
            # A delivery report may have come in first (and said more than "sent"): keep what it said.
            s.execute(update(SmsMessage).where(SmsMessage.id == msg.id).values(
                status=case((SmsMessage.status == "sending", "sent"), else_=SmsMessage.status),
                provider_sid=sent.sid, sent_at=self.clock.now(), attempts=msg.attempts + 1,
                claimed_by=None, claimed_until=None,
                last_error=case((SmsMessage.status == "sending", None), else_=SmsMessage.last_error),
                segments=int(sent.num_segments) if sent.num_segments else msg.segments))
        report.add("sent")
        bound.info("sms_sent", sid=sent.sid, purpose=msg.purpose, segments=sent.num_segments)

    def _outcome_unknown(self, msg: SmsMessage, error: str, bound) -> None:
        """Leave the row `sending`: once a claim period has let a request in flight land at the provider, a
        worker asks the provider whether it went out before it would send it again."""
        with self.db.transaction() as s:
            s.execute(update(SmsMessage).where(SmsMessage.id == msg.id).values(
                attempts=msg.attempts + 1, last_error=error_summary(error, 1000), claimed_by=None,
                claimed_until=self.claims.until()))
        bound.warning("sms_outcome_unknown", error=error)

    def _after_failure(self, msg: SmsMessage, error: str, permanent: bool, report: SendReport, bound,
                       code: Optional[int] = None) -> None:
        attempts, error = msg.attempts + 1, error_summary(error, 1000)
        values = dict(attempts=attempts, last_error=error, claimed_by=None, claimed_until=None)
        if code is not None:
            values["error_code"] = code
        if permanent or attempts >= self.policy.max_attempts:
            values["status"] = "failed"
            report.add("failed", error)
            bound.error("sms_failed", error=error, attempts=attempts)
        else:
            delay = backoff_seconds(attempts, self.policy.backoff_seconds, self.policy.max_backoff_seconds)
            values.update(status="pending", next_attempt_at=self.clock.now() + timedelta(seconds=delay))
            report.add("retried")
            bound.warning("sms_retry", error=error, attempts=attempts)
        with self.db.transaction() as s:
            s.execute(update(SmsMessage).where(SmsMessage.id == msg.id).values(**values))
            if values.get("status") == "failed" and self.on_gave_up is not None:
                self.on_gave_up(s, msg, code, error)

    def _recover_stale(self, report: SendReport, stopping: Callable[[], bool] = lambda: False,
                       ends: float = float("inf")) -> None:
        """Rows left `sending` by a worker that died: ask the provider whether the message went out. Like a send,
        each check waits on the provider, so the checks end with the run's time or when the worker stops."""
        now = self.clock.now()
        with self.db.transaction() as s:
            stale = self.claims.take(s, select(SmsMessage).where(
                SmsMessage.status == "sending", SmsMessage.claimed_until < now).limit(200))
        # Not checked: stale again at once, for the next worker that looks.
        work_batch(self.claims, stale, lambda m: self._check_at_provider(m, report), ends=ends, stopping=stopping,
                   hand_back={"claimed_until": now})

    def _check_at_provider(self, m: SmsMessage, report: SendReport) -> None:
        """Record a message found at the provider as sent; put one not found back in the queue."""
        try:
            found = [x for x in self.client.messages.list(to=m.to_phone, date_sent_after=m.created_at - timedelta(days=1),
                                                         limit=200) if x.body == m.body]
        except (TwilioException, requests.RequestException, OSError) as exc:
            log.warning("sms_recover_check_failed", sms_id=m.id, error=str(exc))
            with self.db.transaction() as s:
                s.execute(update(SmsMessage).where(SmsMessage.id == m.id).values(
                    claimed_until=self.clock.now() + timedelta(seconds=30)))
            return
        with self.db.transaction() as s:
            if found:
                s.execute(update(SmsMessage).where(SmsMessage.id == m.id).values(
                    status="sent", provider_sid=found[0].sid, sent_at=self.clock.now(), claimed_by=None,
                    claimed_until=None))
                report.add("recovered")
                log.info("sms_recovered_as_sent", sms_id=m.id, sid=found[0].sid)
            else:
                s.execute(update(SmsMessage).where(SmsMessage.id == m.id).values(
                    status="pending", claimed_by=None, claimed_until=None, next_attempt_at=self.clock.now()))
                log.info("sms_recovered_for_resend", sms_id=m.id)
