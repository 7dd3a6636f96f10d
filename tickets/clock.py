"""The time a worker reads for claims and retries, injectable, so tests move it on instead of sleeping it out."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Optional


class Clock:
    """The system clock: UTC wall time for what is stored, a monotonic reading for how long a run has gone on."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM_CLOCK = Clock()


class ManualClock(Clock):
    """A clock that stands still until `advance` moves it (both readings together), for tests."""

    def __init__(self, start: Optional[datetime] = None):
        self._now = start or datetime.now(timezone.utc)
        self._monotonic = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._monotonic += seconds
