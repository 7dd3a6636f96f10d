"""surge alerts: what an alert was raised on (the day, the count, the baseline, the test) for the surges' series

Revision ID: 0021_surge_alerts
Revises: 0019_watch_list
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0021_surge_alerts'
down_revision = '0019_watch_list'
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.add_column('alerts', sa.Column('detail', Json, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('alerts') as batch:
        batch.drop_column('detail')
