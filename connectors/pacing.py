"""Client-side pacing: stay under a source's or provider's published request rate instead of learning it from 429s."""
from __future__ import annotations

import threading
import time
from typing import Callable, Optional


class Pacer:
    """A token bucket: `wait()` blocks until one more request fits under `rate` per second (burst `burst`)."""

    def __init__(self, rate: Optional[float], burst: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.rate = rate
        self.burst = max(1.0, burst)
        self.clock = clock
        self.sleep = sleep
        self._tokens = self.burst
        self._last = clock()
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.rate:
            return
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return
            delay = (1 - self._tokens) / self.rate
            self._tokens = 0.0
            self._last = now + delay
        self.sleep(delay)
