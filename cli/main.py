"""`onequeue` subcommands, grouped by who uses them. Errors go to stderr with a non-zero exit status."""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional

from cli.common import Commands, Context, print_json
from settings import ConfigError


# --- operators ------------------------------------------------------------------------------------

def cmd_run(ctx: Context, args) -> int:
    """The worker, until SIGINT or SIGTERM (or each job once with --once), with a status line on stdout."""
    import signal
    import threading

    from tickets.health import status_line
    from worker import Worker

    worker = Worker(ctx.config)
    if args.once:
        worker.start_demo()   # the default configuration reads its stand-ins, started here as in a full run
        try:
            worker.run_once()
            print(status_line(worker.db))
        finally:
            worker.stop()
        return 0
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker.start()
    tty = sys.stdout.isatty()
    try:
        while not stop.wait(2 if tty else 10):
            line = status_line(worker.db)
            print(("\r" + line[:200].ljust(120)) if tty else line, end="" if tty else "\n", flush=True)
    finally:
        if tty:
            print()
        worker.stop()
    return 0


def cmd_serve(ctx: Context, args) -> int:
    """The HTTP service alone (webhooks, health), without the scheduled jobs."""
    import uvicorn

    from web import create_app
    from web.app import serving

    web = ctx.config.web
    uvicorn.run(create_app(serving(ctx.config, ctx.db)), host=args.host or web.host, port=args.port or web.port,
                log_config=None, access_log=False)
    return 0


def cmd_health(ctx: Context, args) -> int:
    from tickets.health import collect

    data = collect(ctx.config, ctx.db)
    if args.json:
        print_json(data)
        return 0
    print("tickets:", ", ".join(f"{k} {v}" for k, v in sorted(data["tickets"].items())) or "none")
    for ch in data["channels"]:
        print(f"channel {ch['name']} ({ch['kind']}): last success {ch['last_success_at'] or 'never'}, "
              f"lag {ch['lag_seconds'] if ch['lag_seconds'] is not None else '?'} s, errors {ch['error_count']}, "
              f"quarantine {ch['quarantined']}" + (f", last error: {ch['last_error']}" if ch["last_error"] else ""))
    print("sms:", ", ".join(f"{k} {v}" for k, v in sorted(data["sms"].items())) or "none")
    from cli.sms_cmd import print_sms_health

    print_sms_health(data["sms_delivery"])
    print("write-backs:", ", ".join(f"{k} {v}" for k, v in sorted(data["outbox"].items())) or "none")
    dl = data["deadlines"]
    print(f"deadlines: overdue tickets {dl['overdue_tickets']}, uncertain {dl['uncertain_deadlines']}, "
          f"due for the scan {dl['clocks_due_for_scan']}" + (
              f"; NO CALENDAR DATA for {', '.join(map(str, dl['years_without_calendar']))}: give it in "
              f"config.yaml sla.calendar.years" if dl["years_without_calendar"] else ""))
    from cli.rules_cmd import print_rules_health

    print_rules_health(data["rules"])
    failed = data["dispatch_failures"]
    for t in failed["tickets"]:
        print(f"dispatch failed for {t['number']} (in triage): {t['error']}")
    print(f"dispatch failures in triage: {failed['count']}" + (
        f" (newest {len(failed['tickets'])} shown)" if failed["count"] > len(failed["tickets"]) else ""))
    return 0


# Modules that add subcommands, in this order: each has `register(sub: cli.common.Commands)`, and a command's
# function receives (ctx: Context, args) and returns the exit status.
COMMAND_MODULES: tuple[str, ...] = ("cli.tickets_cmd", "cli.quarantine_cmd", "cli.outbox_cmd", "cli.sla_cmd",
                                    "cli.walkin", "cli.rules_cmd", "cli.sms_cmd", "cli.duplicates_cmd", "cli.users_cmd",
                                    "cli.gazetteer_cmd", "cli.stats_cmd", "cli.businesses_cmd",
                                    "cli.alerts_cmd")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS,
                        help="configuration file (default: $ONEQUEUE_CONFIG or ./config.yaml)")
    p = argparse.ArgumentParser(prog="onequeue", description="one queue for every complaint channel",
                                parents=[common])
    sub = Commands(p.add_subparsers(dest="command", required=True), common, {})

    run = sub.add_parser("run", help="run the worker (polls, dispatch, SMS, write-back)")
    run.add_argument("--once", action="store_true", help="run each job once and exit")
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve", help="the HTTP service alone: webhooks and health")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)

    health = sub.add_parser("health", help="queue depth, channels, SMS and write-back state")
    health.add_argument("--json", action="store_true")
    health.set_defaults(func=cmd_health)

    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return p


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        ctx = Context(getattr(args, "config", None))
        from worker import bootstrap

        bootstrap(ctx.config)  # logging as JSON lines on stderr (stdout is the command's answer), the listeners
        return args.func(ctx, args)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
