"""The dispatch job: decide every new ticket, record the decision on its history, and hand it on."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Sequence

import structlog
from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, defer, lazyload

from dispatch.groups import pick_unit
from settings.masking import error_summary
from tickets import store
from tickets.db import Database, is_postgres
from tickets.duplicates import DuplicatePolicy, link_duplicates
from tickets.models import Ticket
from watch.watchlist import watched_tickets

log = structlog.get_logger("dispatch")


# What deciding a ticket (and its hooks: the deadline sets due_at) changes on it.
DECIDED_FIELDS = ("status", "updated_at", "town", "station", "category", "priority", "assigned_unit", "due_at")


@dataclass(frozen=True)
class Dispatched:
    """A ticket this batch dispatched: its unit (None if the unit is unknown) and its `dispatched` event."""

    ticket: Ticket
    unit: object
    event_id: int


# Called in the dispatch transaction with every ticket the batch dispatched (the worker wires notify and the
# deadline clocks here, each with a statement or two for the whole batch).
DispatchHook = Callable[[Session, list[Dispatched]], None]


def facts_of(ticket: Ticket, watched: bool = False):
    from dispatch import TicketFacts

    return TicketFacts(
        channel=ticket.channel, channel_kind=ticket.channel_kind, kind=ticket.kind, title=ticket.title or "",
        text=ticket.text or "", event_address=ticket.event_address, business_name=ticket.business_name,
        business_address=ticket.business_address, area_code=ticket.area_code,
        amount=float(ticket.amount) if ticket.amount is not None else None, priority=ticket.priority,
        walk_in_station=ticket.intake_station, business_watched=watched,
    )


def facts_in(session: Session, tickets: Sequence[Ticket]) -> dict[int, object]:
    """The facts of these tickets by id, with whether their business is on the watch list (explain, replay)."""
    watched = watched_tickets(session, tickets)
    return {t.id: facts_of(t, t.id in watched) for t in tickets}


def dispatch_new(db: Database, dispatcher, hooks: Iterable[DispatchHook] = (), limit: int = 200,
                 duplicates: Optional[DuplicatePolicy] = None) -> int:
    """Decide up to `limit` new tickets per transaction until none are left; returns how many were decided.
    With `duplicates`, a ticket that repeats an open one is linked to it instead of being dispatched.
    A batch that fails is decided again one ticket per transaction: one ticket that fails does not hold the
    others back, it goes to triage with the error on its history."""
    hooks = list(hooks)
    total = 0
    while True:
        ids: list[int] = []
        try:
            with db.transaction() as s:
                batch = list(s.scalars(_new_tickets(s).limit(limit)))
                ids = [t.id for t in batch]
                decide(s, batch, dispatcher, hooks, duplicates=duplicates)
        except TRANSIENT:
            raise  # the database, not a ticket: the next run tries the batch again
        except Exception as exc:
            if not ids:
                raise
            log.warning("dispatch_batch_failed", tickets=len(ids), error=error_summary(exc))
            for ticket_id in ids:
                _decide_alone(db, ticket_id, dispatcher, hooks, duplicates)
        total += len(ids)
        if len(ids) < limit:
            return total


# Errors of the database or the connection to it, which say nothing about the ticket being decided.
TRANSIENT = (OperationalError, InterfaceError)


def _new_tickets(s: Session, ticket_id: Optional[int] = None):
    # Deciding reads neither the source's record nor the history (loaded with a ticket unless told not).
    stmt = (select(Ticket).options(defer(Ticket.payload), lazyload(Ticket.events))
            .where(Ticket.status == "new").order_by(Ticket.id))
    if ticket_id is not None:
        stmt = stmt.where(Ticket.id == ticket_id)
    return stmt.with_for_update(skip_locked=True) if is_postgres(s) else stmt


def _decide_alone(db: Database, ticket_id: int, dispatcher, hooks: list[DispatchHook],
                  duplicates: Optional[DuplicatePolicy]) -> None:
    """Decide one ticket in its own transaction; if that fails, send it to triage with the error."""
    try:
        with db.transaction() as s:
            decide(s, list(s.scalars(_new_tickets(s, ticket_id))), dispatcher, hooks, duplicates=duplicates)
        return
    except TRANSIENT:
        raise
    except Exception as exc:
        error = error_summary(exc)
    with db.transaction() as s:
        ticket = s.scalars(_new_tickets(s, ticket_id)).first()
        if ticket is None:  # another worker decided it meanwhile
            return
        store.transition(s, ticket, "triage", "dispatch", FAILED_ACTION, {"error": error})
    log.error("ticket_dispatch_failed", ticket_id=ticket_id, error=error)


FAILED_ACTION = "dispatch_failed"


def decide(session: Session, tickets: list[Ticket], dispatcher, hooks: list[DispatchHook], actor: str = "dispatch",
           duplicates: Optional[DuplicatePolicy] = None) -> None:
    """Decide new tickets in one transaction, in id order, as if one by one: duplicates are linked, the others
    go to triage or are dispatched. The statements are per batch, not per ticket (but for group rules)."""
    tickets = sorted(tickets, key=lambda t: t.id)
    if duplicates is not None:
        linked = link_duplicates(session, tickets, duplicates, actor)
        tickets = [t for t in tickets if t.id not in linked]
    moves: list[tuple[Ticket, str, str, dict]] = []
    units: list[Optional[str]] = []
    watched = watched_tickets(session, tickets)   # the watch list, for rules that ask `business_watched`
    for ticket in tickets:
        decision = dispatcher.decide(facts_of(ticket, ticket.id in watched))
        ticket.town = decision.town
        ticket.station = decision.station
        ticket.category = decision.category or ticket.category
        ticket.priority = decision.priority or ticket.priority
        detail = {
            "rule": decision.rule_id, "reason": decision.reason, "unit": decision.unit_id, "town": decision.town,
            "station": decision.station, "place_method": decision.place_method,
            "place_confidence": decision.place_confidence, "category": decision.category,
            "priority": decision.priority,
        }
        if decision.place_found:
            detail["place_found"] = decision.place_found
        if decision.place_candidates:
            detail["place_candidates"] = list(decision.place_candidates)
        if decision.place_note:
            detail["place_note"] = decision.place_note
        if decision.unit_id is None or decision.triage:
            moves.append((ticket, "triage", "triage", detail))
            units.append(None)
            log.info("ticket_to_triage", ticket_id=ticket.id, rule=decision.rule_id, reason=decision.reason)
            continue
        unit_id = decision.unit_id
        if decision.group_units:    # an assign_group rule: pick the unit against the database, in this transaction
            unit_id = pick_unit(session, decision.rule_id, decision.group_units, decision.group_strategy)
            detail.update(unit=unit_id, strategy=decision.group_strategy, group=list(decision.group_units))
        ticket.assigned_unit = unit_id  # before the next pick, so least_open counts it
        moves.append((ticket, "dispatched", "dispatched", detail))
        units.append(unit_id)
    event_ids = store.transition_many(session, moves, actor)
    dispatched = []
    for (ticket, to_status, _, detail), unit_id, event_id in zip(moves, units, event_ids):
        if to_status != "dispatched":
            continue
        dispatched.append(Dispatched(ticket, dispatcher.units.get(unit_id), event_id))
        log.info("ticket_dispatched", ticket_id=ticket.id, unit=unit_id, rule=detail["rule"])
    for hook in hooks:
        hook(session, dispatched)
    store.save_fields(session, [ticket for ticket, *_ in moves], DECIDED_FIELDS)
