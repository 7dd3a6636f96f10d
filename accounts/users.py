"""The use cases of accounts: add, list, disable, reset a password, and check a login."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts import throttle
from accounts.models import User, WebSession
from accounts.passwords import hash_password, needs_rehash, password_problem, verify_password
from tickets.db import utcnow

ROLES = ("staff", "lead", "admin")
ROLE_LABELS = {"staff": "工作人员", "lead": "组长", "admin": "管理员"}


class AccountError(ValueError):
    """A refused account change, with a message that says what to do."""


def _login_problem(login: str) -> Optional[str]:
    if not login or len(login) > 64 or not all(c.isalnum() or c in "._-" for c in login) or not login.isascii():
        return "a login is 1 to 64 letters, digits, '.', '_' or '-'"
    return None


def get_user(session: Session, login: str) -> Optional[User]:
    return session.scalar(select(User).where(User.login == login))


def _existing(session: Session, login: str) -> User:
    user = get_user(session, login)
    if user is None:
        raise AccountError(f"no user {login!r}: see `onequeue users list`")
    return user


def add_user(session: Session, login: str, name: str, unit_id: str, role: str, password: str, units) -> User:
    """Add an account; `units` is the UnitDirectory the unit must be part of."""
    problem = _login_problem(login)
    if problem:
        raise AccountError(problem)
    if not name.strip():
        raise AccountError("give the person's name")
    if unit_id not in units:
        raise AccountError(f"no unit {unit_id!r} in units.yaml: give the id of a unit there")
    if role not in ROLES:
        raise AccountError(f"no role {role!r}: the roles are {', '.join(ROLES)}")
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    if get_user(session, login) is not None:
        raise AccountError(f"the login {login!r} is taken")
    user = User(login=login, name=name.strip(), unit_id=unit_id, role=role, password_hash=hash_password(password),
                disabled=False)
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.unit_id, User.login)))


def disable_user(session: Session, login: str) -> User:
    """Disable an account and end its sessions at once."""
    user = _existing(session, login)
    user.disabled = True
    _end_sessions(session, user)
    return user


def set_password(session: Session, login: str, password: str) -> User:
    """A new password; the account's open sessions end."""
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    user = _existing(session, login)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    _end_sessions(session, user)
    return user


def _end_sessions(session: Session, user: User) -> None:
    for ws in session.scalars(select(WebSession).where(WebSession.user_id == user.id)):
        session.delete(ws)
    session.flush()


def authenticate(session: Session, login: str, password: str, client: str) -> Optional[User]:
    """The user if the login and password match an enabled account, else None (the failure is counted).
    Raises accounts.LoginThrottled while this login from this client must wait."""
    login = login.strip()
    throttle.check(session, login, client)
    user = get_user(session, login)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or user.disabled:
        throttle.record_failure(session, login, client)
        return None
    throttle.clear(session, login, client)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user
