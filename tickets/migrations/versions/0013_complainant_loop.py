"""complainant loop: the progress page's token, the satisfaction answer and call-back of a ticket; numbers that
replied TD

Revision ID: 0013_complainant_loop
Revises: 0011_open_deadlines
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = '0013_complainant_loop'
down_revision = '0011_open_deadlines'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('followups',
    sa.Column('id', Id, nullable=False),
    sa.Column('ticket_id', Id, nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rated_via', sa.String(length=8), nullable=True),
    sa.Column('callback', sa.String(length=8), nullable=True),
    sa.Column('callback_done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('callback_done_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_followups_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followups')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_followups_ticket_id')),
    sa.UniqueConstraint('token', name=op.f('uq_followups_token')),
    )
    op.create_index(op.f('ix_followups_phone'), 'followups', ['phone'])
    op.create_index(op.f('ix_followups_callback'), 'followups', ['callback'])
    op.create_table('sms_opt_outs',
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('opted_out_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('message_sid', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('phone', name=op.f('pk_sms_opt_outs')),
    )


def downgrade() -> None:
    op.drop_table('sms_opt_outs')
    op.drop_index(op.f('ix_followups_callback'), table_name='followups')
    op.drop_index(op.f('ix_followups_phone'), table_name='followups')
    op.drop_table('followups')
