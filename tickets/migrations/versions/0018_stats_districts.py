"""statistics: the business district (商圈) as a dimension of the rollup, and what put a ticket in it

Revision ID: 0018_stats_districts
Revises: 0017_stats_satisfaction
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = '0018_stats_districts'
down_revision = '0017_stats_satisfaction'
branch_labels = None
depends_on = None

KEY = ('day', 'channel', 'kind', 'category', 'industry', 'district', 'town', 'station', 'unit', 'outcome')


def upgrade() -> None:
    with op.batch_alter_table('stats_facts') as batch:
        batch.add_column(sa.Column('district', sa.String(length=40), nullable=False, server_default=''))
        batch.add_column(sa.Column('district_basis', sa.String(length=200), nullable=True))
    with op.batch_alter_table('stats_cells') as batch:
        batch.add_column(sa.Column('district', sa.String(length=40), nullable=False, server_default=''))
        batch.drop_constraint('uq_stats_cells_key', type_='unique')
        batch.create_unique_constraint('uq_stats_cells_key', list(KEY))


def downgrade() -> None:
    with op.batch_alter_table('stats_cells') as batch:
        batch.drop_constraint('uq_stats_cells_key', type_='unique')
        batch.drop_column('district')
        batch.create_unique_constraint('uq_stats_cells_key', [k for k in KEY if k != 'district'])
    with op.batch_alter_table('stats_facts') as batch:
        batch.drop_column('district_basis')
        batch.drop_column('district')
