"""The station's phone page: its weight (HTML and the style sheet it links, in bytes, without photos) and its
server time (p50, p95) for the ticket behind an SMS link and for the unit's open tickets, on SQLite and on
PostgreSQL.

    python bench/bench_station.py [--orders 300] [--repeat 200] [--postgres URL] [--only sqlite|postgresql]

A worker runs on the 12345 and Twilio stand-ins: it takes in the orders, dispatches them and texts each unit's
contacts; the link is read from a dispatch SMS as the Twilio stand-in received it, the four digits are given
once, and each page is then requested through the real web application by an HTTP client on loopback; the time
is from request to the last byte of the answer.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from bench.bench_intake import drop_schemas, fresh_pg_schema  # noqa: E402

LINK = re.compile(r"https?://[^\s/]+/m/[A-Za-z0-9_-]+")
TOKEN_FIELD = re.compile(r'name="form_token" value="([^"]+)"')


def busiest_link(sms_provider) -> tuple[str, str]:
    """The link and phone of a dispatch SMS to the unit that received the most: its list is the longest."""
    texts = [m for m in sms_provider.messages if "新派单" in m["body"]]
    by_phone = Counter(m["to"] for m in texts)
    phone = by_phone.most_common(1)[0][0]
    msg = next(m for m in texts if m["to"] == phone)
    return LINK.search(msg["body"]).group(0), phone


def measure(client: requests.Session, label: str, url: str, repeat: int) -> None:
    page = client.get(url)
    if page.status_code != 200:
        raise SystemExit(f"{url} answered {page.status_code}: {page.text[:300]}")
    base = url.split("/m/")[0]
    css = sum(len(client.get(base + href).content) for href in re.findall(r'href="(/static/[^"]+)"', page.text))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        client.get(url).content
        times.append((time.perf_counter() - t0) * 1000)
    q = statistics.quantiles(sorted(times), n=100)
    print(f"  {label:<22} {len(page.content):6,} B HTML + {css:,} B CSS = {len(page.content) + css:6,} B"
          f"   p50 {q[49]:6.1f} ms   p95 {q[94]:6.1f} ms")


def run(db_url: str, orders: int, repeat: int, tmp: Path) -> None:
    from settings.config_schema import load_config
    from simulators import TwilioStandIn, WorkOrder12345
    from simulators.testing import TWILIO_SID, TWILIO_TOKEN, write_config
    from worker import Worker

    hotline = WorkOrder12345(app_id="oq-test", app_secret="s3cret", seed=7, rate_limit_rps=None)
    twilio = TwilioStandIn(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN)
    hotline.start()
    twilio.start()
    worker = None
    try:
        hotline.add_orders(orders)
        config = load_config(write_config(tmp / "config.yaml", db_url, hotline, twilio, page_size=200))
        worker = Worker(config)
        worker.prepare()
        worker.start_web()
        for _ in range(1 + orders // 200):
            worker.run_once()
        link, phone = busiest_link(twilio)
        client = requests.Session()
        client.trust_env = False
        form = client.get(link).text
        client.post(link + "/digits", data={"form_token": TOKEN_FIELD.search(form).group(1), "digits": phone[-4:]})
        measure(client, "ticket (/m/TOKEN)", link, repeat)
        measure(client, "unit's open tickets", link + "/list", repeat)
    finally:
        if worker is not None:
            worker.web_server.should_exit = True
            worker.db.dispose()
        twilio.stop()
        hotline.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--postgres", default=os.environ.get("ONEQUEUE_TEST_POSTGRES_URL"))
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    args = ap.parse_args()
    from settings.logging_setup import configure_logging

    configure_logging("error")
    tmp = Path(tempfile.mkdtemp())
    schemas: list[str] = []
    try:
        if args.only != "postgresql":
            print(f"SQLite, {args.orders} orders dispatched")
            run(f"sqlite:///{tmp / 'bench.db'}", args.orders, args.repeat, tmp)
        if args.postgres and args.only != "sqlite":
            print(f"PostgreSQL, {args.orders} orders dispatched")
            run(fresh_pg_schema(args.postgres, schemas), args.orders, args.repeat, tmp)
    finally:
        if schemas:
            drop_schemas(args.postgres, schemas)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
