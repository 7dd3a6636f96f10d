"""What the tests of a running worker's rules share: whether its tickets have been decided, what `onequeue
health` says of its rules, and its JSON log lines kept off stdout."""
from __future__ import annotations

import io
import json
import logging

import pytest
import structlog
from sqlalchemy import select

from cli.main import main as cli
from settings.logging_setup import configure_logging
from tickets import Database, Ticket


def decided(db: Database, count: int):
    """The tickets in order, once `count` of them have been decided (dispatched or sent to triage)."""
    with db.transaction() as s:
        tickets = s.scalars(select(Ticket).order_by(Ticket.id)).all()
    if len(tickets) >= count and all(t.status != "new" for t in tickets):
        return tickets
    return None


def rules_health(config: str, capsys) -> dict:
    """What `onequeue health --json` says of the running rules."""
    capsys.readouterr()
    assert cli(["--config", config, "health", "--json"]) == 0
    return json.loads(capsys.readouterr().out)["rules"]


@pytest.fixture
def worker_logs():
    """The worker's JSON log lines, kept here as `onequeue run` would write them (off stdout, where
    `health --json` answers); logging is put back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("warning", stream=stream)
    yield stream
    root.handlers[:], root.level = handlers, level
    structlog.reset_defaults()
