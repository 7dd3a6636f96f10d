"""statistics: read-only views for BI tools (Superset, Metabase) on PostgreSQL: the daily rollup and hot words

Revision ID: 0022_stats_bi_views
Revises: 0021_stats_first_contact
Create Date: 2026-11-30
"""
from alembic import op

revision = '0022_stats_bi_views'
down_revision = '0021_stats_first_contact'
branch_labels = None
depends_on = None

# The columns a BI tool may rely on, named once here: a later migration that changes the rollup keeps them.
DAILY = ("day, channel, kind, category, industry, district, town, station, unit, outcome, tickets, duplicates, "
         "accepted, accepted_on_time, resolved, resolved_on_time, returned, accept_seconds, resolve_seconds, "
         "recovered, rated, satisfied, first_contact, first_contact_on_time, escalated")


def upgrade() -> None:
    # PostgreSQL only: SQLite is the embedded store of one worker, not one a BI tool connects to (and its table
    # rebuilds in later migrations would trip over a view).
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE VIEW bi_stats_daily AS SELECT {DAILY} FROM stats_cells")
    op.execute("CREATE VIEW bi_hot_words_daily AS SELECT day, unit, term, tickets FROM stats_term_cells")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP VIEW IF EXISTS bi_hot_words_daily")
    op.execute("DROP VIEW IF EXISTS bi_stats_daily")
