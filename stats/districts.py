"""Business districts (商圈): the list of districts.yaml, validated on load with its file, line and field, and the
district a ticket's addresses and business name put it in, kept with the name that decided it."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

from settings.yaml_loader import load_yaml_model, parse_yaml_model
from stats.facts import Decision
from tickets.models import Ticket

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "districts.yaml"


class District(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="a short id: lower-case letters, digits, _")
    name: str = Field(min_length=1, max_length=40)
    town: Optional[str] = Field(None, description="the town/street it lies in, as units.yaml names it")
    places: list[str] = Field(default_factory=list, description="names written in addresses")


class DistrictsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    districts: list[District] = Field(default_factory=list)

    def semantic_problems(self) -> list[tuple[tuple, str]]:
        problems: list[tuple[tuple, str]] = []
        ids: dict[str, int] = {}
        names: dict[str, int] = {}
        for i, d in enumerate(self.districts):
            if d.id in ids:
                problems.append((("districts", i, "id"), f"{d.id!r} is already the id of districts[{ids[d.id]}]"))
            ids.setdefault(d.id, i)
            for j, place in enumerate(d.places):
                if len(place.strip()) < 2:
                    problems.append((("districts", i, "places", j), f"{place!r}: a place's name has two "
                                     "characters or more"))
                elif names.get(place, i) != i:
                    problems.append((("districts", i, "places", j), f"{place!r} is already a place of "
                                     f"districts[{names[place]}]; a place belongs to one district"))
                names.setdefault(place, i)
        return problems


class Districts:
    """The list, and `decide(ticket)`: the district a ticket is in, with the name that put it there."""

    def __init__(self, spec: DistrictsFile):
        self.spec = spec
        self.names = {d.id: d.name for d in spec.districts}

    @classmethod
    def from_file(cls, path: str | Path = DEFAULT_FILE) -> "Districts":
        return cls(load_yaml_model(path, DistrictsFile))

    @classmethod
    def from_yaml(cls, text: str, file: str = "districts.yaml") -> "Districts":
        return cls(parse_yaml_model(text, DistrictsFile, file=file))

    def name(self, district_id: Optional[str]) -> str:
        return self.names.get(district_id or "", district_id or "未在商圈")

    def decide(self, ticket: Ticket) -> Decision:
        text = " ".join(x for x in (ticket.event_address, ticket.business_address, ticket.business_name) if x)
        best: Optional[tuple[int, str, str]] = None
        if text:
            for d in self.spec.districts:
                if d.town and ticket.town and d.town != ticket.town:
                    continue
                for place in (d.name, *d.places):
                    if place in text and (best is None or len(place) > best[0]):
                        best = (len(place), d.id, place)
        if best is None:
            return Decision("")
        return Decision(best[1], f"地址或商家名称含「{best[2]}」")
