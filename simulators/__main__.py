"""Run a stand-in from the command line until Ctrl-C:

    python -m simulators 12345 --port 8345 --orders 20 --rate 3 5 --state-file 12345.json
    python -m simulators twilio --port 8346 --account-sid AC... --auth-token ...
    python -m simulators mall --port 8347 --auth oauth --complaints 20 --rate 1 20
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from simulators.twilio_api import TwilioStandIn
from simulators.workorders_12345 import WorkOrder12345


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulators", description="Run a stand-in on loopback.")
    kinds = parser.add_subparsers(dest="kind", required=True)

    hotline = kinds.add_parser("12345", help="the 12345 hotline's work-order interface")
    hotline.add_argument("--host", default="127.0.0.1")
    hotline.add_argument("--port", type=int, default=8345, help="0 picks a free port")
    hotline.add_argument("--app-id", default="onequeue-demo")
    hotline.add_argument("--app-secret", default="demo-secret")
    hotline.add_argument("--orders", type=int, default=20, help="orders to create at start (default 20)")
    hotline.add_argument("--malformed", type=int, default=0, help="broken orders to add among them")
    hotline.add_argument("--rate", nargs=2, type=float, metavar=("N", "S"), help="add N new orders every S seconds")
    hotline.add_argument("--rps", type=float, default=20, help="requests per second before 429 (0: no limit)")
    hotline.add_argument("--token-ttl", type=float, default=7200)
    hotline.add_argument("--state-file", help="load state from this JSON file at start, save it at stop")
    hotline.add_argument("--seed", type=int)

    mall = kinds.add_parser("mall", help="a mall operator's complaints API (read by a YAML `rest` channel)")
    mall.add_argument("--host", default="127.0.0.1")
    mall.add_argument("--port", type=int, default=8347, help="0 picks a free port")
    mall.add_argument("--auth", choices=["none", "bearer", "oauth", "hmac"], default="oauth")
    mall.add_argument("--client-id", default="onequeue-demo")
    mall.add_argument("--client-secret", default="demo-secret", help="also the HMAC secret")
    mall.add_argument("--complaints", type=int, default=20, help="complaints to create at start")
    mall.add_argument("--malformed", type=int, default=0)
    mall.add_argument("--rate", nargs=2, type=float, metavar=("N", "S"), help="add N complaints every S seconds")

    twilio = kinds.add_parser("twilio", help="Twilio's Messages API")
    twilio.add_argument("--host", default="127.0.0.1")
    twilio.add_argument("--port", type=int, default=8346, help="0 picks a free port")
    twilio.add_argument("--account-sid", help="default: a new random AC... sid")
    twilio.add_argument("--auth-token", help="default: a new random token")
    twilio.add_argument("--undeliverable", action="append", default=[], metavar="NUMBER=CODE",
                        help="report messages to NUMBER undelivered with CODE (e.g. +8613800000000=30003)")
    twilio.add_argument("--opted-out", action="append", default=[], metavar="NUMBER")
    twilio.add_argument("--segments-per-second", type=float, help="sender throughput; default unlimited")
    twilio.add_argument("--rps", type=float, default=0, help="requests per second before 429 (0: no limit)")
    return parser.parse_args(argv)


def _build(args: argparse.Namespace):
    if args.kind == "12345":
        sim = WorkOrder12345(args.app_id, args.app_secret, host=args.host, port=args.port,
                             token_ttl=args.token_ttl, rate_limit_rps=args.rps or None,
                             state_file=args.state_file, seed=args.seed)
        sim.start()
        if args.orders or args.malformed:
            sim.add_orders(args.orders, malformed=args.malformed)
        if args.rate:
            sim.generate_every(args.rate[1], int(args.rate[0]))
        lines = [f"app_id:      {sim.app_id}", f"app_secret:  {sim.app_secret}", f"orders:      {len(sim.orders)}"]
        if args.rate:
            lines.append(f"new orders:  {int(args.rate[0])} every {args.rate[1]:g} s")
        return sim, "12345 work-order interface", lines
    if args.kind == "mall":
        from simulators.mall_complaints import MallComplaints

        sim = MallComplaints(args.auth, client_id=args.client_id, client_secret=args.client_secret, host=args.host,
                             port=args.port)
        sim.start()
        sim.add_complaints(args.complaints, malformed=args.malformed)
        if args.rate:
            sim.generate_every(args.rate[1], int(args.rate[0]))
        lines = [f"auth:        {sim.auth}", f"client_id:   {sim.client_id}",
                 f"complaints:  {len(sim.complaints)}"]
        return sim, "mall complaints API", lines
    undeliverable = {}
    for item in args.undeliverable:
        number, _, code = item.partition("=")
        undeliverable[number] = int(code or 30003)
    sim = TwilioStandIn(args.account_sid, args.auth_token, host=args.host, port=args.port,
                        opted_out=args.opted_out, undeliverable=undeliverable,
                        segments_per_second=args.segments_per_second, rate_limit_rps=args.rps or None)
    sim.start()
    lines = [f"account_sid: {sim.account_sid}", f"auth_token:  {sim.auth_token}", f"phone:       {sim.phone_number}"]
    return sim, "Twilio Messages API", lines


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        sim, title, lines = _build(args)
    except OSError as e:
        print(f"cannot listen on {args.host}:{args.port}: {e.strerror}; choose another --port", file=sys.stderr)
        return 1
    print(f"{title} stand-in at {sim.base_url}")
    for line in lines:
        print(f"  {line}")
    print("Ctrl-C to stop.", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
