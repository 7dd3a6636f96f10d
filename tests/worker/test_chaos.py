"""Three workers on one PostgreSQL database, one killed with SIGKILL every 3 to 6 seconds: every ticket is
dispatched once, every SMS sent once, every write-back applied once."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from cli.main import main as cli
from notify.models import SmsMessage
from simulators.testing import ROOT, write_config
from tickets import Database, Ticket, TicketEvent
from tickets.migrate import upgrade
from writeback import OutboxItem

ORDERS = 5000
WORKERS = 3


class Fleet:
    """Worker processes that can be killed and restarted."""

    def __init__(self, config: str):
        self.config = config
        self.procs = [self._start() for _ in range(WORKERS)]
        self.kills = 0

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, str(ROOT / "worker.py"), "--config", self.config], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill_one(self, rng: random.Random) -> None:
        i = rng.randrange(len(self.procs))
        os.kill(self.procs[i].pid, signal.SIGKILL)
        self.procs[i].wait()
        self.kills += 1
        self.procs[i] = self._start()

    def stop(self) -> None:
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def _until(db: Database, fleet: Fleet, done, seconds: float, rng: random.Random, what: str) -> None:
    deadline = time.monotonic() + seconds
    next_kill = time.monotonic() + 4
    while time.monotonic() < deadline:
        with db.transaction() as s:
            if done(s):
                return
        if time.monotonic() >= next_kill:
            fleet.kill_one(rng)
            next_kill = time.monotonic() + rng.uniform(3, 6)
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.postgres_only
def test_three_workers_under_sigkill_do_every_effect_once(tmp_path, db_url, hotline, sms_provider):
    rng = random.Random(6)
    hotline.add_orders(ORDERS)
    config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, page_size=200, claim_seconds=3)
    db = Database(db_url)
    upgrade(db.engine)
    fleet = Fleet(config)
    try:
        # every order dispatched (or in triage) and every planned SMS sent, while workers are being killed
        def intake_done(s):
            new = s.scalar(select(func.count()).select_from(Ticket).where(Ticket.status == "new"))
            total = s.scalar(select(func.count()).select_from(Ticket))
            unsent = s.scalar(select(func.count()).select_from(SmsMessage)
                              .where(SmsMessage.status.in_(("pending", "sending"))))
            return total == ORDERS and new == 0 and unsent == 0

        _until(db, fleet, intake_done, 1200, rng, "intake, dispatch and SMS")
        with db.transaction() as s:
            dispatched = list(s.scalars(select(Ticket.number).where(Ticket.status == "dispatched")))
        # staff resolve them all while the killing goes on
        assert cli(["--config", config, "tickets", "resolve", *dispatched, "--result", "已处理完毕"]) == 0

        def writeback_done(s):
            return s.scalar(select(func.count()).select_from(OutboxItem).where(OutboxItem.status != "delivered")) == 0

        _until(db, fleet, writeback_done, 1200, rng, "every write-back")
    finally:
        fleet.stop()
    assert fleet.kills >= 3

    with db.transaction() as s:
        tickets = s.scalars(select(Ticket)).all()
        dispatch_events = Counter(s.scalars(select(TicketEvent.ticket_id).where(TicketEvent.action == "dispatched")))
        sms_rows = s.scalar(select(func.count()).select_from(SmsMessage))
    db.dispose()
    # every order is one ticket, dispatched at most once
    assert sorted(t.source_ref for t in tickets) == sorted(o["GDBH"] for o in hotline.orders)
    assert max(dispatch_events.values()) == 1
    # every SMS went out once
    sent = Counter((m["to"], m["body"]) for m in sms_provider.messages)
    assert max(sent.values()) == 1 and len(sms_provider.messages) == sms_rows
    # every write-back was applied once
    for t in tickets:
        if t.number in set(dispatched):
            assert hotline.effect_count(t.source_ref, "sign") == 1
            assert hotline.effect_count(t.source_ref, "reply") == 1
            assert hotline.get(t.source_ref)["ZT"] == "已办结"
