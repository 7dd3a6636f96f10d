"""sla: ticket clocks, reminder notices, and a validity period per SMS

Revision ID: 0003_sla_clocks
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003_sla_clocks'
down_revision = '0001'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('ticket_clocks',
    sa.Column('id', Id, nullable=False),
    sa.Column('ticket_id', Id, nullable=False),
    sa.Column('clock', sa.String(length=32), nullable=False),
    sa.Column('policy', sa.String(length=64), nullable=False),
    sa.Column('hours_unit', sa.String(length=64), nullable=True),
    sa.Column('start_on', sa.String(length=16), nullable=False),
    sa.Column('stop_on', sa.String(length=200), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source_due', sa.Boolean(), nullable=False),
    sa.Column('uncertain', sa.Boolean(), nullable=False),
    sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('suspended_seconds', sa.Float(), nullable=False),
    sa.Column('extended_days', sa.Integer(), nullable=False),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stop_reason', sa.String(length=32), nullable=True),
    sa.Column('breached_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_reminder_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_action_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('points_done', Json, nullable=False),
    sa.Column('calendar_version', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_clocks_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_clocks')),
    sa.UniqueConstraint('ticket_id', 'clock', name=op.f('uq_ticket_clocks_ticket_id_clock'))
    )
    with op.batch_alter_table('ticket_clocks', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_clocks_next_action', ['next_action_at'], unique=False,
                              postgresql_where=sa.text('next_action_at IS NOT NULL'),
                              sqlite_where=sa.text('next_action_at IS NOT NULL'))

    op.create_table('sla_notices',
    sa.Column('id', Id, nullable=False),
    sa.Column('ticket_id', Id, nullable=False),
    sa.Column('clock', sa.String(length=32), nullable=False),
    sa.Column('point', sa.String(length=16), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('sms_key', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_sla_notices_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_notices')),
    sa.UniqueConstraint('ticket_id', 'clock', 'point', 'phone', name=op.f('uq_sla_notices_ticket_id_clock_point_phone'))
    )

    # A time-critical SMS carries its own validity period (seconds the provider may hold it).
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('validity_seconds', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.drop_column('validity_seconds')
    op.drop_table('sla_notices')
    with op.batch_alter_table('ticket_clocks', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_clocks_next_action')
    op.drop_table('ticket_clocks')
