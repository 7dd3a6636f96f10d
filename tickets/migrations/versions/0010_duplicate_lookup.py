"""duplicate lookup: a ticket's page lists the tickets linked to it without reading the whole queue

Revision ID: 0010_duplicate_lookup
Revises: 0009_quarantine_resolution
Create Date: 2026-11-30
"""
from alembic import op

revision = '0010_duplicate_lookup'
down_revision = '0009_quarantine_resolution'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not in batch mode: on SQLite a table rebuild would drop the text-search triggers of 0008.
    op.create_index('ix_tickets_duplicate_of', 'tickets', ['duplicate_of'])


def downgrade() -> None:
    op.drop_index('ix_tickets_duplicate_of', table_name='tickets')
