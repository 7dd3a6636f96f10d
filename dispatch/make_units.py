"""Generate the default units.yaml from the official Shunde divisions table (re-run after changing either).

Usage: python -m dispatch.make_units [OUTPUT]   (default: units.yaml in the current directory)
The communities and codes are real; markets, malls, people and phone numbers are invented.
"""
from __future__ import annotations

import csv
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

DIVISIONS = Path(__file__).parent / "data" / "shunde-divisions.csv"

BUREAU = ("sd-amr", "佛山市顺德区市场监督管理局")
DEPARTMENTS = [
    ("sd-amr-consumer", "消费者权益保护科"),
    ("sd-amr-food", "食品经营监管科"),
    ("sd-amr-price", "价格监督检查科"),
    ("sd-amr-ad", "广告监督管理科"),
    ("sd-amr-quality", "产品质量监督科"),
    ("sd-amr-equipment", "特种设备安全监察科"),
    ("sd-amr-command", "投诉举报指挥中心"),
]

# town code → (id stem, stations): stations are spread roughly by the number of communities and population.
TOWNS = {
    "440606005": ("daliang", 16),
    "440606006": ("ronggui", 19),
    "440606003": ("lunjiao", 7),
    "440606004": ("leliu", 15),
    "440606101": ("chencun", 10),
    "440606102": ("beijiao", 14),
    "440606103": ("lecong", 18),
    "440606104": ("longjiang", 16),
    "440606105": ("xingtan", 19),
    "440606106": ("junan", 9),
}

# Markets and malls (invented but plausible), each attached to the station of the community it stands in:
# community short name → (official-looking name, what people write, kind).
MARKETS = {
    "常教社区": ("伦教常教市场", "常教市场", "market"),
    "三洲社区": ("伦教三洲市场", "三洲市场", "market"),
    "霞石村": ("伦教木工机械市场", "木工机械市场", "market"),
    "熹涌村": ("伦教汇贤广场", "汇贤广场", "mall"),
    "勒流社区": ("勒流中心市场", None, "market"),
    "黄连社区": ("勒流黄连市场", "黄连市场", "market"),
    "新城社区": ("勒流新城广场", None, "mall"),
    "大晚社区": ("勒流大晚商业街", "大晚商业街", "market"),
    "新桂社区": ("大良新桂市场", "新桂市场", "market"),
    "金榜社区": ("大良金榜市场", "金榜市场", "market"),
    "升平社区": ("大良华盖路步行街", "华盖路步行街", "market"),
    "云路社区": ("大良云路市场", "云路市场", "market"),
    "北区社区": ("大良天虹广场", "天虹广场", "mall"),
    "德和社区": ("大良德和市场", "德和市场", "market"),
    "红岗社区": ("大良红岗市场", "红岗市场", "market"),
    "近良社区": ("大良近良市场", "近良市场", "market"),
    "新松社区": ("大良万汇广场", "万汇广场", "mall"),
    "五沙社区": ("大良五沙汽车城", "五沙汽车城", "market"),
    "容里社区": ("容桂天佑城", "天佑城", "mall"),
    "桂洲社区": ("容桂桂洲市场", "桂洲市场", "market"),
    "容新社区": ("容桂容新市场", "容新市场", "market"),
    "上佳市社区": ("容桂上佳市市场", "上佳市市场", "market"),
    "振华社区": ("容桂振华商业街", "振华商业街", "market"),
    "华口社区": ("容桂华口市场", "华口市场", "market"),
    "细滘社区": ("容桂家电城", None, "market"),
    "红旗社区": ("容桂红旗购物广场", "红旗购物广场", "mall"),
    "海尾社区": ("容桂海尾市场", "海尾市场", "market"),
    "旧圩社区": ("陈村旧圩市场", "旧圩市场", "market"),
    "花城社区": ("陈村花卉世界", "花卉世界", "market"),
    "赤花社区": ("陈村赤花市场", "赤花市场", "market"),
    "锦龙社区": ("陈村锦龙广场", "锦龙广场", "mall"),
    "北滘社区": ("北滘美的广场", "美的广场", "mall"),
    "碧江社区": ("北滘碧江市场", "碧江市场", "market"),
    "林头社区": ("北滘林头市场", "林头市场", "market"),
    "设计城社区": ("北滘广东工业设计城", "工业设计城", "other"),
    "君兰社区": ("北滘君兰商业街", "君兰商业街", "market"),
    "槎涌社区": ("北滘槎涌市场", "槎涌市场", "market"),
    "乐从社区": ("乐从国际家具城", "国际家具城", "market"),
    "沙滘社区": ("乐从沙滘市场", "沙滘市场", "market"),
    "琴湖社区": ("乐从钢铁世界", "钢铁世界", "market"),
    "东平社区": ("乐从东平新城购物中心", "东平新城购物中心", "mall"),
    "腾冲社区": ("乐从腾冲市场", "腾冲市场", "market"),
    "水藤村": ("乐从水藤市场", "水藤市场", "market"),
    "龙江社区": ("龙江中心市场", None, "market"),
    "龙山社区": ("龙江龙山市场", "龙山市场", "market"),
    "世埠社区": ("龙江世埠市场", "世埠市场", "market"),
    "东涌社区": ("龙江家具材料城", "家具材料城", "market"),
    "文华社区": ("龙江文华广场", "文华广场", "mall"),
    "杏坛社区": ("杏坛中心市场", None, "market"),
    "逢简村": ("杏坛逢简水乡", "逢简水乡", "other"),
    "马齐社区": ("杏坛马齐市场", "马齐市场", "market"),
    "齐杏社区": ("杏坛齐杏市场", "齐杏市场", "market"),
    "均安社区": ("均安中心市场", None, "market"),
    "仓门社区": ("均安仓门市场", "仓门市场", "market"),
    "沙头社区": ("均安牛仔城", None, "market"),
    "天湖社区": ("均安天湖广场", "天湖广场", "mall"),
}

SURNAMES = "陈李黄梁何张吴罗麦冯郭谢周苏邓区卢潘杨林欧胡曾钟"
GIVEN = ("志明 嘉欣 伟强 丽华 国良 慧敏 建华 翠红 少波 文静 永健 美玲 锦辉 淑贞 振东 佩仪 家豪 晓琳 "
         "耀光 秀英 子健 婉婷 汉林 雪梅 卓文 咏诗 浩然 桂芳 启明 碧霞 思远 颖").split()


@dataclass
class Station:
    id: str
    name: str
    parent: str
    town: str
    covers: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)


def short_alias(name: str) -> str:
    """常教社区居委会 → 常教社区, 永丰村委会 → 永丰村, 荔村村委会 → 荔村."""
    if name.endswith("居委会"):
        return name[: -len("居委会")]
    if name.endswith("村委会"):
        base = name[: -len("村委会")]
        return base if base.endswith("村") else base + "村"
    return name


def town_short(town: str) -> str:
    return town[:-2] if town.endswith("街道") else town[:-1] if town.endswith("镇") else town


class People:
    """Invented, repeatable names and phone numbers (one 0757 block, so obviously not real)."""

    def __init__(self, seed: int = 4406):
        self.rng = random.Random(seed)
        self.used: set[str] = set()
        self.serial = 0

    def contact(self, role: str, hours: str, prefix: str = "137") -> dict:
        while True:
            name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
            if name not in self.used:
                break
            if len(self.used) > 600:  # a few repeats are realistic once the pool runs low
                break
        self.used.add(name)
        self.serial += 1
        return {"name": name, "phone": f"{prefix}0757{self.serial:04d}", "role": role, "hours": hours}


def read_divisions(path: Path = DIVISIONS) -> tuple[dict[str, str], dict[str, list[dict]]]:
    towns: dict[str, str] = {}
    places: dict[str, list[dict]] = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["level"] in ("street", "town"):
                towns[row["code"]] = row["name"]
            elif row["level"] in ("community", "village"):
                places.setdefault(row["parent_code"], []).append(row)
    return towns, places


def group_sizes(n: int, k: int) -> list[int]:
    """Split n communities over k stations: singles first (town centre), bigger rural stations last."""
    extra = n - k
    if extra < 0 or extra > 2 * k:
        raise ValueError(f"cannot spread {n} communities over {k} stations with 1-3 each")
    triples = min(extra // 4, k)
    doubles = extra - 2 * triples
    return [1] * (k - triples - doubles) + [2] * doubles + [3] * triples


def build() -> tuple[list[dict], list[dict], list[Station]]:
    towns, places = read_divisions()
    people = People()
    departments = []
    for uid, name in DEPARTMENTS:
        hours = "00:00-24:00" if uid == "sd-amr-command" else "08:30-12:00,14:30-17:30"
        head_role = "主任" if uid == "sd-amr-command" else "科长"
        contacts = [people.contact(head_role, hours, "138")]
        if uid in ("sd-amr-command", "sd-amr-consumer", "sd-amr-food"):
            contacts.append(people.contact("值班员" if uid == "sd-amr-command" else "联络员", hours, "138"))
        departments.append({"id": uid, "name": name, "contacts": contacts})

    branches, stations = [], []
    for code, (stem, k) in TOWNS.items():
        town = towns[code]
        short = town_short(town)
        branch_id = f"br-{stem}"
        contacts = [people.contact("负责人", "08:30-17:30", "138")]
        for _ in range(people.rng.choice([1, 1, 2])):
            contacts.append(people.contact("投诉举报联络员", "08:30-17:30", "138"))
        branches.append({"id": branch_id, "name": f"{short}市场监督管理所", "town": town, "area_code": code,
                         "contacts": contacts})
        rows = places[code]
        start = 0
        for number, size in enumerate(group_sizes(len(rows), k), start=1):
            group = rows[start:start + size]
            start += size
            covers = [{"name": r["name"], "alias": short_alias(r["name"]), "code": r["code"], "kind": r["level"]}
                      for r in group]
            markets = [MARKETS[c["alias"]] for c in covers if c["alias"] in MARKETS]
            for mname, malias, mkind in markets:
                covers.append({"name": mname, "alias": malias, "kind": mkind})
            mall = next((m for m in markets if m[2] == "mall"), None)
            base = covers[0]["alias"].removesuffix("社区")
            if mall:
                name = f"{mall[0]}消费维权服务站"
            elif base == short:         # 勒流社区: not 勒流勒流...
                name = f"{covers[0]['alias']}消费维权服务站"
            else:
                name = f"{short}{base}消费维权服务站"
            hours = "10:00-22:00" if mall else "09:00-18:00"
            count = people.rng.choices([1, 2, 3], weights=[3, 5, 2])[0]
            contacts = [people.contact("站长", "09:00-18:00")]
            contacts += [people.contact("联络员", hours) for _ in range(count - 1)]
            stations.append(Station(f"st-{stem}-{number:02d}", name, branch_id, town, covers, contacts))
        if start != len(rows):
            raise AssertionError(f"{town}: {len(rows) - start} communities left without a station")
    return departments, branches, stations


def _flow(d: dict) -> str:
    parts = []
    for key, value in d.items():
        if value is None:
            continue
        text = f'"{value}"' if any(ch.isdigit() for ch in str(value)) else str(value)
        parts.append(f"{key}: {text}")
    return "{" + ", ".join(parts) + "}"


def render() -> str:
    departments, branches, stations = build()
    out = [
        "# units.yaml — who handles tickets: the district bureau, its departments, the ten branches",
        "# (one per town/street) and the 143 consumer-rights service stations (消费维权服务站).",
        "#",
        "# Generated by `python -m dispatch.make_units` from dispatch/data/shunde-divisions.csv; the",
        "# communities, villages and their codes are official, the markets, malls, people and phone",
        "# numbers are invented. Edit by hand if you like, but remember a re-run overwrites the file.",
        "#",
        "# Each place (community, village, market, mall) belongs to exactly one station; `alias` is what",
        "# people write in an address. `code` is the 12-digit division code sources may send.",
        "# A station sits under its town's branch; branches and departments under the bureau.",
        "units:",
        f"  - id: {BUREAU[0]}",
        f"    name: {BUREAU[1]}",
        "    kind: bureau",
        '    town: 顺德区',
        '    area_code: "440606"',
        "",
        "  # ── Departments of the district bureau (horizontal dispatch) ──",
    ]
    for dep in departments:
        out += [f"  - id: {dep['id']}", f"    name: {dep['name']}", "    kind: department", f"    parent: {BUREAU[0]}",
                "    contacts:"] + [f"      - {_flow(c)}" for c in dep["contacts"]]
    by_branch: dict[str, list[Station]] = {}
    for st in stations:
        by_branch.setdefault(st.parent, []).append(st)
    for br in branches:
        out += ["", f"  # ── {br['town']}: branch and {len(by_branch[br['id']])} stations ──",
                f"  - id: {br['id']}", f"    name: {br['name']}", "    kind: branch", f"    parent: {BUREAU[0]}",
                f"    town: {br['town']}", f'    area_code: "{br["area_code"]}"', "    contacts:"]
        out += [f"      - {_flow(c)}" for c in br["contacts"]]
        for st in by_branch[br["id"]]:
            out += [f"  - id: {st.id}", f"    name: {st.name}", "    kind: station", f"    parent: {st.parent}",
                    f"    town: {st.town}", "    covers:"]
            out += [f"      - {_flow(c)}" for c in st.covers]
            out += ["    contacts:"] + [f"      - {_flow(c)}" for c in st.contacts]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    target = Path(argv[0]) if argv else Path("units.yaml")
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
