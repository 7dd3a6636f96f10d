"""the handling index: each business's components, score and rank within its industry, kept per day

Revision ID: 0023_business_scores
Revises: 0021_surge_alerts
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0023_business_scores'
down_revision = '0021_surge_alerts'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'business_scores',
        sa.Column('id', Id, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('business_id', Id, sa.ForeignKey('businesses.id', name=op.f('fk_business_scores_business_id_businesses')),
                  nullable=False),
        sa.Column('industry', sa.String(length=32), nullable=False),
        sa.Column('tickets', sa.Integer(), nullable=False),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('rank', sa.Integer(), nullable=False),
        sa.Column('of', sa.Integer(), nullable=False),
        sa.Column('components', Json, nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_business_scores')),
        sa.UniqueConstraint('day', 'business_id', name='uq_business_scores_day_business'),
    )
    op.create_index(op.f('ix_business_scores_day'), 'business_scores', ['day'])
    op.create_index('ix_business_scores_business_day', 'business_scores', ['business_id', 'day'])


def downgrade() -> None:
    op.drop_table('business_scores')
