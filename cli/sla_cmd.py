"""`onequeue tickets suspend|resume|extend|clocks` (staff) and `onequeue sla templates|calendar|recompute`
(administrators): the deadlines of a ticket, and the texts and calendar they follow."""
from __future__ import annotations

import sys
from datetime import date

from cli.common import Commands, china_time, each_ticket, print_json


def _deadlines(ctx):
    from sla import Deadlines

    return Deadlines(ctx.config.sla, ctx.units)


def _each(ctx, numbers, act) -> int:
    from sla import SlaError

    return each_ticket(ctx, numbers, act, errors=(SlaError,))


def cmd_suspend(ctx, args) -> int:
    from sla import suspend

    d = _deadlines(ctx)
    return _each(ctx, args.numbers, lambda s, t: "suspended " + ", ".join(
        suspend(s, d, t, args.reason, args.actor, clock=args.clock)))


def cmd_resume(ctx, args) -> int:
    from sla import resume

    d = _deadlines(ctx)
    return _each(ctx, args.numbers, lambda s, t: "resumed; due " + ", ".join(
        f"{name} {china_time(due)}" for name, due in resume(s, d, t, args.reason, args.actor).items()))


def cmd_extend(ctx, args) -> int:
    from sla import extend

    d = _deadlines(ctx)
    return _each(ctx, args.numbers, lambda s, t: f"{args.clock} now due "
                 f"{china_time(extend(s, d, t, args.reason, args.actor, args.clock))}")


def cmd_clocks(ctx, args) -> int:
    from sla.clocks import clocks_of
    from tickets import store

    try:
        with ctx.db.transaction() as s:
            t = store.get_by_number(s, args.number)
            rows = [{"clock": c.clock, "policy": c.policy, "started_at": c.started_at, "due_at": c.due_at,
                     "from_source": c.source_due, "uncertain": c.uncertain, "suspended_at": c.suspended_at,
                     "suspended_working_hours": round((c.suspended_seconds or 0) / 3600, 2),
                     "extended_working_days": c.extended_days, "stopped_at": c.stopped_at,
                     "stop_reason": c.stop_reason, "breached_at": c.breached_at,
                     "next_action_at": c.next_action_at, "reminders_done": c.points_done}
                    for c in clocks_of(s, [t.id])[t.id]]
    except store.TicketNotFound as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print(f"{args.number} has no deadlines (not dispatched yet)")
    for r in rows:
        state = ("stopped (" + (r["stop_reason"] or "") + ")" if r["stopped_at"] else
                 "suspended" if r["suspended_at"] else "waiting" if not r["started_at"] else
                 "OVERDUE" if r["breached_at"] else "running")
        flags = (" UNCERTAIN: a year without calendar data" if r["uncertain"] else "") + \
                (" (the source's deadline)" if r["from_source"] else "")
        print(f"{r['clock']:<15} {state:<20} due {china_time(r['due_at'])}{flags}")
    return 0


def cmd_templates(ctx, args) -> int:
    """Each SMS template rendered with sample tickets, with the segments it costs."""
    from datetime import datetime, timedelta, timezone

    from notify.links import sample_link
    from notify.templates import segments
    from sla.notices import Item, message_text
    from tickets.models import Ticket

    d = _deadlines(ctx)
    due = datetime(2026, 10, 27, 10, 0, tzinfo=timezone.utc)
    station = next((u for u in ctx.units if u.kind == "station"), None)
    unit_id = station.id if station else None
    parent = ctx.units.parent_of(unit_id) if unit_id else None
    samples = []
    for kind in ("reminder", "overdue"):
        for count in (1, 12):
            items = [Item(Ticket(id=i, number=f"SD2610-{i:05d}", priority="normal"), "resolution", "1WD",
                          due + timedelta(hours=i % 3), unit_id,
                          parent.id if kind == "overdue" and parent and i == 1 else None)
                     for i in range(1, count + 1)]
            text = message_text(d, items, kind, link=sample_link(ctx.config))
            samples.append({"template": kind, "tickets": count, "characters": len(text), "segments": segments(text),
                            "text": text})
    if args.json:
        print_json(samples)
        return 0
    t = d.config.templates
    print(f"validity: reminders {t.reminder_validity_seconds or '-'} s, "
          f"overdue notices {t.overdue_validity_seconds or '-'} s")
    for sample in samples:
        print(f"\n{sample['template']} with {sample['tickets']} ticket(s): {sample['characters']} characters, "
              f"{sample['segments']} segment(s)\n  {sample['text']}")
    return 0


def cmd_calendar(ctx, args) -> int:
    from sla.calendar_cn import PACKAGE_YEARS

    cal = ctx.config.sla.calendar.build()
    year = args.year or date.today().year
    data = {"package_years": [PACKAGE_YEARS.start, PACKAGE_YEARS.stop - 1],
            "configured_years": sorted(cal.years), "working_hours": str(cal.hours),
            "unit_hours": {u: str(h) for u, h in cal.unit_hours.items()}, "version": cal.version,
            "year": year, "known": cal.knows(year),
            "days_off_on_weekdays": [], "weekend_workdays": []}
    day = date(year, 1, 1)
    while day.year == year:
        worked = cal.is_workday(day)
        if day.weekday() < 5 and not worked:
            data["days_off_on_weekdays"].append(day.isoformat())
        elif day.weekday() >= 5 and worked:
            data["weekend_workdays"].append(day.isoformat())
        day = date.fromordinal(day.toordinal() + 1)
    if args.json:
        print_json(data)
        return 0
    print(f"chinesecalendar covers {data['package_years'][0]}-{data['package_years'][1]}; config.yaml adds "
          f"{', '.join(map(str, data['configured_years'])) or 'no year'}; hours {data['working_hours']}")
    if not data["known"]:
        print(f"{year}: NO DATA — deadlines in {year} count weekends alone and are flagged uncertain; "
              f"give sla.calendar.years.{year} in config.yaml")
        return 0
    print(f"{year}: weekdays off: {', '.join(data['days_off_on_weekdays']) or 'none'}")
    print(f"{year}: weekend days worked (调休): {', '.join(data['weekend_workdays']) or 'none'}")
    return 0


def cmd_recompute(ctx, args) -> int:
    from sla import recompute_stale

    n = recompute_stale(ctx.db, _deadlines(ctx))
    print(f"{n} running deadline(s) recomputed under the current calendar")
    return 0


def register(sub: Commands) -> None:
    tickets = sub.group("tickets")
    for name, func, helptext in (("suspend", cmd_suspend, "stop the deadline clocks (testing, appraisal, negotiation)"),
                                 ("resume", cmd_resume, "restart them; deadlines move by the working time suspended"),
                                 ("extend", cmd_extend, "extend a deadline once, where its policy allows")):
        cmd = tickets.add_parser(name, help=helptext)
        cmd.add_argument("numbers", nargs="+", metavar="NUMBER")
        cmd.add_argument("--reason", required=True, help="kept on the ticket's history")
        cmd.add_argument("--actor", default="staff:cli", help="who does it, for the history")
        if name in ("suspend", "extend"):
            cmd.add_argument("--clock", default=None if name == "suspend" else "resolution",
                             help="one clock only (default: " + ("all running" if name == "suspend" else "resolution")
                             + ")")
        cmd.set_defaults(func=func)
    clocks = tickets.add_parser("clocks", help="a ticket's deadlines: due, stopped, suspended, overdue, uncertain")
    clocks.add_argument("number")
    clocks.add_argument("--json", action="store_true")
    clocks.set_defaults(func=cmd_clocks)

    sla = sub.add_group("sla", help="deadline templates, calendar and recomputation")
    tpl = sla.add_parser("templates", help="the reminder and overdue SMS with their segment counts")
    tpl.add_argument("--json", action="store_true")
    tpl.set_defaults(func=cmd_templates)
    cal = sla.add_parser("calendar", help="which years have holiday data; a year's days off and make-up days")
    cal.add_argument("--year", type=int)
    cal.add_argument("--json", action="store_true")
    cal.set_defaults(func=cmd_calendar)
    rec = sla.add_parser("recompute", help="recompute running deadlines after the calendar changed")
    rec.set_defaults(func=cmd_recompute)
