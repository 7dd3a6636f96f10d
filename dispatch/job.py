"""The dispatch job: decide every new ticket, record the decision on its history, and hand it on."""
from __future__ import annotations

from typing import Callable, Iterable, Optional

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.groups import pick_unit
from tickets import store
from tickets.db import Database, is_postgres
from tickets.duplicates import DuplicatePolicy, link_if_duplicate
from tickets.models import Ticket

log = structlog.get_logger("dispatch")

# Called in the dispatch transaction for each dispatched ticket with its unit and the `dispatched` event
# (the worker wires notify and the deadline clocks here).
DispatchHook = Callable[[Session, Ticket, object, object], None]


def facts_of(ticket: Ticket):
    from dispatch import TicketFacts

    return TicketFacts(
        channel=ticket.channel, channel_kind=ticket.channel_kind, kind=ticket.kind, title=ticket.title or "",
        text=ticket.text or "", event_address=ticket.event_address, business_name=ticket.business_name,
        business_address=ticket.business_address, area_code=ticket.area_code,
        amount=float(ticket.amount) if ticket.amount is not None else None, priority=ticket.priority,
        walk_in_station=ticket.intake_station,
    )


def dispatch_new(db: Database, dispatcher, hooks: Iterable[DispatchHook] = (), limit: int = 200,
                 duplicates: Optional[DuplicatePolicy] = None) -> int:
    """Decide up to `limit` new tickets per transaction until none are left; returns how many were decided.
    With `duplicates`, a ticket that repeats an open one is linked to it instead of being dispatched."""
    hooks = list(hooks)
    total = 0
    while True:
        with db.transaction() as s:
            stmt = select(Ticket).where(Ticket.status == "new").order_by(Ticket.id).limit(limit)
            if is_postgres(s):
                stmt = stmt.with_for_update(skip_locked=True)
            batch = list(s.scalars(stmt))
            for ticket in batch:
                decide_one(s, ticket, dispatcher, hooks, duplicates=duplicates)
        total += len(batch)
        if len(batch) < limit:
            return total


def decide_one(session: Session, ticket: Ticket, dispatcher, hooks: list[DispatchHook], actor: str = "dispatch",
               duplicates: Optional[DuplicatePolicy] = None) -> None:
    if duplicates is not None and link_if_duplicate(session, ticket, duplicates, actor):
        return
    decision = dispatcher.decide(facts_of(ticket))
    ticket.town = decision.town
    ticket.station = decision.station
    ticket.category = decision.category or ticket.category
    ticket.priority = decision.priority or ticket.priority
    detail = {
        "rule": decision.rule_id, "reason": decision.reason, "unit": decision.unit_id, "town": decision.town,
        "station": decision.station, "place_method": decision.place_method,
        "place_confidence": decision.place_confidence, "category": decision.category, "priority": decision.priority,
    }
    bound = log.bind(ticket_id=ticket.id, unit=decision.unit_id, rule=decision.rule_id)
    if decision.unit_id is None or decision.triage:
        store.transition(session, ticket, "triage", actor, "triage", detail)
        bound.info("ticket_to_triage", reason=decision.reason)
        return
    unit_id = decision.unit_id
    if decision.group_units:    # an assign_group rule: pick the unit against the database, in this transaction
        unit_id = pick_unit(session, decision.rule_id, decision.group_units, decision.group_strategy)
        detail.update(unit=unit_id, strategy=decision.group_strategy, group=list(decision.group_units))
        bound = bound.bind(unit=unit_id, strategy=decision.group_strategy)
    event = store.transition(session, ticket, "dispatched", actor, "dispatched", detail)
    ticket.assigned_unit = unit_id
    unit = dispatcher.units.get(unit_id)
    for hook in hooks:
        hook(session, ticket, unit, event)
    bound.info("ticket_dispatched")
