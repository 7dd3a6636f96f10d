"""Work waiting for a job, said in the transaction that makes it and heard when that transaction commits.

A ticket stored wakes the dispatch job, a message planned wakes the sender, an outbox row wakes delivery: the
time from source to phone is then seconds, not the sum of the jobs' intervals, which stay as the safety net.
In this process the jobs' subscribers are called after the commit (never before: the work would not be
visible yet; never after a rollback). On PostgreSQL the same word goes to every other process as a
NOTIFY, which the database itself delivers at commit, and `Listener` hears it there.
"""
from __future__ import annotations

import threading
from typing import Callable

import psycopg
import structlog
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from tickets.db import is_postgres

log = structlog.get_logger(__name__)

CHANNEL = "onequeue_wake"
JOBS = ("dispatch", "sms", "outbox", "watch")

_subscribers: dict[str, list[Callable[[], None]]] = {}
_lock = threading.Lock()
_installed = False


def work_for(session: Session, job: str) -> None:
    """Say, inside the transaction that makes it, that `job` has work; heard once that transaction commits."""
    pending = session.info.setdefault("wake", set())
    if job in pending:
        return
    pending.add(job)
    if is_postgres(session):
        session.execute(select(func.pg_notify(CHANNEL, job)))


def subscribe(job: str, callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` whenever `job` has work; returns the function that ends the subscription."""
    _install()
    with _lock:
        _subscribers.setdefault(job, []).append(callback)

    def unsubscribe() -> None:
        with _lock:
            if callback in _subscribers.get(job, []):
                _subscribers[job].remove(callback)
    return unsubscribe


def heard(job: str) -> None:
    """Tell this process's subscribers of `job` that it has work."""
    with _lock:
        callbacks = list(_subscribers.get(job, ()))
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a wake-up is a hint; the job's interval still runs it
            log.exception("wake_failed", job=job)


def _after_commit(session: Session) -> None:
    for job in sorted(session.info.pop("wake", ())):
        heard(job)


def _after_rollback(session: Session) -> None:
    session.info.pop("wake", None)


def _install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", lambda session, previous: _after_rollback(session))
        _installed = True


class Listener:
    """Hears the other processes' wake-ups on PostgreSQL (LISTEN on its own connection) and tells this
    process's subscribers. Reconnects after a lost connection; what it missed meanwhile the intervals catch."""

    def __init__(self, dsn: str, reconnect_seconds: float = 2.0):
        self.dsn, self.reconnect_seconds = dsn, reconnect_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wake-listener", daemon=True)
        self.listening = threading.Event()

    def start(self) -> "Listener":
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            if note.payload in JOBS:
                                heard(note.payload)
            except Exception as exc:  # the database restarted or the network dropped: listen again shortly
                self.listening.clear()
                log.warning("wake_listener_lost", error=type(exc).__name__)
                self._stop.wait(self.reconnect_seconds)


class JobRuns:
    """Runs a worker's jobs so that no wake-up is lost: one heard while the job runs makes it run again at
    once when it ends; one heard while it waits for its interval starts it now (`start_now`). A job never runs
    twice at the same time in this process: a second start while it runs only asks for one more round."""

    def __init__(self, start_now: Callable[[str], None], stopping: Callable[[], bool]):
        self.start_now, self.stopping = start_now, stopping
        self._lock = threading.Lock()
        self._running: set[str] = set()
        self._pending: set[str] = set()

    def wake(self, name: str) -> None:
        with self._lock:
            self._pending.add(name)
            if name in self._running:
                return
        if not self.stopping():
            self.start_now(name)

    def run(self, name: str, job: Callable[[], object]) -> None:
        with self._lock:
            if name in self._running:
                self._pending.add(name)
                return
            self._running.add(name)
        try:
            while True:
                with self._lock:
                    self._pending.discard(name)
                try:
                    job()
                except Exception:  # a job must never take the worker down; the next run tries again
                    log.exception("job_failed", job=name)
                with self._lock:
                    if name not in self._pending or self.stopping():
                        self._running.discard(name)
                        return
        except BaseException:
            with self._lock:
                self._running.discard(name)
            raise
