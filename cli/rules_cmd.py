"""`onequeue rules check|explain|replay` for administrators, and `onequeue reassign` for staff: rules tried
before they go live, every decision explained, and a decision overridden by a person, on the record.

`reassign` is a top-level command (not under `tickets`), as staff have always typed it.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from typing import Optional

from cli.common import CHINA_TZ, Commands, china_time, fail, print_json


def register(sub: Commands) -> None:
    rules = sub.add_group("rules", help="check, explain and replay the routing rules")

    check = rules.add_parser("check", help="validate a rules file: errors with file, line and field; warnings "
                                           "for rules that can never match or are never reached")
    check.add_argument("file", nargs="?", help="the rules file (default: the configured rules_file)")
    check.add_argument("--units", metavar="FILE", help="the units file (default: the configured units_file)")
    check.add_argument("--strict", action="store_true", help="warnings fail the check too")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=cmd_rules_check)

    explain = rules.add_parser("explain", help="each rule tried on a ticket, matched or not and why, and the decision")
    explain.add_argument("number", nargs="?", help="a stored ticket's number, e.g. SD2611-00012")
    explain.add_argument("--json-ticket", metavar="JSON",
                         help="a ticket given as JSON instead, e.g. '{\"text\": \"...\", \"event_address\": \"...\"}'")
    explain.add_argument("--rules", metavar="FILE", help="explain under this rules file instead of the configured one")
    explain.add_argument("--units", metavar="FILE", help="and this units file")
    explain.add_argument("--json", action="store_true")
    explain.set_defaults(func=cmd_rules_explain)

    replay = rules.add_parser("replay", help="decide past tickets under a new rules file (changes nothing) and "
                                             "show what would move")
    replay.add_argument("file", help="the new rules file")
    replay.add_argument("--since", default="30d", help="tickets received since: 30d, 12h, 2w or a date "
                                                       "2026-11-01 (default 30d)")
    replay.add_argument("--units", metavar="FILE", help="a new units file too (default: the configured one)")
    replay.add_argument("--against", choices=("rules", "history"), default="rules",
                        help="compare with the configured rules (default) or with what each ticket's history records")
    replay.add_argument("--limit", type=int, default=50, help="moves listed in text output (default 50)")
    replay.add_argument("--json", action="store_true")
    replay.set_defaults(func=cmd_rules_replay)

    reassign = sub.add_parser("reassign", help="send a ticket to another unit (staff override); its contacts are "
                                               "texted")
    reassign.add_argument("number", help="the ticket's number")
    reassign.add_argument("--unit", required=True, help="the unit id from units.yaml")
    reassign.add_argument("--reason", required=True, help="why, for the history")
    reassign.add_argument("--actor", default="staff:cli", help="who does it, for the history")
    reassign.add_argument("--json", action="store_true")
    reassign.set_defaults(func=cmd_reassign)


def _problem(p) -> dict:
    return {"file": p.file, "line": p.line, "field": p.field, "message": p.message}


# --- check ----------------------------------------------------------------------------------------

def cmd_rules_check(ctx, args) -> int:
    from dispatch.rules_check import check_files

    cfg = ctx.config
    rules_file = args.file or str(cfg.path(cfg.rules_file))
    units_file = args.units or str(cfg.path(cfg.units_file))
    report = check_files(rules_file, units_file, channels=[ch.name for ch in cfg.channels])
    failed = bool(report.errors) or (args.strict and bool(report.warnings))
    if args.json:
        print_json({"rules_file": report.rules_file, "units_file": report.units_file, "ok": not failed,
                     "rule_count": report.rule_count, "errors": [_problem(p) for p in report.errors],
                     "warnings": [_problem(p) for p in report.warnings]})
        return 1 if failed else 0
    for p in report.errors:
        print(f"error: {p}", file=sys.stderr)
    for p in report.warnings:
        print(f"warning: {p}")
    counts = f"{_n(len(report.errors), 'error')}, {_n(len(report.warnings), 'warning')}"
    if report.errors:
        return fail(f"{rules_file}: {counts}; fix the errors above: a worker refuses this file and keeps the "
                     "rules it runs")
    print(f"{rules_file}: {_n(report.rule_count, 'rule')}, {counts}")
    return 1 if failed else 0


def _n(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


# --- explain --------------------------------------------------------------------------------------

def _dispatcher(ctx, rules_file: Optional[str], units_file: Optional[str]):
    """The Dispatcher for the given files (default: the configured ones); ConfigError if one is invalid."""
    from dispatch import Dispatcher

    cfg = ctx.config
    return Dispatcher.from_files(units_file or cfg.path(cfg.units_file), rules_file or cfg.path(cfg.rules_file))


def _facts_from_json(text: str):
    """TicketFacts from the command line's JSON; ValueError naming what is wrong and what is allowed."""
    from pydantic import BaseModel, ConfigDict, ValidationError

    from dispatch import TicketFacts
    from dispatch.rules_schema import Kind, Priority

    class Given(BaseModel):
        model_config = ConfigDict(extra="forbid")

        channel: str = "cli"
        channel_kind: Optional[str] = None
        kind: Optional[Kind] = None
        title: Optional[str] = None
        text: Optional[str] = None
        event_address: Optional[str] = None
        business_name: Optional[str] = None
        business_address: Optional[str] = None
        area_code: Optional[str] = None
        amount: Optional[float] = None
        priority: Priority = "normal"
        walk_in_station: Optional[str] = None
        category: Optional[str] = None
        received_at: Optional[datetime] = None

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--json-ticket is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("--json-ticket must be a JSON object, e.g. '{\"text\": \"...\"}'")
    try:
        given = Given.model_validate(data)
    except ValidationError as exc:
        wrong = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: "
                          f"{'unknown field' if e['type'] == 'extra_forbidden' else e['msg']}" for e in exc.errors())
        raise ValueError(f"--json-ticket: {wrong} (fields: {', '.join(Given.model_fields)})") from None
    return TicketFacts(**given.model_dump())


def cmd_rules_explain(ctx, args) -> int:
    from dispatch.job import facts_in
    from dispatch.rules_check import rule_lines
    from tickets import store

    if bool(args.number) == bool(args.json_ticket):
        return fail("give a ticket's NUMBER or --json-ticket '{...}' (one of the two)", 2)
    dispatcher = _dispatcher(ctx, args.rules, args.units)
    ticket_info = None
    if args.json_ticket:
        try:
            facts = _facts_from_json(args.json_ticket)
        except ValueError as exc:
            return fail(str(exc), 2)
    else:
        with ctx.db.transaction() as s:
            try:
                ticket = store.get_by_number(s, args.number)
            except store.TicketNotFound as exc:
                return fail(str(exc))
            facts = facts_in(s, [ticket])[ticket.id]
            ticket_info = {"number": ticket.number, "status": ticket.status, "assigned_unit": ticket.assigned_unit,
                           "assigned_unit_name": _unit_name(dispatcher, ticket.assigned_unit)}
    decision = dispatcher.decide(facts, explain=True)
    rules_file = str(args.rules or ctx.config.path(ctx.config.rules_file))
    lines = rule_lines(rules_file, dispatcher.rules_file)
    tried = {step.rule_id for step in decision.trace}
    data = {
        "ticket": ticket_info,
        "facts": {k: v for k, v in asdict(facts).items() if v not in (None, "")},
        "rules_file": rules_file,
        "rules": [{"rule": s.rule_id, "line": lines.get(s.rule_id), "matched": s.matched, "why": s.why}
                  for s in decision.trace],
        "not_tried": [r.id for r in dispatcher.rules_file.rules if r.id not in tried],
        "decision": {
            "unit": decision.unit_id, "unit_name": _unit_name(dispatcher, decision.unit_id),
            "triage": decision.triage, "rule": decision.rule_id, "reason": decision.reason,
            "place": {"town": decision.town, "station": decision.station,
                      "station_name": _unit_name(dispatcher, decision.station),
                      "method": decision.place_method, "confidence": decision.place_confidence,
                      "found": decision.place_found, "candidates": list(decision.place_candidates),
                      "note": decision.place_note},
            "category": decision.category, "group": decision.group, "priority": decision.priority,
            "unit_group": list(decision.group_units), "strategy": decision.group_strategy,
        },
    }
    if args.json:
        print_json(data)
        return 0
    _print_explanation(data)
    return 0


def _unit_name(dispatcher, unit_id: Optional[str]) -> Optional[str]:
    unit = dispatcher.units.get(unit_id) if unit_id else None
    return unit.name if unit else None


def _print_explanation(data: dict) -> None:
    t = data["ticket"]
    if t:
        where = f", with {t['assigned_unit']} {t['assigned_unit_name'] or ''}".rstrip() if t["assigned_unit"] else ""
        print(f"ticket {t['number']} ({t['status']}{where})")
    facts = data["facts"]
    for key in ("channel", "channel_kind", "kind", "title", "text", "event_address", "business_name",
                "business_address", "area_code", "amount", "priority", "walk_in_station", "category"):
        if key in facts:
            print(f"  {key:>16}: {facts[key]}")
    print(f"rules ({data['rules_file']}), in order:")
    width = max([len(r["rule"]) for r in data["rules"]] + [4])
    for r in data["rules"]:
        line = f":{r['line']}" if r["line"] else ""
        print(f"  {'MATCH' if r['matched'] else 'no':<5} {r['rule']:<{width}} {line:<5} {r['why']}")
    if data["not_tried"]:
        print(f"  not tried (an earlier rule decided): {', '.join(data['not_tried'])}")
    d = data["decision"]
    p = d["place"]
    place = " · ".join(x for x in (p["town"], p["station"], p["station_name"]) if x) or "unknown"
    print("decision:")
    found = f" from {p['found']!r}" if p["found"] else ""
    print(f"  {'place':>9}: {place} (found by {p['method']}{found}, confidence {p['confidence']:.2f})")
    if p["candidates"]:
        print(f"  {'could be':>9}: {', '.join(p['candidates'])}")
    print(f"  {'category':>9}: {d['category']}" + (f" (group {d['group']})" if d["group"] else ""))
    print(f"  {'priority':>9}: {d['priority']}")
    if d["unit_group"]:
        print(f"  {'unit':>9}: one of {', '.join(d['unit_group'])} by {d['strategy']} (picked when dispatched)")
    else:
        print(f"  {'unit':>9}: " + ("none: triage, a person decides" if d["triage"]
                                    else f"{d['unit']} {d['unit_name'] or ''}"))
    print(f"  {'why':>9}: {d['reason']}")


# --- replay ---------------------------------------------------------------------------------------

_SPAN = re.compile(r"^(\d+)\s*([mhdw])$")


def parse_since(text: str, now: Optional[datetime] = None) -> datetime:
    """30d, 12h, 90m, 2w back from now, or a date / date-time (local time when no offset is given)."""
    now = now or datetime.now(timezone.utc)
    m = _SPAN.match(text.strip())
    if m:
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
        return now - timedelta(**{unit: int(m.group(1))})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since {text!r}: give a span like 30d, 12h, 90m, 2w or a date like 2026-11-01") from None
    return when if when.tzinfo else when.replace(tzinfo=CHINA_TZ)


def cmd_rules_replay(ctx, args) -> int:
    from dispatch.replay import replay
    from dispatch.rules_check import check_files

    try:
        since = parse_since(args.since)
    except ValueError as exc:
        return fail(str(exc), 2)
    report = check_files(args.file, args.units or ctx.config.path(ctx.config.units_file))
    if report.errors:
        for p in report.errors:
            print(f"error: {p}", file=sys.stderr)
        return fail(f"{args.file}: {_n(len(report.errors), 'error')}; nothing replayed")
    new = report.dispatcher
    current = _dispatcher(ctx, None, None) if args.against == "rules" else None
    session = ctx.db.sessions()
    try:
        result = replay(session, new, since, current)
    finally:
        session.rollback()   # read only: nothing is changed, whatever happened
        session.close()
    names = {u.id: u.name for u in new.units}
    if current is not None:
        names = {u.id: u.name for u in current.units} | names
    units = sorted(set(result.before) | set(result.after), key=lambda u: (-max(result.before[u], result.after[u]), u))
    against = str(ctx.config.path(ctx.config.rules_file)) if current is not None else "history"
    data = {
        "file": args.file, "against": against, "since": since, "tickets": result.tickets,
        "counts": [{"unit": u, "name": names.get(u), "before": result.before[u], "after": result.after[u],
                    "change": result.after[u] - result.before[u]} for u in units],
        "moves": [{"number": m.number, "from": m.before, "to": m.after, "rule": m.after_rule,
                   "previous_rule": m.before_rule} for m in result.moves],
    }
    if args.json:
        print_json(data)
        return 0
    print(f"{result.tickets} ticket(s) received since {china_time(since)}, "
          f"decided under {args.file} (before: {against}); nothing was changed")
    if not result.tickets:
        return 0
    print(f"{'unit':<22} {'before':>6} {'after':>6} {'change':>6}  name")
    for c in data["counts"]:
        change = f"{c['change']:+d}" if c["change"] else ""
        print(f"{c['unit']:<22} {c['before']:>6} {c['after']:>6} {change:>6}  {c['name'] or ''}")
    print(f"{len(result.moves)} ticket(s) would move" + (":" if result.moves else ""))
    for m in data["moves"][: max(args.limit, 0)]:
        print(f"  {m['number']:<14} {m['from']} → {m['to']}  (rule {m['rule'] or '-'}; was {m['previous_rule'] or '-'})")
    if len(result.moves) > args.limit >= 0:
        print(f"  ... and {len(result.moves) - args.limit} more (--limit, or --json for all)")
    return 0


# --- reassign -------------------------------------------------------------------------------------

def cmd_reassign(ctx, args) -> int:
    from dispatch.reassign import UnknownUnit, reassign_and_text
    from tickets import TransitionError, store

    try:
        with ctx.db.transaction() as s:
            done = reassign_and_text(s, args.number, ctx.units, args.unit, args.actor, args.reason,
                                     ctx.config.sms.templates.dispatched)
    except UnknownUnit:
        return fail(f"no unit {args.unit!r} in {ctx.config.units_file} (ids look like sd-amr-price, br-daliang, "
                    f"st-daliang-01)")
    except (TransitionError, store.TicketNotFound, ValueError) as exc:
        return fail(f"{args.number}: {exc}")
    if args.json:
        print_json({"number": done.number, "status": done.status, "unit": done.unit_id, "unit_name": done.unit_name,
                    "previous_unit": done.previous_unit, "sms_planned": done.sms_planned})
        return 0
    print(f"{done.number}: {done.status} to {done.unit_id} {done.unit_name} (was {done.previous_unit or 'unassigned'}); "
          f"{_n(done.sms_planned, 'SMS message')} to its contacts queued")
    return 0


# --- health ---------------------------------------------------------------------------------------

def print_rules_health(r: dict) -> None:
    """The running rules' line of `onequeue health` (its --json has them as they are, from tickets.health)."""
    print(f"rules: {r['state']}, {r['file']}" + (f", {_n(r['rule_count'], 'rule')}" if r["rule_count"] else "")
          + (f", loaded {china_time(r['loaded_at'])}" if r["loaded_at"] else ""))
    if r["last_error"]:
        print(f"  last refused {china_time(r['last_error_at'])}:")
        for line in r["last_error"].splitlines():
            print(f"    {line}")
