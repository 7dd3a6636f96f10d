"""`onequeue businesses list|show|merge|split|rematch|index|disclose|watched|watch|unwatch` (administrators): the businesses the tickets are about, one
however each channel spells it, joined or parted by hand where the registry could not tell, and the watch list."""
from __future__ import annotations

from cli.common import Commands, china_time, fail, print_json


def register(sub: Commands) -> None:
    group = sub.add_group("businesses", help="the businesses behind the tickets: list, show, merge, split")
    listing = group.add_parser("list", help="businesses, most complained-about first")
    listing.add_argument("--town", help="only this town/street, e.g. 大良街道")
    listing.add_argument("--search", help="part of a name, or a credit code")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_list)
    show = group.add_parser("show", help="a business: its names as written, its tickets, what was done to it")
    show.add_argument("business", help="its id or credit code")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)
    merge = group.add_parser("merge", help="these businesses are one: the others' tickets go to the first")
    merge.add_argument("business", help="the one they become (id or credit code)")
    merge.add_argument("others", nargs="+", help="the ones merged into it")
    merge.add_argument("--actor", default="admin:cli", help="who decides, for the record")
    merge.set_defaults(func=cmd_merge)
    split = group.add_parser("split", help="these tickets of a business are about another: a new business takes them")
    split.add_argument("business", help="the business they are wrongly with (id or credit code)")
    split.add_argument("tickets", nargs="+", help="ticket numbers, e.g. SD2611-00012")
    split.add_argument("--name", help="the new business's name (default: as its first ticket writes it)")
    split.add_argument("--actor", default="admin:cli", help="who decides, for the record")
    split.set_defaults(func=cmd_split)
    group.add_parser("rematch", help="match every ticket again, after businesses.yaml was edited"
                     ).set_defaults(func=cmd_rematch)
    index = group.add_parser("index", help="the handling index (处理指数): score and rank within the industry")
    index.add_argument("--compute", action="store_true", help="compute it now (the worker does once a day)")
    index.add_argument("--industry", help="only this industry's id, e.g. catering")
    index.add_argument("--business", type=int, help="one business's components and history")
    index.add_argument("--json", action="store_true")
    index.set_defaults(func=cmd_index)
    disclose = group.add_parser("disclose", help="public disclosure (投诉信息公示): complaints handled to their end, "
                                "desensitised, with the businesses' index")
    disclose.add_argument("--since", help="first day received, e.g. 2026-11-01 (default: 30 days ago)")
    disclose.add_argument("--until", help="last day received (default: today)")
    disclose.add_argument("--csv", action="store_true", help="CSV for Excel instead of JSON")
    disclose.add_argument("--out", help="write to this file instead of standard output")
    disclose.set_defaults(func=cmd_disclose)
    watched = group.add_parser("watched", help="the watch list (重点监控): who is on it, since when and why")
    watched.add_argument("--json", action="store_true")
    watched.set_defaults(func=cmd_watched)
    for name, what in (("watch", "put a business on the watch list (重点监控), with the reason"),
                       ("unwatch", "take a business off the watch list, with the reason")):
        p = group.add_parser(name, help=what)
        p.add_argument("business", help="its id or credit code")
        p.add_argument("--reason", required=True)
        p.add_argument("--actor", default="admin:cli", help="who decides, for the record")
        p.set_defaults(func=cmd_watch if name == "watch" else cmd_unwatch)


def cmd_list(ctx, args) -> int:
    from watch import registry

    with ctx.db.transaction() as s:
        rows = registry.listing(s, town=args.town, search=args.search, limit=args.limit)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no businesses")
        return 0
    for r in rows:
        print(f"{r['id']:>6}  {r['name']}  {r['town'] or '(town not known yet)'}  "
              f"{r['credit_code'] or '-'}  {r['tickets']} tickets")
    return 0


def cmd_show(ctx, args) -> int:
    from watch import registry

    try:
        with ctx.db.transaction() as s:
            data = registry.show(s, args.business)
    except registry.BusinessNotFound as exc:
        return fail(f"businesses show: {exc}")
    if args.json:
        print_json(data)
        return 0
    print(f"business {data['id']}: {data['name']}  town {data['town'] or '-'}  credit code "
          f"{data['credit_code'] or '-'}" + (f"  (merged into {data['merged_into']})" if data["merged_into"] else ""))
    print("written as: " + "; ".join(f"{name or '(no name)'} ×{n}" for name, n in data["spellings"].items()))
    for t in data["tickets"]:
        print(f"  {t['number']}  {china_time(t['received_at'], False)}  {t['channel']:<14} {t['status']:<11} "
              f"{t['business_name'] or ''}  (by {t['matched_by']})" + (f"  {t['note']}" if t["note"] else ""))
    for e in data["events"]:
        print(f"  {china_time(e['at'])} {e['actor']} {e['action']} {e['detail']}")
    for w in data["watch_history"]:
        print(f"  watch list: on {china_time(w['entered_at'], False)} by {w['entered_by']} ({w['by_rule']}): "
              f"{w['reason']}" + (f"; off {china_time(w['left_at'], False)} by {w['left_by']}: {w['left_reason']}"
                                  if w["left_at"] else "  (on it now)"))
    return 0


def cmd_index(ctx, args) -> int:
    from watch import index
    from watch.setup import index_rules_from

    if args.compute:
        rules = index_rules_from(ctx.config)
        with ctx.db.transaction() as s:
            n = index.compute(s, rules)
        if not args.json:
            print(f"{n} businesses scored")
    with ctx.db.transaction() as s:
        rows = index.latest(s, industry=args.industry, business_id=args.business)
        past = index.history(s, args.business) if args.business is not None else None
    if args.json:
        print_json({"businesses": rows, "history": past} if past is not None else rows)
        return 0
    if not rows:
        print("no handling index yet (onequeue businesses index --compute)")
        return 0
    for r in rows:
        parts = "  ".join(f"{index.COMPONENT_LABELS[k]} {v['shrunk']:.0%}" for k, v in r["components"].items())
        print(f"{r['industry'] or '-':<12} {r['rank']:>3}/{r['of']:<3} {r['score']:6.2f}  {r['business_id']:>6}  "
              f"{r['business']}  ({r['tickets']} 宗)  {parts}")
    for h in past or []:
        print(f"  {h['day']}  {h['score']:6.2f}  {h['rank']}/{h['of']}")
    return 0


def cmd_disclose(ctx, args) -> int:
    from stats.facts import cst_day
    from stats.setup import industries_from
    from tickets.db import utcnow
    from watch import disclosure

    try:
        since, until = disclosure.period(args.since, args.until, cst_day(utcnow()))
    except ValueError:
        return fail("give days as YYYY-MM-DD")
    with ctx.db.transaction() as s:
        rows = disclosure.export(s, since, until, industries_from(ctx.config).name)
    text = disclosure.to_csv(rows) if args.csv else disclosure.to_json(rows)
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        print(f"{len(rows)} complaints written to {args.out}")
    else:
        print(text)
    return 0


def cmd_watched(ctx, args) -> int:
    from watch import watchlist

    with ctx.db.transaction() as s:
        rows = watchlist.watched(s)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("the watch list is empty")
        return 0
    for r in rows:
        print(f"{r['business_id']:>6}  {r['name']}  {r['town'] or '-'}  since {china_time(r['entered_at'], False)} "
              f"({r['by_rule']}, {r['entered_by']}): {r['reason']}")
    return 0


def _watch_step(ctx, args, what: str, step) -> int:
    from watch import registry, watchlist

    try:
        with ctx.db.transaction() as s:
            business = registry.get(s, args.business)
            step(s, business)
            print(f"business {business.id} ({business.name}): "
                  + ("on the watch list" if what == "watch" else "off the watch list"))
    except (registry.BusinessNotFound, watchlist.WatchRefused) as exc:
        return fail(f"businesses {what}: {exc}")
    return 0


def cmd_watch(ctx, args) -> int:
    from watch import watchlist

    return _watch_step(ctx, args, "watch", lambda s, b: watchlist.enter(s, b, args.actor, args.reason))


def cmd_unwatch(ctx, args) -> int:
    from watch import watchlist

    return _watch_step(ctx, args, "unwatch", lambda s, b: watchlist.leave(s, b, args.actor, args.reason))


def cmd_merge(ctx, args) -> int:
    from watch import registry

    try:
        with ctx.db.transaction() as s:
            target = registry.merge(s, args.business, args.others, args.actor)
            print(f"merged into business {target.id} ({target.name})")
    except (registry.BusinessNotFound, ValueError) as exc:
        return fail(f"businesses merge: {exc}")
    return 0


def cmd_split(ctx, args) -> int:
    from watch import registry

    try:
        with ctx.db.transaction() as s:
            new = registry.split(s, args.business, args.tickets, args.actor, args.name)
            print(f"business {new.id} ({new.name}) now has {len(args.tickets)} tickets")
    except (registry.BusinessNotFound, ValueError) as exc:
        return fail(f"businesses split: {exc}")
    return 0


def cmd_rematch(ctx, args) -> int:
    from watch import registry
    from watch.setup import aliases_from

    moved = registry.rematch(ctx.db, aliases_from(ctx.config))
    print(f"tickets placed anew: {moved}")
    return 0
