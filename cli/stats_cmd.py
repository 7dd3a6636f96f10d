"""`onequeue stats counts|handling|words|report|rebuild|catch-up` (operators): the figures of the statistics as
tables, JSON or CSV, the monthly report as .xlsx, and the rollup they are read from taken up to date or made again
from every ticket."""
from __future__ import annotations

import sys

from cli.common import Commands, fail, print_json
from stats import export


def _scope(ctx, args):
    from accounts.scope import ALL_UNITS, visible_units

    if not args.unit:
        return ALL_UNITS
    if ctx.units.get(args.unit) is None:
        raise ValueError(f"no unit {args.unit!r} in units.yaml (ids as in `onequeue users list`)")
    return visible_units(args.unit, ctx.units)


def _labels(ctx):
    from stats.labels import Labels
    from stats.setup import districts_from, industries_from

    return Labels.of(ctx.config, ctx.units, industries_from(ctx.config), districts_from(ctx.config))


def _figure(ctx, args, read):
    """Run `read(session, period, scope)`, or say what was wrong with the period, dimension or unit."""
    from stats.figures import BadDimension
    from stats.periods import BadPeriod, parse_period

    try:
        period = parse_period(args.period)
        scope = _scope(ctx, args)
        with ctx.db.transaction() as s:
            return read(s, period, scope)
    except (BadPeriod, BadDimension, ValueError) as exc:
        raise _Refused(str(exc)) from None


class _Refused(Exception):
    pass


def _print_csv(text: str) -> int:
    sys.stdout.write(text)
    return 0


def _pct(value) -> str:
    return "-" if value is None else f"{value * 100:+.1f}%"


def _rate(value) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def cmd_counts(ctx, args) -> int:
    from stats import figures

    filters = {}
    for item in args.filter or []:
        name, _, value = item.partition("=")
        filters[name.strip()] = value.strip()
    try:
        data = _figure(ctx, args, lambda s, p, scope: figures.counts(s, p, args.by, scope, filters))
    except _Refused as exc:
        return fail(f"stats counts: {exc}")
    _labels(ctx).add_to(data, data["by"])
    if args.json:
        print_json(data)
        return 0
    if args.csv:
        return _print_csv(export.counts_csv(data))
    print(f"{data['period']} (previous {data['previous_period']}, a year before {data['year_before_period']})")
    for row in data["rows"]:
        name = " × ".join(row[f"{d}_label"] for d in data["by"])
        print(f"{name}: {row['tickets']} complaints, {row['duplicates']} duplicates; previous {row['previous']} "
              f"({_pct(row['change'])}), a year before {row['year_before']} ({_pct(row['change_year'])})")
    t = data["total"]
    print(f"total: {t['tickets']} complaints, {t['duplicates']} duplicates; previous {t['previous']} "
          f"({_pct(t['change'])}), a year before {t['year_before']} ({_pct(t['change_year'])})")
    return 0


def cmd_handling(ctx, args) -> int:
    from stats import figures

    try:
        data = _figure(ctx, args, lambda s, p, scope: figures.handling(s, p, scope))
    except _Refused as exc:
        return fail(f"stats handling: {exc}")
    _labels(ctx).add_to(data, ["unit"])
    if args.json:
        print_json(data)
        return 0
    if args.csv:
        return _print_csv(export.handling_csv(data))
    print(f"{data['period']}: tickets received in the period, by the unit that has them")
    for row in [*data["rows"], {**data["total"], "unit_label": "total"}]:
        print(f"{row['unit_label']}: {row['tickets']} tickets, first contact in time "
              f"{_rate(row['first_contact_rate'])}, accepted {row['accepted']} "
              f"(on time {row['accepted_on_time']}, 响应率 {_rate(row['acceptance_rate'])}), resolved "
              f"{row['resolved']} (on time {row['resolved_on_time']}), 解决率 {_rate(row['settlement_rate'])}, "
              f"满意率 {_rate(row['satisfaction_rate'])} of {row['rated']} answers, "
              f"returned {row['returned']}, escalated {row['escalated']}, overdue now {row['overdue_now']}, "
              f"recovered ¥{row['recovered']}")
    return 0


def cmd_words(ctx, args) -> int:
    from stats import figures

    try:
        data = _figure(ctx, args, lambda s, p, scope: figures.hot_words(s, p, scope, limit=args.limit))
    except _Refused as exc:
        return fail(f"stats words: {exc}")
    if args.json:
        print_json(data)
        return 0
    if args.csv:
        return _print_csv(export.words_csv(data))
    print(f"{data['period']}: hot words (tickets containing each)")
    for row in data["terms"]:
        print(f"{row['term']}: {row['tickets']} (previous period {row['previous']})"
              + ("  rising" if row["rising"] else ""))
    return 0


def cmd_report(ctx, args) -> int:
    from pathlib import Path

    from stats.periods import BadPeriod, parse_period
    from stats.report import report_bytes

    try:
        month = parse_period(args.month)
        if month.kind != "month":
            raise BadPeriod(f"--month {args.month!r} is not a month like 2026-11")
        scope = _scope(ctx, args)
    except (BadPeriod, ValueError) as exc:
        return fail(f"stats report: {exc}")
    with ctx.db.transaction() as s:
        data = report_bytes(s, month, _labels(ctx), scope)
    Path(args.out).write_bytes(data)
    print(f"report of {month} written to {args.out} ({len(data) // 1024} KB)")
    return 0


def cmd_rebuild(ctx, args) -> int:
    from stats import rebuild
    from stats.setup import deciders_from

    n = rebuild(ctx.db, deciders_from(ctx.config))
    print(f"rollup rebuilt from {n} tickets")
    return 0


def cmd_catch_up(ctx, args) -> int:
    from stats import catch_up
    from stats.setup import deciders_from

    n = catch_up(ctx.db, deciders_from(ctx.config))
    print(f"rollup caught up: {n} tickets recomputed")
    return 0


def register(sub: Commands) -> None:
    stats = sub.add_group("stats", help="figures: counts by any dimension, handling per unit, hot words")
    dims = "channel, kind, category, industry, district, town, station, unit, outcome"

    def figure(name: str, help: str):
        p = stats.add_parser(name, help=help)
        p.add_argument("--period", default="this-month",
                       help="2026-11-30, 2026-W48, 2026-11, 2026-11-01..2026-11-15, today, this-week, this-month "
                            "(China Standard Time days; default this-month)")
        p.add_argument("--unit", help="only the tickets a person of this unit may see")
        out = p.add_mutually_exclusive_group()
        out.add_argument("--json", action="store_true")
        out.add_argument("--csv", action="store_true", help="the table as CSV (UTF-8 with BOM, for Excel)")
        return p

    counts = figure("counts", "complaints by one dimension or two crossed, against the previous period and a "
                              "year before")
    counts.add_argument("--by", action="append", required=True, metavar="DIMENSION",
                        help=f"give once, or twice to cross two: {dims}")
    counts.add_argument("--filter", action="append", metavar="DIMENSION=VALUE",
                        help="only cells with this value, e.g. town=大良街道")
    counts.set_defaults(func=cmd_counts)
    figure("handling", "per unit: accepted and resolved on time, returned, outcomes, recovered, overdue now"
           ).set_defaults(func=cmd_handling)
    words = figure("words", "hot words: the terms in the most tickets, and the rising ones")
    words.add_argument("--limit", type=int, default=20)
    words.set_defaults(func=cmd_words)
    report = stats.add_parser("report", help="the monthly consumer-protection report as .xlsx")
    report.add_argument("--month", required=True, help="e.g. 2026-11")
    report.add_argument("--out", required=True, metavar="FILE", help="where to write the .xlsx")
    report.add_argument("--unit", help="only the tickets a person of this unit may see")
    report.set_defaults(func=cmd_report)
    stats.add_parser("rebuild", help="count every ticket again (after editing industries.yaml or hotwords.yaml)"
                     ).set_defaults(func=cmd_rebuild)
    stats.add_parser("catch-up", help="take the history written since the last run into the rollup now"
                     ).set_defaults(func=cmd_catch_up)
