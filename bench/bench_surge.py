"""Benchmark: how the surge detectors (watch/surge.py) do with alerts.yaml's default settings on a year of
generated history, and how soon the prepaid-card rule texts the duty contact.

Run: python bench/bench_surge.py [--businesses 600] [--seed 15] [--skip-prepaid]

The history: each business has a base rate of complaints a day (log-uniform from 0.05 to 3), a weekly rhythm (busy
early in the week, quiet at the weekend) and some week-to-week drift (a gamma-distributed factor, so the counts are
mildly over-dispersed). A year is scanned as the job scans it, once at the end of each day, after
alerts.yaml's `min_weeks` of history. Half the businesses get one surge of known size (extra complaints a day) and
length (days) at a random start; the other half none. Printed: the share of surges detected (a signal from the
start to three days after the end), the median delay in days from the start (0: seen at the end of its first day),
by size and length and overall, and the false alarms per series and year (signal days of the businesses without a
surge). Then the prepaid-card rule, through a running worker (its scheduler, SQLite, the Twilio stand-in): the
time from the third complaint stored until the duty contact's SMS is accepted, in hours.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from watch.alert_rules import load_alert_rules  # noqa: E402
from watch.surge import detect  # noqa: E402

DAYS = 365
WEEKLY = np.array([1.3, 1.15, 1.1, 1.0, 1.05, 0.75, 0.65])   # Monday .. Sunday
SIZES = (2, 4, 8)        # extra complaints a day
LENGTHS = (1, 3, 14)     # days
GRACE = 3                # a signal this many days after the surge's end still counts as detecting it


def history(rng, n: int, warmup: int) -> tuple[np.ndarray, list]:
    total = warmup + DAYS
    rates = np.exp(rng.uniform(np.log(0.05), np.log(3.0), n))
    weeks = (total + 6) // 7
    drift = rng.gamma(20.0, 1 / 20.0, (n, weeks)).repeat(7, axis=1)[:, :total]   # a slow week or a busy one
    mean = rates[:, None] * WEEKLY[np.arange(total) % 7][None, :] * drift
    counts = rng.poisson(mean)
    surges = []
    for i in range(0, n, 2):   # every other business gets one surge
        size, length = SIZES[(i // 2) % 3], LENGTHS[(i // 6) % 3]
        start = warmup + int(rng.integers(14, DAYS - length - GRACE))
        counts[i, start:start + length] += rng.poisson(size, length)
        surges.append((i, start, size, length))
    return counts, surges


def scan_year(counts: np.ndarray, settings, warmup: int) -> dict[int, list[int]]:
    """The day each business's series signals, scanning once at the end of each day as the job does."""
    found: dict[int, list[int]] = {}
    for i, row in enumerate(counts):
        series = [int(x) for x in row]
        days = []
        for t in range(warmup, len(series)):
            if series[t] == 0:
                continue   # the job looks only at series with a complaint on the day
            if detect(series[:t + 1], settings, first_day=0, test_from=t):
                days.append(t)
        found[i] = days
    return found


def prepaid_delay_hours() -> float:
    from settings.config_schema import load_config
    from settings.logging_setup import configure_logging
    from simulators import TwilioStandIn
    from simulators.testing import TWILIO_SID, TWILIO_TOKEN, write_config
    from tickets import IncomingTicket, store
    from worker import Worker

    configure_logging("error")   # the figures, not the worker's log lines
    duty = "+8613807570010"   # 值班员 of 投诉举报指挥中心 in units.yaml
    text = "在健身房办了会员卡充值3000元，今天去发现关门了，老板电话打不通"
    tw = TwilioStandIn(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN)
    tw.start()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_config(Path(tmp) / "config.yaml", f"sqlite:///{tmp}/bench.db",
                            SimpleNamespace(base_url="http://127.0.0.1:9"), tw, poll_seconds=3600)
        worker = Worker(load_config(path))
        worker.start()
        try:
            now = datetime.now(timezone.utc)
            for i in range(3):
                if i == 2:
                    time.sleep(2)   # the first two dispatched and looked at; then the third
                    started = time.monotonic()
                with worker.db.transaction() as s:
                    at = now - timedelta(hours=10 - i)
                    store.ingest(s, "12345-shunde", "12345", [IncomingTicket(
                        source_ref=f"B-{i}", source_updated_at=at, received_at=at, title="预付卡", text=text,
                        business_name="顺德区飞跃健身有限公司", event_address="大良街道华盖路88号",
                        complainant_phone=f"1390000000{i}")])
            while not tw.messages_to(duty):
                if time.monotonic() - started > 120:
                    raise SystemExit("no alert SMS within two minutes")
                time.sleep(0.02)
            return (time.monotonic() - started) / 3600
        finally:
            worker.stop()
            tw.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--businesses", type=int, default=600)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--skip-prepaid", action="store_true", help="leave out the prepaid-card rule's delay")
    args = parser.parse_args()
    settings = load_alert_rules(ROOT / "alerts.yaml").surge
    warmup = 7 * settings.min_weeks
    rng = np.random.default_rng(args.seed)
    counts, surges = history(rng, args.businesses, warmup)
    began = time.perf_counter()
    found = scan_year(counts, settings, warmup)
    took = time.perf_counter() - began

    print(f"{args.businesses} businesses, {DAYS} days scanned each, false_alarms_per_year = "
          f"{settings.false_alarms_per_year:g}, min_count = {settings.min_count}, {took:.1f} s")
    print(f"{'size/day':>8} {'days':>5} {'surges':>7} {'detected':>9} {'median delay (days)':>20}")
    delays_all, hit_all = [], 0
    for size in SIZES:
        for length in LENGTHS:
            group = [(i, start) for i, start, s, n in surges if s == size and n == length]
            delays = []
            for i, start in group:
                hits = [d for d in found[i] if start <= d <= start + length - 1 + GRACE]
                if hits:
                    delays.append(hits[0] - start)
            delays_all += delays
            hit_all += len(delays)
            median = f"{statistics.median(delays):g}" if delays else "-"
            print(f"{size:>8} {length:>5} {len(group):>7} {len(delays) / max(1, len(group)):>9.0%} {median:>20}")
    print(f"{'all':>8} {'':>5} {len(surges):>7} {hit_all / max(1, len(surges)):>9.0%} "
          f"{statistics.median(delays_all) if delays_all else '-':>20}")
    clean = [i for i in range(args.businesses) if i % 2 == 1]
    false_days = sum(len(found[i]) for i in clean)
    print(f"false alarms: {false_days} signal days over {len(clean)} series-years without a surge = "
          f"{false_days / len(clean):.2f} per series-year")
    if not args.skip_prepaid:
        hours = prepaid_delay_hours()
        print(f"prepaid-card flight: the duty contact's SMS {hours:.5f} h ({hours * 3600:.2f} s) after the third "
              "complaint is stored (a running worker, SQLite)")


if __name__ == "__main__":
    main()
