"""`onequeue walkin register|import`: staff put a station's walk-in visits into the queue."""
from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

from cli.common import Commands


def _channel(ctx, name: str | None) -> str:
    from connectors.walk_in import walk_in_channel

    return walk_in_channel(ctx.config.channels, name)


def _station(ctx, station_id: str):
    unit = ctx.units.get(station_id)
    if unit is None or unit.kind != "station":
        raise LookupError(f"{station_id!r} is not a service station in {ctx.config.units_file} "
                          "(station ids look like st-daliang-01)")
    return unit


def _kind(value: str) -> str:
    from connectors.walk_in import KINDS

    if value in KINDS:
        return KINDS[value]
    if value in KINDS.values():
        return value
    raise ValueError(f"--kind {value!r}: expected one of {', '.join(KINDS)} (or {', '.join(KINDS.values())})")


def cmd_register(ctx, args) -> int:
    from connectors.walk_in import Visit, visit_ticket
    from tickets.intake import register as register_record

    try:
        channel = _channel(ctx, args.channel)
        unit = _station(ctx, args.station)
        amount = None
        if args.amount:
            try:
                amount = Decimal(args.amount)
            except InvalidOperation:
                raise ValueError(f"--amount {args.amount!r} is not an amount") from None
        record = visit_ticket(Visit(station=unit.id, name=args.name, phone=args.phone, text=args.text,
                                    kind=_kind(args.kind), business=args.business, address=args.address,
                                    amount=amount, receptionist=args.actor))
    except (LookupError, ValueError) as exc:
        print(f"walk-in not registered: {exc}", file=sys.stderr)
        return 2
    with ctx.db.transaction() as s:
        got = register_record(s, channel, "walk_in", record)
        number, status = got.ticket.number, got.ticket.status
    print(f"{number}: {status} (walk-in at {unit.name})")
    return 0


def cmd_import(ctx, args) -> int:
    from connectors.walk_in import read_register, register_max_rows
    from tickets import store

    path = Path(args.file)
    try:
        channel = _channel(ctx, args.channel)
        unit = _station(ctx, args.station)
        max_rows = register_max_rows(ctx.config.channels, channel)
        if not path.is_file():
            raise LookupError(f"no file {path}")
        records, errors = read_register(path, unit.id, max_rows=max_rows)
    except ImportError as exc:
        print(f"cannot read .xlsx files: {exc}; install onequeue with its dependencies (pip install -e .)",
              file=sys.stderr)
        return 2
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        if isinstance(exc, (LookupError, ValueError)):
            print(f"{path.name}: {exc}", file=sys.stderr)
        else:
            print(f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 2
    with ctx.db.transaction() as s:
        result = store.ingest(s, channel, "walk_in", records)
    print(f"{path.name}: {len(result.created)} new visit(s) stored for {unit.name}, "
          f"{len(records) - len(result.created)} already in the queue, {len(errors)} row(s) with errors")
    for e in errors:
        print(f"  row {e.row}: {e.reason}", file=sys.stderr)
    if errors:
        print("fix these rows and import the file again; rows already stored are not stored twice", file=sys.stderr)
        return 1
    return 0


def register(sub: Commands) -> None:
    walkin = sub.add_group("walkin", help="walk-in visits at a service station")

    reg = walkin.add_parser("register", help="store one visitor's complaint as a ticket")
    reg.add_argument("--station", required=True, help="the station that took the visit, e.g. st-daliang-01")
    reg.add_argument("--name", help="the visitor's name")
    reg.add_argument("--phone", required=True, help="the visitor's phone")
    reg.add_argument("--text", required=True, help="the complaint, in the visitor's words")
    reg.add_argument("--business", help="the business complained about")
    reg.add_argument("--address", help="where it happened")
    reg.add_argument("--kind", default="投诉", help="投诉 (default), 举报, 咨询, 求助 or 建议")
    reg.add_argument("--amount", help="the amount in dispute, in yuan")
    reg.add_argument("--channel", help="the walk_in channel (default: the only one configured)")
    reg.add_argument("--actor", default="staff:cli", help="who registers it")
    reg.set_defaults(func=cmd_register)

    imp = walkin.add_parser("import", help="store the visits of a station's register (.xlsx)")
    imp.add_argument("file", metavar="FILE.xlsx")
    imp.add_argument("--station", required=True, help="the station whose register it is")
    imp.add_argument("--channel", help="the walk_in channel (default: the only one configured)")
    imp.set_defaults(func=cmd_import)
