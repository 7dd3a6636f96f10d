"""What the HTTP stand-ins of source systems keep alike: their records listed in change order, with the
page that comes out of order on request; the log of the effects (write-backs) applied to those records; and
the generator of new records. Each copy handed out is a copy, so a test cannot change a stand-in's state."""
from __future__ import annotations

import bisect
import copy
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Optional


@dataclass
class Stored:
    """One record as a stand-in keeps it."""

    key: str  # the record's number, or an internal key for a record that has none
    record: dict
    changed: datetime  # when it last changed: the time the source lists, filters and pages by


class RecordStore:
    """A stand-in's records by key, listed oldest change first.

    Each stand-in says how its records are told apart when they changed in the same second (`tie_break`),
    how the next change time of a record is stamped from its last one (`stamp`, None for a new record), and
    in which field of the record, in which form, the change time shows (`time_field`, `time_text`).
    """

    def __init__(
        self,
        lock: threading.RLock,
        *,
        stamp: Callable[[Optional[datetime]], datetime],
        time_field: str,
        time_text: Callable[[datetime], str],
        tie_break: Callable[[Stored], str] = lambda stored: stored.key,
    ):
        self.lock = lock
        self._stamp = stamp
        self._time_field = time_field
        self._time_text = time_text
        self._tie_break = tie_break
        self._records: dict[str, Stored] = {}
        self._sorted: Optional[list[Stored]] = None  # listing order, rebuilt after a change
        self._sorted_times: list[datetime] = []  # their change times, to find a "since" by bisection
        self._unsorted_pages = 0

    def sort_key(self, stored: Stored) -> tuple[datetime, str]:
        """Where a record stands in the listing; a paging cursor may hold it."""
        return stored.changed, self._tie_break(stored)

    def __contains__(self, key: str) -> bool:
        with self.lock:
            return key in self._records

    def __len__(self) -> int:
        with self.lock:
            return len(self._records)

    def add(self, key: str, record: dict, changed: datetime) -> Stored:
        """Keep `record` under `key` as it stands (its time field already written), changed at `changed`."""
        with self.lock:
            stored = self._records[key] = Stored(key, record, changed)
            self._sorted = None
            return stored

    def replace(self, stored: Iterable[Stored]) -> None:
        """Hold exactly these records, e.g. the ones read back from a state file."""
        with self.lock:
            self._records = {s.key: s for s in stored}
            self._sorted = None

    def find(self, key: Optional[str]) -> Optional[Stored]:
        """The record kept under `key`, or None."""
        with self.lock:
            return self._records.get(key) if key else None

    def touch(self, stored: Stored) -> None:
        """The record changed: its change time moves forward and shows in its time field."""
        with self.lock:
            stored.changed = self._stamp(stored.changed)
            stored.record[self._time_field] = self._time_text(stored.changed)
            self._sorted = None

    def listing(self, since: Optional[datetime] = None) -> list[Stored]:
        """The records in listing order; with `since`, only those changed at or after it."""
        with self.lock:
            if self._sorted is None:
                self._sorted = sorted(self._records.values(), key=self.sort_key)
                self._sorted_times = [s.changed for s in self._sorted]
            if since is None:
                return list(self._sorted)
            return self._sorted[bisect.bisect_left(self._sorted_times, since):]

    def copies(self) -> list[dict]:
        """Copies of every record, in listing order."""
        with self.lock:
            return [copy.deepcopy(s.record) for s in self.listing()]

    def copies_by_key(self) -> dict[str, dict]:
        """Copies of every record by key, in the order they were added."""
        with self.lock:
            return {key: copy.deepcopy(s.record) for key, s in self._records.items()}

    def unsort_next_page(self, n: int = 1) -> None:
        """The next `n` pages read (of three records or more) come out of order, as from a source whose index
        lags its rows: the record in the middle of the page is changed as it is read and shows its new change
        time, later than every record after it, on this page and on the pages to come."""
        with self.lock:
            self._unsorted_pages += n

    def read_page(self, page: list[Stored]) -> list[dict]:
        """Copies of the records of a page as the list answer shows them (see `unsort_next_page`)."""
        with self.lock:
            if self._unsorted_pages and len(page) >= 3:
                self._unsorted_pages -= 1
                self.touch(page[len(page) // 2])
            return [copy.deepcopy(s.record) for s in page]


class EffectsLog:
    """The effects a stand-in applied, in order; a repeated request (same idempotency key) is not logged twice."""

    def __init__(self, lock: threading.RLock):
        self.lock = lock
        self.entries: list[dict] = []

    def add(self, entry: dict) -> None:
        with self.lock:
            self.entries.append(copy.deepcopy(entry))

    def copies(self) -> list[dict]:
        with self.lock:
            return copy.deepcopy(self.entries)

    def count(self, **match: Any) -> int:
        with self.lock:
            return sum(1 for e in self.entries if all(e.get(k) == v for k, v in match.items()))


class Generator:
    """Calls `make(batch)` every `seconds` on a background thread until stopped."""

    def __init__(self, name: str):
        self.name = name
        self._running: Optional[tuple[threading.Thread, threading.Event]] = None

    def start(self, seconds: float, batch: int, make: Callable[[int], Any]) -> None:
        self.stop()
        stopped = threading.Event()

        def run():
            while not stopped.wait(seconds):
                make(batch)

        thread = threading.Thread(target=run, name=f"{self.name}-generator", daemon=True)
        self._running = (thread, stopped)
        thread.start()

    def stop(self) -> None:
        if self._running:
            thread, stopped = self._running
            stopped.set()
            thread.join(timeout=2)
            self._running = None
