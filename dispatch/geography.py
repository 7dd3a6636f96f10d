"""Where a ticket happened: town/street and covering station, from area codes, addresses or the walk-in station.

The gazetteer (towns, communities, villages, markets, malls of units.yaml) is compiled once into an
Aho-Corasick automaton; a scan takes the leftmost-longest matches, so 北滘美的广场 beats 北滘.
"""
from __future__ import annotations

from dataclasses import dataclass

import ahocorasick

from dispatch.directory import UnitDirectory, town_short

# Names that contain a town's short name but are somewhere else entirely; matched and thrown away.
_NOT_HERE = ("黑龙江",)

_TOWN, _PLACE, _BLOCK = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Place:
    """Where a ticket is: town (official name), covering station id, how it was found, how sure (0..1)."""

    town: str | None
    station: str | None
    method: str
    confidence: float


NOWHERE = Place(None, None, "none", 0.0)


@dataclass(frozen=True, slots=True)
class _Scan:
    towns: tuple[str, ...]          # towns named, in order of appearance
    stations: tuple[tuple[str, str, int], ...]   # (station id, its town, length of the match), in order


class Gazetteer:
    """Resolves places against one units directory."""

    def __init__(self, units: UnitDirectory):
        self.units = units
        self._station_town = {u.id: u.town for u in units.of_kind("station")}
        auto = ahocorasick.Automaton()
        for town in units.towns():
            auto.add_word(town, (_TOWN, town, len(town)))
            short = town_short(town)
            if short != town:
                auto.add_word(short, (_TOWN, town, len(short)))
        for station in units.of_kind("station"):
            for place in station.covers:
                for name in place.names():
                    auto.add_word(name, (_PLACE, station.id, len(name)))
        for blocked in _NOT_HERE:
            if not auto.exists(blocked):
                auto.add_word(blocked, (_BLOCK, None, len(blocked)))
        auto.make_automaton()
        self._auto = auto
        self._empty = len(auto) == 0

    def scan(self, text: str) -> _Scan:
        """Towns and stations named in `text`, leftmost-longest, non-overlapping."""
        towns: list[str] = []
        stations: list[tuple[str, str, int]] = []
        if text and not self._empty:
            for _end, (what, value, length) in self._auto.iter_long(text):
                if what == _TOWN:
                    if value not in towns:
                        towns.append(value)
                elif what == _PLACE:
                    stations.append((value, self._station_town[value], length))
        return _Scan(tuple(towns), tuple(stations))

    def resolve(self, event_address: str | None = None, business_address: str | None = None,
                area_code: str | None = None, walk_in_station: str | None = None,
                text: str | None = None) -> Place:
        """The ticket's place: walk-in station, then area code, then the addresses, then (weakly) the ticket text."""
        if walk_in_station:
            town = self._station_town.get(walk_in_station)
            if town is not None:
                return Place(town, walk_in_station, "walk_in", 1.0)

        town = None
        town_method, town_sure = "", 0.0
        code = (area_code or "").strip()
        if len(code) == 12:
            station = self.units.station_by_code.get(code)
            if station is not None:
                return Place(self._station_town[station], station, "area_code_12", 1.0)
            code = code[:9]            # a town-level code padded with zeros, or a community we do not know
        if len(code) == 9:
            town = self.units.town_by_code.get(code)
            town_method = "area_code_9" if town else ""

        for source, method in ((event_address, "address"), (business_address, "business"), (text, "text")):
            if not source:
                continue
            found = self.scan(source)
            station = self._pick_station(found, town)
            if station is not None:
                station_id, station_town = station
                return Place(station_town, station_id, _PLACE_METHOD[method],
                             _confidence(method, bool(town) or bool(found.towns)))
            if town is None and found.towns:
                town = found.towns[0]
                # one town named: fairly sure; several, or a place of another town beside it: less so
                sure = 0.8 if len(found.towns) == 1 and not found.stations else 0.5
                town_method, town_sure = f"{method}_town", sure * _SOURCE_WEIGHT[method]
                continue
        if town is not None:
            if town_method == "area_code_9":
                return Place(town, None, "area_code_9", 0.9)
            return Place(town, None, _TOWN_METHOD[town_method], round(town_sure, 2))
        return NOWHERE

    @staticmethod
    def _pick_station(found: _Scan, town: str | None) -> tuple[str, str] | None:
        """The longest place named in this text whose station agrees with the town known or named beside it."""
        allowed = {town} if town else set(found.towns)
        best, best_len = None, 0
        for station_id, station_town, length in found.stations:
            if allowed and station_town not in allowed:
                continue
            if length > best_len:
                best, best_len = (station_id, station_town), length
        return best


_PLACE_METHOD = {"address": "address_place", "business": "business_address", "text": "text_place"}
_TOWN_METHOD = {"address_town": "address_town", "business_town": "business_town", "text_town": "text_town"}
_SOURCE_WEIGHT = {"address": 1.0, "business": 0.9, "text": 0.7}


def _confidence(method: str, town_agrees: bool) -> float:
    base = 0.95 if town_agrees else 0.85
    return round(base * _SOURCE_WEIGHT[method], 2)
