"""Where a ticket happened: town/street and covering station, from area codes, addresses or the walk-in station.

Addresses are read as people write them (dispatch/address_text.py brings them to one form): a place without its
suffix (近良 for 近良社区), the town short or missing, the district in front or not. The names (towns, communities,
villages, markets and malls of units.yaml, the roads and buildings of gazetteer.yaml, and the places outside Shunde)
are compiled once into an Aho-Corasick automaton; a scan takes the leftmost-longest matches, so 北滘美的广场 beats
北滘. A name two towns share, told apart by no town, is not guessed: the place says which stations it could be.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import ahocorasick

from dispatch.address_text import normalize
from dispatch.directory import UnitDirectory, town_short
from dispatch.gazetteer_schema import GazetteerFile

# Names that contain a town's short name but are somewhere else entirely; matched and thrown away.
_NOT_HERE = ("黑龙江",)

# The province and the city in front of an address: read past, they say nothing about where in Shunde.
_ABOVE = ("中国", "广东省", "广东", "佛山市", "佛山")
_SHUNDE = ("顺德区", "顺德")

# Outside Shunde. With their suffix (市, 区, 镇, 街道) they are read anywhere before a Shunde name; bare, only where
# an address starts (after 广东省, 佛山市): 南海 in front is the district, 南海路 in 大良 is not.
_OUTSIDE_FOSHAN = ("禅城", "南海", "三水", "高明")
_OUTSIDE_FOSHAN_TOWNS = ("桂城", "狮山", "大沥", "里水", "九江", "西樵", "丹灶", "平洲", "罗村", "张槎", "祖庙", "石湾",
                         "南庄", "荷城", "杨和", "明城", "更合", "西南", "白坭", "乐平", "芦苞", "大塘", "南山")
_OUTSIDE_CITIES = ("广州", "深圳", "珠海", "中山", "江门", "东莞", "肇庆", "清远", "惠州", "汕头", "湛江", "茂名", "韶关",
                   "阳江", "云浮", "河源", "梅州", "汕尾", "潮州", "揭阳", "北京", "上海", "天津", "重庆", "香港", "澳门")
_OUTSIDE_DISTRICTS = ("番禺区", "天河区", "海珠区", "越秀区", "荔湾区", "白云区", "黄埔区", "花都区", "南沙区", "增城区",
                      "从化区", "新会区", "蓬江区", "江海区", "鹤山市", "台山市", "开平市", "小榄镇", "古镇镇", "东凤镇",
                      "南头镇", "黄圃镇", "坦洲镇")

# Bare names that are also everyday words or the names of roads and estates everywhere (幸福, 朝阳, 碧桂园):
# read as a place only beside a town that has it.
_COMMON_WORDS = frozenset((
    "幸福", "朝阳", "红星", "红旗", "太平", "东风", "新华", "光大", "富裕", "西北", "中区", "北区", "南区", "新城", "大门",
    "东海", "南沙", "东头", "永兴", "合成", "三华", "碧桂园", "文华", "新安", "新明", "新联", "新塘", "新隆", "光辉",
    "光华", "安富", "沙头", "上地", "龙潭", "水口", "振华", "德胜", "卫红", "平步", "兴乐", "龙山", "东涌", "大都",
    "花城", "锦龙", "永丰", "南江", "德和", "南水", "龙眼", "西华", "东平", "天湖", "上华", "江义", "高黎", "南浦",
    "设计城", "南华", "容山", "升平", "排沙", "金榜", "顺峰", "顺江", "君兰", "西海", "三桂", "裕源",
))

# Words that may stand right before or after a bare place name in an address or a sentence.
_BEFORE = frozenset("在于到住近往的是和与及去从家")
_AFTER = frozenset("号栋座幢楼附那这的旁对边里内片某")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_SUFFIXES = ("社区居委会", "居委会", "村委会", "社区", "村")

_ABOVE_K, _SHUNDE_K, _OUT_K, _OUT_BARE_K, _TOWN_K, _PLACE_K, _BLOCK_K = range(7)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a ticket is: town (official name), covering station id, how it was found, how sure (0..1);
    the words that decided (`found`), and when nothing decided, the stations it could be or why not (`note`)."""

    town: str | None
    station: str | None
    method: str
    confidence: float
    found: str = ""
    candidates: tuple[str, ...] = ()
    note: str = ""


NOWHERE = Place(None, None, "none", 0.0)


@dataclass(frozen=True, slots=True)
class _Name:
    """One name of the automaton: what it is, where it could be, and how much it says on its own."""

    what: int
    word: str
    stations: tuple[tuple[str, str], ...] = ()    # (station id, its town) for places
    town: str | None = None                       # for towns
    bare: bool = False                            # a place name without its suffix
    common: bool = False                          # an everyday word too: only beside its town


@dataclass(frozen=True, slots=True)
class _Hit:
    name: _Name
    start: int
    end: int         # exclusive


@dataclass(frozen=True, slots=True)
class _Scan:
    towns: tuple[str, ...]                  # towns named, in order of appearance
    places: tuple[_Hit, ...]                # places named, in order, the ones read as a part of a longer name left out
    outside: str | None                     # a place outside Shunde the address starts with
    shunde_first: bool                      # a Shunde name comes before anything outside
    spans: tuple[tuple[int, int], ...] = ()  # where the names read stand in the text


def _core(name: str) -> str:
    """升平社区居委会 → 升平, 东风村 → 东风; a name that would be left with one character stays as it is (荔村)."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


class Gazetteer:
    """Resolves places against one units directory and, if given, one gazetteer file."""

    def __init__(self, units: UnitDirectory, extra: GazetteerFile | None = None):
        self.units = units
        self.extra = extra or GazetteerFile()
        self.min_confidence = self.extra.min_confidence
        self._station_town = {u.id: u.town for u in units.of_kind("station")}
        names: dict[str, _Name] = {}

        def put(name: _Name) -> None:
            held = names.get(name.word)
            if held is None:
                names[name.word] = name
            elif held.what == _PLACE_K and name.what == _PLACE_K:
                if held.bare == name.bare:     # one name, several stations: which one is for the town to say
                    merged = held.stations + tuple(s for s in name.stations if s not in held.stations)
                    names[name.word] = _Name(_PLACE_K, name.word, merged, bare=held.bare,
                                             common=held.common or name.common)
                elif held.bare:                # a full name outranks the same word read as a bare one
                    names[name.word] = name
            elif held.what == _PLACE_K and held.bare:
                names[name.word] = name        # a town's or another region's name is never a bare place

        for word in _ABOVE:
            put(_Name(_ABOVE_K, word))
        for word in _SHUNDE:
            put(_Name(_SHUNDE_K, word))
        for town in units.towns():
            short = town_short(town)
            for word in {town, short, short + "镇", short + "街道"}:
                put(_Name(_TOWN_K, word, town=town))
        for word in _OUTSIDE_DISTRICTS:
            put(_Name(_OUT_K, word))
        for bare, suffixes in ((_OUTSIDE_FOSHAN, ("区",)), (_OUTSIDE_FOSHAN_TOWNS, ("镇", "街道")), (_OUTSIDE_CITIES, ("市",))):
            for word in bare:
                put(_Name(_OUT_BARE_K, word))
                for suffix in suffixes:
                    put(_Name(_OUT_K, word + suffix))
        for word in _NOT_HERE:
            put(_Name(_BLOCK_K, word))
        towns_short = {town_short(t) for t in units.towns()}
        for station in units.of_kind("station"):
            where = ((station.id, station.town),)
            for place in station.covers:
                for word in place.names():
                    put(_Name(_PLACE_K, word, where))
                if place.kind in ("community", "village"):
                    core = _core(place.alias or place.name)
                    for word in _variants(core, place.kind):
                        put(_Name(_PLACE_K, word, where))
                    if core not in towns_short and core != (place.alias or place.name):
                        put(_Name(_PLACE_K, core, where, bare=True, common=core in _COMMON_WORDS))
        for place in self.extra.places:
            where = ((place.station, self._station_town.get(place.station)),)
            for word in place.names():
                put(_Name(_PLACE_K, normalize(word), where))

        auto = ahocorasick.Automaton()
        for word, name in names.items():
            auto.add_word(word, name)
        auto.make_automaton()
        self._auto = auto
        self._empty = len(auto) == 0

    def scan(self, text: str) -> _Scan:
        """Towns and places named in `text` (already normalised), leftmost-longest, non-overlapping."""
        towns: list[str] = []
        places: list[_Hit] = []
        outside, shunde_seen, shunde_first = None, False, False
        prefix_end = 0           # where the province / city / outside prefix of the address ends
        last_end = -1
        spans: list[tuple[int, int]] = []
        if not text or self._empty:
            return _Scan((), (), None, False)
        for end, name in self._auto.iter_long(text):
            hit = _Hit(name, end + 1 - len(name.word), end + 1)
            what = name.what
            alone = what != _PLACE_K or self._stands_alone(text, hit, last_end)
            if alone:
                spans.append((hit.start, hit.end))
            if what == _ABOVE_K:
                if hit.start == prefix_end:
                    prefix_end = hit.end
            elif what in (_OUT_K, _OUT_BARE_K):
                at_front = hit.start == prefix_end
                if at_front:
                    prefix_end = hit.end
                if not shunde_seen and outside is None and (what == _OUT_K or at_front):
                    outside = name.word
            elif what == _SHUNDE_K:
                shunde_seen = True
                shunde_first = shunde_first or outside is None
            elif what == _TOWN_K:
                if name.town not in towns:
                    towns.append(name.town)
                shunde_seen = True
                shunde_first = shunde_first or outside is None
            elif what == _PLACE_K:
                if alone:
                    places.append(hit)
                    shunde_seen = True
                    shunde_first = shunde_first or outside is None
            last_end = hit.end
        return _Scan(tuple(towns), tuple(places), outside, shunde_first, tuple(spans))

    def unread(self, address: str | None) -> list[str]:
        """The runs of Chinese characters of `address` that no name of this gazetteer reads: 大良迎宾路88号 → [迎宾路]."""
        text = normalize(address)
        found = self.scan(text)
        marked = list(text)
        for start, end in found.spans:
            marked[start:end] = "|" * (end - start)
        return [run for run in re.split(r"[^\u4e00-\u9fff]+", "".join(marked)) if run]

    @staticmethod
    def _stands_alone(text: str, hit: _Hit, last_end: int) -> bool:
        """False when a short or bare name is only a part of a longer one (荷村 in 薄荷村, 升平 in 升平路)."""
        if not hit.name.bare and len(hit.name.word) >= 3:
            return True
        if hit.start > 0 and hit.start != last_end:
            before = text[hit.start - 1]
            if _CJK.match(before) and before not in _BEFORE:
                return False
        if hit.name.bare and hit.end < len(text):
            after = text[hit.end]
            if _CJK.match(after) and after not in _AFTER:
                return False
        return True

    def resolve(self, event_address: str | None = None, business_address: str | None = None,
                area_code: str | None = None, walk_in_station: str | None = None,
                text: str | None = None) -> Place:
        """The ticket's place: walk-in station, then area code, then the addresses, then (weakly) the ticket text."""
        if walk_in_station:
            town = self._station_town.get(walk_in_station)
            if town is not None:
                return Place(town, walk_in_station, "walk_in", 1.0)

        town = None
        town_method, town_sure, town_found = "", 0.0, ""
        code = (area_code or "").strip()
        if len(code) == 12:
            station = self.units.station_by_code.get(code)
            if station is not None:
                return Place(self._station_town[station], station, "area_code_12", 1.0, found=code)
            code = code[:9]            # a town-level code padded with zeros, or a community we do not know
        if len(code) == 9:
            town = self.units.town_by_code.get(code)
            town_method = "area_code_9" if town else ""
            town_found = code if town else ""

        undecided: Place | None = None      # a name more than one station has, or a place outside Shunde
        for source, method in ((event_address, "address"), (business_address, "business"), (text, "text")):
            if not source:
                continue
            normal = normalize(source)
            found = self.scan(normal)
            if found.outside and not found.shunde_first and town is None:
                if method == "address":
                    return _outside(found.outside, method)
                if method == "business" and undecided is None and not found.places and not found.towns:
                    undecided = _outside(found.outside, method)
                continue
            picked = self._pick(found, town)
            if isinstance(picked, Place):
                undecided = undecided or picked
            elif picked is not None:
                hit, station_id, station_town = picked
                town_given = (bool(town) or station_town in found.towns
                              or hit.name.word.startswith(town_short(station_town)))
                return Place(station_town, station_id, _PLACE_METHOD[method] + ("_bare" if hit.name.bare else ""),
                             _confidence(method, hit, town_given), found=hit.name.word)
            if town is None and found.towns:
                town = found.towns[0]
                # one town named: fairly sure; several, or a place of another town beside it: less so
                sure = 0.8 if len(found.towns) == 1 and not found.places else 0.5
                town_method, town_sure, town_found = f"{method}_town", sure * _SOURCE_WEIGHT[method], town_short(town)
        if undecided is not None and (town is None or undecided.town == town):
            return undecided
        if town is not None:
            if town_method == "area_code_9":
                return Place(town, None, "area_code_9", 0.9, found=town_found)
            return Place(town, None, _TOWN_METHOD[town_method], round(town_sure, 2), found=town_found)
        return NOWHERE

    def _pick(self, found: _Scan, town: str | None):
        """(hit, station, town) for the place that decides; a Place saying which stations it could be when the
        best name is shared by several towns' stations and no town tells them apart; None when nothing is named."""
        allowed = {town} if town else set(found.towns)
        best, best_rank, best_stations = None, None, ()
        shared = None        # an everyday word two towns have as a place: not a guess, but worth saying
        for hit in found.places:
            stations = tuple(st for st in hit.name.stations if not allowed or st[1] in allowed)
            if not stations:
                continue
            if hit.name.common and not allowed:
                if shared is None and len({t for _, t in stations}) > 1:
                    shared = (hit, stations)
                continue
            rank = (not hit.name.bare, hit.end - hit.start)
            if best_rank is None or rank > best_rank:
                best, best_rank, best_stations = hit, rank, stations
        if best is None:
            if shared is None:
                return None
            best, best_stations = shared
        if len({s for s, _ in best_stations}) > 1:
            towns = {t for _, t in best_stations}
            return Place(towns.pop() if len(towns) == 1 else None, None, "ambiguous", 0.3, found=best.name.word,
                         candidates=tuple(s for s, _ in best_stations),
                         note=f"{best.name.word} 有多处：" + "、".join(sorted(towns | ({town} if town else set()))))
        station_id, station_town = best_stations[0]
        return best, station_id, station_town


def _variants(core: str, kind: str) -> list[str]:
    """The ways an address writes a community or village with a suffix: 近良社区, 近良居委, 荔村村委 ..."""
    if kind == "community":
        return [core + "社区", core + "居委会", core + "居委", core + "社区居委会"]
    base = core if core.endswith("村") else core + "村"
    return [base, base + "委会", base + "委"]


def _outside(word: str, method: str) -> Place:
    return Place(None, None, "outside", 0.0, found=word, note=f"地址不在顺德区：{word}")


_PLACE_METHOD = {"address": "address_place", "business": "business_address", "text": "text_place"}
_TOWN_METHOD = {"address_town": "address_town", "business_town": "business_town", "text_town": "text_town"}
_SOURCE_WEIGHT = {"address": 1.0, "business": 0.9, "text": 0.7}


def _confidence(method: str, hit: _Hit, town_given: bool) -> float:
    if hit.name.bare:
        base = 0.8 if town_given else 0.65
    elif len(hit.name.word) <= 2:
        base = 0.9 if town_given else 0.75
    else:
        base = 0.95 if town_given else 0.85
    return round(base * _SOURCE_WEIGHT[method], 2)
