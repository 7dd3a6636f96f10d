"""The worker's resident memory with many tickets stored: it streams work in batches, never the whole queue.

    python bench/bench_memory.py [--tickets 1000000] [--postgres URL]

Fills a database with open tickets by bulk insert, then runs a worker's jobs in a fresh process and prints
its peak resident set size.
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from tickets import Database, Ticket  # noqa: E402
from tickets.migrate import upgrade  # noqa: E402

CHILD = """
import resource, sys
sys.path.insert(0, {root!r})
from settings.config_schema import load_config
from settings.logging_setup import configure_logging
from worker import Worker
configure_logging("error")
w = Worker(load_config({config!r}))
for _ in range(3):
    w.run_once()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def fill(url: str, n: int) -> float:
    db = Database(url)
    upgrade(db.engine)
    t0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
    started = time.perf_counter()
    chunk = 20000
    for base in range(0, n, chunk):
        rows = [dict(number=f"SD2611-{i:07d}", channel="12345-shunde", channel_kind="12345", source_ref=f"B-{i}",
                     source_updated_at=t0, received_at=t0 + timedelta(seconds=i), kind="complaint",
                     title="预付卡商家闭店无法退款", text="健身会所突然关门，会员卡余额无法退还。", status="dispatched",
                     assigned_unit="st-daliang-01", priority="normal", payload={}, created_at=t0, updated_at=t0)
                for i in range(base, min(n, base + chunk))]
        with db.transaction() as s:
            s.execute(insert(Ticket), rows)
    db.dispose()
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=1_000_000)
    args = ap.parse_args()
    from simulators import TwilioStandIn, WorkOrder12345
    from simulators.testing import TWILIO_SID, TWILIO_TOKEN, write_config

    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp}/{uuid.uuid4().hex[:6]}.db"
    took = fill(url, args.tickets)
    print(f"stored {args.tickets} open tickets in {took:.0f} s")
    hotline, sms = WorkOrder12345(app_id="oq-test", app_secret="s3cret", rate_limit_rps=None), \
        TwilioStandIn(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN)
    hotline.start()
    sms.start()
    hotline.add_orders(1000)
    config = write_config(tmp / "config.yaml", url, hotline, sms, page_size=200)
    out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), config=config)], capture_output=True,
                         text=True, check=True)
    peak_kb = int(out.stdout.strip().splitlines()[-1])
    print(f"worker peak resident memory with {args.tickets} tickets stored (+1,000 new, dispatched and texted): "
          f"{peak_kb / 1024:.0f} MB (target: under 200 MB)")
    hotline.stop()
    sms.stop()


if __name__ == "__main__":
    main()
