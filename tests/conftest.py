"""Shared fixtures: a migrated database on every backend under test, and the stand-ins.

Storage tests take `db` (or `db_url`) and run once per backend: SQLite always, and PostgreSQL when
ONEQUEUE_TEST_POSTGRES_URL is set (CI sets it; under CI a missing PostgreSQL is an error, never a skip).
"""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from tickets.db import Database
from tickets.migrate import upgrade

PG_URL = os.environ.get("ONEQUEUE_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres_only: the test needs PostgreSQL (several worker processes)")
    if os.environ.get("CI") and not PG_URL:
        raise pytest.UsageError(
            "CI is set but ONEQUEUE_TEST_POSTGRES_URL is not: storage tests must run on PostgreSQL in CI"
        )


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres_only` (several workers on one database) run on the PostgreSQL backend only;
    their SQLite variants are not collected, so nothing is skipped."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        sqlite_variant = callspec is not None and callspec.params.get("db_url") == "sqlite"
        (dropped if item.get_closest_marker("postgres_only") and sqlite_variant else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _pg_url_with_schema(schema: str) -> str:
    url = PG_URL
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """A database URL with an empty schema of its own: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'onequeue.db'}"
        return
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(_pg_url_with_schema("public"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_url_with_schema(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db(db_url):
    """A migrated database."""
    database = Database(db_url)
    upgrade(database.engine)
    yield database
    database.dispose()


# --- stand-ins and a configuration that points the worker at them ----------------------------------

from simulators.testing import TWILIO_SID, TWILIO_TOKEN


@pytest.fixture
def hotline():
    """A running 12345 stand-in on loopback."""
    from simulators import WorkOrder12345

    sim = WorkOrder12345(app_id="oq-test", app_secret="s3cret", seed=12345, rate_limit_rps=None)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def sms_provider():
    """A running Twilio stand-in on loopback."""
    from simulators import TwilioStandIn

    tw = TwilioStandIn(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN)
    tw.start()
    yield tw
    tw.stop()



@pytest.fixture
def web_worker(tmp_path, db_url, hotline, sms_provider):
    """Start a worker on the stand-ins with its web server up on a free port, so the Twilio stand-in's status
    callbacks and inbound SMS reach it; keyword arguments override `sms:` settings (e.g. max_attempts=2)."""
    from settings.config_schema import load_config
    from simulators.testing import write_config
    from worker import Worker

    started = []

    def start(**sms_settings):
        config = load_config(write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider))
        for name, value in sms_settings.items():
            setattr(config.sms, name, value)
        worker = Worker(config)
        worker.prepare()
        worker.start_web()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.web_server.should_exit = True
        worker.db.dispose()


@pytest.fixture
def dates_ahead(monkeypatch):
    """For tests whose tickets are dated on a simulated clock running ahead of today's: the plausible window
    reaches years ahead (restored afterwards)."""
    from datetime import timedelta

    from tickets import dates

    monkeypatch.setattr(dates, "_window", dates.DateWindow(ahead=timedelta(days=3660)))
