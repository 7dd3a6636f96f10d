"""What the HTTP stand-ins of source systems keep alike: the log of the effects (write-backs) applied to their
records, each copy handed out so a test cannot change the stand-in's state, and the generator of new records."""
from __future__ import annotations

import copy
import threading
from typing import Any, Callable, Optional


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
