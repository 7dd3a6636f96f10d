"""open deadlines: the 即将超期 and 已超期 views read open tickets in deadline order from one index

A partial index over the open tickets' deadlines: the views take their first page straight from it, instead
of fetching every open ticket past its deadline and sorting them. Its condition is the queue's own wording of
"open" (`tickets.states.OPEN_SQL`); a test keeps the two alike.

Revision ID: 0011_open_deadlines
Revises: 0010_duplicate_lookup
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = '0011_open_deadlines'
down_revision = '0010_duplicate_lookup'
branch_labels = None
depends_on = None

OPEN_SQL = "status NOT IN ('closed', 'duplicate', 'rejected', 'resolved', 'withdrawn')"


def upgrade() -> None:
    # Not in batch mode: on SQLite a table rebuild would drop the text-search triggers of 0008.
    op.create_index('ix_tickets_open_due_at', 'tickets', ['due_at', 'id'],
                    postgresql_where=sa.text(OPEN_SQL), sqlite_where=sa.text(OPEN_SQL))


def downgrade() -> None:
    op.drop_index('ix_tickets_open_due_at', table_name='tickets')
