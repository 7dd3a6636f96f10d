"""Seconds from the source to the station's phone, through `onequeue run` itself: orders appear at the 12345
stand-in at a steady rate and partners push signed tickets, then a burst of orders arrives at once; for each
ticket the bench takes the time it appeared at the source, its stored time (created_at) and the time the
Twilio stand-in accepted its first dispatch SMS.

    python bench/bench_latency.py [--seconds 60] [--rate 20] [--push-rate 2] [--burst 5000] [--poll-seconds 2]
                                  [--postgres URL] [--pg-workers 2]

`onequeue run` runs as real processes (one on SQLite; --pg-workers on one PostgreSQL schema when --postgres or
ONEQUEUE_TEST_POSTGRES_URL is given) with a generated config.yaml (demo off, the default units, rules, deadlines
and job intervals: dispatch 2 s, SMS 2 s, write-back 5 s) pointing at the stand-ins this process serves. Prints
p50/p95/p99 of source → stored, stored → SMS accepted and source → SMS at the steady rate, beside the poll
interval; for the burst, the time until the last order is texted and the tickets per second through
`onequeue run` to dispatched, with their ratio to a bare bulk insert of the same rows in the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import Engine, create_engine, func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.bench_intake import bare_insert, drop_schemas, fresh_pg_schema  # noqa: E402
from connectors.web_push import SIGNATURE_HEADER, sign  # noqa: E402
from notify.models import SmsMessage  # noqa: E402
from settings.logging_setup import configure_logging  # noqa: E402
from simulators import TwilioStandIn, WorkOrder12345  # noqa: E402
from simulators.testing import TWILIO_SID, TWILIO_TOKEN, write_config  # noqa: E402
from tickets import Database, Ticket  # noqa: E402
from tickets.migrate import upgrade  # noqa: E402

HOTLINE = "12345-shunde"
PUSH = "web-miniprogram"
SECRET = "bench-partner-shared-secret-2026"
PUSH_CHANNEL = f"""
  - name: {PUSH}
    kind: web_push
    settings:
      partner: 顺德市监微信小程序
      secret: ${{ONEQUEUE_BENCH_PARTNER_SECRET}}
"""
JOBS = {"dispatch": 2, "sms": 2, "outbox": 5}   # config.yaml's defaults: the wake-ups, not these, should set the pace


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def onequeue() -> list[str]:
    """The `onequeue` console script of this environment, else the same command through worker.py."""
    script = Path(sys.executable).parent / "onequeue"
    return [str(script)] if script.exists() else [sys.executable, str(ROOT / "worker.py")]


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def figures(values: list[float]) -> str:
    if not values:
        return "   (none)"
    return " ".join(f"{percentile(values, p):7.2f}" for p in (50, 95, 99))


class Workers:
    """`onequeue run` processes on one database, each with its own web port; stopped by SIGTERM."""

    def __init__(self, db_url: str, count: int, hotline, sms, poll_seconds: float, tmp: Path):
        self.tmp, self.procs, self.urls = tmp, [], []
        tmp.mkdir(parents=True, exist_ok=True)
        env = os.environ | {"ONEQUEUE_DEMO": "false", "ONEQUEUE_BENCH_PARTNER_SECRET": SECRET}
        env.pop("ONEQUEUE_DATABASE_URL", None)   # it would win over the generated configuration
        for i in range(count):
            port = free_port()
            config = write_config(tmp / f"config-{i}.yaml", db_url, hotline, sms, page_size=200, extra=PUSH_CHANNEL,
                                  poll_seconds=poll_seconds, job_seconds=JOBS, web_port=port)
            log = open(tmp / f"worker-{i}.log", "w")
            self.procs.append(subprocess.Popen([*onequeue(), "run", "--config", config], cwd=tmp, env=env,
                                               stdout=log, stderr=subprocess.STDOUT))
            self.urls.append(f"http://127.0.0.1:{port}")

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        for url, proc in zip(self.urls, self.procs):
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"onequeue run ended with {proc.returncode}: see {self.tmp}")
                try:
                    if requests.get(url + "/health", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"onequeue run did not answer at {url} within {seconds:.0f} s")
                time.sleep(0.2)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


class Source:
    """Orders added at the 12345 stand-in and tickets pushed, each with the time it appeared (time.time())."""

    def __init__(self, hotline: WorkOrder12345, push_urls: list[str]):
        self.hotline, self.push_urls = hotline, push_urls
        self.appeared: dict[tuple[str, str], float] = {}   # (channel, source reference) -> seconds since the epoch
        self.push_errors = 0
        self._pushes = 0

    def orders(self, seconds: float, rate: float) -> None:
        start = time.monotonic()
        for i in range(int(seconds * rate)):
            wait = start + i / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            (order,) = self.hotline.add_orders(1)
            self.appeared[(HOTLINE, order["GDBH"])] = time.time()

    def burst(self, n: int) -> list[dict]:
        added = self.hotline.add_orders(n)
        now = time.time()   # listed to a poll only once all are in: the stand-in holds its lock while adding
        for order in added:
            self.appeared[(HOTLINE, order["GDBH"])] = now
        return added

    def pushes(self, seconds: float, rate: float) -> None:
        session = requests.Session()
        start = time.monotonic()
        for i in range(int(seconds * rate)):
            wait = start + i / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            reference = f"MP-{uuid.uuid4().hex[:10]}"
            body = json.dumps({
                "reference": reference, "kind": "投诉", "title": "奶茶店饮品中有异物",
                "text": "在大良华盖路步行街的奶茶店购买的奶茶中喝出塑料片，商家拒绝退款，要求处理。",
                "complainant_name": "周女士", "complainant_phone": f"1369{i % 10_000_000:07d}",
                "business_name": f"大良星光奶茶店{i}", "event_address": "佛山市顺德区大良街道华盖路步行街12号",
                "submitted_at": datetime.now(timezone.utc).isoformat(),
            }, ensure_ascii=False).encode("utf-8")
            url = self.push_urls[self._pushes % len(self.push_urls)]
            self._pushes += 1
            self.appeared[(PUSH, reference)] = time.time()
            try:
                answer = session.post(f"{url}/intake/{PUSH}", data=body, timeout=10,
                                      headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, SECRET)})
                if answer.status_code != 201:
                    self.push_errors += 1
            except requests.RequestException:
                self.push_errors += 1


def journeys(db: Engine, sms: TwilioStandIn, refs: set[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """For each ticket of `refs`: its stored time, status and when the stand-in accepted its first dispatch SMS."""
    accepted = {m["sid"]: m["date_created"].timestamp() for m in sms.messages}
    out: dict[tuple[str, str], dict] = {}
    with Session(db) as s:
        by_id = {}
        for t in s.execute(select(Ticket.id, Ticket.channel, Ticket.source_ref, Ticket.created_at, Ticket.status)):
            if (t.channel, t.source_ref) in refs:
                by_id[t.id] = out[(t.channel, t.source_ref)] = {"stored": t.created_at.timestamp(),
                                                                "status": t.status, "sms": None}
        texted = defaultdict(list)
        for ticket_id, sid in s.execute(select(SmsMessage.ticket_id, SmsMessage.provider_sid)
                                        .where(SmsMessage.purpose == "dispatched", SmsMessage.provider_sid.isnot(None))):
            if ticket_id in by_id and sid in accepted:
                texted[ticket_id].append(accepted[sid])
        for ticket_id, times in texted.items():
            by_id[ticket_id]["sms"] = min(times)
    return out


def reader(url: str) -> Engine:
    """An engine that only reads: unlike the worker's, its transactions on SQLite take no write lock (the worker's
    every transaction begins IMMEDIATE), so the bench looking does not hold the worker up."""
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def untexted(db: Engine, after_id: int) -> tuple[int, int]:
    """Of the tickets after `after_id`: how many are stored, and how many of them are new or dispatched with no
    dispatch SMS accepted yet (counted in the database, so that the stand-ins in this process are not slowed)."""
    sent = (select(SmsMessage.id).where(SmsMessage.ticket_id == Ticket.id, SmsMessage.purpose == "dispatched",
                                        SmsMessage.provider_sid.isnot(None)).exists())
    with db.connect() as c:
        stored = c.scalar(select(func.count()).select_from(Ticket).where(Ticket.id > after_id))
        left = c.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.id > after_id, (Ticket.status == "new") | ((Ticket.status == "dispatched") & ~sent)))
    return stored, left


def wait_all(db: Engine, after_id: int, expected: int, seconds: float, until_dispatched: bool = False) -> float:
    """The time.time() at which all `expected` tickets after `after_id` were texted (or settled otherwise, e.g. in
    triage), or with `until_dispatched`, out of `new` (checked every 50 ms); gives up after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if until_dispatched:
            with db.connect() as c:
                done = c.scalar(select(func.count()).select_from(Ticket).where(Ticket.id > after_id,
                                                                                Ticket.status != "new"))
            if done >= expected:
                return time.time()
            time.sleep(0.05)
        else:
            stored, left = untexted(db, after_id)
            if stored >= expected and not left:
                return time.time()
            time.sleep(0.5)
    raise SystemExit(f"not all of {expected} tickets {'dispatched' if until_dispatched else 'texted'} "
                     f"within {seconds:.0f} s")


def last_id(db: Engine) -> int:
    with db.connect() as c:
        return c.scalar(select(func.max(Ticket.id))) or 0


def report_steady(name: str, got: dict, appeared: dict, channel: str, poll_seconds: float | None) -> None:
    mine = [(ref, j) for ref, j in got.items() if ref[0] == channel]
    texted = [(ref, j) for ref, j in mine if j["sms"] is not None]
    source_stored = [j["stored"] - appeared[ref] for ref, j in mine]
    stored_sms = [j["sms"] - j["stored"] for _, j in texted]
    source_sms = [j["sms"] - appeared[ref] for ref, j in texted]
    label = f"{name}, {channel}" + (f" (polled every {poll_seconds:g} s)" if poll_seconds else " (pushed)")
    print(f"  {label}: {len(mine)} tickets, {len(texted)} texted, {len(mine) - len(texted)} to triage")
    print(f"    {'p50':>22} {'p95':>7} {'p99':>7}  (seconds)")
    print(f"    source → stored   {figures(source_stored)}")
    print(f"    stored → SMS      {figures(stored_sms)}   target p99 < 1")
    target = f"target p99 ≤ {poll_seconds + 1:g} (poll interval + 1 s)" if poll_seconds else ""
    print(f"    source → SMS      {figures(source_sms)}   {target}")


def run(name: str, db_url: str, workers: int, args, tmp: Path, bare_url: str) -> None:
    hotline = WorkOrder12345(app_id="oq-test", app_secret="s3cret", rate_limit_rps=args.source_limit, seed=11)
    sms = TwilioStandIn(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN)
    hotline.start()
    sms.start()
    migrated = Database(db_url)
    upgrade(migrated.engine)
    migrated.dispose()
    db = reader(db_url)
    procs = Workers(db_url, workers, hotline, sms, args.poll_seconds, tmp / name.replace(" ", "-"))
    try:
        procs.wait_ready()
        source = Source(hotline, procs.urls)
        print(f"\n{name}: {workers} × onequeue run; {args.rate:g} orders/s and {args.push_rate:g} pushes/s for "
              f"{args.seconds:g} s, then a burst of {args.burst}", flush=True)
        feeders = [threading.Thread(target=source.orders, args=(args.seconds, args.rate)),
                   threading.Thread(target=source.pushes, args=(args.seconds, args.push_rate))]
        for t in feeders:
            t.start()
        for t in feeders:
            t.join()
        steady = set(source.appeared)
        wait_all(db, 0, len(steady) - source.push_errors, 120)
        got = journeys(db, sms, steady)
        report_steady(name, got, source.appeared, HOTLINE, args.poll_seconds)
        report_steady(name, got, source.appeared, PUSH, None)
        if source.push_errors:
            print(f"    pushes refused or failed: {source.push_errors}")

        if not args.burst:
            return
        before = last_id(db)
        orders = source.burst(args.burst)
        burst = {(HOTLINE, order["GDBH"]) for order in orders}
        appeared = source.appeared[next(iter(burst))]
        last_dispatched = wait_all(db, before, len(burst), 600, until_dispatched=True)
        wait_all(db, before, len(burst), 900)
        got = journeys(db, sms, burst)
        texted = [j["sms"] for j in got.values() if j["sms"] is not None]
        first_stored = min(j["stored"] for j in got.values())
        print(f"  {name}, burst of {len(burst)} orders: the last texted {max(texted) - appeared:.1f} s after they "
              f"appeared ({len(texted)} texted, {len(burst) - len(texted)} to triage); the first stored after "
              f"{first_stored - appeared:.1f} s (the next poll), all dispatched after {last_dispatched - appeared:.1f} s")
        print(f"    source → SMS in the burst {figures([t - appeared for t in texted])}  (p50 p95 p99, seconds)")
        # From the first ticket stored, so that the wait for the next poll (at most its interval) is left out.
        rate = len(burst) / (last_dispatched - first_stored)
        bare = bare_insert(bare_url, orders)
        print(f"    through onequeue run, stored to dispatched: {rate:,.0f} tickets/s | bare bulk insert of the same "
              f"rows {bare:,.0f} rows/s | ratio {rate / bare:.2f} (target ≥ 0.25)", flush=True)
    finally:
        procs.stop()
        hotline.stop()
        sms.stop()
        db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60, help="how long orders and pushes arrive at a steady rate")
    ap.add_argument("--rate", type=float, default=20, help="orders a second at the 12345 stand-in")
    ap.add_argument("--push-rate", type=float, default=2, help="signed pushes a second")
    ap.add_argument("--burst", type=int, default=5000)
    ap.add_argument("--poll-seconds", type=float, default=2, help="the 12345 channel's poll_seconds")
    ap.add_argument("--source-limit", type=float, default=20, help="requests a second the 12345 stand-in allows")
    ap.add_argument("--postgres", default=os.environ.get("ONEQUEUE_TEST_POSTGRES_URL"))
    ap.add_argument("--pg-workers", type=int, nargs="+", default=[2])
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the databases, configurations and workers' logs")
    args = ap.parse_args()
    configure_logging("error")
    tmp = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    schemas: list[str] = []
    print(f"job intervals: dispatch {JOBS['dispatch']} s, SMS {JOBS['sms']} s (the wake-ups should not wait for "
          f"them); 12345 poll interval {args.poll_seconds:g} s, its stand-in allows {args.source_limit:g} requests/s")
    try:
        if not args.no_sqlite:
            run("SQLite", f"sqlite:///{tmp}/latency.db", 1, args, tmp, f"sqlite:///{tmp}/bare.db")
        if args.postgres:
            for n in args.pg_workers:
                run(f"PostgreSQL {n}", fresh_pg_schema(args.postgres, schemas), n, args, tmp,
                    fresh_pg_schema(args.postgres, schemas))
    finally:
        if args.keep:
            print(f"kept in {tmp}" + (f" and the schemas {', '.join(schemas)}" if schemas else ""))
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        if schemas and not args.keep:
            drop_schemas(args.postgres, schemas)


if __name__ == "__main__":
    main()
