"""station links: the links the SMS carry to the station's phone page, the browsers remembered for a contact,
and the photos that come with a result

Revision ID: 0012_station_links
Revises: 0001
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = '0012_station_links'
down_revision = '0001'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'station_links',
        sa.Column('id', Id, nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('ticket_id', Id, sa.ForeignKey('tickets.id', name=op.f('fk_station_links_ticket_id_tickets')),
                  nullable=True),
        sa.Column('unit_id', sa.String(length=64), nullable=False),
        sa.Column('phone', sa.String(length=32), nullable=False),
        sa.Column('contact_name', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoke_reason', sa.String(length=32), nullable=True),
        sa.Column('failed_tries', sa.Integer(), nullable=False),
        sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_station_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_station_links_token_hash')),
    )
    op.create_index('ix_station_links_ticket_id', 'station_links', ['ticket_id'])
    op.create_table(
        'station_devices',
        sa.Column('id', Id, nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('phone', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_station_devices')),
        sa.UniqueConstraint('secret_hash', name=op.f('uq_station_devices_secret_hash')),
    )
    op.create_table(
        'ticket_attachments',
        sa.Column('id', Id, nullable=False),
        sa.Column('ticket_id', Id, sa.ForeignKey('tickets.id', name=op.f('fk_ticket_attachments_ticket_id_tickets')),
                  nullable=False),
        sa.Column('event_id', Id, sa.ForeignKey('ticket_events.id',
                                                name=op.f('fk_ticket_attachments_event_id_ticket_events')),
                  nullable=True),
        sa.Column('content_type', sa.String(length=32), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('added_by', sa.String(length=64), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_attachments')),
    )
    op.create_index('ix_ticket_attachments_ticket_id', 'ticket_attachments', ['ticket_id'])


def downgrade() -> None:
    op.drop_index('ix_ticket_attachments_ticket_id', table_name='ticket_attachments')
    op.drop_table('ticket_attachments')
    op.drop_table('station_devices')
    op.drop_index('ix_station_links_ticket_id', table_name='station_links')
    op.drop_table('station_links')
