"""Benchmark: how well addresses written as people write them are routed, on the labelled set of
tests/dispatch/data/addresses.yaml, with the default units.yaml, rules.yaml and gazetteer.yaml.

Run: python bench/bench_routing.py [--repeat N]. Prints the share routed to the right station where the entry
names a place a station covers, the share with the right town, the share sent to triage, the share sent wrong
(to another unit than the expected one, or anywhere when triage was expected: the figure that matters most),
and the time of one decision (place, classification and rules).
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import yaml

from dispatch import Dispatcher, TicketFacts

ROOT = Path(__file__).resolve().parents[1]
SET = ROOT / "tests" / "dispatch" / "data" / "addresses.yaml"


def facts(entry: dict) -> TicketFacts:
    return TicketFacts(channel="12345-shunde", channel_kind="12345", kind="complaint", text=entry.get("text"),
                       event_address=entry.get("address"), business_address=entry.get("business_address"),
                       area_code=entry.get("area_code"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="decide the whole set this many times for the timing")
    args = parser.parse_args()
    dispatcher = Dispatcher.from_files(ROOT / "units.yaml", ROOT / "rules.yaml")
    entries = yaml.safe_load(SET.read_text(encoding="utf-8"))
    station_of = {u.id: u.town for u in dispatcher.units.of_kind("station")}

    stations = right_station = towns = right_town = triaged = wrong = 0
    misses: list[str] = []
    for entry in entries:
        expect = entry["expect"]
        decision = dispatcher.decide(facts(entry))
        triaged += decision.triage
        if expect == "triage":
            ok = decision.triage
        elif expect.startswith("st-"):
            stations += 1
            right_station += decision.unit_id == expect
            towns += 1
            right_town += decision.town == station_of[expect]
            ok = decision.triage or decision.unit_id == expect
        else:
            towns += 1
            right_town += decision.town == expect
            ok = decision.triage or decision.unit_id == dispatcher.units.branch_for_town(expect)
        if not ok:
            wrong += 1
            misses.append(f"  {entry.get('address') or entry.get('text')!r}: expected {expect}, got {decision.unit_id}")

    facts_list = [facts(e) for e in entries]
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        for f in facts_list:
            dispatcher.decide(f)
        times.append((time.perf_counter() - start) / len(facts_list))
    n = len(entries)
    print(f"labelled addresses: {n} ({stations} name a station's place, {n - stations} a town, outside or nothing)")
    print(f"right station where a place is named: {right_station / stations:6.1%}  ({right_station}/{stations})")
    print(f"right town (station or town expected): {right_town / towns:6.1%}  ({right_town}/{towns})")
    print(f"sent to triage:                        {triaged / n:6.1%}  ({triaged}/{n})")
    print(f"sent wrong (target under 2%):          {wrong / n:6.1%}  ({wrong}/{n})")
    print(f"time per decision: median {statistics.median(times) * 1e6:.0f} µs over {args.repeat} runs of the set")
    for line in misses:
        print(line)


if __name__ == "__main__":
    main()
