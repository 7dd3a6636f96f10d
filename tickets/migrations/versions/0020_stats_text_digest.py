"""statistics: a digest of the words a ticket's hot words were cut from, so a status change does not cut them again

Revision ID: 0020_stats_text_digest
Revises: 0018_stats_districts
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = '0020_stats_text_digest'
down_revision = '0018_stats_districts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stats_facts') as batch:
        batch.add_column(sa.Column('text_digest', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('stats_facts') as batch:
        batch.drop_column('text_digest')
