"""the watch list (重点监控): every entry and exit of a business, with who and why

Revision ID: 0019_watch_list
Revises: 0016_alerts
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = '0019_watch_list'
down_revision = '0016_alerts'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CURRENT = sa.text("left_at IS NULL")


def upgrade() -> None:
    op.create_table(
        'watch_list',
        sa.Column('id', Id, nullable=False),
        sa.Column('business_id', Id, sa.ForeignKey('businesses.id', name=op.f('fk_watch_list_business_id_businesses')),
                  nullable=False),
        sa.Column('rule', sa.String(length=32), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('entered_by', sa.String(length=64), nullable=False),
        sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('left_by', sa.String(length=64), nullable=True),
        sa.Column('left_reason', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_list')),
    )
    op.create_index(op.f('ix_watch_list_business_id'), 'watch_list', ['business_id'])
    op.create_index('uq_watch_list_business_current', 'watch_list', ['business_id'], unique=True,
                    sqlite_where=CURRENT, postgresql_where=CURRENT)


def downgrade() -> None:
    op.drop_table('watch_list')
