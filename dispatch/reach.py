"""Which rules can never match: contradictory conditions, disabled rules, and rules shadowed by an earlier one.

The analysis reads conditions without tickets. It is sound but not complete: a rule it warns about
never matches; a rule it says nothing about may still be unreachable for reasons it cannot see.
Keywords, addresses and business names match as substrings, so 乱收费 present implies 收费 present.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable

from dispatch.directory import UnitDirectory
from dispatch.rules_schema import Condition, Rule
from tickets.vocabulary import KINDS, PRIORITIES

_SETS = ("channel", "channel_kind", "kind", "category", "group", "priority", "town", "station")
_DOMAINS = {"kind": frozenset(KINDS), "priority": frozenset(PRIORITIES)}
_INF = float("inf")


@dataclass(frozen=True)
class Finding:
    """A warning about one rule: its index in the file, where in the rule (a location path), and what."""

    index: int
    loc: tuple
    message: str


@dataclass
class _Needs:
    """What a conjunction of conditions requires of a ticket, as far as it can be read without one."""

    allowed: dict[str, tuple[frozenset[str], ...]] = field(default_factory=dict)   # field → lists it must be in
    banned: dict[str, frozenset[str]] = field(default_factory=dict)    # field → values a `not` excludes
    low: float = -_INF
    high: float = _INF
    has_amount: bool = False
    words_all: frozenset[str] = frozenset()                  # each of these is in the text
    words_any: tuple[frozenset[str], ...] = ()               # one of each group is in the text
    words_none: frozenset[str] = frozenset()                 # none of these is in the text
    address_any: tuple[frozenset[str], ...] = ()
    business_any: tuple[frozenset[str], ...] = ()
    never: str | None = None                                 # why it can never hold

    def possible(self, name: str) -> frozenset[str] | None:
        """The values `name` can take (None: any value)."""
        lists = self.allowed.get(name)
        values = frozenset.intersection(*lists) if lists else _DOMAINS.get(name)
        return None if values is None else values - self.banned.get(name, frozenset())

    def merged(self, other: "_Needs") -> "_Needs":
        allowed = dict(self.allowed)
        for name, lists in other.allowed.items():
            allowed[name] = allowed.get(name, ()) + lists
        banned = dict(self.banned)
        for name, values in other.banned.items():
            banned[name] = banned.get(name, frozenset()) | values
        return _Needs(allowed, banned, max(self.low, other.low), min(self.high, other.high),
                      self.has_amount or other.has_amount, self.words_all | other.words_all,
                      self.words_any + other.words_any, self.words_none | other.words_none,
                      self.address_any + other.address_any, self.business_any + other.business_any,
                      self.never or other.never)


def _contains_one(longer: str, parts: Iterable[str]) -> bool:
    return any(p in longer for p in parts)


class ReachAnalysis:
    """Warnings for the rules of one file, against one units directory."""

    def __init__(self, units: UnitDirectory):
        self.station_town = {u.id: u.town for u in units.of_kind("station")}

    # --- what a condition needs -----------------------------------------------------------------

    def needs(self, cond: Condition) -> _Needs:
        """The requirements of `cond`, with `never` set when they contradict each other."""
        n = _Needs()
        for name in _SETS:
            values = getattr(cond, name)
            if values:
                n = n.merged(_Needs(allowed={name: (frozenset(values),)}))
        if cond.keywords is not None:
            kw = cond.keywords
            n = n.merged(_Needs(words_all=frozenset(kw.all_ or ()), words_none=frozenset(kw.none or ()),
                                words_any=(frozenset(kw.any_),) if kw.any_ else ()))
        if cond.address:
            n = n.merged(_Needs(address_any=(frozenset(cond.address),)))
        if cond.business:
            n = n.merged(_Needs(business_any=(frozenset(cond.business),)))
        if cond.amount is not None:
            n = n.merged(_Needs(low=cond.amount.min if cond.amount.min is not None else -_INF,
                                high=cond.amount.max if cond.amount.max is not None else _INF, has_amount=True))
        for child in cond.all_ or []:
            n = n.merged(self.needs(child))
        if cond.not_ is not None:
            n = n.merged(self._excluded(cond.not_))
        n = replace(n, never=n.never or self._contradiction(n))
        if n.never is None and cond.not_ is not None and self.covers(cond.not_, n):
            n = replace(n, never="the `not` excludes every ticket the rest of the conditions allow")
        if n.never is None and cond.any_:
            if all(self._contradiction(self.needs(alt).merged(n)) for alt in cond.any_):
                n = replace(n, never="none of the `any` alternatives can hold together with the rest")
        return n

    def _excluded(self, inner: Condition) -> _Needs:
        """What `not: inner` requires, when `inner` tests a single field against a list of values."""
        given = [name for name in _SETS if getattr(inner, name)]
        others = inner.model_dump(exclude_none=True, by_alias=True, exclude=set(_SETS))
        if len(given) == 1 and not others:
            return _Needs(banned={given[0]: frozenset(getattr(inner, given[0]))})
        if inner.keywords is not None and inner.keywords.any_ and len(others) == 1 and not given \
                and not inner.keywords.all_ and not inner.keywords.none:
            return _Needs(words_none=frozenset(inner.keywords.any_))
        return _Needs()

    def _contradiction(self, n: _Needs) -> str | None:
        if n.never:
            return n.never
        for name in _SETS:
            if n.possible(name) != frozenset():
                continue
            lists = n.allowed.get(name, ())
            base = frozenset.intersection(*lists) if lists else None
            if lists and not base:
                return f"{name} must be " + " and also ".join(_list(values) for values in lists)
            if base:
                return f"{name} must be {_list(base)} and, by the `not`, not {_list(n.banned[name])}"
            return f"the `not` excludes every {name} ({_list(n.banned[name])})"
        stations, towns = n.possible("station"), n.possible("town")
        if stations is not None and towns is not None:
            if not any(self.station_town.get(s) in towns for s in stations):
                return f"station {_list(stations)} is not in town {_list(towns)}"
        if n.low > n.high:
            return f"the amount must be at least {n.low:g} and at most {n.high:g}"
        for word in n.words_all:
            if _contains_one(word, n.words_none):
                return f"the keyword {word} is required and excluded (`none`)"
        for group in n.words_any:
            if all(_contains_one(w, n.words_none) for w in group):
                return f"every keyword of {_list(group)} is excluded (`none`)"
        return None

    # --- does one condition hold whenever another does ------------------------------------------

    def covers(self, general: Condition, specific: _Needs) -> bool:
        """True if every ticket meeting `specific` meets `general` (so `general` is at least as broad)."""
        for name in _SETS:
            wanted = getattr(general, name)
            if wanted and not self._field_implied(name, frozenset(wanted), specific):
                return False
        kw = general.keywords
        if kw is not None:
            if kw.any_ and not (any(_contains_one(w, kw.any_) for w in specific.words_all)
                                or any(all(_contains_one(w, kw.any_) for w in g) for g in specific.words_any)):
                return False
            if kw.all_ and not all(any(a in w for w in specific.words_all) for a in kw.all_):
                return False
            if kw.none and not all(_contains_one(word, specific.words_none) for word in kw.none):
                return False
        for wanted, have in ((general.address, specific.address_any), (general.business, specific.business_any)):
            if wanted and not any(all(_contains_one(p, wanted) for p in g) for g in have):
                return False
        if general.amount is not None:
            low = general.amount.min if general.amount.min is not None else -_INF
            high = general.amount.max if general.amount.max is not None else _INF
            if not (specific.has_amount and low <= specific.low and specific.high <= high):
                return False
        if not all(self.covers(child, specific) for child in general.all_ or []):
            return False
        if general.any_ and not any(self.covers(alt, specific) for alt in general.any_):
            return False
        if general.not_ is not None:
            both = specific.merged(self.needs(general.not_))
            if not (both.never or self._contradiction(both)):
                return False
        return True

    def _field_implied(self, name: str, wanted: frozenset[str], n: _Needs) -> bool:
        possible = n.possible(name)
        if possible is not None and possible <= wanted:
            return True
        stations = n.possible("station")
        return name == "town" and stations is not None and all(self.station_town.get(s) in wanted for s in stations)

    # --- the rules of a file --------------------------------------------------------------------

    def findings(self, rules: list[Rule]) -> list[Finding]:
        out: list[Finding] = []
        needs = [self.needs(r.when) for r in rules]
        for i, rule in enumerate(rules):
            if not rule.enabled:
                out.append(Finding(i, ("enabled",), f"rule {rule.id!r} is disabled: it never matches"))
                continue
            if needs[i].never:
                out.append(Finding(i, ("when",), f"rule {rule.id!r} can never match: {needs[i].never}"))
                continue
            earlier = self._shadowing(rules, needs, i)
            if earlier is not None:
                first = rules[earlier]
                if first.assign_to == "covering_station":
                    how = "takes every ticket " + ("with a known place" if not _has_conditions(first.when)
                                                   else "with a known place that this one would")
                else:
                    how = "has no conditions" if not _has_conditions(first.when) else "matches every ticket this one would"
                out.append(Finding(i, (), f"rule {rule.id!r} is never reached: rule {first.id!r} (rules[{earlier}]) "
                                          f"comes first, {how}, and stops"))
        return out

    def _shadowing(self, rules: list[Rule], needs: list[_Needs], i: int) -> int | None:
        later = rules[i]
        for j in range(i):
            first = rules[j]
            if not first.enabled or first.continue_ or needs[j].never:
                continue
            if first.assign_to == "covering_station" and not (
                    later.assign_to == "covering_station" or {"town", "station"} & needs[i].allowed.keys()):
                continue   # passed over when no place is known, so a later rule may still get those tickets
            changed = {f for r in rules[j + 1:i] if r.enabled
                       for f, v in (("category", r.set_category), ("priority", r.set_priority)) if v}
            if changed & _fields_used(first.when):
                continue   # a rule in between changes what the earlier rule looked at
            if self.covers(first.when, needs[i]):
                return j
        return None


def _fields_used(cond: Condition) -> set[str]:
    return {name for _, c in cond.walk(()) for name in _SETS if getattr(c, name)}


def _has_conditions(cond: Condition) -> bool:
    return bool(cond.model_dump(exclude_none=True, by_alias=True))


def _list(values: Iterable[str]) -> str:
    return " / ".join(sorted(values))
