"""The schema of rules.yaml: ordered rules, each `when` (conditions) and an action.

Unit ids, towns and stations are checked against the units directory passed as context={"units": ...},
so a typo, a wrong type and an unknown unit in one file are all reported together, each with its line.
"""
from __future__ import annotations

from typing import Annotated, Any, Iterator, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator,
                      model_validator)

from dispatch.classify import Taxonomy, load_default_taxonomy
from tickets.vocabulary import KIND_OF_LABEL, PRIORITY_OF_LABEL, Kind, Priority


def _as_list(value: Any) -> Any:
    """Let an administrator write `channel: 12315` for `channel: [12315]`."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list):
        return [str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in value]
    return value


def _codes(labels: dict[str, str]):
    """Let an administrator write the Chinese label (`priority: 特急`) for the code (`very_urgent`)."""
    def to_codes(value: Any) -> Any:
        value = _as_list(value)
        if isinstance(value, list):
            return [labels.get(v, v) if isinstance(v, str) else v for v in value]
        return labels.get(value, value) if isinstance(value, str) else value
    return to_codes


Words = Annotated[list[Annotated[str, Field(min_length=1)]], BeforeValidator(_as_list), Field(min_length=1)]
KindList = Annotated[list[Kind], BeforeValidator(_codes(KIND_OF_LABEL)), Field(min_length=1)]
PriorityList = Annotated[list[Priority], BeforeValidator(_codes(PRIORITY_OF_LABEL)), Field(min_length=1)]
PriorityCode = Annotated[Priority, BeforeValidator(lambda v: PRIORITY_OF_LABEL.get(v, v) if isinstance(v, str) else v)]


def _units(info: ValidationInfo):
    return (info.context or {}).get("units")


def _known_unit_id(value: str, info: ValidationInfo) -> str:
    units = _units(info)
    if units is not None and value not in units:
        raise ValueError("unknown unit: no unit in units.yaml has this id")
    return value


class AssignGroup(BaseModel):
    """Assign to one unit of a group: `round_robin` in turn (kept across workers and restarts), or
    `least_open`, the unit with the fewest open tickets (ties: the first in the list)."""

    model_config = ConfigDict(extra="forbid")

    units: list[Annotated[str, AfterValidator(_known_unit_id)]] = Field(min_length=2)
    strategy: Literal["round_robin", "least_open"]

    @field_validator("units")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        twice = sorted({u for u in value if value.count(u) > 1})
        if twice:
            raise ValueError(f"a unit is listed twice: {', '.join(twice)}")
        return value


class KeywordTest(BaseModel):
    """Keywords looked for in the ticket's title and text (plain substrings, Chinese or not)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    any_: Words | None = Field(default=None, alias="any")
    all_: Words | None = Field(default=None, alias="all")
    none: Words | None = None

    @model_validator(mode="after")
    def _something(self) -> "KeywordTest":
        if not (self.any_ or self.all_ or self.none):
            raise ValueError("give at least one of any, all, none")
        return self

    def words(self) -> list[str]:
        return [*(self.any_ or []), *(self.all_ or []), *(self.none or [])]


class AmountRange(BaseModel):
    """The amount in dispute, in yuan: min <= amount <= max (either bound may be left out)."""

    model_config = ConfigDict(extra="forbid")

    min: float | None = Field(default=None, ge=0)
    max: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> "AmountRange":
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is larger than max {self.max}")
        return self


class Condition(BaseModel):
    """All fields given must hold; `all`, `any` and `not` nest further conditions."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    all_: list["Condition"] | None = Field(default=None, alias="all", min_length=1)
    any_: list["Condition"] | None = Field(default=None, alias="any", min_length=1)
    not_: "Condition | None" = Field(default=None, alias="not")

    channel: Words | None = None          # channel instance names, e.g. 12345-shunde
    channel_kind: Words | None = None     # source kinds, e.g. 12345, 12315, walk_in
    kind: KindList | None = None
    category: Words | None = None         # dispute nature after classification, e.g. 价格
    group: Words | None = None            # goods/services group, e.g. 食品
    priority: PriorityList | None = None
    keywords: KeywordTest | None = None
    town: Words | None = None             # 大良 or 大良街道
    station: Words | None = None          # station ids
    address: Words | None = None          # the event or business address contains one of these
    business: Words | None = None         # the business name contains one of these
    amount: AmountRange | None = None
    business_watched: bool | None = None  # the business is (true) or is not (false) on the watch list (重点监控)

    @field_validator("town")
    @classmethod
    def _known_towns(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        units = _units(info)
        if value is None or units is None:
            return value
        official = []
        for name in value:
            town = units.town_named(name)
            if town is None:
                raise ValueError(f"unknown town {name!r}; towns are {', '.join(units.towns())}")
            official.append(town)
        return official

    @field_validator("station")
    @classmethod
    def _known_stations(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        units = _units(info)
        if value is None or units is None:
            return value
        for sid in value:
            unit = units.get(sid)
            if unit is None or unit.kind != "station":
                raise ValueError(f"unknown station {sid!r}" + ("" if unit is None else f" ({sid} is a {unit.kind})"))
        return value

    def walk(self, path: tuple) -> Iterator[tuple[tuple, "Condition"]]:
        """This condition and every nested one, with their locations."""
        yield path, self
        for key, children in (("all", self.all_), ("any", self.any_)):
            for i, child in enumerate(children or []):
                yield from child.walk(path + (key, i))
        if self.not_ is not None:
            yield from self.not_.walk(path + ("not",))


class Rule(BaseModel):
    """One rule: when its conditions hold, its action is taken; then it stops, unless `continue: true`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str | None = None
    enabled: bool = True
    when: Condition = Condition()
    # Actions.
    assign: str | None = None
    assign_to: Literal["covering_station"] | None = None
    assign_group: AssignGroup | None = None
    triage: bool = False
    set_category: str | None = None
    set_priority: PriorityCode | None = None
    continue_: bool = Field(default=False, alias="continue")

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_written(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("YAML reads on/off/yes/no as true/false: put the id in quotes")
        return value

    @field_validator("assign")
    @classmethod
    def _known_unit(cls, value: str | None, info: ValidationInfo) -> str | None:
        units = _units(info)
        if value is not None and units is not None and value not in units:
            raise ValueError("unknown unit: no unit in units.yaml has this id")
        return value

    @model_validator(mode="after")
    def _one_action(self) -> "Rule":
        decisive = [name for name, on in (("assign", self.assign), ("assign_to", self.assign_to),
                                          ("assign_group", self.assign_group), ("triage", self.triage)) if on]
        if len(decisive) > 1:
            raise ValueError("a rule takes one of assign, assign_to, assign_group, triage; "
                             f"this one has {', '.join(decisive)}")
        if not decisive and not self.continue_:
            if self.set_category or self.set_priority:
                raise ValueError("a rule that only sets category or priority needs `continue: true` "
                                 "(or an assign, assign_to, assign_group or triage)")
            raise ValueError("the rule does nothing: give assign, assign_to, assign_group, triage, set_category "
                             "or set_priority")
        return self

    @property
    def decides(self) -> bool:
        return bool(self.assign or self.assign_to or self.assign_group or self.triage)


class RulesFile(BaseModel):
    """rules.yaml as a whole: an optional taxonomy and the ordered rules."""

    model_config = ConfigDict(extra="forbid")

    taxonomy: Taxonomy | None = None
    rules: list[Rule] = []

    _default_taxonomy: Taxonomy | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _keep_context(self, info: ValidationInfo) -> "RulesFile":
        self._default_taxonomy = (info.context or {}).get("taxonomy")
        return self

    def effective_taxonomy(self) -> Taxonomy:
        if self.taxonomy is not None:
            return self.taxonomy
        if self._default_taxonomy is None:
            self._default_taxonomy = load_default_taxonomy()
        return self._default_taxonomy

    def semantic_problems(self) -> list[tuple[tuple, str]]:
        problems: list[tuple[tuple, str]] = []
        if self.taxonomy is not None:
            problems += self.taxonomy.problems(("taxonomy",))
        taxonomy = self.effective_taxonomy()
        natures, groups = set(taxonomy.nature_names), set(taxonomy.group_names)
        seen: dict[str, int] = {}
        for i, rule in enumerate(self.rules):
            if rule.id in seen:
                problems.append((("rules", i, "id"), f"duplicate rule id {rule.id!r} (first at rules[{seen[rule.id]}])"))
            seen.setdefault(rule.id, i)
            if rule.set_category is not None and rule.set_category not in natures:
                problems.append((("rules", i, "set_category"), _not_in(rule.set_category, "category", natures)))
            for path, cond in rule.when.walk(("rules", i, "when")):
                for name in cond.category or []:
                    if name not in natures:
                        problems.append((path + ("category",), _not_in(name, "category", natures)))
                for name in cond.group or []:
                    if name not in groups:
                        problems.append((path + ("group",), _not_in(name, "group", groups)))
        return problems


def _not_in(name: str, what: str, known: set[str]) -> str:
    return f"unknown {what} {name!r}; the taxonomy has {', '.join(sorted(known))}"
