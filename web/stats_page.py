"""What the statistics page shows, from the figures of stats/ alone: the counts by the dimensions asked for with
each row's link to its tickets in the queue, the handling per unit and the hot words, with their labels."""
from __future__ import annotations

from urllib.parse import urlencode

from accounts import Viewer
from stats import figures
from stats.labels import DIMENSION_LABELS
from stats.periods import Period, parse_period
from web import parts

# Dimensions the queue can narrow to, and the queue's name for each.
DRILLABLE = {"channel": "channel", "kind": "kind", "category": "category", "town": "town", "station": "station",
             "unit": "unit", "outcome": "outcome"}
QUICK_PERIODS = (("today", "今天"), ("this-week", "本周"), ("this-month", "本月"))


def drill_link(period: Period, values: dict[str, str]) -> str | None:
    """The queue of the tickets behind a figure: received in the period, duplicates left out, with these values;
    None when the queue cannot narrow to one of them (an industry, a value not given)."""
    query = {"view": "all", "counted": "1", "received_from": period.start.isoformat(),
             "received_to": period.end.isoformat()}
    for dim, value in values.items():
        if dim not in DRILLABLE or not value:
            return None
        query[DRILLABLE[dim]] = value
    return "/?" + urlencode(query)


def stats_page(ctx, viewer: Viewer, period: Period, by: list[str]) -> dict:
    labels = parts.stats_labels(ctx)
    with ctx.db.transaction() as s:
        counts = figures.counts(s, period, by, viewer.units)
        handling = figures.handling(s, period, viewer.units)
        words = figures.hot_words(s, period, viewer.units, limit=30)
    labels.add_to(counts, by)
    labels.add_to(handling, ["unit"])
    for row in counts["rows"]:
        row["link"] = drill_link(period, {d: row[d] for d in by})
        row["name"] = " × ".join(row[f"{d}_label"] for d in by)
    for row in handling["rows"]:
        row["link"] = drill_link(period, {"unit": row["unit"]})
    top = max((r["tickets"] for r in counts["rows"]), default=0)
    return dict(period=period, by=by, counts=counts, handling=handling, words=words, top=top,
                dimensions=DIMENSION_LABELS, quick=QUICK_PERIODS, total_link=drill_link(period, {}))


SCREEN_REFRESH_SECONDS = 60
SHOWN = 6  # rows of a list on the big screen


def screen_page(ctx) -> dict:
    """The big screen: today's intake by channel, the towns' open and overdue tickets as tiles, hot words, and
    this month's industries and business districts; the whole district, whoever opens it."""
    labels = parts.stats_labels(ctx)
    today, month = parse_period("today"), parse_period("this-month")
    with ctx.db.transaction() as s:
        data = figures.screen(s, today, month)
    labels.add_to(data["intake"], ["channel"])
    labels.add_to(data["industries"], ["industry"])
    labels.add_to(data["districts"], ["district"])
    units = parts.units_of(ctx)
    towns = sorted({u.town for u in units if u.kind == "branch" and u.town})
    tiles = [{"town": t, **data["towns"].get(t, {"open": 0, "overdue": 0})} for t in towns]
    return dict(data=data, tiles=tiles, refresh=SCREEN_REFRESH_SECONDS,
                intake=[r for r in data["intake"]["rows"] if r["tickets"]],
                industries=[r for r in data["industries"]["rows"] if r["tickets"] and r["industry"]][:SHOWN],
                districts=[r for r in data["districts"]["rows"] if r["tickets"] and r["district"]][:SHOWN],
                words=data["words"]["terms"][:SHOWN * 2])
