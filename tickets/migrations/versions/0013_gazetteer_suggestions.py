"""gazetteer suggestions: address fragments staff sent to one station, and the tickets that taught them

Revision ID: 0013_gazetteer_suggestions
Revises: 0001
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = '0013_gazetteer_suggestions'
down_revision = '0001'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'gazetteer_suggestions',
        sa.Column('id', Id, nullable=False),
        sa.Column('fragment', sa.String(length=64), nullable=False),
        sa.Column('station', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('decided_by', sa.String(length=64), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('written_at', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_gazetteer_suggestions')),
        sa.UniqueConstraint('fragment', 'station', name=op.f('uq_gazetteer_suggestions_fragment_station')),
    )
    op.create_table(
        'gazetteer_corrections',
        sa.Column('id', Id, nullable=False),
        sa.Column('suggestion_id', Id, sa.ForeignKey('gazetteer_suggestions.id',
                  name=op.f('fk_gazetteer_corrections_suggestion_id_gazetteer_suggestions')), nullable=False),
        sa.Column('ticket_id', Id, sa.ForeignKey('tickets.id', name=op.f('fk_gazetteer_corrections_ticket_id_tickets')),
                  nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_gazetteer_corrections')),
        sa.UniqueConstraint('suggestion_id', 'ticket_id', name=op.f('uq_gazetteer_corrections_suggestion_id_ticket_id')),
    )
    op.create_index('ix_gazetteer_corrections_suggestion_id', 'gazetteer_corrections', ['suggestion_id'])


def downgrade() -> None:
    op.drop_index('ix_gazetteer_corrections_suggestion_id', table_name='gazetteer_corrections')
    op.drop_table('gazetteer_corrections')
    op.drop_table('gazetteer_suggestions')
