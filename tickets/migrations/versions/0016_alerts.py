"""early-warning alerts and the tickets behind each

Revision ID: 0016_alerts
Revises: 0015_businesses
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = '0016_alerts'
down_revision = '0015_businesses'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NOT_CLOSED = sa.text("status != 'closed'")


def upgrade() -> None:
    op.create_table(
        'alerts',
        sa.Column('id', Id, nullable=False),
        sa.Column('rule', sa.String(length=32), nullable=False),
        sa.Column('series', sa.String(length=64), nullable=False),
        sa.Column('business_id', Id, sa.ForeignKey('businesses.id', name=op.f('fk_alerts_business_id_businesses')),
                  nullable=True),
        sa.Column('level', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('summary', sa.String(length=300), nullable=False),
        sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_by', sa.String(length=64), nullable=True),
        sa.Column('acknowledged_note', sa.Text(), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_by', sa.String(length=64), nullable=True),
        sa.Column('closed_note', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    )
    op.create_index('uq_alerts_series_not_closed', 'alerts', ['series'], unique=True,
                    sqlite_where=NOT_CLOSED, postgresql_where=NOT_CLOSED)
    op.create_index('ix_alerts_status_raised_at', 'alerts', ['status', 'raised_at'])
    op.create_index(op.f('ix_alerts_business_id'), 'alerts', ['business_id'])
    op.create_table(
        'alert_tickets',
        sa.Column('alert_id', Id, sa.ForeignKey('alerts.id', name=op.f('fk_alert_tickets_alert_id_alerts')),
                  nullable=False),
        sa.Column('ticket_id', Id, sa.ForeignKey('tickets.id', name=op.f('fk_alert_tickets_ticket_id_tickets')),
                  nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('alert_id', 'ticket_id', name=op.f('pk_alert_tickets')),
    )
    op.create_index(op.f('ix_alert_tickets_ticket_id'), 'alert_tickets', ['ticket_id'])


def downgrade() -> None:
    op.drop_table('alert_tickets')
    op.drop_table('alerts')
