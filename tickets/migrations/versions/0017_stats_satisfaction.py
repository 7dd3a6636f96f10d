"""statistics: the complainants' answers (满意度) in the rollup, for 满意率

Revision ID: 0017_stats_satisfaction
Revises: 0014_stats
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = '0017_stats_satisfaction'
down_revision = '0014_stats'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('stats_facts', 'stats_cells'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('rated', sa.Integer(), nullable=False, server_default='0'))
            batch.add_column(sa.Column('satisfied', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    for table in ('stats_facts', 'stats_cells'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('satisfied')
            batch.drop_column('rated')
