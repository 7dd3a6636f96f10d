"""How long one deadline scan takes with 10,000, 100,000 and 1,000,000 open tickets, on SQLite and PostgreSQL.

The scan reads only the clocks whose next action is due (a partial index on next_action_at), so its time should
follow the clocks due, not the tickets open. Each size holds one running clock per open ticket, due weeks ahead,
and ten due now at one station; the figures are the median and the fastest of several scans that remind those
ten (one SMS per contact listing them), and of scans with nothing due. The time includes the transaction.

    python bench/bench_sla_scan.py                       # SQLite in a temporary file
    ONEQUEUE_BENCH_POSTGRES_URL=postgresql://user@host:5432/db python bench/bench_sla_scan.py
    (ONEQUEUE_TEST_POSTGRES_URL is used when the BENCH variable is not set; a fresh schema is made and dropped)
    --sizes 10000,100000   to stop earlier
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, delete, text, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dispatch import UnitDirectory  # noqa: E402
from notify.models import SmsMessage  # noqa: E402
from sla import Deadlines, SlaConfig, scan_due  # noqa: E402
from sla.models import SlaNotice, TicketClock  # noqa: E402
from tickets.db import Database  # noqa: E402
from tickets.migrate import upgrade  # noqa: E402
from tickets.vocabulary import CHINA_TZ  # noqa: E402

STATION = "st-daliang-01"
DUE = 10
RECEIVED = datetime(2026, 9, 30, 10, tzinfo=CHINA_TZ).astimezone(timezone.utc)
NOW = datetime(2026, 10, 27, 9, tzinfo=CHINA_TZ)            # the 1-working-day point of tickets received above
FAR = datetime(2026, 12, 1, tzinfo=timezone.utc)         # where the other clocks' next action lies
STOPS = ",resolved,returned,closed,rejected,withdrawn,duplicate,"


def fill(db: Database, start: int, stop: int, version: str) -> None:
    """Tickets start+1..stop, each dispatched with a running resolution clock, by INSERT … SELECT in the database."""
    pg = db.dialect == "postgresql"
    with db.engine.begin() as conn:
        if pg:
            series = "SELECT generate_series(CAST(:a AS bigint), CAST(:b AS bigint)) AS n"
            received = f"TIMESTAMPTZ '{RECEIVED.isoformat()}'"
            far = f"(TIMESTAMPTZ '{FAR.isoformat()}' + (n % 100000) * INTERVAL '1 minute')"
            json_empty_obj, json_empty_list = "'{}'::jsonb", "'[]'::jsonb"
        else:
            # SQLite keeps UTC timestamps as text, in the format SQLAlchemy writes.
            series = ("WITH RECURSIVE s(n) AS (SELECT :a UNION ALL SELECT n + 1 FROM s WHERE n < :b) "
                      "SELECT n FROM s")
            received = f"'{RECEIVED:%Y-%m-%d %H:%M:%S}.000000'"
            far = (f"(strftime('%Y-%m-%d %H:%M:%S', '{FAR:%Y-%m-%d %H:%M:%S}', '+' || (n % 100000) || ' minutes')"
                   " || '.000000')")
            json_empty_obj, json_empty_list = "'{}'", "'[]'"
        conn.execute(text(
            "INSERT INTO tickets (id, number, channel, channel_kind, source_ref, received_at, kind, title, text, "
            "priority, status, assigned_unit, payload, created_at, updated_at) "
            f"SELECT n, 'B' || n, 'bench', '12345', 'R' || n, {received}, 'complaint', '', '', 'normal', "
            f"'dispatched', '{STATION}', {json_empty_obj}, {received}, {received} FROM ({series}) AS g"),
            {"a": start + 1, "b": stop})
        conn.execute(text(
            "INSERT INTO ticket_clocks (ticket_id, clock, policy, hours_unit, start_on, stop_on, started_at, due_at, "
            "source_due, uncertain, suspended_seconds, extended_days, points_done, calendar_version, "
            "next_action_at, created_at, updated_at) "
            f"SELECT n, 'resolution', '12345-complaint-report', '{STATION}', 'received', '{STOPS}', {received}, "
            f"{far}, false, false, 0, 0, {json_empty_list}, '{version}', {far}, {received}, {received} "
            f"FROM ({series}) AS g"), {"a": start + 1, "b": stop})
        if pg:
            conn.execute(text("ANALYZE tickets; ANALYZE ticket_clocks"))
        else:
            conn.exec_driver_sql("ANALYZE")


def make_due(db: Database) -> None:
    """Tickets 1..10 reach their reminder point at NOW; earlier reminders are forgotten."""
    with db.transaction() as s:
        s.execute(update(TicketClock).where(TicketClock.ticket_id <= DUE).values(
            next_action_at=NOW, due_at=None, points_done=[], breached_at=None))
        s.execute(delete(SlaNotice))
        s.execute(delete(SmsMessage))


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def run(name: str, url: str, sizes: list[int], repeat: int) -> None:
    db = Database(url)
    upgrade(db.engine)
    deadlines = Deadlines(SlaConfig(), UnitDirectory.from_file(ROOT / "units.yaml"))
    have = 0
    print(f"\n{name}")
    print(f"{'open tickets':>14} {'fill s':>8} {'scan, 10 due: median ms':>24} {'min ms':>7} "
          f"{'scan, none due: median ms':>26} {'min ms':>7}")
    for size in sizes:
        t0 = time.perf_counter()
        fill(db, have, size, deadlines.calendar.version)
        filled = time.perf_counter() - t0
        have = size
        busy, idle = [], []
        for _ in range(repeat):
            make_due(db)
            report = None

            def busy_scan():
                nonlocal report
                report = scan_due(db, deadlines, now=NOW)
            busy.append(timed(busy_scan))
            assert report.reminders == DUE, report
            idle.append(timed(lambda: scan_due(db, deadlines, now=NOW + timedelta(seconds=1))))
        print(f"{size:>14,} {filled:>8.1f} {statistics.median(busy):>24.1f} {min(busy):>7.1f} "
              f"{statistics.median(idle):>26.2f} {min(idle):>7.2f}", flush=True)
    db.dispose()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = p.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    import structlog
    import logging

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite", f"sqlite:///{tmp}/bench.db", sizes, args.repeat)
    pg = os.environ.get("ONEQUEUE_BENCH_POSTGRES_URL") or os.environ.get("ONEQUEUE_TEST_POSTGRES_URL")
    if args.backend in ("postgresql", "both"):
        if not pg:
            print("\nPostgreSQL: set ONEQUEUE_BENCH_POSTGRES_URL to measure it")
            return 0
        base = pg.replace("postgresql://", "postgresql+psycopg://", 1)
        schema = "bench_" + uuid.uuid4().hex[:8]
        admin = create_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            sep = "&" if "?" in base else "?"
            run("PostgreSQL", f"{base}{sep}options=-csearch_path%3D{schema}", sizes, args.repeat)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
