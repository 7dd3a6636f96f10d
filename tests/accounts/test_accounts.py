"""Accounts: who sees which tickets, how long a session lives, and the refusals of the account use cases."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from accounts import (
    ALL_UNITS, SESSION_IDLE, SESSION_MAX, AccountError, actor_of, add_user, can_see, disable_user, open_session,
    session_viewer, set_password, visible_units,
)
from accounts.models import User
from dispatch import UnitDirectory
from tickets.db import utcnow

UNITS = UnitDirectory.from_file(Path(__file__).resolve().parents[2] / "units.yaml")
PASSWORD = "correct horse 42"


@pytest.mark.parametrize("unit, sees", [
    ("sd-amr", "everything"),              # the bureau
    ("sd-amr-consumer", "everything"),     # its consumer-rights section
    ("sd-amr-command", "everything"),      # its complaints command centre
    ("sd-amr-food", "itself"),             # any other department: its own
    ("st-daliang-01", "itself"),           # a station: its own
    ("br-daliang", "its stations"),        # a branch: itself and its stations
])
def test_who_sees_which_units(unit, sees):
    scope = visible_units(unit, UNITS)
    if sees == "everything":
        assert scope == ALL_UNITS
    elif sees == "itself":
        assert scope == {unit}
    else:
        stations = {u.id for u in UNITS.children_of(unit)}
        assert len(stations) == 16 and scope == stations | {unit}
        assert "st-beijiao-01" not in scope and "sd-amr-food" not in scope


def test_can_see_a_ticket_of_their_units_only(db):
    with db.transaction() as s:
        add_user(s, "daliang", "何颖", "br-daliang", "staff", PASSWORD, UNITS)
        add_user(s, "centre", "梁汉林", "sd-amr-command", "lead", PASSWORD, UNITS)
        branch = session_viewer(s, open_session(s, s.query(User).filter_by(login="daliang").one()), UNITS)
        centre = session_viewer(s, open_session(s, s.query(User).filter_by(login="centre").one()), UNITS)
    at_station, elsewhere, in_triage = (SimpleNamespace(assigned_unit=u) for u in ("st-daliang-01", "st-beijiao-01",
                                                                                    None))
    assert can_see(branch, at_station) and not can_see(branch, elsewhere) and not can_see(branch, in_triage)
    assert can_see(centre, at_station) and can_see(centre, elsewhere) and can_see(centre, in_triage)
    assert branch.actor == actor_of("daliang") == "user:daliang"
    assert centre.has_role("staff") and centre.has_role("lead") and not centre.has_role("admin")


def test_a_session_ends_when_idle_or_old_or_when_the_account_changes(db):
    with db.transaction() as s:
        user = add_user(s, "wang", "王小明", "br-daliang", "staff", PASSWORD, UNITS)
        start = utcnow()
        token = open_session(s, user, now=start)
    with db.transaction() as s:  # used now and then, it lives until its absolute end
        for hours in range(1, 12):
            assert session_viewer(s, token, UNITS, now=start + hours * SESSION_IDLE / 2) is not None
        assert session_viewer(s, token, UNITS, now=start + SESSION_MAX) is None
    with db.transaction() as s:  # left alone, it ends when idle
        token = open_session(s, user, now=start)
        assert session_viewer(s, token, UNITS, now=start + SESSION_IDLE + SESSION_IDLE / 100) is None
    with db.transaction() as s:  # a new password or a disabled account ends it at once
        token = open_session(s, user)
        set_password(s, "wang", "another one 77")
        assert session_viewer(s, token, UNITS) is None
        token = open_session(s, user)
        disable_user(s, "wang")
        assert session_viewer(s, token, UNITS) is None
        assert session_viewer(s, "made-up", UNITS) is None


@pytest.mark.parametrize("login, unit, role, password, says", [
    ("wang", "nowhere", "staff", PASSWORD, "no unit 'nowhere' in units.yaml"),
    ("wang", "br-daliang", "boss", PASSWORD, "no role 'boss'"),
    ("wang", "br-daliang", "staff", "short", "at least 8 characters"),
    ("王", "br-daliang", "staff", PASSWORD, "a login is 1 to 64 letters"),
    ("taken", "br-daliang", "staff", PASSWORD, "the login 'taken' is taken"),
])
def test_refused_accounts_say_why(db, login, unit, role, password, says):
    with db.transaction() as s:
        add_user(s, "taken", "某人", "br-daliang", "staff", PASSWORD, UNITS)
    with pytest.raises(AccountError, match=says), db.transaction() as s:
        add_user(s, login, "王小明", unit, role, password, UNITS)
