"""The ticket state machine of DESIGN.md: a transition not in the table is refused before anything changes."""
from __future__ import annotations

from tickets.vocabulary import STATUSES  # noqa: F401  (the states this table moves between)

# Re-dispatch (a reassignment) is a transition to "dispatched" from any working state; a unit that asks the back
# office to reassign a ticket sends it back to "triage" from any working state.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"dispatched", "triage", "withdrawn", "duplicate", "rejected"}),
    "triage": frozenset({"dispatched", "withdrawn", "duplicate", "rejected"}),
    "dispatched": frozenset({"dispatched", "accepted", "returned", "withdrawn", "triage", "rejected"}),
    "accepted": frozenset({"dispatched", "in_progress", "resolved", "returned", "withdrawn", "triage"}),
    "in_progress": frozenset({"dispatched", "resolved", "withdrawn", "triage"}),
    "resolved": frozenset({"closed", "in_progress"}),
    "returned": frozenset({"dispatched", "triage", "rejected", "withdrawn"}),
    "duplicate": frozenset({"new"}),
    "rejected": frozenset(),
    "withdrawn": frozenset(),
    "closed": frozenset(),
}

OPEN_STATUSES = frozenset({"new", "triage", "dispatched", "accepted", "in_progress", "returned"})
# "Open" as the queue's deadline index is built on (migration 0011): written out, not bound, so that both
# databases' planners see the index's own condition in the query; and as "none of the other states", so that
# SQLite, with no statistics gathered, cannot prefer the (status, due_at) index and sort what it finds.
OPEN_SQL = "status NOT IN (" + ", ".join(f"'{s}'" for s in sorted(set(STATUSES) - OPEN_STATUSES)) + ")"


class TransitionError(Exception):
    """A status change the state machine does not allow."""

    def __init__(self, number: str, from_status: str, to_status: str):
        allowed = ", ".join(sorted(TRANSITIONS.get(from_status, ()))) or "none (final state)"
        super().__init__(
            f"ticket {number} is {from_status}; it cannot become {to_status} (allowed from {from_status}: {allowed})"
        )
        self.from_status = from_status
        self.to_status = to_status


def check_transition(number: str, from_status: str, to_status: str) -> None:
    if to_status not in TRANSITIONS.get(from_status, frozenset()):
        raise TransitionError(number, from_status, to_status)
