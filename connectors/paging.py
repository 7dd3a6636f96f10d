"""The paginators of the kinds that list a source's records by change time: where the next page starts (a page
number, an opaque cursor, or a change time), learnt from each answer, and what a stored cursor keeps of it."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, Optional

from connectors.base import CursorExpired, SourceUnavailable

__all__ = ["ChangeTimes", "CursorExpired", "OpaqueCursors", "PageNumbers", "Paginator"]


class Paginator:
    """Where the page to ask for starts: the query's change time `since`, and within it a `page` number or an
    opaque `token`. `advance` learns from a page whether another follows and where."""

    def __init__(self, since: Optional[datetime]):
        self.since = since
        self.page: Optional[int] = None
        self.token: Optional[str] = None
        self.finished = False

    def advance(self, items: list, answer: Any, end: Optional[datetime]) -> None:
        """Take a page: its raw items, the whole answer, and how far in change time it has surely read."""
        raise NotImplementedError

    def resume(self) -> dict[str, Any]:
        """What a stored cursor keeps to take this query up at its next page."""
        return {"query_since": self.since.isoformat()} if self.since else {}

    def take_up(self, state: dict[str, Any]) -> bool:
        """Go on with a query a stored cursor left unfinished; False when it left none."""
        if not state.get("query_since"):
            return False
        self.since = datetime.fromisoformat(state["query_since"])
        return True

    restarts = 0

    def restart(self, since: Optional[datetime]) -> None:
        """Start the query again from `since`, its paging cursor expired."""
        raise SourceUnavailable(f"the source refused a paging cursor, but {type(self).__name__} sends none")


class PageNumbers(Paginator):
    """Pages by number from `first`; a page shorter than `size` is the last."""

    def __init__(self, since: Optional[datetime], size: int, first: int = 1):
        super().__init__(since)
        self.size = size
        self.page = first

    def advance(self, items: list, answer: Any, end: Optional[datetime]) -> None:
        if len(items) < self.size:
            self.finished = True
        else:
            self.page += 1


class OpaqueCursors(Paginator):
    """Pages by the cursor each answer gives for the next (`next_of`); none, or an empty page, is the last.
    A cursor the source no longer knows restarts the query from `since`, at most `max_restarts` times a pull."""

    def __init__(self, since: Optional[datetime], next_of: Callable[[Any], Optional[str]], max_restarts: int = 0):
        super().__init__(since)
        self.next_of = next_of
        self.max_restarts = max_restarts
        self.restarts = 0

    def advance(self, items: list, answer: Any, end: Optional[datetime]) -> None:
        self.token = self.next_of(answer) if items else None
        self.finished = not self.token

    def resume(self) -> dict[str, Any]:
        return super().resume() | {"next": self.token}

    def take_up(self, state: dict[str, Any]) -> bool:
        if not state.get("next") or not super().take_up(state):
            return False
        self.token = state["next"]
        return True

    def restart(self, since: Optional[datetime]) -> None:
        self.restarts += 1
        if self.restarts > self.max_restarts:
            raise SourceUnavailable(f"paging cursors expired {self.restarts} times in one pull")
        self.since, self.token = since, None


class ChangeTimes(Paginator):
    """Each next page asks again from where the page before surely ends (less `step_back`), so pages that shift
    as records change, and a page out of order, skip nothing; a page shorter than `size` is the last. When a
    whole page shares its time, `numbered` sources step to the next page number of the same query; others
    cannot pass it and say so."""

    def __init__(self, since: Optional[datetime], size: int, step_back: timedelta, numbered: bool = False):
        super().__init__(since)
        self.size = size
        self.step_back = step_back
        self.numbered = numbered
        self.page = 1 if numbered else None

    def advance(self, items: list, answer: Any, end: Optional[datetime]) -> None:
        if len(items) < self.size:
            self.finished = True
            return
        reached = end or self.since
        restart = reached - self.step_back if reached else None
        if restart is not None and (self.since is None or restart > self.since):
            self.since, self.page = restart, (1 if self.numbered else None)
        elif self.numbered:
            self.page += 1  # a whole page within the step back: step on so the pull always progresses
        else:
            at = self.since.isoformat() if self.since else "no time"
            raise SourceUnavailable(f"{len(items)} records share one time at {at}: "
                                    "raise the page size (paging.size) so a page can pass them")

    def resume(self) -> dict[str, Any]:
        return super().resume() | ({"page": self.page} if self.numbered else {})

    def take_up(self, state: dict[str, Any]) -> bool:
        if not super().take_up(state):
            return False
        if self.numbered:
            # a page back: records changed meanwhile move to the end, pulling later ones onto earlier pages
            self.page = max(1, int(state.get("page", 1)) - 1)
        return True
