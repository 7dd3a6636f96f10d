"""Industries: the taxonomy of industries.yaml, validated on load with its file, line and field, and the decision
of one ticket's industry from its business's name, its dispute type and its words, kept with what decided it."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

from settings.yaml_loader import load_yaml_model, parse_yaml_model
from stats.facts import Decision
from tickets.models import Ticket

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "industries.yaml"


class Industry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", description="a short id: lower-case letters, digits, _")
    name: str = Field(min_length=1, max_length=40)
    business: list[str] = Field(default_factory=list, description="words of a business's name")
    categories: list[str] = Field(default_factory=list, description="dispute types that mean this industry")
    keywords: list[str] = Field(default_factory=list, description="words of a ticket's title or text")


class IndustriesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: str
    industries: list[Industry] = Field(min_length=1)

    def semantic_problems(self) -> list[tuple[tuple, str]]:
        problems: list[tuple[tuple, str]] = []
        seen: dict[str, int] = {}
        for i, ind in enumerate(self.industries):
            if ind.id in seen:
                problems.append((("industries", i, "id"), f"{ind.id!r} is already the id of industries[{seen[ind.id]}]"))
            seen.setdefault(ind.id, i)
            for field in ("business", "categories", "keywords"):
                for j, word in enumerate(getattr(ind, field)):
                    if not word.strip():
                        problems.append((("industries", i, field, j), "an empty word would match every ticket"))
        if self.default not in seen:
            problems.append((("default",), f"{self.default!r} is not the id of an industry listed below "
                             f"(ids: {', '.join(seen)})"))
        return problems


class Industries:
    """The taxonomy, and `decide(ticket)`: the ticket's industry with what decided it."""

    STEPS = (("business", "商家名称含"), ("categories", "纠纷类型为"), ("keywords", "诉求内容含"))

    def __init__(self, spec: IndustriesFile):
        self.spec = spec
        self.names = {ind.id: ind.name for ind in spec.industries}

    @classmethod
    def from_file(cls, path: str | Path = DEFAULT_FILE) -> "Industries":
        return cls(load_yaml_model(path, IndustriesFile))

    @classmethod
    def from_yaml(cls, text: str, file: str = "industries.yaml") -> "Industries":
        return cls(parse_yaml_model(text, IndustriesFile, file=file))

    def name(self, industry_id: Optional[str]) -> str:
        """餐饮服务 for catering; an id the taxonomy no longer has is shown as it is."""
        return self.names.get(industry_id or "", industry_id or "未分类")

    def decide(self, ticket: Ticket) -> Decision:
        texts = {"business": ticket.business_name or "", "categories": ticket.category or "",
                 "keywords": f"{ticket.title or ''} {ticket.text or ''}"}
        for field, label in self.STEPS:
            text = texts[field]
            if not text.strip():
                continue
            best: Optional[tuple[int, str, str]] = None
            for ind in self.spec.industries:
                words = getattr(ind, field)
                found = [w for w in words if (w == text if field == "categories" else w in text)]
                if found:
                    word = max(found, key=len)
                    if best is None or len(word) > best[0]:
                        best = (len(word), ind.id, word)
            if best is not None:
                return Decision(best[1], f"{label}「{best[2]}」")
        return Decision(self.spec.default, "未匹配，归入默认行业")
