"""The schema of units.yaml: the bureau, its departments, branches and service stations.

Checks that span units (parents, cycles, duplicates, places covered twice) are reported with their line.
"""
from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

UnitKind = Literal["bureau", "department", "branch", "station"]

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d(,([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d)*$")
_UNIT_ID = r"^[a-z0-9][a-z0-9-]*$"

# Which unit kinds may sit under which: a station belongs to a branch, a branch to the bureau; a
# department (or a section of one) to the bureau, a department or a branch.
_PARENT_KINDS: dict[str, tuple[str, ...]] = {
    "bureau": (),
    "department": ("bureau", "department", "branch"),
    "branch": ("bureau",),
    "station": ("branch",),
}


class Contact(BaseModel):
    """A person the unit's dispatches and reminders are texted to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    phone: str
    role: str = Field(min_length=1)
    hours: str | None = None

    @field_validator("phone", mode="before")
    @classmethod
    def _mobile(cls, value: object) -> object:
        text = str(value).replace(" ", "").replace("-", "") if isinstance(value, (str, int)) else value
        if not isinstance(text, str) or not _MOBILE.match(text):
            raise ValueError("expected an 11-digit mobile number such as 13700001234")
        return text

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None and not _HOURS.match(value.replace(" ", "")):
            raise ValueError("expected on-duty hours like 09:00-18:00 or 08:30-12:00,14:30-17:30")
        return None if value is None else value.replace(" ", "")


class CoveredPlace(BaseModel):
    """A community, village, market or mall a station answers for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=2)
    alias: str | None = Field(default=None, min_length=2)
    code: str | None = Field(default=None, pattern=r"^\d{12}$")
    kind: Literal["community", "village", "market", "mall", "other"] = "other"

    @field_validator("code", mode="before")
    @classmethod
    def _code_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    def names(self) -> list[str]:
        return [self.name] + ([self.alias] if self.alias and self.alias != self.name else [])


class Unit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_UNIT_ID)
    name: str = Field(min_length=2)
    kind: UnitKind
    parent: str | None = None
    town: str | None = None
    area_code: str | None = Field(default=None, pattern=r"^(\d{6}|\d{9}|\d{12})$")
    covers: list[CoveredPlace] = []
    contacts: list[Contact] = []

    @field_validator("area_code", mode="before")
    @classmethod
    def _area_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value


class UnitsFile(BaseModel):
    """units.yaml as a whole."""

    model_config = ConfigDict(extra="forbid")

    units: list[Unit] = Field(min_length=1)

    def semantic_problems(self) -> list[tuple[tuple, str]]:
        problems: list[tuple[tuple, str]] = []
        first_index: dict[str, int] = {}
        for i, unit in enumerate(self.units):
            if unit.id in first_index:
                problems.append((("units", i, "id"), f"duplicate unit id {unit.id!r} (first defined at units[{first_index[unit.id]}])"))
            else:
                first_index[unit.id] = i
        by_id = {u.id: u for u in self.units}

        for i, unit in enumerate(self.units):
            if unit.parent is None:
                if unit.kind != "bureau":
                    problems.append((("units", i, "kind"), f"only the bureau has no parent; a {unit.kind} needs `parent`"))
                continue
            parent = by_id.get(unit.parent)
            if parent is None:
                problems.append((("units", i, "parent"), f"unknown parent {unit.parent!r}: no unit has this id"))
                continue
            allowed = _PARENT_KINDS[unit.kind]
            if not allowed:
                problems.append((("units", i, "parent"), "the bureau is the top of the directory and has no parent"))
            elif parent.kind not in allowed:
                problems.append((("units", i, "parent"), f"a {unit.kind} must sit under a {' or '.join(allowed)}, "
                                 f"but {parent.id!r} is a {parent.kind}"))
            if unit.kind == "station" and parent.kind == "branch" and unit.town and parent.town and unit.town != parent.town:
                problems.append((("units", i, "town"), f"station is in {unit.town} but its branch {parent.id!r} is in {parent.town}"))

        problems += self._cycles(by_id, first_index)

        covered: dict[str, tuple[str, int, int]] = {}
        for i, unit in enumerate(self.units):
            if unit.kind in ("branch", "station") and not unit.town:
                problems.append((("units", i), f"a {unit.kind} needs `town`"))
            if unit.kind == "station" and not unit.contacts:
                problems.append((("units", i), "a station needs at least one contact to text"))
            if unit.covers and unit.kind != "station":
                problems.append((("units", i, "covers"), "only stations cover places"))
            for j, place in enumerate(unit.covers):
                keys = place.names() + ([place.code] if place.code else [])
                for key in keys:
                    earlier = covered.get(key)
                    if earlier is not None and earlier[0] != unit.id:
                        problems.append((("units", i, "covers", j), f"{key!r} is already covered by {earlier[0]!r} "
                                         f"(units[{earlier[1]}].covers[{earlier[2]}]); a place belongs to one station"))
                        break
                    if earlier is not None and (earlier[1], earlier[2]) != (i, j):
                        problems.append((("units", i, "covers", j), f"{key!r} is listed twice in this station"))
                        break
                    covered[key] = (unit.id, i, j)
        return problems

    def _cycles(self, by_id: dict[str, Unit], first_index: dict[str, int]) -> list[tuple[tuple, str]]:
        problems = []
        reported: set[str] = set()
        for start in by_id:
            path: list[str] = []
            node: str | None = start
            while node is not None and node in by_id and node not in path:
                path.append(node)
                node = by_id[node].parent
            if node is not None and node in path:
                cycle = path[path.index(node):]
                if not reported.intersection(cycle):
                    reported.update(cycle)
                    first = min(cycle, key=lambda uid: first_index[uid])
                    ring = " → ".join(cycle[cycle.index(first):] + cycle[:cycle.index(first)] + [first])
                    problems.append((("units", first_index[first], "parent"), f"parents form a cycle: {ring}"))
        return problems
