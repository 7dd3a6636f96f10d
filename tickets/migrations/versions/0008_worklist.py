"""worklist: what the back office searches and sorts by, the result's outcome and amount recovered, saved views

Text search uses each database's own index: an FTS5 table with the trigram tokenizer on SQLite (kept by
triggers), pg_trgm GIN indexes on PostgreSQL. A later migration that rebuilds `tickets` in SQLite batch mode
drops the triggers and must create them again.

Revision ID: 0008_worklist
Revises: 0006_intake
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = '0008_worklist'
down_revision = '0006_intake'
branch_labels = None
depends_on = None

SEARCHED = ("title", "text", "business_name")


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('recovered_amount', sa.Numeric(14, 2), nullable=True))
        batch_op.create_index('ix_tickets_source_ref', ['source_ref'])
        batch_op.create_index('ix_tickets_status_due_at', ['status', 'due_at'])  # overdue, due soon
        batch_op.create_index('ix_tickets_business_name', ['business_name'])
    op.create_table(
        'saved_views',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('owner', sa.String(length=64), nullable=False),
        sa.Column('shared_unit', sa.String(length=64), nullable=True),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('query', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_saved_views_owner', 'saved_views', ['owner'])
    op.create_index('ix_saved_views_shared_unit', 'saved_views', ['shared_unit'])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _postgres_search(bind)
    else:
        _sqlite_search()


def _postgres_search(bind) -> None:
    schema = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'").scalar()
    if schema is None:
        # Extensions are per database: put it where every schema's search path can name it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        schema = "public"
    for column in SEARCHED:
        op.execute(f'CREATE INDEX ix_tickets_{column}_trgm ON tickets USING gin ({column} "{schema}".gin_trgm_ops)')


def _sqlite_search() -> None:
    cols = ", ".join(SEARCHED)
    new = ", ".join(f"new.{c}" for c in SEARCHED)
    old = ", ".join(f"old.{c}" for c in SEARCHED)
    op.execute(f"CREATE VIRTUAL TABLE tickets_fts USING fts5({cols}, content='tickets', content_rowid='id', "
               "tokenize='trigram')")
    op.execute(f"CREATE TRIGGER tickets_fts_ai AFTER INSERT ON tickets BEGIN "
               f"INSERT INTO tickets_fts(rowid, {cols}) VALUES (new.id, {new}); END")
    op.execute(f"CREATE TRIGGER tickets_fts_ad AFTER DELETE ON tickets BEGIN "
               f"INSERT INTO tickets_fts(tickets_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); END")
    op.execute(f"CREATE TRIGGER tickets_fts_au AFTER UPDATE OF {cols} ON tickets BEGIN "
               f"INSERT INTO tickets_fts(tickets_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); "
               f"INSERT INTO tickets_fts(rowid, {cols}) VALUES (new.id, {new}); END")
    op.execute("INSERT INTO tickets_fts(tickets_fts) VALUES ('rebuild')")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for column in SEARCHED:
            op.execute(f"DROP INDEX IF EXISTS ix_tickets_{column}_trgm")
    else:
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS tickets_fts_{suffix}")
        op.execute("DROP TABLE IF EXISTS tickets_fts")
    op.drop_table('saved_views')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_business_name')
        batch_op.drop_index('ix_tickets_status_due_at')
        batch_op.drop_index('ix_tickets_source_ref')
        batch_op.drop_column('recovered_amount')
        batch_op.drop_column('outcome')
