"""businesses.yaml: what administrators know that no spelling shows — 美力健身 is 美丽健身会所 — as an alias list,
validated like the other YAML files (file, line and field)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

from settings.yaml_loader import load_yaml_model, parse_yaml_model
from watch.names import name_key

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "businesses.yaml"


class AliasEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="the name the business is known by")
    town: Optional[str] = Field(None, description="its town/street as in units.yaml; unset: in every town")
    aliases: list[str] = Field(min_length=1, description="other names people give it")


class BusinessesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    businesses: list[AliasEntry] = Field(default_factory=list)

    def semantic_problems(self) -> list[tuple[tuple, str]]:
        problems: list[tuple[tuple, str]] = []
        seen: dict[tuple[str, Optional[str]], tuple] = {}
        for i, entry in enumerate(self.businesses):
            if not name_key(entry.name):
                problems.append((("businesses", i, "name"), f"{entry.name!r} leaves no name once the region and "
                                 "legal form are taken off"))
            for j, alias in enumerate(entry.aliases):
                where = ("businesses", i, "aliases", j)
                key = name_key(alias)
                if not key:
                    problems.append((where, f"{alias!r} leaves no name once the region and legal form are taken off"))
                    continue
                if key == name_key(entry.name):
                    problems.append((where, f"{alias!r} is already the same name as {entry.name!r}: not needed"))
                    continue
                if (key, entry.town) in seen:
                    first = seen[(key, entry.town)]
                    problems.append((where, f"{alias!r} is listed twice (first at businesses[{first[1]}]), "
                                     "an alias names one business"))
                seen.setdefault((key, entry.town), where)
        return problems


@dataclass(frozen=True)
class Aliases:
    """Name keys to the key of the business they stand for, in one town or in all."""

    keys: dict[tuple[str, Optional[str]], str] = field(default_factory=dict)

    @classmethod
    def from_model(cls, model: BusinessesFile) -> "Aliases":
        return cls({(name_key(a), e.town): name_key(e.name) for e in model.businesses for a in e.aliases})

    @classmethod
    def from_file(cls, path: str | Path = DEFAULT_FILE) -> "Aliases":
        return cls.from_model(load_yaml_model(path, BusinessesFile))

    @classmethod
    def from_text(cls, text: str, file: str = "businesses.yaml") -> "Aliases":
        return cls.from_model(parse_yaml_model(text, BusinessesFile, file=file))

    def canonical(self, key: str, town: str) -> Optional[str]:
        """The key `key` is an alias of in `town`, if it is one."""
        return self.keys.get((key, town or None)) or self.keys.get((key, None))
