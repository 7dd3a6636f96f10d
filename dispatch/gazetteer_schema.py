"""The schema of gazetteer.yaml: roads, buildings, estates, markets and malls beside units.yaml, each with the
station that covers it, and the confidence below which a place found goes to triage instead."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

PlaceKind = Literal["road", "street", "building", "estate", "market", "mall", "other"]


class GazetteerPlace(BaseModel):
    """A place people write in addresses, and the station that covers it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=2, max_length=40)
    aliases: list[str] = []
    kind: PlaceKind = "other"
    station: str
    example: bool = False          # written as an example, not checked on the ground
    learned_from: list[str] = []   # the tickets whose reassignments taught it (onequeue gazetteer accept)

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, values: list[str]) -> list[str]:
        for value in values:
            if len(value) < 2 or len(value) > 40:
                raise ValueError(f"an alias is 2 to 40 characters, {value!r} is not")
        return values

    @field_validator("station")
    @classmethod
    def _known_station(cls, value: str, info: ValidationInfo) -> str:
        units = (info.context or {}).get("units")
        if units is not None:
            unit = units.get(value)
            if unit is None or unit.kind != "station":
                raise ValueError(f"unknown station {value!r}: expected a station id of units.yaml (st-daliang-01 ...)")
        return value

    @model_validator(mode="after")
    def _not_another_stations(self, info: ValidationInfo) -> "GazetteerPlace":
        units = (info.context or {}).get("units")
        if units is None:
            return self
        for station in units.of_kind("station"):
            if station.id == self.station:
                continue
            for covered in station.covers:
                clash = set(self.names()) & set(covered.names())
                if clash:
                    raise ValueError(f"{clash.pop()!r} is covered by {station.id} in units.yaml; a name belongs "
                                     "to one station (change it there, or leave it out here)")
        return self

    def names(self) -> list[str]:
        return [self.name] + [a for a in self.aliases if a != self.name]


class GazetteerFile(BaseModel):
    """gazetteer.yaml as a whole."""

    model_config = ConfigDict(extra="forbid")

    min_confidence: float = Field(0.5, ge=0, le=1)
    places: list[GazetteerPlace] = []

    def semantic_problems(self) -> list[tuple[tuple, str]]:
        problems: list[tuple[tuple, str]] = []
        seen: dict[str, tuple[int, str]] = {}
        for i, place in enumerate(self.places):
            for name in place.names():
                earlier = seen.get(name)
                if earlier is not None and earlier[0] != i:
                    problems.append((("places", i, "name"), f"{name!r} is already listed at places[{earlier[0]}] "
                                     f"(station {earlier[1]}); a name belongs to one place"))
                    break
                seen[name] = (i, place.station)
        return problems
