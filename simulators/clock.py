"""A clock that tests move by hand, to pass as a stand-in's `clock` (token expiry, GXSJ, deadlines)."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta


class ManualClock:
    """Callable like `datetime.now`; stands still until `advance()` or `set()`."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime (e.g. with +08:00)")
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        """Move forward by `seconds` (and/or timedelta keywords: minutes=, days=); returns the new time."""
        with self._lock:
            self._now += timedelta(seconds=seconds, **delta)
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment
