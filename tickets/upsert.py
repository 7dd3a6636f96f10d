"""The one insert that leaves a row already there alone (or updates it), in each backend's own syntax:
`INSERT ... ON CONFLICT` on PostgreSQL and on SQLite alike."""
from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(session: Session, table):
    """An `insert(table)` that has `on_conflict_do_nothing` and `on_conflict_do_update`, for the session's backend."""
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def insert_or_ignore(session: Session, table, key: list[str]):
    """An insert of rows (given to `execute`) that skips each one whose `key` columns match a row already there."""
    return dialect_insert(session, table).on_conflict_do_nothing(index_elements=key)
