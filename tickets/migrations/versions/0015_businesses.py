"""business registry: businesses, the tickets about each, and what administrators did to them

Revision ID: 0015_businesses
Revises: 0001
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0015_businesses'
down_revision = '0001'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'businesses',
        sa.Column('id', Id, nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('name_key', sa.String(length=200), nullable=False),
        sa.Column('town', sa.String(length=32), nullable=False),
        sa.Column('credit_code', sa.String(length=18), nullable=True),
        sa.Column('merged_into', Id, sa.ForeignKey('businesses.id', name=op.f('fk_businesses_merged_into_businesses')),
                  nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_businesses')),
        sa.UniqueConstraint('credit_code', name=op.f('uq_businesses_credit_code')),
    )
    op.create_index('ix_businesses_name_key_town', 'businesses', ['name_key', 'town'])
    op.create_index(op.f('ix_businesses_merged_into'), 'businesses', ['merged_into'])
    op.create_table(
        'business_tickets',
        sa.Column('ticket_id', Id, sa.ForeignKey('tickets.id', name=op.f('fk_business_tickets_ticket_id_tickets')),
                  nullable=False),
        sa.Column('business_id', Id, sa.ForeignKey('businesses.id',
                  name=op.f('fk_business_tickets_business_id_businesses')), nullable=False),
        sa.Column('matched_by', sa.String(length=16), nullable=False),
        sa.Column('pinned', sa.Boolean(), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_business_tickets')),
    )
    op.create_index(op.f('ix_business_tickets_business_id'), 'business_tickets', ['business_id'])
    op.create_table(
        'business_events',
        sa.Column('id', Id, nullable=False),
        sa.Column('business_id', Id, sa.ForeignKey('businesses.id',
                  name=op.f('fk_business_events_business_id_businesses')), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('detail', Json, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_business_events')),
    )
    op.create_index(op.f('ix_business_events_business_id'), 'business_events', ['business_id'])


def downgrade() -> None:
    op.drop_table('business_events')
    op.drop_table('business_tickets')
    op.drop_table('businesses')
