"""Picking the unit of an `assign_group` rule, inside the dispatch transaction (the engine stays pure)."""
from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tickets.models import Counter, Ticket
from tickets.states import OPEN_STATUSES
from tickets.upsert import dialect_insert


def pick_unit(session: Session, rule_id: str, units: tuple[str, ...], strategy: str) -> str:
    """The unit of `units` a ticket decided by rule `rule_id` goes to under `strategy`."""
    if strategy == "least_open":
        return least_open(session, units)
    if strategy == "round_robin":
        return round_robin(session, rule_id, units)
    raise ValueError(f"unknown group strategy {strategy!r}")


def least_open(session: Session, units: tuple[str, ...]) -> str:
    """The unit with the fewest open tickets; ties go to the one listed first."""
    stmt = (select(Ticket.assigned_unit, func.count()).where(Ticket.assigned_unit.in_(units),
                                                            Ticket.status.in_(OPEN_STATUSES))
            .group_by(Ticket.assigned_unit))
    load = dict(session.execute(stmt).all())
    return min(units, key=lambda u: (load.get(u, 0), units.index(u)))


def counter_name(rule_id: str) -> str:
    """rr:<rule id>; a rule id too long for the column keeps its start and gets a digest of the whole, so two
    long ids that begin alike never share a turn."""
    name = f"rr:{rule_id}"
    if len(name) <= 64:
        return name
    return f"{name[:47]}~{hashlib.sha1(rule_id.encode('utf-8')).hexdigest()[:16]}"


def round_robin(session: Session, rule_id: str, units: tuple[str, ...]) -> str:
    """The next unit in turn, counted in the `counters` table under `counter_name` (shared by workers, kept
    over restarts); the first ticket goes to the first unit."""
    ins = dialect_insert(session, Counter).values(name=counter_name(rule_id), value=1)
    ins = ins.on_conflict_do_update(index_elements=["name"], set_={"value": Counter.value + 1})
    turn = session.execute(ins.returning(Counter.value)).scalar_one()
    return units[(turn - 1) % len(units)]
