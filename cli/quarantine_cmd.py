"""`onequeue quarantine list`: operators see the records a channel set aside, with the reason for each."""
from __future__ import annotations

from cli.common import Commands, Context, china_time, print_json


def register(sub: Commands) -> None:
    q = sub.add_group("quarantine", help="records set aside")
    ql = q.add_parser("list", help="newest first, with the reason each was set aside")
    ql.add_argument("--channel")
    ql.add_argument("--limit", type=int, default=100)
    ql.add_argument("--json", action="store_true")
    ql.set_defaults(func=cmd_list)


def cmd_list(ctx: Context, args) -> int:
    from tickets.queries import list_quarantined

    with ctx.db.transaction() as s:
        rows = [{"id": q.id, "channel": q.channel, "source_ref": q.source_ref, "reason": q.reason,
                 "created_at": q.created_at, "raw": q.raw}
                for q in list_quarantined(s, channel=args.channel, limit=args.limit)]
    if args.json:
        print_json(rows)
    else:
        for r in rows:
            print(f"{r['id']:>6} {china_time(r['created_at'])} {r['channel']:<16} {r['source_ref'] or '-':<28} "
                  f"{r['reason']}")
        if not rows:
            print("quarantine is empty")
    return 0
