"""Accounts of the back office: users of a unit with a role, their passwords, sessions and login throttling,
and which tickets a person may see. Pages and the `onequeue users` command both call these functions."""
from accounts.models import LoginFailure, User, WebSession
from accounts.scope import ALL_UNITS, Viewer, actor_of, can_see, subtree, visible_units
from accounts.sessions import SESSION_IDLE, SESSION_MAX, end_session, open_session, session_viewer
from accounts.throttle import LoginThrottled
from accounts.users import ROLES, AccountError, add_user, authenticate, disable_user, list_users, set_password

__all__ = [
    "User", "WebSession", "LoginFailure", "ROLES", "AccountError", "LoginThrottled", "add_user", "list_users",
    "disable_user", "set_password", "authenticate", "open_session", "session_viewer", "end_session",
    "SESSION_IDLE", "SESSION_MAX", "Viewer", "ALL_UNITS", "visible_units", "subtree", "can_see", "actor_of",
]
