"""Replay: decide past tickets under a new rules file without changing anything, to see what would move."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from tickets.models import Ticket, TicketEvent

from dispatch.engine import Dispatcher
from dispatch.job import facts_in

TRIAGE = "triage"          # where a ticket no rule assigns goes
UNDECIDED = "undecided"    # (against the history) a ticket never dispatched, e.g. withdrawn first
DECISIONS = ("dispatched", "triage")


@dataclass(frozen=True)
class Move:
    """A ticket that would go elsewhere: from which unit to which, and the rules that decide each."""

    number: str
    before: str
    after: str
    before_rule: Optional[str]
    after_rule: Optional[str]


@dataclass
class Replay:
    since: datetime
    tickets: int = 0
    before: Counter = field(default_factory=Counter)
    after: Counter = field(default_factory=Counter)
    moves: list[Move] = field(default_factory=list)


def _where(decision) -> str:
    return TRIAGE if decision.triage or decision.unit_id is None else decision.unit_id


def replay(session: Session, new: Dispatcher, since: datetime, current: Optional[Dispatcher] = None,
           batch: int = 500) -> Replay:
    """Decide every ticket received since `since` under `new`, and compare with `current` (the rules
    running now) or, when `current` is None, with the last decision on each ticket's history. Reads only."""
    result = Replay(since)
    last_id = 0
    while True:
        tickets = list(session.scalars(
            select(Ticket).options(lazyload(Ticket.events))
            .where(Ticket.received_at >= since, Ticket.id > last_id).order_by(Ticket.id).limit(batch)))
        if not tickets:
            return result
        last_id = tickets[-1].id
        recorded = _recorded(session, [t.id for t in tickets]) if current is None else {}
        all_facts = facts_in(session, tickets)
        for ticket in tickets:
            facts = all_facts[ticket.id]
            if current is not None:
                old = current.decide(facts)
                before, before_rule = _where(old), old.rule_id
            else:
                before, before_rule = recorded.get(ticket.id, (UNDECIDED, None))
            fresh = new.decide(facts)
            after = _where(fresh)
            result.tickets += 1
            result.before[before] += 1
            result.after[after] += 1
            if after != before:
                result.moves.append(Move(ticket.number, before, after, before_rule, fresh.rule_id))


def _recorded(session: Session, ids: list[int]) -> dict[int, tuple[str, Optional[str]]]:
    """The last dispatch decision (by the rules or by staff) on each ticket's history."""
    found: dict[int, tuple[str, Optional[str]]] = {}
    rows = session.execute(select(TicketEvent.ticket_id, TicketEvent.action, TicketEvent.actor, TicketEvent.detail)
                           .where(TicketEvent.ticket_id.in_(ids), TicketEvent.action.in_(DECISIONS))
                           .order_by(TicketEvent.id))
    for ticket_id, action, actor, detail in rows:
        detail = detail or {}
        if action == "triage":
            found[ticket_id] = (TRIAGE, detail.get("rule"))
        else:
            rule = detail.get("rule") or (f"reassigned by {actor}" if detail.get("reassigned") else None)
            found[ticket_id] = (detail.get("unit") or UNDECIDED, rule)
    return found
