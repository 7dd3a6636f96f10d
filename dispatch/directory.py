"""The units directory: who is who in the organisation, built once from a validated units.yaml.

Other parts (notify, sla, web) ask it for a unit, its parent and the contacts to text.
"""
from __future__ import annotations

from pathlib import Path

from settings import load_yaml_model, parse_yaml_model

from dispatch.units_schema import Contact, CoveredPlace, Unit, UnitsFile

# Roles that make a contact the one told first when a ticket escalates.
HEAD_ROLES = ("负责人", "站长", "科长", "主任", "局长", "所长")


def town_short(town: str) -> str:
    """大良街道 → 大良, 北滘镇 → 北滘: the name people usually write."""
    for suffix in ("街道办事处", "街道", "镇"):
        if town.endswith(suffix) and len(town) > len(suffix) + 1:
            return town[: -len(suffix)]
    return town


class UnitDirectory:
    """Read-only lookups over the units of one units.yaml."""

    def __init__(self, units_file: UnitsFile):
        self._units: dict[str, Unit] = {u.id: u for u in units_file.units}
        self._order = [u.id for u in units_file.units]
        self._children: dict[str, list[str]] = {}
        for u in units_file.units:
            if u.parent:
                self._children.setdefault(u.parent, []).append(u.id)
        self.branch_by_town: dict[str, str] = {}
        self.town_by_code: dict[str, str] = {}
        self.station_by_code: dict[str, str] = {}
        self.stations_by_town: dict[str, list[str]] = {}
        for u in units_file.units:
            if u.kind == "branch" and u.town:
                self.branch_by_town.setdefault(u.town, u.id)
                if u.area_code and len(u.area_code) == 9:
                    self.town_by_code[u.area_code] = u.town
            elif u.kind == "station" and u.town:
                self.stations_by_town.setdefault(u.town, []).append(u.id)
                for place in u.covers:
                    if place.code:
                        self.station_by_code[place.code] = u.id
        self._town_by_name = {}
        for town in self.towns():
            self._town_by_name[town] = town
            self._town_by_name.setdefault(town_short(town), town)

    @classmethod
    def from_file(cls, path: str | Path) -> "UnitDirectory":
        """Load and validate units.yaml; raises settings.ConfigError."""
        return cls(load_yaml_model(path, UnitsFile))

    @classmethod
    def from_text(cls, text: str, file: str = "units.yaml") -> "UnitDirectory":
        return cls(parse_yaml_model(text, UnitsFile, file=file))

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self._units

    def __iter__(self):
        return (self._units[i] for i in self._order)

    def __len__(self) -> int:
        return len(self._units)

    def get(self, unit_id: str) -> Unit | None:
        return self._units.get(unit_id)

    def parent_of(self, unit_id: str) -> Unit | None:
        unit = self._units.get(unit_id)
        return self._units.get(unit.parent) if unit and unit.parent else None

    def children_of(self, unit_id: str) -> list[Unit]:
        return [self._units[c] for c in self._children.get(unit_id, [])]

    def of_kind(self, kind: str) -> list[Unit]:
        return [u for u in self if u.kind == kind]

    def head_contacts(self, unit_id: str) -> list[Contact]:
        """The unit's heads (负责人, 站长, ...); its first contact if nobody holds a head role."""
        unit = self._units.get(unit_id)
        if unit is None:
            return []
        heads = [c for c in unit.contacts if c.role in HEAD_ROLES]
        return heads or unit.contacts[:1]

    def towns(self) -> list[str]:
        """Official town/street names, in the order their branches are listed."""
        return list(self.branch_by_town)

    def town_named(self, name: str) -> str | None:
        """The official town name for 大良 or 大良街道; None if not a town of this directory."""
        return self._town_by_name.get(name)

    def branch_for_town(self, town: str) -> str | None:
        return self.branch_by_town.get(town)

    def station_places(self, station_id: str) -> list[CoveredPlace]:
        unit = self._units.get(station_id)
        return list(unit.covers) if unit else []
