"""Intake throughput: tickets per second from the 12345 stand-in's pages to dispatched tickets with their
SMS rows queued and their deadline clocks started (the default units, rules, deadlines and duplicate check),
beside the rate of a bare bulk insert of the same rows into the same database. (A ticket's first write-back,
its signing, is queued when the unit accepts it, not at dispatch.)

    python bench/bench_intake.py [--orders 20000] [--postgres URL] [--workers 1 2]

The clock starts when every worker process has loaded its configuration and rules and stops when the last
ticket is out of `new`. The stand-in runs in this process, the workers each in their own.
Prints one line per run; SQLite always, PostgreSQL when --postgres (or ONEQUEUE_TEST_POSTGRES_URL) is given.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402

from settings.config_schema import load_config  # noqa: E402
from settings.logging_setup import configure_logging  # noqa: E402
from simulators import TwilioStandIn, WorkOrder12345  # noqa: E402
from simulators.testing import TWILIO_SID, TWILIO_TOKEN, write_config  # noqa: E402
from connectors.workorders_12345 import normalise  # noqa: E402
from tickets import Database, Ticket  # noqa: E402
from tickets.migrate import upgrade  # noqa: E402
from tickets.store import next_numbers  # noqa: E402


def _work(config_path: str, until: int, ready, go, result) -> None:
    """One worker process: poll and dispatch until `until` tickets are out of `new`."""
    from worker import Worker

    configure_logging("error")
    w = Worker(load_config(config_path))
    ready.put(True)
    go.wait()
    while True:
        w.poll("12345-shunde")
        w.dispatch()
        with w.db.transaction() as s:
            done = s.scalar(select(func.count()).select_from(Ticket).where(Ticket.status != "new"))
        if done >= until:
            break
    result.put(done)


def run(url: str, orders: int, workers: int, hotline: WorkOrder12345, sms: TwilioStandIn, tmp: Path) -> float:
    db = Database(url)
    upgrade(db.engine)
    config = write_config(tmp / f"c-{uuid.uuid4().hex[:6]}.yaml", url, hotline, sms, page_size=200)
    q, ready, go = mp.Queue(), mp.Queue(), mp.Event()
    procs = [mp.Process(target=_work, args=(config, orders, ready, go, q)) for _ in range(workers)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get()
    started = time.perf_counter()
    go.set()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    db.dispose()
    return orders / elapsed


def bare_insert(url: str, orders: list[dict]) -> float:
    """The same rows, normalised, bulk-inserted in batches of 200 with no paging, rules or SMS."""
    db = Database(url)
    upgrade(db.engine)
    records = [normalise(o) for o in orders]
    started = time.perf_counter()
    for i in range(0, len(records), 200):
        chunk = records[i:i + 200]
        with db.transaction() as s:
            numbers = next_numbers(s, len(chunk))
            s.execute(insert(Ticket), [
                r.model_dump(exclude={"withdrawn"}) | {"number": n, "channel": "bare", "channel_kind": "12345",
                                                       "status": "new", "payload": dict(r.payload)}
                for r, n in zip(chunk, numbers)])
    elapsed = time.perf_counter() - started
    db.dispose()
    return len(records) / elapsed


def fresh_pg_schema(base: str, made: list[str]) -> str:
    """A URL for a new, empty schema of the database at `base`; its name is added to `made`."""
    schema = "bench_" + uuid.uuid4().hex[:8]
    engine = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    made.append(schema)
    sep = "&" if "?" in base else "?"
    return f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}{sep}options=-csearch_path%3D{schema}"


def drop_schemas(base: str, schemas: list[str]) -> None:
    engine = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as c:
        for schema in schemas:
            c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=20000)
    ap.add_argument("--postgres", default=os.environ.get("ONEQUEUE_TEST_POSTGRES_URL"))
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    configure_logging("error")
    hotline = WorkOrder12345(app_id="oq-test", app_secret="s3cret", rate_limit_rps=None, seed=7)
    sms = TwilioStandIn(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN)
    hotline.start()
    sms.start()
    hotline.add_orders(args.orders)
    tmp = Path(tempfile.mkdtemp())
    print(f"{args.orders} orders, pages of 200, default units (143 stations) and rules")
    targets = [("sqlite", lambda: f"sqlite:///{tmp}/{uuid.uuid4().hex[:6]}.db", [1])]
    schemas: list[str] = []
    if args.postgres:
        targets.append(("postgresql", lambda: fresh_pg_schema(args.postgres, schemas), args.workers))
    try:
        for name, make_url, worker_counts in targets:
            bare = bare_insert(make_url(), hotline.orders)
            for n in worker_counts:
                rate = run(make_url(), args.orders, n, hotline, sms, tmp)
                print(f"{name:<10} workers {n}: intake {rate:8.0f} tickets/s | bare bulk insert {bare:8.0f} rows/s"
                      f" | ratio {rate / bare:5.2f}")
    finally:
        hotline.stop()
        sms.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        if schemas:
            drop_schemas(args.postgres, schemas)


if __name__ == "__main__":
    main()
