"""statistics: first contact within its deadline (the Shunde promise) and escalations (督办) in the rollup

Revision ID: 0021_stats_first_contact
Revises: 0020_stats_text_digest
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = '0021_stats_first_contact'
down_revision = '0020_stats_text_digest'
branch_labels = None
depends_on = None

COLUMNS = ('first_contact', 'first_contact_on_time', 'escalated')


def upgrade() -> None:
    for table in ('stats_facts', 'stats_cells'):
        with op.batch_alter_table(table) as batch:
            for name in COLUMNS:
                batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    for table in ('stats_facts', 'stats_cells'):
        with op.batch_alter_table(table) as batch:
            for name in reversed(COLUMNS):
                batch.drop_column(name)
