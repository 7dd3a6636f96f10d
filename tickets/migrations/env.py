"""Alembic environment: the metadata of every part, on the connection the caller hands over."""
from alembic import context
from sqlalchemy import engine_from_config, pool

import accounts.models  # noqa: F401
import dispatch.models  # noqa: F401  (registers tables)
import notify.link_models  # noqa: F401
import notify.models  # noqa: F401
import sla.models  # noqa: F401
import stats.models  # noqa: F401
import watch.models  # noqa: F401
import writeback.models  # noqa: F401
from tickets.db import Base
import tickets.attachments  # noqa: F401
import tickets.models  # noqa: F401

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
