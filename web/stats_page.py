"""What the statistics page shows, from the figures of stats/ alone: the counts by the dimensions asked for with
each row's link to its tickets in the queue, the handling per unit and the hot words, with their labels."""
from __future__ import annotations

from urllib.parse import urlencode

from accounts import Viewer
from stats import figures
from stats.labels import DIMENSION_LABELS
from stats.periods import Period
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
