"""The links the SMS carry to the station's phone page (`{web.public_url}/m/TOKEN`): minted with the message,
bound to the contact it went to, their unit and the ticket (none for a digest), and checked at every open.

A link alone shows nothing: a browser must first give the last four digits of the phone the SMS went to, and is
then remembered for that contact by a cookie. Wrong digits `max_tries` times lock the link. A link is revoked as
its ticket leaves the unit (reassigned, returned, sent back to triage, withdrawn) by any path: a listener on the
ticket's history does it in the same transaction."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

import structlog
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from notify.link_models import StationDevice, StationLink
from notify.outbound import e164
from settings.masking import mask_phone
from tickets.db import utcnow
from tickets.models import TicketEvent

log = structlog.get_logger("notify")

PATH = "/m/"
TOKEN_BYTES = 8  # 11 characters in the link: 64 bits, and a link alone still shows nothing


@dataclass(frozen=True)
class LinkSettings:
    base_url: str = "http://127.0.0.1:8080"
    link_days: float = 30
    remember_days: float = 180
    max_tries: int = 5


_settings = LinkSettings()


def use_links(settings: LinkSettings) -> None:
    """Where links point and how long they last, for this process (set where the configuration is read)."""
    global _settings
    _settings = settings


def link_settings() -> LinkSettings:
    return _settings


def settings_from(config, base_url: Optional[str] = None) -> LinkSettings:
    st = config.station
    return LinkSettings(base_url=(base_url or config.web.base_url()).rstrip("/"), link_days=st.link_days,
                        remember_days=st.remember_days, max_tries=st.max_tries)


_TOKEN_IN_TEXT = re.compile(r"/([mp])/[A-Za-z0-9_-]{6,}")  # a station's page; a complainant's progress page


def without_token(body: str) -> str:
    """An SMS as others than its recipient read it (the back office, the command line): a station link's token
    opens the page for the recipient alone, and a complainant's progress link is theirs; neither is shown."""
    return _TOKEN_IN_TEXT.sub(r"/\1/…", body or "")


def sample_link(config) -> str:
    """A link as long as those the configuration's SMS carry, to count a template's characters with."""
    return f"{config.web.base_url()}{PATH}{'x' * len(secrets.token_urlsafe(TOKEN_BYTES))}"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def link_url(token: str) -> str:
    return f"{_settings.base_url}{PATH}{token}"


def new_link(*, ticket_id: Optional[int], unit_id: str, phone: str, contact_name: str,
             now: Optional[datetime] = None) -> tuple[dict, str]:
    """A link row (to insert with others in one statement) and the URL that carries its token."""
    now = now or utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = dict(token_hash=_hash(token), ticket_id=ticket_id, unit_id=unit_id, phone=e164(phone),
               contact_name=(contact_name or "")[:100], created_at=now,
               expires_at=now + timedelta(days=_settings.link_days), failed_tries=0)
    return row, link_url(token)


def insert_links(session: Session, rows: list[dict]) -> None:
    if rows:
        session.execute(StationLink.__table__.insert(), rows)


def mint(session: Session, *, ticket_id: Optional[int], unit_id: str, phone: str, contact_name: str = "") -> str:
    """One link, stored; returns its URL."""
    row, url = new_link(ticket_id=ticket_id, unit_id=unit_id, phone=phone, contact_name=contact_name)
    insert_links(session, [row])
    return url


# --- opening a link ---------------------------------------------------------------------------------------

class LinkRefused(Exception):
    """The link cannot be used; `reason` is one of expired, revoked, locked, unknown (the page says it in Chinese)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def find(session: Session, token: str, *, for_update: bool = False) -> StationLink:
    """The link of `token`, still usable; LinkRefused otherwise."""
    if not token or len(token) > 64:
        raise LinkRefused("unknown")
    stmt = select(StationLink).where(StationLink.token_hash == _hash(token))
    if for_update:
        stmt = stmt.with_for_update()
    link = session.scalar(stmt)
    if link is None:
        raise LinkRefused("unknown")
    if link.revoked_at is not None:
        raise LinkRefused("revoked")
    if link.locked_at is not None:
        raise LinkRefused("locked")
    if link.expires_at <= utcnow():
        raise LinkRefused("expired")
    return link


def revoke(session: Session, link: StationLink, reason: str) -> None:
    link.revoked_at, link.revoke_reason = utcnow(), reason[:32]
    log.info("station_link_revoked", link_id=link.id, ticket_id=link.ticket_id, unit=link.unit_id, reason=reason)


@dataclass(frozen=True)
class Tried:
    ok: bool
    tries_left: int
    device_secret: Optional[str] = None  # the cookie's value when ok


def try_digits(session: Session, token: str, digits: str) -> Tried:
    """Check the last four digits of the phone the link's SMS went to. Right: a remembered browser for that contact
    (its secret, for the cookie). Wrong: one try fewer; the last wrong one locks the link (LinkRefused after)."""
    link = find(session, token, for_update=True)
    digits = "".join(ch for ch in (digits or "") if ch.isdigit())
    if len(digits) == 4 and secrets.compare_digest(digits, link.phone[-4:]):
        secret = secrets.token_urlsafe(24)
        now = utcnow()
        session.add(StationDevice(secret_hash=_hash(secret), phone=link.phone, created_at=now,
                                  expires_at=now + timedelta(days=_settings.remember_days)))
        log.info("station_browser_remembered", link_id=link.id, unit=link.unit_id, phone=mask_phone(link.phone))
        return Tried(True, _settings.max_tries - link.failed_tries, secret)
    link.failed_tries += 1
    left = max(0, _settings.max_tries - link.failed_tries)
    if left == 0:
        link.locked_at = utcnow()
        log.warning("station_link_locked", link_id=link.id, unit=link.unit_id, phone=mask_phone(link.phone))
    else:
        log.info("station_digits_wrong", link_id=link.id, unit=link.unit_id, tries_left=left)
    return Tried(False, left)


def device_phone(session: Session, secret: Optional[str]) -> Optional[str]:
    """The contact's phone a browser's cookie remembers, if it is still valid."""
    if not secret or len(secret) > 64:
        return None
    device = session.scalar(select(StationDevice).where(StationDevice.secret_hash == _hash(secret)))
    if device is None or device.expires_at <= utcnow():
        return None
    return device.phone


def csrf_token(device_secret: str) -> str:
    """The forms' token of a remembered browser: derived from its cookie, which a page elsewhere cannot read."""
    return hashlib.sha256(b"station-form:" + device_secret.encode("utf-8")).hexdigest()[:32]


# --- revoking as a ticket leaves the unit ---------------------------------------------------------------------

_LEAVES = frozenset({"returned", "withdrawn", "duplicate", "rejected", "triage", "new"})
_installed = False
_links = StationLink.__table__


def _follow(_mapper, connection, ev: TicketEvent) -> None:
    detail = ev.detail or {}
    if ev.to_status in _LEAVES:
        keep = None
    elif ev.to_status == "dispatched" and (detail.get("unit") or detail.get("to_unit")):
        keep = detail.get("unit") or detail.get("to_unit")  # a reassignment; a transfer on breach (超时转办)
    else:
        return
    stmt = update(_links).where(_links.c.ticket_id == ev.ticket_id, _links.c.revoked_at.is_(None))
    if keep is not None:
        stmt = stmt.where(_links.c.unit_id != keep)
    connection.execute(stmt.values(revoked_at=utcnow(), revoke_reason=f"left:{ev.to_status}"))


def follow_ticket_moves() -> None:
    """Install the listener that revokes a ticket's links as it leaves their unit (once per process)."""
    global _installed
    if not _installed:
        event.listen(TicketEvent, "after_insert", _follow)
        _installed = True
