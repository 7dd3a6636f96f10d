"""A worker killed with SIGKILL mid-batch and started again loses no ticket and sends no SMS twice."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from notify.models import SmsMessage
from simulators.testing import ROOT, wait_for, write_config
from tickets import Database, Ticket

ORDERS = 1200


def _start(config: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "worker.py"), "--config", config], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_sigkill_mid_batch_loses_nothing_and_sends_nothing_twice(tmp_path, db_url, hotline, sms_provider):
    # given 1,200 orders at a slowish hotline
    hotline.add_orders(ORDERS)
    hotline.latency = 0.05
    config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, page_size=100, claim_seconds=2)
    pages = {"n": 0}
    hotline.on_list = lambda _r: pages.__setitem__("n", pages["n"] + 1)

    procs: list[subprocess.Popen] = []
    try:
        # when the worker is killed while it pages through the orders
        procs.append(_start(config))
        wait_for(lambda: pages["n"] >= 4, "the worker to read some pages", 60)
        os.kill(procs[-1].pid, signal.SIGKILL)
        procs[-1].wait()
        # and killed again, after a restart, while it sends SMS
        time.sleep(2.5)
        procs.append(_start(config))
        wait_for(lambda: len(sms_provider.messages) >= 300, "SMS to be under way", 120)
        os.kill(procs[-1].pid, signal.SIGKILL)
        procs[-1].wait()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    # and started again once its claims have lapsed, running its jobs until the SMS are all out (a send run
    # hands back what it has not sent after half a claim, one second here, for the next run)
    time.sleep(2.5)
    db = Database(db_url)
    runs = 0
    deadline = time.monotonic() + 300
    while True:
        done = subprocess.run([sys.executable, str(ROOT / "worker.py"), "--config", config, "--once"], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        runs += 1
        with db.transaction() as s:
            unsent = s.scalar(select(func.count()).select_from(SmsMessage)
                              .where(SmsMessage.status.in_(("pending", "sending"))))
        if not unsent:
            break
        assert time.monotonic() < deadline, f"{unsent} SMS still unsent after {runs} runs"

    # then every order is a ticket, once
    with db.transaction() as s:
        tickets = s.scalars(select(Ticket)).all()
        sms_rows = s.scalars(select(SmsMessage)).all()
    db.dispose()
    assert sorted(t.source_ref for t in tickets) == sorted(o["GDBH"] for o in hotline.orders)
    # and every planned SMS went out exactly once
    sent = Counter((m["to"], m["body"]) for m in sms_provider.messages)
    assert max(sent.values()) == 1
    assert {r.status for r in sms_rows} <= {"sent", "delivered"}
    assert len(sms_provider.messages) == len(sms_rows)
    # and every dispatched ticket reached its unit
    dispatched = [t for t in tickets if t.status == "dispatched"]
    assert dispatched and {r.ticket_id for r in sms_rows} == {t.id for t in dispatched}
