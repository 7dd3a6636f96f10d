"""`onequeue tickets list|show|accept|resolve|return|called-back`: staff read the queue and act on its tickets."""
from __future__ import annotations

from cli.common import Commands, Context, china_time, each_ticket, fail, json_text, print_json


def register(sub: Commands) -> None:
    tickets = sub.add_group("tickets", help="list, show and handle tickets")
    ls = tickets.add_parser("list", help="newest first")
    ls.add_argument("--status")
    ls.add_argument("--unit")
    ls.add_argument("--channel")
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)
    show = tickets.add_parser("show", help="one ticket with its history")
    show.add_argument("number")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)
    for name, func, helptext in (("accept", cmd_accept, "the assigned unit takes the ticket on"),
                                 ("resolve", cmd_resolve, "record the result (accepting first if needed)"),
                                 ("return", cmd_return, "give the ticket back to its source: not ours")):
        cmd = tickets.add_parser(name, help=helptext)
        cmd.add_argument("numbers", nargs="+", metavar="NUMBER")
        cmd.add_argument("--actor", default="staff:cli", help="who does it, for the history")
        if name == "resolve":
            cmd.add_argument("--result", required=True, help="the result text the complainant and source get")
            cmd.add_argument("--handler", help="the handler's name for the source (default: the unit)")
        if name == "return":
            cmd.add_argument("--reason", required=True)
        cmd.set_defaults(func=func)
    called = tickets.add_parser("called-back", help="the unhappy complainant was called back (回访): the ticket "
                                "leaves the back office's 回访 view")
    called.add_argument("numbers", nargs="+", metavar="NUMBER")
    called.add_argument("--note", required=True, help="what was said, for the history")
    called.add_argument("--actor", default="staff:cli", help="who called, for the history")
    called.set_defaults(func=cmd_called_back)


def _row(t, ctx: Context) -> dict:
    return {
        "number": t.number, "status": t.status, "channel": t.channel, "source_ref": t.source_ref, "kind": t.kind,
        "priority": t.priority, "category": t.category, "title": t.title, "town": t.town, "station": t.station,
        "assigned_unit": t.assigned_unit, "assigned_unit_name": ctx.unit_name(t.assigned_unit),
        "received_at": t.received_at, "source_deadline": t.source_deadline,
    }


def cmd_list(ctx: Context, args) -> int:
    from tickets.queries import list_tickets

    with ctx.db.transaction() as s:
        rows = [_row(t, ctx) for t in list_tickets(s, status=args.status, unit=args.unit, channel=args.channel,
                                                   limit=args.limit)]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no tickets match")
        return 0
    for r in rows:
        print(f"{r['number']:<14} {r['status']:<11} {r['channel']:<16} {r['priority']:<7} "
              f"{china_time(r['received_at'])} {(r['assigned_unit_name'] or '-')[:16]:<16} {r['title'][:30]}")
    return 0


def cmd_show(ctx: Context, args) -> int:
    from tickets import store

    try:
        with ctx.db.transaction() as s:
            t = store.get_by_number(s, args.number)
            data = _row(t, ctx) | {
                "text": t.text, "event_address": t.event_address, "business_name": t.business_name,
                "area_code": t.area_code, "complainant_name": t.complainant_name,
                "complainant_phone": t.complainant_phone, "result_text": t.result_text,
                "events": [{"at": e.at, "actor": e.actor, "action": e.action, "from": e.from_status,
                            "to": e.to_status, "detail": e.detail} for e in t.events],
            }
    except store.TicketNotFound as exc:
        return fail(str(exc))
    if args.json:
        print_json(data)
        return 0
    for key in ("number", "status", "channel", "source_ref", "kind", "priority", "category", "title", "text",
                "event_address", "business_name", "town", "assigned_unit_name", "result_text"):
        if data.get(key):
            print(f"{key:>18}: {data[key]}")
    for key in ("received_at", "source_deadline"):
        if data.get(key):
            print(f"{key:>18}: {china_time(data[key])}")
    print("history (China Standard Time):")
    for e in data["events"]:
        move = f" {e['from']} → {e['to']}" if e["to"] else ""
        detail = json_text(e["detail"]) if e["detail"] else ""
        print(f"  {china_time(e['at'])} {e['actor']:<22} {e['action']:<15}{move} {detail}")
    return 0


def cmd_accept(ctx: Context, args) -> int:
    from tickets import handling

    return each_ticket(ctx, args.numbers, lambda s, t: handling.accept(
        s, t, args.actor, ctx.unit_name(t.assigned_unit)))


def cmd_resolve(ctx: Context, args) -> int:
    from tickets import handling

    return each_ticket(ctx, args.numbers, lambda s, t: handling.resolve(
        s, t, args.actor, args.result, ctx.unit_name(t.assigned_unit), handler=args.handler))


def cmd_return(ctx: Context, args) -> int:
    from tickets import handling

    return each_ticket(ctx, args.numbers, lambda s, t: handling.return_to_source(s, t, args.actor, args.reason))


def cmd_called_back(ctx: Context, args) -> int:
    from tickets.followup import mark_called_back

    def call(s, t) -> str:
        mark_called_back(s, t, args.actor, args.note)
        return "called back"

    return each_ticket(ctx, args.numbers, call)
