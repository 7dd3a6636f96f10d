"""The dispatcher: classify a ticket, find its place, and run the ordered rules to a decision.

Rules are compiled once into small test functions and indexed by a key each one needs (a keyword, a
station, a town, a channel ...), so a decision only evaluates the rules that could match this ticket.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Callable

import ahocorasick

from settings import ConfigError, load_yaml_model, parse_yaml_model
from settings.yaml_loader import ConfigProblem, format_loc

from dispatch.classify import Classifier, Taxonomy, load_default_taxonomy
from dispatch.decision import Decision, TicketFacts, TraceStep
from dispatch.directory import UnitDirectory
from dispatch.gazetteer_file import load_gazetteer, parse_gazetteer
from dispatch.gazetteer_schema import GazetteerFile
from dispatch.geography import Gazetteer, Place
from dispatch.rules_schema import Condition, Rule, RulesFile
from tickets.vocabulary import most_urgent

Test = Callable[["_Ctx"], "str | None"]   # None: the condition holds; otherwise why it does not

# Index keys, most selective first; a rule is filed under the most selective key it requires.
_RANK = {"kw": 0, "biz": 0, "addr": 1, "station": 1, "town": 2, "group": 3, "category": 4, "channel": 5,
         "channel_kind": 6, "kind": 7, "priority": 8}
_TEXT_KEYS = ("kw", "biz", "addr")   # looked up by scanning text: title+text, business name, addresses
_FIELDS = ("station", "town", "group", "category", "channel", "channel_kind", "kind", "priority")


class _Ctx:
    """The facts a rule looks at, with the fields rules may change (category, priority) mutable."""

    __slots__ = ("channel", "channel_kind", "kind", "category", "group", "priority", "town", "station",
                 "words", "biz", "addr", "amount", "watched")


@lru_cache(maxsize=1)
def _default_taxonomy() -> Taxonomy:
    return load_default_taxonomy()


def _one_of(field: str, values: list[str]) -> tuple[Test, tuple]:
    allowed = frozenset(values)
    why = f"{field} is not {' / '.join(values)}"
    getter = {
        "channel": lambda c: c.channel, "channel_kind": lambda c: c.channel_kind, "kind": lambda c: c.kind,
        "category": lambda c: c.category, "group": lambda c: c.group, "priority": lambda c: c.priority,
        "town": lambda c: c.town, "station": lambda c: c.station,
    }[field]
    return (lambda c: None if getter(c) in allowed else why), (frozenset((field, v) for v in values), _RANK[field])


def _compile(cond: Condition) -> tuple[Test | None, tuple | None]:
    """A test for `cond` (None if it always holds) and the index guard it implies (atoms, rank) or None."""
    tests: list[Test] = []
    guards: list[tuple] = []
    for field in _FIELDS:
        values = getattr(cond, field)
        if values:
            test, guard = _one_of(field, values)
            tests.append(test)
            guards.append(guard)
    kw = cond.keywords
    if kw is not None:
        if kw.any_:
            anyset, why = frozenset(kw.any_), f"none of the keywords {'、'.join(kw.any_)}"
            tests.append(lambda c: why if c.words.isdisjoint(anyset) else None)
            guards.append((frozenset(("kw", w) for w in kw.any_), 0))
        if kw.all_:
            allset, why_all = frozenset(kw.all_), f"not all of the keywords {'、'.join(kw.all_)}"
            tests.append(lambda c: None if allset <= c.words else why_all)
            guards.append((frozenset([("kw", max(kw.all_, key=len))]), 0))
        if kw.none:
            noneset, why_none = frozenset(kw.none), f"mentions one of {'、'.join(kw.none)}"
            tests.append(lambda c: None if c.words.isdisjoint(noneset) else why_none)
    if cond.address:
        parts, why_addr = frozenset(cond.address), f"address has none of {'、'.join(cond.address)}"
        tests.append(lambda c: why_addr if c.addr.isdisjoint(parts) else None)
        guards.append((frozenset(("addr", p) for p in cond.address), _RANK["addr"]))
    if cond.business:
        names, why_biz = frozenset(cond.business), f"business name has none of {'、'.join(cond.business)}"
        tests.append(lambda c: why_biz if c.biz.isdisjoint(names) else None)
        guards.append((frozenset(("biz", p) for p in cond.business), _RANK["biz"]))
    if cond.amount is not None:
        low = cond.amount.min if cond.amount.min is not None else float("-inf")
        high = cond.amount.max if cond.amount.max is not None else float("inf")
        why_amt = f"amount not within {cond.amount.min or 0:g}..{'' if high == float('inf') else f'{high:g}'}"
        tests.append(lambda c: None if c.amount is not None and low <= c.amount <= high else why_amt)
    if cond.business_watched is not None:
        want = cond.business_watched
        why_watch = "the business is not on the watch list" if want else "the business is on the watch list"
        tests.append(lambda c: None if c.watched == want else why_watch)
    for child in cond.all_ or []:
        test, guard = _compile(child)
        if test is not None:
            tests.append(test)
        if guard is not None:
            guards.append(guard)
    if cond.any_:
        children = [_compile(child) for child in cond.any_]
        if any(test is None for test, _ in children):
            pass  # one alternative always holds: the `any` adds nothing
        else:
            alternatives = tuple(test for test, _ in children)

            def any_holds(c: _Ctx) -> str | None:
                whys = []
                for t in alternatives:
                    why = t(c)
                    if why is None:
                        return None
                    whys.append(why)
                return f"none of the `any` alternatives holds ({'; '.join(whys)})"
            tests.append(any_holds)
            if all(guard is not None for _, guard in children):
                atoms = frozenset().union(*(guard[0] for _, guard in children))
                guards.append((atoms, max(guard[1] for _, guard in children)))
    if cond.not_ is not None:
        inner, _ = _compile(cond.not_)
        why_not = "the `not` condition holds"
        tests.append((lambda c: None if inner(c) is not None else why_not) if inner is not None
                     else (lambda c: why_not))
    guard = min(guards, key=lambda g: (g[1], len(g[0]))) if guards else None
    if not tests:
        return None, guard
    if len(tests) == 1:
        return tests[0], guard
    chain = tuple(tests)

    def all_hold(c: _Ctx) -> str | None:
        for t in chain:
            why = t(c)
            if why is not None:
                return why
        return None
    return all_hold, guard


def _automaton(words: set[str]):
    if not words:
        return None
    auto = ahocorasick.Automaton()
    for w in words:
        auto.add_word(w, w)
    auto.make_automaton()
    return auto


_NOTHING: frozenset[str] = frozenset()


def _found(auto, text: str | None) -> frozenset[str] | set[str]:
    """Every pattern of `auto` occurring in `text`, overlaps included."""
    if auto is None or not text:
        return _NOTHING
    return {w for _, w in auto.iter(text)}


class _Compiled:
    __slots__ = ("index", "rule", "id", "test", "guard", "summary", "keywords")

    def __init__(self, index: int, rule: Rule):
        self.index, self.rule, self.id = index, rule, rule.id
        self.test, self.guard = _compile(rule.when)
        held = [k for k, v in rule.when.model_dump(exclude_none=True, by_alias=True).items() if v]
        self.summary = "matched: " + (", ".join(held) if held else "no conditions")
        self.keywords = _wanted_words(rule.when)


def _wanted_words(cond: Condition) -> list[str]:
    """Keywords whose presence helps `cond` hold (any/all, outside `not`): for the reason text."""
    words = list((cond.keywords.any_ or []) + (cond.keywords.all_ or [])) if cond.keywords else []
    for child in (cond.all_ or []) + (cond.any_ or []):
        words += [w for w in _wanted_words(child) if w not in words]
    return words


def _unknown_references(units: UnitDirectory, rules: RulesFile, file: str) -> list[ConfigProblem]:
    """The check of rules against units for rules validated without context={"units": ...} (no lines then)."""
    problems = []
    for i, rule in enumerate(rules.rules):
        if rule.assign is not None and rule.assign not in units:
            problems.append(ConfigProblem(file, None, f"rules[{i}].assign", f"unknown unit {rule.assign!r}"))
        for j, uid in enumerate(rule.assign_group.units if rule.assign_group else ()):
            if uid not in units:
                problems.append(ConfigProblem(file, None, f"rules[{i}].assign_group.units[{j}]", f"unknown unit {uid!r}"))
        for path, cond in rule.when.walk(("rules", i, "when")):
            for town in cond.town or []:
                if town not in units.branch_by_town:
                    problems.append(ConfigProblem(file, None, format_loc(path + ("town",)),
                                                  f"{town!r} is not an official town name of units.yaml"))
            for station in cond.station or []:
                unit = units.get(station)
                if unit is None or unit.kind != "station":
                    problems.append(ConfigProblem(file, None, format_loc(path + ("station",)),
                                                  f"unknown station {station!r}"))
    return problems


class Dispatcher:
    """Decides where tickets go under one units directory and one rules file."""

    def __init__(self, units: UnitDirectory, rules: RulesFile, file: str = "rules.yaml",
                 places: GazetteerFile | None = None):
        problems = _unknown_references(units, rules, file)
        if problems:
            raise ConfigError(problems)
        self.units = units
        self.rules_file = rules
        self.taxonomy = rules.effective_taxonomy()
        self.classifier = Classifier(self.taxonomy)
        self.gazetteer = Gazetteer(units, places)
        self._natures = frozenset(self.taxonomy.nature_names)
        self._rules = [_Compiled(i, r) for i, r in enumerate(rules.rules)]
        self._build_index()

    @classmethod
    def from_files(cls, units_path: str | Path, rules_path: str | Path,
                   gazetteer_path: str | Path | None = None) -> "Dispatcher":
        """Load and validate the files (the gazetteer: gazetteer.yaml beside units.yaml unless given, if there is
        one); raises settings.ConfigError naming file, line and field."""
        units = UnitDirectory.from_file(units_path)
        rules = load_yaml_model(rules_path, RulesFile, context={"units": units, "taxonomy": _default_taxonomy()})
        return cls(units, rules, file=str(rules_path), places=load_gazetteer(units_path, units, gazetteer_path))

    @classmethod
    def from_yaml(cls, units: UnitDirectory, rules_text: str, file: str = "rules.yaml",
                  gazetteer_text: str | None = None, gazetteer_file: str = "gazetteer.yaml") -> "Dispatcher":
        rules = parse_yaml_model(rules_text, RulesFile, file=file,
                                 context={"units": units, "taxonomy": _default_taxonomy()})
        places = parse_gazetteer(gazetteer_text, units, gazetteer_file) if gazetteer_text is not None else None
        return cls(units, rules, file=file, places=places)

    def _build_index(self) -> None:
        patterns: dict[str, set[str]] = {key: set() for key in _TEXT_KEYS}
        self._unguarded: list[int] = []
        self._text_post: dict[str, dict[str, list[int]]] = {key: {} for key in _TEXT_KEYS}
        self._field_post: dict[str, dict[str, list[int]]] = {f: {} for f in _FIELDS}
        for cr in self._rules:
            for _, cond in cr.rule.when.walk(()):
                if cond.keywords is not None:
                    patterns["kw"].update(cond.keywords.words())
                patterns["biz"].update(cond.business or ())
                patterns["addr"].update(cond.address or ())
            if not cr.rule.enabled:
                continue
            if cr.guard is None:
                self._unguarded.append(cr.index)
                continue
            for key, value in cr.guard[0]:
                post = self._text_post[key] if key in self._text_post else self._field_post[key]
                post.setdefault(value, []).append(cr.index)
        self._field_post = {f: post for f, post in self._field_post.items() if post}
        self._mutable_fields = {f for f in ("category", "priority") if f in self._field_post}
        self._automata = {key: _automaton(words) for key, words in patterns.items()}

    def _candidates(self, ctx: _Ctx, after: int = -1) -> list[int]:
        found = set(self._unguarded)
        for key, present in (("kw", ctx.words), ("biz", ctx.biz), ("addr", ctx.addr)):
            if present:
                post = self._text_post[key]
                for w in present:
                    hit = post.get(w)
                    if hit:
                        found.update(hit)
        for field, post in self._field_post.items():
            hit = post.get(getattr(ctx, field))
            if hit:
                found.update(hit)
        if after >= 0:
            return sorted(i for i in found if i > after)
        return sorted(found)

    def decide(self, facts: TicketFacts, explain: bool = False) -> Decision:
        """The decision for one ticket. With explain=True every rule is evaluated for the trace (same decision)."""
        body = f"{facts.title or ''}\n{facts.text or ''}"
        found = self.classifier.classify(body)
        place: Place = self.gazetteer.resolve(facts.event_address, facts.business_address, facts.area_code,
                                              facts.walk_in_station, text=body)
        ctx = _Ctx()
        ctx.channel, ctx.channel_kind, ctx.kind = facts.channel, facts.channel_kind, facts.kind
        ctx.category = facts.category if facts.category in self._natures else found.category
        ctx.group = found.group
        # An urgent word raises a normal ticket to urgent; it never lowers what the source said (特急 stays).
        ctx.priority = most_urgent(facts.priority, "urgent" if found.urgent else "normal")
        place = self._sure_enough(place)
        ctx.town, ctx.station = place.town, place.station
        auto = self._automata
        ctx.words = _found(auto["kw"], body)
        ctx.biz = _found(auto["biz"], facts.business_name)
        ctx.addr = _found(auto["addr"], f"{facts.event_address or ''}\n{facts.business_address or ''}")
        ctx.amount = facts.amount
        ctx.watched = facts.business_watched

        trace: list[TraceStep] = []
        unit_id, triage, decided_by, reason = None, False, None, ""
        rules = self._rules
        order = range(len(rules)) if explain else self._candidates(ctx)
        pos = 0
        while pos < len(order):
            cr = rules[order[pos]]
            pos += 1
            if not cr.rule.enabled:
                trace.append(TraceStep(cr.id, False, "disabled"))
                continue
            why = cr.test(ctx) if cr.test is not None else None
            if why is not None:
                trace.append(TraceStep(cr.id, False, why))
                continue
            rule = cr.rule
            if rule.assign_to == "covering_station" and ctx.town is None:
                trace.append(TraceStep(cr.id, False, "conditions hold, but no place was found for covering_station"))
                continue
            trace.append(TraceStep(cr.id, True, cr.summary))
            changed = False
            if rule.set_category is not None and rule.set_category != ctx.category:
                ctx.category, changed = rule.set_category, changed or "category" in self._mutable_fields
            if rule.set_priority is not None and rule.set_priority != ctx.priority:
                ctx.priority, changed = rule.set_priority, changed or "priority" in self._mutable_fields
            if rule.decides:
                decided_by = cr
                if rule.triage:
                    unit_id, triage = None, True
                elif rule.assign is not None:
                    unit_id, triage = rule.assign, False
                elif rule.assign_group is not None:
                    unit_id, triage = rule.assign_group.units[0], False   # job.py picks the unit in the group
                else:
                    unit_id, triage = ctx.station or self.units.branch_for_town(ctx.town), False
            if not rule.continue_:
                break
            if changed and not explain:
                order, pos = self._candidates(ctx, after=cr.index), 0

        if decided_by is None:
            triage, reason = True, "no rule decided: triage"
        else:
            reason = self._reason(decided_by, ctx, place, unit_id)
        if place.method == "outside" and not triage:
            # not ours to dispatch in Shunde, whatever the rule: a person sends it on
            reason = f"{reason}; but the address is outside Shunde → triage"
            unit_id, triage = None, True
        if triage and place.note:
            reason = f"{reason}; {place.note}"
        group = decided_by.rule.assign_group if decided_by is not None else None
        return Decision(unit_id=unit_id, triage=triage, rule_id=decided_by.id if decided_by else None, reason=reason,
                        town=place.town, station=place.station, place_method=place.method,
                        place_confidence=place.confidence, place_found=place.found,
                        place_candidates=place.candidates, place_note=place.note, category=ctx.category, group=ctx.group,
                        priority=ctx.priority, trace=trace,
                        group_units=tuple(group.units) if group else (),
                        group_strategy=group.strategy if group else None)

    def _sure_enough(self, place: Place) -> Place:
        """The place, or, when it was found with less confidence than gazetteer.yaml's min_confidence, no place
        (rules see neither town nor station) with what was found kept as the candidate and the reason why."""
        floor = self.gazetteer.min_confidence
        if place.town is None and place.station is None or place.confidence >= floor:
            return place
        candidates = place.candidates or ((place.station,) if place.station else ())
        what = place.station or place.town
        return Place(None, None, place.method, place.confidence, found=place.found, candidates=candidates,
                     note=f"{place.found or what} → {what}：置信度 {place.confidence:g} 低于 {floor:g}")

    def _reason(self, cr: _Compiled, ctx: _Ctx, place: Place, unit_id: str | None) -> str:
        said = [w for w in cr.keywords if w in ctx.words][:3]
        because = f"keywords {'、'.join(said)}" if said else (cr.rule.description or cr.summary)
        if cr.rule.triage:
            return f"rule {cr.id}: {because} → triage"
        if cr.rule.assign_group is not None:
            return (f"rule {cr.id}: {because} → one of {', '.join(cr.rule.assign_group.units)} "
                    f"({cr.rule.assign_group.strategy})")
        unit = self.units.get(unit_id) if unit_id else None
        target = unit.name if unit else str(unit_id)
        if cr.rule.assign_to == "covering_station":
            where = "station covering" if place.station else "branch of"
            return f"rule {cr.id}: {because}; {where} {place.town} ({place.method}) → {target}"
        return f"rule {cr.id}: {because} → {target}"
