"""`onequeue alerts list|ack|close` (duty staff and leads): the early-warning alerts, taken on and closed with a
note by the same functions as the back office's 预警 page."""
from __future__ import annotations

from cli.common import Commands, china_time, fail, print_json


def register(sub: Commands) -> None:
    group = sub.add_group("alerts", help="early-warning alerts: list, acknowledge, close")
    listing = group.add_parser("list", help="alerts, newest first (default: those not closed)")
    listing.add_argument("--status", default="active", choices=["active", "open", "acknowledged", "closed", "all"],
                         help="active (default: open or acknowledged), open, acknowledged, closed or all")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_list)
    ack = group.add_parser("ack", help="take an alert on (it stays until closed; later tickets still join it)")
    ack.add_argument("id", type=int)
    ack.add_argument("--note", default="", help="what is being done")
    ack.add_argument("--actor", default="staff:cli", help="who takes it on, for the record")
    ack.set_defaults(func=cmd_ack)
    close = group.add_parser("close", help="close an alert, saying how it was dealt with")
    close.add_argument("id", type=int)
    close.add_argument("--note", required=True, help="how it was dealt with")
    close.add_argument("--actor", default="staff:cli", help="who closes it, for the record")
    close.set_defaults(func=cmd_close)


def cmd_list(ctx, args) -> int:
    from watch import alerts

    with ctx.db.transaction() as s:
        rows = alerts.listing(s, None if args.status == "all" else args.status, limit=args.limit)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no alerts" + ("" if args.status == "all" else f" ({args.status})"))
        return 0
    for r in rows:
        print(f"{r['id']:>5}  {china_time(r['raised_at'], False)}  {r['level_label']}  {r['status_label']}  "
              f"{r['summary']}  tickets: {', '.join(r['tickets'])}")
        if r["acknowledged_by"]:
            print(f"       acknowledged {china_time(r['acknowledged_at'], False)} by {r['acknowledged_by']}"
                  + (f": {r['acknowledged_note']}" if r["acknowledged_note"] else ""))
        if r["closed_by"]:
            print(f"       closed {china_time(r['closed_at'], False)} by {r['closed_by']}: {r['closed_note']}")
    return 0


def _step(ctx, args, what: str, step) -> int:
    from watch import alerts

    try:
        with ctx.db.transaction() as s:
            alert = step(s)
            print(f"alert {alert.id}: {alerts.STATUS_LABELS[alert.status]}")
    except (alerts.AlertNotFound, alerts.AlertRefused) as exc:
        return fail(f"alerts {what}: {exc}")
    return 0


def cmd_ack(ctx, args) -> int:
    from watch import alerts

    return _step(ctx, args, "ack", lambda s: alerts.acknowledge(s, args.id, args.actor, args.note))


def cmd_close(ctx, args) -> int:
    from watch import alerts

    return _step(ctx, args, "close", lambda s: alerts.close(s, args.id, args.actor, args.note))
