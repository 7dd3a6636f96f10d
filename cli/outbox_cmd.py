"""`onequeue outbox list|retry|reconcile`: operators watch the write-backs to sources, re-drive dead letters
and compare what each source shows with what it was sent."""
from __future__ import annotations

import sys

from cli.common import Commands, Context, china_time, print_json
from settings.masking import mask_text


def register(sub: Commands) -> None:
    o = sub.add_group("outbox", help="write-backs to sources")
    ol = o.add_parser("list", help="newest first")
    ol.add_argument("--dead", action="store_true", help="only dead letters")
    ol.add_argument("--limit", type=int, default=100)
    ol.add_argument("--json", action="store_true")
    ol.set_defaults(func=cmd_list)
    orr = o.add_parser("retry", help="re-drive dead letters")
    orr.add_argument("ids", nargs="*", type=int)
    orr.add_argument("--all", action="store_true")
    orr.set_defaults(func=cmd_retry)
    orc = o.add_parser("reconcile", help="compare what sources show with the results delivered to them")
    orc.add_argument("--hours", type=float, default=24, help="tickets changed in this many hours (default 24)")
    orc.add_argument("--requeue", action="store_true", help="queue a missing result again")
    orc.add_argument("--json", action="store_true")
    orc.set_defaults(func=cmd_reconcile)


def cmd_list(ctx: Context, args) -> int:
    from writeback.queries import list_outbox, shown_history

    with ctx.db.transaction() as s:
        rows = [{"id": o.id, "channel": o.channel, "source_ref": o.source_ref, "effect": o.effect,
                 "status": o.status, "attempts": o.attempts, "last_error": mask_text(o.last_error), "key": o.key,
                 "created_at": o.created_at, "history": shown_history(o.history)}
                for o in list_outbox(s, status="dead" if args.dead else None, limit=args.limit)]
    if args.json:
        print_json(rows)
    else:
        for r in rows:
            print(f"{r['id']:>6} {china_time(r['created_at'])} {r['channel']:<16} {r['source_ref']:<28} "
                  f"{r['effect']:<9} {r['status']:<9} {r['attempts']} {r['last_error'] or ''}")
        if not rows:
            print("no write-backs" + (" in dead letters" if args.dead else ""))
    return 0


def cmd_reconcile(ctx: Context, args) -> int:
    from dataclasses import asdict

    from connectors import build_enabled
    from writeback import reconcile

    report = reconcile(ctx.db, build_enabled(ctx.config.channels), hours=args.hours, requeue=args.requeue)
    if args.json:
        print_json(asdict(report))
        return 0
    print(f"checked {report.checked} record(s); {len(report.differences)} difference(s)")
    for d in report.differences:
        print(f"  {d.number} {d.channel} {d.source_ref}: {d.effect} delivered, source shows {d.source_status!r} "
              f"(expected one of {', '.join(d.expected)})" + ("; queued again" if d.requeued else ""))
    for name in report.skipped_channels:
        print(f"  {name}: source unavailable, not checked", file=sys.stderr)
    return 0


def cmd_retry(ctx: Context, args) -> int:
    from writeback import retry_dead

    if not args.all and not args.ids:
        print("name the dead letters to retry (IDs) or give --all", file=sys.stderr)
        return 2
    with ctx.db.transaction() as s:
        n = retry_dead(s, None if args.all else args.ids)
    print(f"{n} write-back(s) queued again")
    return 0
