"""The poll job: pull a channel batch by batch, each batch stored with its cursor in one transaction."""
from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import structlog
from sqlalchemy.orm import Session

from connectors.base import Batch, Connector
from settings.masking import error_summary
from tickets import store
from tickets.db import Database
from tickets.store import IngestResult

log = structlog.get_logger("connectors.poll")

IngestHook = Callable[[Session, IngestResult], None]


@dataclass
class PollReport:
    channel: str
    skipped: bool = False
    stopped: bool = False   # the worker was stopping: the poll ended between batches, the rest left to the next
    batches: int = 0
    created: int = 0
    updated: int = 0
    quarantined: int = 0
    error: str | None = None
    created_ids: list[int] = field(default_factory=list)


class LeaseLost(Exception):
    pass


_END = object()


def asked_until(batches: Iterator[Batch], stopping: Callable[[], bool]) -> Iterator[Batch]:
    """The batches of `batches`, asking the source for no next one once `stopping()` says so. A batch asked
    for before is still handed on: the source has answered it, or is answering, and it goes in with its cursor."""
    while not stopping():
        try:
            batch = next(batches)
        except StopIteration:
            return
        yield batch


def read_ahead(batches: Iterator[Batch]) -> Iterator[Batch]:
    """The batches of `batches`, each next one fetched on a thread while the caller stores the one before, so
    the source's answer time and our storing overlap. An error of the source comes out where the batch would
    have; when the caller stops early, the thread stops after the fetch in flight (its batch is dropped, its
    cursor never saved)."""
    ahead: queue.Queue = queue.Queue(maxsize=1)
    done = threading.Event()

    def hand_over(item) -> bool:
        while not done.is_set():
            try:
                ahead.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            for batch in batches:
                if not hand_over(batch):
                    break
            else:
                hand_over(_END)
        except BaseException as exc:  # handed to the caller, who records it as the poll's error
            hand_over(exc)
        finally:
            if done.is_set():
                batches.close() if hasattr(batches, "close") else None

    threading.Thread(target=fetch, name="poll-read-ahead", daemon=True).start()
    try:
        while True:
            item = ahead.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        done.set()


def poll_channel(
    db: Database,
    connector: Connector,
    owner: str,
    *,
    max_batches: int = 100,
    lease_seconds: float = 120.0,
    hooks: Iterable[IngestHook] = (),
    stopping: Callable[[], bool] = lambda: False,
) -> PollReport:
    """Pull what is new. Only one worker polls a channel at a time; a crash repeats a batch, never skips one.

    When `stopping()` says the worker is stopping, the poll ends between batches: each batch is stored with its
    cursor, so the next poll (in this worker or another) goes on from there."""
    name = connector.name
    report = PollReport(name)
    bound = log.bind(connector=name)
    if stopping():
        report.stopped = True
        return report
    with db.transaction() as s:
        lease = store.take_channel_lease(s, name, owner, lease_seconds)
        cursor = lease.cursor if lease else None
    if lease is None:
        report.skipped = True
        return report
    pulled = asked_until(connector.pull(cursor), stopping)
    try:
        for batch in (read_ahead(pulled) if connector.read_ahead else pulled):
            with db.transaction() as s:
                if not store.save_cursor(s, name, owner, batch.cursor, lease_seconds):
                    raise LeaseLost(f"lease on channel {name} was taken over")
                result = store.ingest(s, name, connector.kind, batch.records)
                store.quarantine(s, name, batch.bad)
                for hook in hooks:
                    hook(s, result)
            report.batches += 1
            report.created += len(result.created)
            report.updated += len(result.updated)
            report.quarantined += len(batch.bad)
            report.created_ids.extend(result.created)
            for bad in batch.bad:
                bound.warning("record_quarantined", source_ref=bad.source_ref, reason=bad.reason)
            if report.batches >= max_batches:
                break
            # Stopping, the poll asks for no next page (which may take its retries and timeouts); a page asked
            # for already (read ahead) is still stored, so the poll ends the same however the threads ran.
            report.stopped = stopping()
        if report.stopped:
            bound.info("poll_stopped", batches=report.batches)
    except Exception as exc:  # the source, the network or the database: record it and come back next time
        report.error = error_summary(exc)
        bound.warning("poll_failed", error=report.error, batches=report.batches)
        with db.transaction() as s:
            store.release_channel_lease(s, name, owner, error=report.error)
        return report
    with db.transaction() as s:
        store.release_channel_lease(s, name, owner)
    if report.created or report.updated or report.quarantined:
        bound.info("polled", batches=report.batches, created=report.created, updated=report.updated,
                   quarantined=report.quarantined)
    return report
