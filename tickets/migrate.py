"""Bring a database's schema up to date with Alembic; the worker calls this on start."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Apply every migration not yet applied (safe to run from several workers on PostgreSQL).

    Parts add their tables in migrations of their own that branch from the first one, so "heads":
    every branch is brought up to date."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # One migrator at a time when several workers start together.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7262031)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
