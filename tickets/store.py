"""Storing and changing tickets. Every function takes a session; the caller owns the transaction."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Optional, Sequence

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from tickets import column_fit, wake
from tickets.db import is_postgres, utcnow
from tickets.models import ChannelCursor, Counter, QuarantinedRecord, Ticket, TicketEvent
from tickets.schema import BadRecord, IncomingTicket
from tickets.states import check_transition
from tickets.upsert import dialect_insert, insert_or_ignore
from tickets.vocabulary import CHINA_TZ

# Fields a later version of a source record may change on a ticket already in the queue.
SOURCE_FIELDS = ("source_status", "source_updated_at", "source_deadline", "payload")


@dataclass
class IngestResult:
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: int = 0
    withdrawn: list[int] = field(default_factory=list)
    recalled: list[int] = field(default_factory=list)  # withdrawn after a unit had it
    quarantined: int = 0


class TicketNotFound(LookupError):
    pass


def next_numbers(session: Session, count: int, when: Optional[datetime] = None) -> list[str]:
    """Allocate `count` short numbers like SD2611-00471 (per month), atomically across workers."""
    if count <= 0:
        return []
    when = (when or utcnow()).astimezone(CHINA_TZ)
    prefix = f"SD{when:%y%m}"
    ins = dialect_insert(session, Counter).values(name=f"ticket:{prefix}", value=count)
    ins = ins.on_conflict_do_update(index_elements=["name"], set_={"value": Counter.value + count})
    top = session.execute(ins.returning(Counter.value)).scalar_one()
    return [f"{prefix}-{n:05d}" for n in range(top - count + 1, top + 1)]


def add_event(
    session: Session,
    ticket: Ticket,
    action: str,
    actor: str,
    to_status: Optional[str] = None,
    detail: Optional[dict] = None,
) -> TicketEvent:
    """Put a step on the ticket's history. Its detail holds what a person typed (a note, a reason, a result):
    one the database cannot store as given is refused here (DoesNotFit, a ValueError), alike on every backend."""
    problem = column_fit.json_problem(detail or {})
    if problem:
        raise column_fit.DoesNotFit([column_fit.FieldProblem(action, problem)])
    ev = TicketEvent(
        ticket_id=ticket.id,
        at=utcnow(),
        actor=actor,
        action=action,
        from_status=ticket.status if to_status else None,
        to_status=to_status,
        detail=detail or {},
    )
    session.add(ev)
    session.flush()
    return ev


def transition(
    session: Session, ticket: Ticket, to_status: str, actor: str, action: str, detail: Optional[dict] = None
) -> TicketEvent:
    """Move a ticket to `to_status` and record the event; refused (TransitionError) if the table forbids it."""
    check_transition(ticket.number, ticket.status, to_status)
    ev = add_event(session, ticket, action, actor, to_status=to_status, detail=detail)
    ticket.status = to_status
    ticket.updated_at = ev.at
    session.flush()
    return ev


def transition_many(session: Session, changes: Sequence[tuple[Ticket, str, str, Optional[dict]]],
                    actor: str) -> list[int]:
    """`transition` for many tickets in one statement: each (ticket, to_status, action, detail) is checked, its
    event inserted and the ticket moved; returns the new events' ids in the order of `changes`. The tickets'
    own changes are left for the session to flush. The events are inserted as rows, not ORM objects, so no
    `after_insert` listener sees them: dispatch uses it for moves to `dispatched` and `triage`, which start and
    stop no clock."""
    if not changes:
        return []
    for ticket, to_status, _, _ in changes:
        check_transition(ticket.number, ticket.status, to_status)
    now = utcnow()
    rows = [dict(ticket_id=ticket.id, at=now, actor=actor, action=action, from_status=ticket.status,
                 to_status=to_status, detail=detail or {}) for ticket, to_status, action, detail in changes]
    stmt = TicketEvent.__table__.insert().returning(TicketEvent.__table__.c.id, sort_by_parameter_order=True)
    ids = list(session.connection().execute(stmt, rows).scalars())
    for ticket, to_status, _, _ in changes:
        ticket.status = to_status
        ticket.updated_at = now
    return ids


def ingest(session: Session, channel: str, channel_kind: str, records: Sequence[IncomingTicket]) -> IngestResult:
    """Store a batch from one channel: new records become tickets, newer versions update them, repeats do nothing."""
    result = IngestResult()
    latest: dict[str, IncomingTicket] = {}
    for rec in records:
        seen = latest.get(rec.source_ref)
        if seen is None or rec.source_updated_at >= seen.source_updated_at:
            latest[rec.source_ref] = rec
    if not latest:
        return result
    # A poll re-reads its overlap every time: most records are known and unchanged, told by their stamp alone.
    stamps = dict(session.execute(select(Ticket.source_ref, Ticket.source_updated_at).where(
        Ticket.channel == channel, Ticket.source_ref.in_(list(latest)))).all())
    fresh = [r for ref, r in latest.items() if ref not in stamps]
    if fresh:
        _insert_new(session, channel, channel_kind, fresh, result)
        wake.work_for(session, "dispatch")
    newer = [ref for ref, stamp in stamps.items() if stamp is None or latest[ref].source_updated_at > stamp]
    result.unchanged += len(stamps) - len(newer)
    existing = {
        t.source_ref: t
        for t in session.scalars(
            select(Ticket).options(lazyload(Ticket.events))
            .where(Ticket.channel == channel, Ticket.source_ref.in_(newer))
        )
    } if newer else {}
    for ref, ticket in existing.items():
        rec = latest[ref]
        if _same_content(ticket, rec):
            result.unchanged += 1  # a newer stamp on the same record, e.g. a file exported again
            continue
        _apply_update(session, ticket, rec, result)
    return result


def _insert_new(session: Session, channel: str, channel_kind: str, fresh: list[IncomingTicket], result: IngestResult):
    now = utcnow()
    numbers = next_numbers(session, len(fresh), now)
    rows = []
    for rec, number in zip(fresh, numbers):
        row = rec.model_dump(exclude={"withdrawn"})
        row["amount"] = rec.amount
        row.update(
            number=number,
            channel=channel,
            channel_kind=channel_kind,
            status="withdrawn" if rec.withdrawn else "new",
            created_at=now,
            updated_at=now,
            payload=json.loads(json.dumps(rec.payload, default=str)),
        )
        rows.append(row)
    t = Ticket.__table__
    returned = session.connection().execute(t.insert().returning(t.c.id, t.c.source_ref), rows).all()
    ids = {ref: tid for tid, ref in returned}
    events = []
    for rec in fresh:
        tid = ids[rec.source_ref]
        result.created.append(tid)
        events.append(dict(ticket_id=tid, at=now, actor=f"connector:{channel}", action="received",
                           from_status=None, to_status="new", detail={}))
        if rec.withdrawn:
            result.withdrawn.append(tid)
            events.append(dict(ticket_id=tid, at=now, actor=f"connector:{channel}", action="withdrawn",
                               from_status="new", to_status="withdrawn",
                               detail={"reason": "withdrawn at the source before dispatch"}))
    session.connection().execute(TicketEvent.__table__.insert(), events)


def save_fields(session: Session, tickets: Sequence[Ticket], fields: Sequence[str]) -> None:
    """Write `fields` of many loaded tickets in one statement and take them as stored on the objects, so the
    session has none of them left to flush (one UPDATE for a batch instead of one per ticket)."""
    if not tickets:
        return
    t = Ticket.__table__
    stmt = (update(t).where(t.c.id == bindparam("_id"))
            .values({name: bindparam(name) for name in fields}))
    session.connection().execute(stmt, [{"_id": ticket.id, **{name: getattr(ticket, name) for name in fields}}
                                        for ticket in tickets])
    for ticket in tickets:
        for name in fields:
            set_committed_value(ticket, name, getattr(ticket, name))


def _same_content(ticket: Ticket, rec: IncomingTicket) -> bool:
    """True if applying `rec` would change none of the fields an update touches."""
    return (ticket.payload == json.loads(json.dumps(rec.payload, default=str))
            and ticket.source_status == rec.source_status and ticket.source_deadline == rec.source_deadline
            and (not rec.text or rec.text == ticket.text) and (not rec.withdrawn or ticket.status == "withdrawn"))


def _apply_update(session: Session, ticket: Ticket, rec: IncomingTicket, result: IngestResult) -> None:
    changed = {}
    if rec.source_status != ticket.source_status:
        changed["source_status"] = [ticket.source_status, rec.source_status]
    ticket.source_status = rec.source_status
    ticket.source_updated_at = rec.source_updated_at
    ticket.source_deadline = rec.source_deadline
    ticket.payload = json.loads(json.dumps(rec.payload, default=str))
    if rec.text and rec.text != ticket.text:
        changed["text"] = True
        ticket.text = rec.text
    ticket.updated_at = utcnow()
    actor = f"connector:{ticket.channel}"
    add_event(session, ticket, "source_updated", actor, detail=changed)
    result.updated.append(ticket.id)
    if rec.withdrawn and ticket.status not in ("withdrawn", "closed", "resolved", "rejected", "duplicate"):
        had_unit = ticket.status in ("dispatched", "accepted", "in_progress")
        transition(session, ticket, "withdrawn", actor, "withdrawn",
                   {"reason": "withdrawn at the source", "recalled_from": ticket.assigned_unit if had_unit else None})
        result.withdrawn.append(ticket.id)
        if had_unit:
            result.recalled.append(ticket.id)


def quarantine(session: Session, channel: str, bad: Iterable[BadRecord]) -> int:
    """Set records aside with their reasons; the same record set aside twice is kept once."""
    rows = []
    for b in bad:
        raw = b.raw if isinstance(b.raw, str) else json.dumps(b.raw, ensure_ascii=False, sort_keys=True, default=str)
        fp = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
        # Kept to be shown: a NUL byte or a broken character (often why it was set aside) written as an escape,
        # and a key that could not be one (too long, a NUL in it) left out, so the record is stored on every backend.
        ref = b.source_ref if not column_fit.problem(QuarantinedRecord, "source_ref", b.source_ref) else None
        rows.append(dict(channel=channel, fingerprint=fp, source_ref=ref, reason=column_fit.storable(b.reason),
                         raw=column_fit.storable(raw), created_at=utcnow()))
    if not rows:
        return 0
    stmt = insert_or_ignore(session, QuarantinedRecord, ["channel", "fingerprint"])
    session.execute(stmt, rows)
    return len(rows)


# --- cursors and the per-channel poll lease -------------------------------------------------

def take_channel_lease(session: Session, channel: str, owner: str, seconds: float) -> Optional[ChannelCursor]:
    """Claim a channel's poll for `seconds`; None if another worker holds a live lease."""
    session.execute(insert_or_ignore(session, ChannelCursor, ["channel"]).values(
        channel=channel, error_count=0, updated_at=utcnow()))
    now = utcnow()
    claimed = session.execute(
        update(ChannelCursor)
        .where(
            ChannelCursor.channel == channel,
            or_(ChannelCursor.lease_until.is_(None), ChannelCursor.lease_until < now,
                ChannelCursor.lease_owner == owner),
        )
        .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
        .returning(ChannelCursor.channel)
    ).first()
    if claimed is None:
        return None
    return session.get(ChannelCursor, channel, populate_existing=True)


def save_cursor(session: Session, channel: str, owner: str, cursor: Optional[str], lease_seconds: float) -> bool:
    """Advance the cursor (in the batch's transaction) if this worker still holds the lease; extends it."""
    now = utcnow()
    res = session.execute(
        update(ChannelCursor)
        .where(ChannelCursor.channel == channel, ChannelCursor.lease_owner == owner)
        .values(cursor=cursor, updated_at=now, lease_until=now + timedelta(seconds=lease_seconds))
    )
    return res.rowcount == 1


def release_channel_lease(session: Session, channel: str, owner: str, error: Optional[str] = None) -> None:
    now = utcnow()
    values: dict[str, Any] = {"lease_owner": None, "lease_until": None}
    if error is None:
        values.update(last_success_at=now, error_count=0)
    else:
        values.update(last_error=error[:2000], last_error_at=now, error_count=ChannelCursor.error_count + 1)
    session.execute(
        update(ChannelCursor).where(ChannelCursor.channel == channel, ChannelCursor.lease_owner == owner).values(**values)
    )


# --- reading ---------------------------------------------------------------------------------

def get_by_number(session: Session, number: str, for_update: bool = False) -> Ticket:
    stmt = select(Ticket).where(Ticket.number == number)
    if for_update and is_postgres(session):
        stmt = stmt.with_for_update()
    ticket = session.scalars(stmt).first()
    if ticket is None:
        raise TicketNotFound(f"no ticket numbered {number!r} (see `onequeue tickets list`)")
    return ticket


def counts_by_status(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).all())
