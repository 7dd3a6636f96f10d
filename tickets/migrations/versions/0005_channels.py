"""channels: find the open tickets of one phone number quickly, to link duplicates across channels

Revision ID: 0005_channels
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op

revision = '0005_channels'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_tickets_complainant_phone', 'tickets', ['complainant_phone'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_tickets_complainant_phone', table_name='tickets')
