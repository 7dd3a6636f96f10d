"""statistics: one fact per ticket, the daily rollup by dimension, and the daily hot-word counts

Revision ID: 0014_stats
Revises: 0001
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0014_stats'
down_revision = '0001'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DIMENSIONS = (('channel', 64), ('kind', 16), ('category', 32), ('industry', 32), ('town', 32), ('station', 64),
              ('unit', 64), ('outcome', 32))


def _dimensions():
    return [sa.Column(name, sa.String(length=size), nullable=False) for name, size in DIMENSIONS]


def _measures(default: bool):
    kw = {'server_default': '0'} if default else {}
    return [sa.Column(name, sa.Integer(), nullable=False, **kw)
            for name in ('tickets', 'duplicates', 'accepted', 'accepted_on_time', 'resolved', 'resolved_on_time',
                         'returned')] + [
        sa.Column('accept_seconds', sa.BigInteger(), nullable=False, **kw),
        sa.Column('resolve_seconds', sa.BigInteger(), nullable=False, **kw),
        sa.Column('recovered', sa.Numeric(16, 2), nullable=False, **kw)]


def upgrade() -> None:
    op.create_table(
        'stats_facts',
        sa.Column('ticket_id', Id, sa.ForeignKey('tickets.id', name=op.f('fk_stats_facts_ticket_id_tickets')),
                  nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        *_dimensions(), *_measures(False),
        sa.Column('industry_basis', sa.String(length=200), nullable=True),
        sa.Column('terms', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                  nullable=False),
        sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_stats_facts')),
    )
    op.create_table(
        'stats_cells',
        sa.Column('id', Id, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        *_dimensions(), *_measures(True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_cells')),
        sa.UniqueConstraint('day', *(name for name, _ in DIMENSIONS), name='uq_stats_cells_key'),
    )
    op.create_index('ix_stats_cells_day', 'stats_cells', ['day'])
    op.create_table(
        'stats_term_cells',
        sa.Column('id', Id, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('unit', sa.String(length=64), nullable=False),
        sa.Column('term', sa.String(length=32), nullable=False),
        sa.Column('tickets', sa.Integer(), nullable=False, server_default='0'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_term_cells')),
        sa.UniqueConstraint('day', 'unit', 'term', name='uq_stats_term_cells_key'),
    )
    op.create_index('ix_stats_term_cells_day', 'stats_term_cells', ['day'])


def downgrade() -> None:
    op.drop_table('stats_term_cells')
    op.drop_table('stats_cells')
    op.drop_table('stats_facts')
