"""The complainant kept in the loop: where a ticket's source does not tell them itself (walk-in, Open311, web push
without a callback), they are texted when it is accepted and when it is resolved, with a link to a progress page,
and asked how satisfied they are (reply 1-5). `TD` stops these messages for the number.

The messages are planned rows of the SMS outbox, in the transaction of the step that calls for them; the policy
(which channels, templates, quiet hours, the page's address) comes from config.yaml through `keep_in_loop`.
"""
from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Callable, Mapping, Optional

import structlog
from sqlalchemy import update
from sqlalchemy.orm import Session

from notify.models import SmsMessage, SmsOptOut
from notify.outbound import Recipient, e164, plan
from notify.reply_parser import SEPARATORS
from settings.masking import mask_phone
from tickets import followup
from tickets.db import utcnow
from tickets.models import Followup, Ticket, TicketEvent
from tickets.upsert import insert_or_ignore
from tickets.vocabulary import CHINA_TZ, kind_label

log = structlog.get_logger("notify")

POLICY = "complainant_loop"   # the key the policy is found under in a session's info
PURPOSES = ("progress_accepted", "progress_resolved", "progress_rated", "progress_stopped")
MOBILE = re.compile(r"^\+861[3-9]\d{9}$")
STOP_WORDS = frozenset({"TD", "退订"})
DIGITS = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


@dataclass
class ComplainantLoop:
    """Who is texted and with what: `channels` maps a channel to its `complainant_sms` (None: as its kind says)."""

    channels: Mapping[str, tuple[str, Optional[bool]]]   # name -> (kind, complainant_sms)
    templates: object                                    # settings.config_schema.ComplainantTemplates
    link_base: Callable[[], str]
    quiet_hours: Optional[tuple[time, time]] = None
    result_chars: int = 200

    def tells(self, ticket: Ticket) -> bool:
        """Whether the ticket's complainant hears from us: the channel says so, else its kind's source does not."""
        kind, setting = self.channels.get(ticket.channel, (ticket.channel_kind, None))
        if setting is not None:
            return setting
        from connectors.registry import connector_class

        try:
            return not connector_class(kind).answers_complainant(ticket.payload or {})
        except Exception:  # an unknown kind: its source is assumed to answer, nobody is texted
            return False

    def link(self, token: str) -> str:
        return f"{self.link_base().rstrip('/')}/p/{token}"

    def not_before(self, now: datetime) -> Optional[datetime]:
        """When a message planned `now` may go: at once, or at the end of the quiet hours (China time)."""
        if self.quiet_hours is None:
            return None
        start, end = self.quiet_hours
        local = now.astimezone(CHINA_TZ)
        t = local.time()
        quiet = (start <= t or t < end) if start > end else (start <= t < end)
        if not quiet:
            return None
        wake = datetime.combine(local.date(), end, CHINA_TZ)
        if wake <= local:
            wake += timedelta(days=1)
        return wake


def from_config(config, link_base: Optional[Callable[[], str]] = None) -> ComplainantLoop:
    """The policy of config.yaml; the page's address is `web.public_url` (read when a message is planned)."""
    c = config.complainant
    quiet = None
    if c.quiet_hours:
        a, b = c.quiet_hours.split("-")
        quiet = (time.fromisoformat(a), time.fromisoformat(b))
    return ComplainantLoop({ch.name: (ch.kind, ch.complainant_sms) for ch in config.channels}, c.templates,
                           link_base or (lambda: config.web.base_url()), quiet, c.result_chars)


def sample_link(config) -> str:
    """A progress link as long as those the messages carry, to count a template's characters with."""
    return f"{config.web.base_url()}/p/{'x' * len(secrets.token_urlsafe(followup.TOKEN_BYTES))}"


def keep_in_loop(db, loop: ComplainantLoop) -> None:
    """Every step taken through `db` texts complainants as `loop` says (the composition root calls this)."""
    db.provide(**{POLICY: loop})


def loop_of(session: Session) -> Optional[ComplainantLoop]:
    return session.info.get(POLICY)


def mobile_of(ticket: Ticket) -> Optional[str]:
    """The complainant's mainland mobile in E.164, or None (no phone, a landline: nothing to text)."""
    digits = re.sub(r"[\s\-()]", "", ticket.complainant_phone or "")
    if not digits:
        return None
    phone = e164(digits)
    return phone if MOBILE.match(phone) else None


def is_opted_out(session: Session, phone: str) -> bool:
    return session.get(SmsOptOut, phone) is not None


# --- the steps that text the complainant (called from tickets.handling) --------------------------

def after_accept(session: Session, ticket: Ticket, event: TicketEvent, unit_name: str) -> int:
    """Tell the complainant which unit took their ticket on, with the progress link."""
    return _tell(session, ticket, event, "accepted", unit_name)


def after_resolve(session: Session, ticket: Ticket, event: TicketEvent, unit_name: str, result: str) -> int:
    """Tell the complainant the result and ask how satisfied they are (reply 1-5, or on the page)."""
    return _tell(session, ticket, event, "resolved", unit_name, result)


def _tell(session: Session, ticket: Ticket, event: TicketEvent, step: str, unit_name: str, result: str = "") -> int:
    loop = loop_of(session)
    if loop is None or not loop.tells(ticket):
        return 0
    phone = mobile_of(ticket)
    found = followup.open_followup(session, ticket, phone)
    template = getattr(loop.templates, step)
    if phone is None or not template or is_opted_out(session, phone):
        return 0
    if step == "resolved":
        found.asked_at = utcnow()
    result = " ".join(result.split()).rstrip("。.；;，, ")  # the template ends the sentence
    if len(result) > loop.result_chars:
        result = result[: loop.result_chars - 1] + "…"
    values = {"number": ticket.number, "kind": kind_label(ticket.kind), "unit": unit_name, "result": result,
              "link": loop.link(found.token)}
    return plan(session, key=f"complainant:{step}:{ticket.id}:{event.id}", ticket_id=ticket.id, unit_id=None,
                purpose=f"progress_{step}", recipients=[Recipient(phone)], template=template, values=values,
                not_before=loop.not_before(utcnow()))


# --- what the complainant texts back ---------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    outcome: str                     # rated | opted_out | refused
    ticket_id: Optional[int] = None
    note: Optional[str] = None
    replied: bool = False


def _words(body: str) -> str:
    text = unicodedata.normalize("NFKC", body or "").strip().strip(SEPARATORS).strip()
    return text.upper()


def rating_in(body: str) -> Optional[int]:
    """1-5 as a complainant texts it: `2`, `２`, `2分`, `二`; else None."""
    text = _words(body).removesuffix("分").strip()
    return DIGITS.get(text)


def answer(session: Session, *, message_sid: str, sender: str, body: str) -> Optional[Answer]:
    """A complainant's reply — `TD`, or 1-5 to the satisfaction question — acted on in the caller's transaction;
    None when the message is not one (a station's reply goes on to its own handling)."""
    if _words(body) in STOP_WORDS:
        return _stop(session, message_sid, sender)
    rating = rating_in(body)
    if rating is None:
        return None
    found = followup.awaiting_answer(session, sender)
    if found is None:
        return None
    try:
        event = followup.record_rating(session, found, rating, "sms")
    except followup.NotRateable as exc:
        return Answer("refused", found.ticket_id, str(exc))
    replied = thank(session, found, event, key=f"reply:{message_sid}") > 0
    log.info("complainant_rated", ticket_id=found.ticket_id, rating=rating, via="sms", from_phone=mask_phone(sender))
    return Answer("rated", found.ticket_id, None, replied)


def rate_on_page(session: Session, token: str, rating: int) -> TicketEvent:
    """The complainant taps a score on the progress page."""
    found = followup.by_token(session, token)
    if found is None:
        raise followup.NotRateable("no such progress page")
    event = followup.record_rating(session, found, rating, "page")
    log.info("complainant_rated", ticket_id=found.ticket_id, rating=rating, via="page")
    return event


def thank(session: Session, found: Followup, event: TicketEvent, key: str) -> int:
    """The answer to a rating: thanks, and for 1 or 2 that someone will call back."""
    loop = loop_of(session)
    if loop is None or not found.phone or is_opted_out(session, found.phone):
        return 0
    low = found.rating is not None and found.rating <= followup.CALL_BACK_AT_MOST
    template = loop.templates.rated_low if low else loop.templates.rated
    if not template:
        return 0
    ticket = session.get(Ticket, found.ticket_id)
    return plan(session, key=key, ticket_id=ticket.id, unit_id=None, purpose="progress_rated",
                recipients=[Recipient(found.phone)], template=template, values={"number": ticket.number},
                not_before=loop.not_before(utcnow()))


def _stop(session: Session, message_sid: str, sender: str) -> Answer:
    """`TD`: no more progress messages to this number; those still waiting are not sent."""
    new = session.execute(insert_or_ignore(session, SmsOptOut, ["phone"]).values(
        phone=sender, opted_out_at=utcnow(), message_sid=message_sid).returning(SmsOptOut.phone)).scalar()
    held = session.execute(update(SmsMessage).where(
        SmsMessage.to_phone == sender, SmsMessage.purpose.in_(PURPOSES), SmsMessage.status == "pending")
        .values(status="cancelled", last_error="opted out (TD)")).rowcount
    loop = loop_of(session)
    replied = False
    if new is not None and loop is not None and loop.templates.stopped:
        # The confirmation goes at once, after the number is marked: nothing else follows it.
        replied = plan(session, key=f"reply:{message_sid}", ticket_id=None, unit_id=None, purpose="progress_stopped",
                       recipients=[Recipient(sender)], template=loop.templates.stopped, values={}) > 0
    log.info("complainant_opted_out", from_phone=mask_phone(sender), again=new is None, held_cancelled=held)
    return Answer("opted_out", None, "the number replied TD: no more progress messages", replied)

