"""A stored ticket wakes dispatch and a dispatch wakes the sender: the station's phone buzzes seconds after the
source has the order, however long the jobs' intervals are; on PostgreSQL another process's work wakes this
one too; no wake-up is lost while a job runs, and a job never runs twice at once."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select

from settings.config_schema import load_config
from simulators.testing import wait_for, write_config
from tickets import Database, Ticket, wake
from tickets.migrate import upgrade
from worker import Worker

LONG = 600  # seconds: no job comes round again on its interval during a test


def _slow_intervals(path: str) -> str:
    text = Path(path).read_text(encoding="utf-8")
    for job in ("dispatch", "sms", "outbox"):
        text = text.replace(f"{job}_seconds: 0.5", f"{job}_seconds: {LONG}")
    Path(path).write_text(text.replace("poll_seconds: 0.5", "poll_seconds: 1"), encoding="utf-8")
    return path


@pytest.fixture
def worker(tmp_path, db_url, hotline, sms_provider):
    w = Worker(load_config(_slow_intervals(write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider))))
    w.start()
    yield w
    w.stop()


def test_an_order_at_the_source_reaches_the_stations_phone_in_seconds_not_intervals(worker, hotline, sms_provider):
    # given the worker has run each job once and now waits ten minutes for dispatch and sms to come round
    time.sleep(1.5)
    already = len(sms_provider.messages)

    # when the hotline takes an order
    (order,) = hotline.add_orders(1)
    asked = time.monotonic()

    # then it is polled, dispatched and texted within seconds, long before the intervals
    wait_for(lambda: len(sms_provider.messages) > already, "the dispatch SMS at the provider", seconds=15)
    assert time.monotonic() - asked < 10
    with worker.db.transaction() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.source_ref == order["GDBH"])).one()
        assert ticket.status == "dispatched"
    assert any(ticket.number in m["body"] for m in sms_provider.messages[already:])


def test_work_is_heard_after_commit_and_never_after_a_rollback(db_url):
    db = Database(db_url)
    upgrade(db.engine)
    heard = []
    stop = wake.subscribe("outbox", lambda: heard.append("outbox"))
    try:
        with db.transaction() as s:
            wake.work_for(s, "outbox")
            assert heard == []  # not yet: the work is not visible to others before the commit
        assert heard == ["outbox"]
        with pytest.raises(RuntimeError):
            with db.transaction() as s:
                wake.work_for(s, "outbox")
                raise RuntimeError("the change fails")
        with db.transaction() as s:
            pass
        assert heard == ["outbox"]
    finally:
        stop()
        db.dispose()


@pytest.mark.postgres_only
def test_on_postgresql_another_process_wakes_this_one(db_url):
    db = Database(db_url)
    heard = threading.Event()
    stop = wake.subscribe("sms", heard.set)
    listener = wake.Listener(db.libpq_dsn()).start()
    try:
        assert listener.listening.wait(10)
        # another process commits a message planned for sending
        with psycopg.connect(db.libpq_dsn(), autocommit=True) as other:
            other.execute("SELECT pg_notify(%s, 'sms')", (wake.CHANNEL,))
        assert heard.wait(10)
    finally:
        listener.stop()
        stop()
        db.dispose()


def test_a_wake_up_while_the_job_runs_runs_it_once_more_and_never_twice_at_once():
    started, finished = [], []
    inside = threading.Event()
    release = threading.Event()
    at_once = []
    lock = threading.Lock()
    running = [0]

    def job():
        with lock:
            running[0] += 1
            at_once.append(running[0])
        started.append(time.monotonic())
        if len(started) == 1:
            inside.set()
            release.wait(5)
        with lock:
            running[0] -= 1
        finished.append(time.monotonic())

    starts = []
    runs = wake.JobRuns(start_now=lambda name: starts.append(name), stopping=lambda: False)
    first = threading.Thread(target=runs.run, args=("dispatch", job))
    first.start()
    assert inside.wait(5)
    runs.wake("dispatch")                # work arrives while the job runs
    runs.run("dispatch", job)            # and the interval fires meanwhile: it must not run alongside
    release.set()
    first.join(5)

    assert len(started) == 2             # once more for the work that came in, not three times
    assert max(at_once) == 1
    assert starts == []                  # it was running: no new start was asked of the scheduler
    runs.wake("dispatch")                # idle now: a wake-up asks the scheduler to start it
    assert starts == ["dispatch"]
