"""Clocks follow the ticket's history: any change that may start or stop a clock (accepted by SMS reply, resolved
on the command line, withdrawn at the source) makes the ticket's clocks due for the scan at once, in the same
transaction as the change. The scan then reads the history and starts or stops them; without this the
scan still does so, at the clock's next reminder point."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import event, update

from sla.models import TicketClock
from tickets.models import TicketEvent

# "As soon as possible", whatever the scan's notion of now (tests run it at simulated times).
ASAP = datetime(2000, 1, 1, tzinfo=timezone.utc)
# Status changes that neither start nor stop a clock; a re-dispatch keeps every clock as it is.
_QUIET = frozenset({None, "new", "triage", "dispatched"})
# The unit reported contact; the source changed the ticket (its own deadline may have moved).
_ACTIONS = frozenset({"contacted", "source_updated"})

_installed = False
_t = TicketClock.__table__


def _poke(_mapper, connection, ev: TicketEvent) -> None:
    if ev.to_status in _QUIET and ev.action not in _ACTIONS:
        return
    connection.execute(update(_t)
                       .where(_t.c.ticket_id == ev.ticket_id, _t.c.stopped_at.is_(None))
                       .values(next_action_at=ASAP))


def follow_ticket_events() -> None:
    """Install the listener (once per process); the worker and the command line call this."""
    global _installed
    if not _installed:
        event.listen(TicketEvent, "after_insert", _poke)
        _installed = True
