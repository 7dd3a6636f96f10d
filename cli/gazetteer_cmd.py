"""`onequeue gazetteer suggestions|accept|reject` for administrators: what staff taught dispatch by sending tickets
to stations, accepted into gazetteer.yaml or rejected."""
from __future__ import annotations

from cli.common import Commands, fail, print_json


def register(sub: Commands) -> None:
    group = sub.add_group("gazetteer", help="places staff taught by reassigning tickets: suggestions, accept, reject")
    listing = group.add_parser("suggestions", help="address fragments staff sent to one station several times")
    listing.add_argument("--min", type=int, default=3, help="tickets sent the same way before it is listed (3)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_suggestions)
    for name, what in (("accept", "write the suggestion into gazetteer.yaml (validated; workers reload it)"),
                       ("reject", "the suggestion is wrong: list it no more")):
        p = group.add_parser(name, help=what)
        p.add_argument("id", type=int, help="the suggestion's id, from `onequeue gazetteer suggestions`")
        p.add_argument("--actor", default="admin:cli", help="who decides, for the record")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_accept if name == "accept" else cmd_reject)


def _paths(ctx):
    from dispatch.gazetteer_file import gazetteer_path

    units_file = ctx.config.path(ctx.config.units_file)
    return units_file, gazetteer_path(units_file)


def cmd_suggestions(ctx, args) -> int:
    from dispatch import Gazetteer
    from dispatch.gazetteer_file import load_gazetteer
    from dispatch.learning import suggestions
    from settings import ConfigError

    units_file, path = _paths(ctx)
    try:
        running = Gazetteer(ctx.units, load_gazetteer(units_file, ctx.units, path))
    except ConfigError as exc:
        return fail(f"{exc}\nput the gazetteer right first")
    with ctx.db.transaction() as s:
        found = suggestions(s, max(args.min, 1), running)
    rows = [{"id": g.id, "fragment": g.fragment, "station": g.station, "station_name": ctx.unit_name(g.station),
             "tickets": g.tickets} for g in found]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print(f"no suggestions: no address fragment was sent to one station {args.min} times or more")
        return 0
    for r in rows:
        print(f"{r['id']:>5}  {r['fragment']} → {r['station']} {r['station_name']}  "
              f"({len(r['tickets'])} tickets: {', '.join(r['tickets'])})")
    print(f"accept one into {path} with `onequeue gazetteer accept ID`, or `reject ID`")
    return 0


def cmd_accept(ctx, args) -> int:
    from dispatch.learning import SuggestionNotFound, accept
    from settings import ConfigError

    _, path = _paths(ctx)
    try:
        with ctx.db.transaction() as s:
            done = accept(s, args.id, args.actor, path, ctx.units)
    except (SuggestionNotFound, ValueError) as exc:
        return fail(str(exc))
    except ConfigError as exc:
        return fail(f"not written: the gazetteer with this entry would be refused:\n{exc}")
    if args.json:
        print_json({"id": done.id, "fragment": done.fragment, "station": done.station, "file": done.file,
                    "line": done.line})
        return 0
    print(f"{done.fragment} → {done.station} {ctx.unit_name(done.station)}: written to {done.file}:{done.line}; "
          f"running workers reload it within seconds")
    return 0


def cmd_reject(ctx, args) -> int:
    from dispatch.learning import SuggestionNotFound, reject

    try:
        with ctx.db.transaction() as s:
            done = reject(s, args.id, args.actor)
    except (SuggestionNotFound, ValueError) as exc:
        return fail(str(exc))
    if args.json:
        print_json({"id": done.id, "fragment": done.fragment, "station": done.station, "status": done.status})
        return 0
    print(f"{done.fragment} → {done.station}: rejected")
    return 0
