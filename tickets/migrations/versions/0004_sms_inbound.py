"""sms inbound: replies received from station staff, and delivery status on outbound messages

Revision ID: 0004_sms_inbound
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa

revision = '0004_sms_inbound'
down_revision = '0001'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('sms_inbound',
    sa.Column('id', Id, nullable=False),
    sa.Column('message_sid', sa.String(length=64), nullable=False),
    sa.Column('from_phone', sa.String(length=32), nullable=False),
    sa.Column('to_phone', sa.String(length=32), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('ticket_id', Id, nullable=True),
    sa.Column('unit_id', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_sms_inbound_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_inbound')),
    sa.UniqueConstraint('message_sid', name=op.f('uq_sms_inbound_message_sid'))
    )
    with op.batch_alter_table('sms_inbound', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_inbound_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_code', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.drop_column('delivered_at')
        batch_op.drop_column('error_code')
    with op.batch_alter_table('sms_inbound', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_inbound_ticket_id'))
    op.drop_table('sms_inbound')
