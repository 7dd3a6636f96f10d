"""Repeated failed logins slow down: after a few failures of one username from one client, each further
attempt must wait, twice as long each time. Kept in the database, so a restart does not reset it."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from accounts.models import LoginFailure
from tickets.db import utcnow

FREE_FAILURES = 5                      # failures allowed before attempts must wait
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)      # failures this old no longer count


class LoginThrottled(Exception):
    def __init__(self, wait_seconds: int):
        super().__init__(f"too many failed logins: try again in {wait_seconds} s")
        self.wait_seconds = wait_seconds


def _key(login: str, client: str) -> str:
    return f"{login.strip().lower()[:64]}|{client[:120]}"


def check(session: Session, login: str, client: str, now: datetime | None = None) -> None:
    """Raise LoginThrottled if this username from this client must wait before trying again."""
    now = now or utcnow()
    row = session.get(LoginFailure, _key(login, client))
    if row is not None and row.locked_until is not None and row.locked_until > now:
        raise LoginThrottled(max(1, int((row.locked_until - now).total_seconds() + 0.999)))


def record_failure(session: Session, login: str, client: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    key = _key(login, client)
    row = session.get(LoginFailure, key, with_for_update=True)
    if row is None:
        row = LoginFailure(key=key, failures=0, last_failed_at=now)
        session.add(row)
    elif now - row.last_failed_at > FORGET_AFTER:
        row.failures = 0
    row.failures += 1
    row.last_failed_at = now
    over = row.failures - FREE_FAILURES
    if over >= 0:
        row.locked_until = now + min(FIRST_WAIT * (2 ** over), LONGEST_WAIT)
    session.flush()


def clear(session: Session, login: str, client: str) -> None:
    row = session.get(LoginFailure, _key(login, client))
    if row is not None:
        session.delete(row)
        session.flush()
