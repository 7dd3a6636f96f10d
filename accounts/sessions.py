"""Server-side sessions: the browser holds a random token, the database a hash of it with the user, a CSRF
token and two ends (idle and absolute). Rows in the database rather than signed cookies, so that several
worker processes share them and disabling an account or a logout ends a session everywhere at once."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import delete
from sqlalchemy.orm import Session

from accounts.models import User, WebSession
from accounts.scope import Viewer, visible_units
from tickets.db import utcnow

SESSION_IDLE = timedelta(hours=2)    # ends after this long without a request
SESSION_MAX = timedelta(hours=12)    # ends this long after login, busy or not
_TOUCH_EVERY = timedelta(minutes=1)  # idle end moved forward at most this often, not on every request


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: User, now: Optional[datetime] = None) -> str:
    """A new session for `user`; returns the token for the cookie. Expired sessions are cleared on the way."""
    now = now or utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_hash(token), user_id=user.id, csrf_token=secrets.token_urlsafe(24),
                           created_at=now, idle_until=now + SESSION_IDLE, expires_at=now + SESSION_MAX))
    session.flush()
    return token


def session_viewer(session: Session, token: Optional[str], units, now: Optional[datetime] = None) -> Optional[Viewer]:
    """The signed-in person for a cookie's token, or None if there is no live session or the account is
    disabled. Moves the idle end forward."""
    if not token:
        return None
    now = now or utcnow()
    ws = session.get(WebSession, _hash(token))
    if ws is None:
        return None
    if ws.expires_at <= now or ws.idle_until <= now:
        session.delete(ws)
        return None
    user = session.get(User, ws.user_id)
    if user is None or user.disabled:
        return None
    if ws.idle_until - SESSION_IDLE + _TOUCH_EVERY <= now:
        ws.idle_until = min(now + SESSION_IDLE, ws.expires_at)
    unit = units.get(user.unit_id)
    return Viewer(login=user.login, name=user.name, role=user.role, unit_id=user.unit_id,
                  unit_name=unit.name if unit else user.unit_id, units=visible_units(user.unit_id, units),
                  csrf_token=ws.csrf_token)


def end_session(session: Session, token: Optional[str]) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))
