"""The cursor of kinds that read a source by change time: how far a pull has surely read, what it stores, the
lag it shows. A page out of order must never move the cursor past records the source has not listed yet."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Optional, Sequence


def page_end(times: Sequence[datetime]) -> Optional[datetime]:
    """How far in change time a page has surely read, in the order the source listed it: its last record's
    time; for a page out of order, the earliest time from where its order breaks. (A late record inside a
    page says nothing of the records between the page's end and it: they come on the pages after.)"""
    for i in range(1, len(times)):
        if times[i] < times[i - 1]:
            return min(times[i:])
    return times[-1] if times else None


class ChangeCursor:
    """What a pull by change time has read: `newest`, the newest change seen, and `read_to`, before which
    every change has surely been read. A pull stopped inside a query stores `read_to`; a finished one `newest`."""

    def __init__(self, cursor: Optional[str]):
        self.state: dict[str, Any] = json.loads(cursor) if cursor else {}
        since = self.state.get("since")
        self.newest: Optional[datetime] = datetime.fromisoformat(since) if since else None
        self.read_to = self.newest

    def page(self, times: Sequence[datetime]) -> Optional[datetime]:
        """Take a page's change times in the order listed; returns how far it has surely read."""
        end = page_end(times)
        if times:
            top = max(times)
            self.newest = top if self.newest is None else max(self.newest, top)
        if end is not None and (self.read_to is None or end > self.read_to):
            self.read_to = end
        return end

    def dump(self, finished: bool, **resume: Any) -> Optional[str]:
        """The cursor to store with a batch: where the next poll starts, and where this query goes on."""
        since = self.newest if finished else self.read_to
        if since is None and not resume:
            return None
        return json.dumps(({"since": since.isoformat()} if since else {}) | resume)


def cursor_since(cursor: Optional[str]) -> Optional[datetime]:
    """The change time a stored cursor has passed, if any."""
    return ChangeCursor(cursor).newest


def cursor_lag(cursor: Optional[str], now: datetime) -> Optional[float]:
    """Seconds between `now` and the newest change the cursor has passed."""
    since = cursor_since(cursor)
    return None if since is None else max(0.0, (now - since).total_seconds())
