"""`onequeue` subcommands, grouped by who uses them. Errors go to stderr with a non-zero exit status."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

from settings import ConfigError


def _json_default(value: Any):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default))


class Context:
    """What a command needs, built lazily: the configuration, the database, the units directory."""

    def __init__(self, config_path: Optional[str]):
        from settings.config_schema import load_config

        self.config = load_config(config_path)
        self._db = None
        self._units = None

    @property
    def db(self):
        if self._db is None:
            from tickets import Database
            from tickets.migrate import upgrade

            self._db = Database(self.config.resolved_database_url())
            upgrade(self._db.engine)
        return self._db

    @property
    def units(self):
        if self._units is None:
            from dispatch import UnitDirectory

            self._units = UnitDirectory.from_file(self.config.path(self.config.units_file))
        return self._units

    def unit_name(self, unit_id: Optional[str]) -> str:
        unit = self.units.get(unit_id) if unit_id else None
        return unit.name if unit else (unit_id or "")


# --- operators ------------------------------------------------------------------------------------

def cmd_run(ctx: Context, args) -> int:
    from settings.logging_setup import configure_logging
    from worker import Worker

    configure_logging(ctx.config.log_level)
    worker = Worker(ctx.config)
    if args.once:
        worker.run_once()
        print(worker.status_line())
    else:
        worker.run()
    return 0


def cmd_serve(ctx: Context, args) -> int:
    """The HTTP service alone (webhooks, health), without the scheduled jobs."""
    import uvicorn

    from settings.logging_setup import configure_logging
    from web import WebContext, create_app

    configure_logging(ctx.config.log_level)
    web = ctx.config.web
    uvicorn.run(create_app(WebContext(ctx.config, ctx.db)), host=args.host or web.host, port=args.port or web.port,
                log_config=None, access_log=False)
    return 0


def cmd_health(ctx: Context, args) -> int:
    from cli.health import collect

    data = collect(ctx.config, ctx.db)
    if args.json:
        _print_json(data)
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
    return 0


# --- staff ----------------------------------------------------------------------------------------

def _ticket_row(t, ctx: Context) -> dict:
    return {
        "number": t.number, "status": t.status, "channel": t.channel, "source_ref": t.source_ref, "kind": t.kind,
        "priority": t.priority, "category": t.category, "title": t.title, "town": t.town, "station": t.station,
        "assigned_unit": t.assigned_unit, "assigned_unit_name": ctx.unit_name(t.assigned_unit),
        "received_at": t.received_at, "source_deadline": t.source_deadline,
    }


def cmd_tickets_list(ctx: Context, args) -> int:
    from tickets import store

    with ctx.db.transaction() as s:
        rows = [_ticket_row(t, ctx) for t in store.list_tickets(s, args.status, args.unit, args.channel, args.limit)]
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("no tickets match")
        return 0
    for r in rows:
        print(f"{r['number']:<14} {r['status']:<11} {r['channel']:<16} {r['priority']:<7} "
              f"{(r['assigned_unit_name'] or '-')[:16]:<16} {r['title'][:30]}")
    return 0


def cmd_tickets_show(ctx: Context, args) -> int:
    from tickets import store

    with ctx.db.transaction() as s:
        t = store.get_by_number(s, args.number)
        data = _ticket_row(t, ctx) | {
            "text": t.text, "event_address": t.event_address, "business_name": t.business_name,
            "area_code": t.area_code, "complainant_name": t.complainant_name,
            "complainant_phone": t.complainant_phone, "result_text": t.result_text,
            "events": [{"at": e.at, "actor": e.actor, "action": e.action, "from": e.from_status,
                        "to": e.to_status, "detail": e.detail} for e in t.events],
        }
    if args.json:
        _print_json(data)
        return 0
    for key in ("number", "status", "channel", "source_ref", "kind", "priority", "category", "title", "text",
                "event_address", "business_name", "town", "assigned_unit_name", "result_text"):
        if data.get(key):
            print(f"{key:>18}: {data[key]}")
    print("history:")
    for e in data["events"]:
        move = f" {e['from']} → {e['to']}" if e["to"] else ""
        detail = json.dumps(e["detail"], ensure_ascii=False, default=_json_default) if e["detail"] else ""
        print(f"  {e['at']:%Y-%m-%d %H:%M:%S} {e['actor']:<22} {e['action']:<15}{move} {detail}")
    return 0


def _each_ticket(ctx: Context, numbers: list[str], action) -> int:
    """Apply `action` to each ticket in its own transaction; report every failure, succeed only if all did."""
    from tickets import TransitionError, store

    failed = 0
    for number in numbers:
        try:
            with ctx.db.transaction() as s:
                ticket = store.get_by_number(s, number, for_update=True)
                action(s, ticket)
                print(f"{number}: {ticket.status}")
        except (TransitionError, store.TicketNotFound, ValueError) as exc:
            failed += 1
            print(f"{number}: {exc}", file=sys.stderr)
    return 1 if failed else 0


def cmd_tickets_accept(ctx: Context, args) -> int:
    from tickets import handling

    return _each_ticket(ctx, args.numbers, lambda s, t: handling.accept(
        s, t, args.actor, ctx.unit_name(t.assigned_unit)))


def cmd_tickets_resolve(ctx: Context, args) -> int:
    from tickets import handling

    return _each_ticket(ctx, args.numbers, lambda s, t: handling.resolve(
        s, t, args.actor, args.result, ctx.unit_name(t.assigned_unit), handler=args.handler))


def cmd_tickets_return(ctx: Context, args) -> int:
    from tickets import handling

    return _each_ticket(ctx, args.numbers, lambda s, t: handling.return_to_source(s, t, args.actor, args.reason))


def cmd_quarantine_list(ctx: Context, args) -> int:
    from sqlalchemy import select

    from tickets.models import QuarantinedRecord

    with ctx.db.transaction() as s:
        stmt = select(QuarantinedRecord).order_by(QuarantinedRecord.id.desc()).limit(args.limit)
        if args.channel:
            stmt = stmt.where(QuarantinedRecord.channel == args.channel)
        rows = [{"id": q.id, "channel": q.channel, "source_ref": q.source_ref, "reason": q.reason,
                 "created_at": q.created_at, "raw": q.raw} for q in s.scalars(stmt)]
    if args.json:
        _print_json(rows)
    else:
        for r in rows:
            print(f"{r['id']:>6} {r['channel']:<16} {r['source_ref'] or '-':<28} {r['reason']}")
        if not rows:
            print("quarantine is empty")
    return 0


def cmd_outbox_list(ctx: Context, args) -> int:
    from sqlalchemy import select

    from writeback import OutboxItem

    with ctx.db.transaction() as s:
        stmt = select(OutboxItem).order_by(OutboxItem.id.desc()).limit(args.limit)
        if args.dead:
            stmt = stmt.where(OutboxItem.status == "dead")
        rows = [{"id": o.id, "channel": o.channel, "source_ref": o.source_ref, "effect": o.effect,
                 "status": o.status, "attempts": o.attempts, "last_error": o.last_error, "key": o.key,
                 "history": o.history} for o in s.scalars(stmt)]
    if args.json:
        _print_json(rows)
    else:
        for r in rows:
            print(f"{r['id']:>6} {r['channel']:<16} {r['source_ref']:<28} {r['effect']:<9} {r['status']:<9} "
                  f"{r['attempts']} {r['last_error'] or ''}")
        if not rows:
            print("no write-backs" + (" in dead letters" if args.dead else ""))
    return 0


def cmd_outbox_reconcile(ctx: Context, args) -> int:
    from dataclasses import asdict

    from connectors import build_enabled
    from writeback import reconcile

    report = reconcile(ctx.db, build_enabled(ctx.config.channels), hours=args.hours, requeue=args.requeue)
    if args.json:
        _print_json(asdict(report))
        return 0
    print(f"checked {report.checked} record(s); {len(report.differences)} difference(s)")
    for d in report.differences:
        print(f"  {d.number} {d.channel} {d.source_ref}: {d.effect} delivered, source shows {d.source_status!r} "
              f"(expected one of {', '.join(d.expected)})" + ("; queued again" if d.requeued else ""))
    for name in report.skipped_channels:
        print(f"  {name}: source unavailable, not checked", file=sys.stderr)
    return 0


def cmd_outbox_retry(ctx: Context, args) -> int:
    from writeback import retry_dead

    if not args.all and not args.ids:
        print("name the dead letters to retry (IDs) or give --all", file=sys.stderr)
        return 2
    with ctx.db.transaction() as s:
        n = retry_dead(s, None if args.all else args.ids)
    print(f"{n} write-back(s) queued again")
    return 0


class _Sub:
    """Subparsers that all take --config, before or after the subcommand."""

    def __init__(self, action, common):
        self.action, self.common = action, common

    def add_parser(self, name, **kw):
        parser = self.action.add_parser(name, parents=[self.common], **kw)
        original = parser.add_subparsers
        parser.add_subparsers = lambda **k: _Sub(original(**k), self.common)
        return parser


# Modules that add subcommands of their own: each has `register(sub)`, where `sub.add_parser(...)` works
# as in build_parser below and a command's function receives (ctx: Context, args).
COMMAND_MODULES: tuple[str, ...] = ("cli.sla_cmd", "cli.walkin", "cli.rules_cmd", "cli.sms_cmd", "cli.duplicates_cmd",
                                    "cli.users_cmd")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS,
                        help="configuration file (default: $ONEQUEUE_CONFIG or ./config.yaml)")
    p = argparse.ArgumentParser(prog="onequeue", description="one queue for every complaint channel",
                                parents=[common])
    sub = _Sub(p.add_subparsers(dest="command", required=True), common)

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

    tickets = sub.add_parser("tickets", help="list, show and handle tickets").add_subparsers(dest="tickets_cmd",
                                                                                             required=True)
    ls = tickets.add_parser("list", help="newest first")
    ls.add_argument("--status")
    ls.add_argument("--unit")
    ls.add_argument("--channel")
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_tickets_list)
    show = tickets.add_parser("show", help="one ticket with its history")
    show.add_argument("number")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_tickets_show)
    for name, func, helptext in (("accept", cmd_tickets_accept, "the assigned unit takes the ticket on"),
                                 ("resolve", cmd_tickets_resolve, "record the result (accepting first if needed)"),
                                 ("return", cmd_tickets_return, "give the ticket back to its source: not ours")):
        cmd = tickets.add_parser(name, help=helptext)
        cmd.add_argument("numbers", nargs="+", metavar="NUMBER")
        cmd.add_argument("--actor", default="staff:cli", help="who does it, for the history")
        if name == "resolve":
            cmd.add_argument("--result", required=True, help="the result text the complainant and source get")
            cmd.add_argument("--handler", help="the handler's name for the source (default: the unit)")
        if name == "return":
            cmd.add_argument("--reason", required=True)
        cmd.set_defaults(func=func)

    q = sub.add_parser("quarantine", help="records set aside").add_subparsers(dest="q_cmd", required=True)
    ql = q.add_parser("list")
    ql.add_argument("--channel")
    ql.add_argument("--limit", type=int, default=100)
    ql.add_argument("--json", action="store_true")
    ql.set_defaults(func=cmd_quarantine_list)

    o = sub.add_parser("outbox", help="write-backs to sources").add_subparsers(dest="o_cmd", required=True)
    ol = o.add_parser("list")
    ol.add_argument("--dead", action="store_true", help="only dead letters")
    ol.add_argument("--limit", type=int, default=100)
    ol.add_argument("--json", action="store_true")
    ol.set_defaults(func=cmd_outbox_list)
    orr = o.add_parser("retry", help="re-drive dead letters")
    orr.add_argument("ids", nargs="*", type=int)
    orr.add_argument("--all", action="store_true")
    orr.set_defaults(func=cmd_outbox_retry)
    orc = o.add_parser("reconcile", help="compare what sources show with the results delivered to them")
    orc.add_argument("--hours", type=float, default=24, help="tickets changed in this many hours (default 24)")
    orc.add_argument("--requeue", action="store_true", help="queue a missing result again")
    orc.add_argument("--json", action="store_true")
    orc.set_defaults(func=cmd_outbox_reconcile)

    import importlib

    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return p


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        ctx = Context(getattr(args, "config", None))
        from settings.logging_setup import configure_logging

        configure_logging(ctx.config.log_level)  # JSON lines on stderr; stdout is the command's answer
        return args.func(ctx, args)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
