"""Helpers of the deadline tests: tickets dispatched at simulated times, and what they hold."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from settings import parse_yaml_model
from sla import Deadlines, SlaConfig, start_clocks
from sla.models import TicketClock
from tickets import store
from tickets.models import Ticket, TicketEvent
from tickets.schema import IncomingTicket
from tickets.vocabulary import CHINA_TZ


def cst(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


def make_deadlines(units, yaml_text: str = "") -> Deadlines:
    config = parse_yaml_model(yaml_text or "{}", SlaConfig, file="config.yaml") if yaml_text else SlaConfig()
    return Deadlines(config, units)


def new_tickets(db, count: int, received: datetime, *, channel_kind: str = "12345", kind: str = "complaint",
                priority: str = "normal", source_deadline=None, ref: str = "T") -> list[int]:
    records = [IncomingTicket(source_ref=f"{ref}{received:%m%d%H%M}-{kind}-{i}-{priority}", source_updated_at=received,
                              received_at=received, kind=kind, title="预付卡商家跑路", priority=priority,
                              source_deadline=source_deadline)
               for i in range(count)]
    with db.transaction() as s:
        return store.ingest(s, f"ch-{channel_kind}", channel_kind, records).created


def dispatch(db, deadlines, ticket_ids, unit_id: str, now: datetime) -> None:
    """What the dispatch job does, at `now`: the transition, the unit, and the worker's hook."""
    with db.transaction() as s:
        for tid in ticket_ids:
            ticket = s.get(Ticket, tid)
            store.transition(s, ticket, "dispatched", "dispatch", "dispatched", {"unit": unit_id})
            ticket.assigned_unit = unit_id
            start_clocks(s, deadlines, ticket, deadlines.units.get(unit_id), now)


def clocks(db, ticket_id: int) -> dict[str, TicketClock]:
    with db.transaction() as s:
        return {c.clock: c for c in s.scalars(select(TicketClock).where(TicketClock.ticket_id == ticket_id))}


def actions(db, ticket_id: int) -> list[str]:
    with db.transaction() as s:
        return list(s.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket_id)
                              .order_by(TicketEvent.id)))


def ticket(db, ticket_id: int) -> Ticket:
    with db.transaction() as s:
        return s.get(Ticket, ticket_id)
