"""quarantine: how a record left it (discarded with a reason, or taken in as a ticket) and by whom

Revision ID: 0009_quarantine_resolution
Revises: 0008_worklist
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = '0009_quarantine_resolution'
down_revision = '0008_worklist'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolution', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('resolution_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('resolved_by', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_column('resolved_by')
        batch_op.drop_column('resolution_note')
        batch_op.drop_column('resolution')
