"""What a ticket is about: its dispute nature (category), goods/services group, and whether it is urgent.

Keyword lists come from a taxonomy (dispatch/taxonomy.yaml by default), scanned in one Aho-Corasick pass.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ahocorasick
from pydantic import BaseModel, ConfigDict, Field

from settings import load_yaml_model

DEFAULT_TAXONOMY = Path(__file__).parent / "taxonomy.yaml"


class Term(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    keywords: list[str] = []


class UrgentTerms(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    keywords: list[str] = []


class Taxonomy(BaseModel):
    """The taxonomy section: natures (categories), goods/services groups, urgent keywords, phrases to ignore."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    natures: list[Term] = Field(min_length=1)
    default_nature: str = "其他"
    groups: list[Term] = []
    urgent: UrgentTerms = UrgentTerms()
    ignore: list[str] = []

    def semantic_problems(self) -> list[tuple[tuple, str]]:
        return self.problems(())

    def problems(self, at: tuple) -> list[tuple[tuple, str]]:
        """Cross-field problems, located under `at` (so rules.yaml can report its own taxonomy section)."""
        found = []
        names = [t.name for t in self.natures]
        for i, name in enumerate(names):
            if name in names[:i]:
                found.append((at + ("natures", i, "name"), f"duplicate nature {name!r}"))
        if self.default_nature not in names:
            found.append((at + ("default_nature",), f"{self.default_nature!r} is not one of the natures: {', '.join(names)}"))
        groups = [g.name for g in self.groups]
        for i, name in enumerate(groups):
            if name in groups[:i]:
                found.append((at + ("groups", i, "name"), f"duplicate group {name!r}"))
        return found

    @property
    def nature_names(self) -> list[str]:
        return [t.name for t in self.natures]

    @property
    def group_names(self) -> list[str]:
        return [g.name for g in self.groups]


def load_default_taxonomy() -> Taxonomy:
    return load_yaml_model(DEFAULT_TAXONOMY, Taxonomy)


@dataclass(frozen=True, slots=True)
class Classification:
    category: str
    group: str | None
    urgent: bool
    urgent_word: str | None     # the keyword that made it urgent, for the reason text


_NATURE, _GROUP, _URGENT = 0, 1, 2


class Classifier:
    """Classifies title + text against one taxonomy; the automaton is built once."""

    def __init__(self, taxonomy: Taxonomy):
        self.taxonomy = taxonomy
        hits: dict[str, list[tuple[int, int]]] = {}
        for kind, terms in ((_NATURE, taxonomy.natures), (_GROUP, taxonomy.groups)):
            for rank, term in enumerate(terms):
                for word in term.keywords:
                    hits.setdefault(word, []).append((kind, rank))
        for word in taxonomy.urgent.keywords:
            hits.setdefault(word, []).append((_URGENT, 0))
        auto = ahocorasick.Automaton()
        for word, targets in hits.items():
            auto.add_word(word, (word, tuple(targets)))
        for phrase in taxonomy.ignore:
            if phrase not in hits:
                auto.add_word(phrase, (phrase, ()))
        self._empty = len(auto) == 0
        if not self._empty:
            auto.make_automaton()
        self._auto = auto
        self._natures = taxonomy.nature_names
        self._groups = taxonomy.group_names
        self._default = taxonomy.default_nature

    def classify(self, text: str) -> Classification:
        """Most-mentioned nature and group (ties: listed first), and the first urgent keyword if any."""
        if self._empty or not text:
            return Classification(self._default, None, False, None)
        nature_score = [0] * len(self._natures)
        group_score = [0] * len(self._groups)
        urgent_word = None
        for _end, (word, targets) in self._auto.iter_long(text):
            for kind, rank in targets:
                if kind == _NATURE:
                    nature_score[rank] += 1
                elif kind == _GROUP:
                    group_score[rank] += 1
                elif urgent_word is None:
                    urgent_word = word
        best = max(nature_score) if nature_score else 0
        category = self._natures[nature_score.index(best)] if best else self._default
        gbest = max(group_score) if group_score else 0
        group = self._groups[group_score.index(gbest)] if gbest else None
        return Classification(category, group, urgent_word is not None, urgent_word)
