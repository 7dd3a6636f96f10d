"""A follower's high-water mark: the id of the last ticket event a part that follows the tickets' history (the
statistics' rollup, the business registry) has taken in, kept in the counters table under the part's name.

Held for the follower's transaction — on PostgreSQL the row is locked, so workers catching up at once take
turns; SQLite's BEGIN IMMEDIATE already lets one writer in — and moved in that same transaction, so a crash
takes in the same events again and never skips one."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets.db import is_postgres
from tickets.models import Counter
from tickets.upsert import insert_or_ignore


def hold_mark(session: Session, name: str) -> int:
    """The mark `name` (0 the first time), held until the transaction ends."""
    session.execute(insert_or_ignore(session, Counter, ["name"]).values(name=name, value=0))
    stmt = select(Counter.value).where(Counter.name == name)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def set_mark(session: Session, name: str, event_id: int) -> None:
    """Move the mark `name`, held by `hold_mark` in this transaction, to `event_id`."""
    session.get(Counter, name).value = event_id
    session.flush()
