"""Delivery rate against the rate limits the stand-ins enforce: a backlog of write-backs to the 12345
stand-in and of SMS to the Twilio stand-in, each drained by one worker's job, paced under the limit.

    python bench/bench_delivery.py [--backlog 5000] [--limit 50]

Prints, for each, the rate reached, its share of the limit (target: at least 90%) and the 429s seen.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from settings.config_schema import load_config  # noqa: E402
from settings.logging_setup import configure_logging  # noqa: E402
from simulators import TwilioStandIn, WorkOrder12345  # noqa: E402
from simulators.testing import TWILIO_SID, TWILIO_TOKEN, write_config  # noqa: E402
from tickets import Ticket, handling  # noqa: E402
from worker import Worker  # noqa: E402


def counting(session, seen: Counter):
    original = session.request

    def request(*a, **kw):
        resp = original(*a, **kw)
        seen[resp.status_code] += 1
        return resp

    session.request = request


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backlog", type=int, default=5000)
    ap.add_argument("--limit", type=float, default=50, help="requests per second each stand-in allows")
    args = ap.parse_args()
    configure_logging("error")
    hotline = WorkOrder12345(app_id="oq-test", app_secret="s3cret", rate_limit_rps=None, seed=3)
    sms = TwilioStandIn(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN)
    hotline.start()
    sms.start()
    hotline.add_orders(args.backlog)
    tmp = Path(tempfile.mkdtemp())
    cfg = load_config(write_config(tmp / "c.yaml", f"sqlite:///{tmp}/d.db", hotline, sms, page_size=200))
    pace = round(args.limit * 0.95, 2)
    cfg.channels[0].settings["rate_limit_rps"] = pace
    cfg.sms.rate_limit_rps = pace
    cfg.sla.enabled = False  # deadlines are not what is measured here
    w = Worker(cfg)
    w.prepare()
    w.poll("12345-shunde")
    w.dispatch()
    # the backlog: every dispatched ticket accepted (one write-back each); SMS rows trimmed to the backlog size
    with w.db.transaction() as s:
        for t in s.scalars(select(Ticket).where(Ticket.status == "dispatched")):
            handling.accept(s, t, "bench", w.dispatcher.units.get(t.assigned_unit).name)
    from notify.models import SmsMessage
    from writeback import OutboxItem

    with w.db.transaction() as s:
        ids = list(s.scalars(select(SmsMessage.id).order_by(SmsMessage.id)))
        for extra in ids[args.backlog:]:
            s.delete(s.get(SmsMessage, extra))
        n_sms = min(len(ids), args.backlog)
        n_wb = len(list(s.scalars(select(OutboxItem.id))))
    hotline.rate_limit_rps = args.limit
    sms.rate_limit_rps = args.limit
    hotline_codes, sms_codes = Counter(), Counter()
    counting(w.connectors["12345-shunde"].http.session, hotline_codes)
    counting(w.sms.client.http_client.session, sms_codes)
    results = {}

    def waiting(model, statuses):
        def count() -> int:
            with w.db.transaction() as s:
                return s.scalar(select(func.count()).select_from(model).where(model.status.in_(statuses)))
        return count

    def drain(name, job, left):
        """Run the job as the scheduler would, run after run (each ends after half a claim), until nothing is left."""
        started = time.perf_counter()
        while left():
            job()
        results[name] = time.perf_counter() - started

    threads = [threading.Thread(target=drain, args=("writeback", w.deliver, waiting(OutboxItem, ["pending"]))),
               threading.Thread(target=drain, args=("sms", w.send_sms, waiting(SmsMessage, ["pending", "sending"])))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"limit {args.limit:.0f}/s at each stand-in; workers pace at {pace}/s")
    for name, n, codes in (("write-backs", n_wb, hotline_codes), ("sms", n_sms, sms_codes)):
        secs = results["writeback" if name == "write-backs" else "sms"]
        rate = n / secs
        print(f"{name:<12} {n:6d} in {secs:6.1f} s: {rate:6.1f}/s = {100 * rate / args.limit:5.1f}% of the limit; "
              f"429s: {codes.get(429, 0)}")
    hotline.stop()
    sms.stop()


if __name__ == "__main__":
    main()
