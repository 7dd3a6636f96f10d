"""units.yaml: the default directory is complete, and every kind of mistake is reported with its line."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from dispatch import UnitDirectory
from dispatch.make_units import DIVISIONS, render
from settings import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def units() -> UnitDirectory:
    return UnitDirectory.from_file(ROOT / "units.yaml")


def test_default_directory_has_the_district_organisation(units):
    assert units.get("sd-amr").kind == "bureau"
    departments = {u.name for u in units.of_kind("department")}
    assert {"消费者权益保护科", "食品经营监管科", "价格监督检查科", "广告监督管理科", "产品质量监督科",
            "特种设备安全监察科", "投诉举报指挥中心"} <= departments
    assert all(1 <= len(u.contacts) <= 2 for u in units.of_kind("department"))
    branches = units.of_kind("branch")
    assert len(branches) == 10
    assert {b.town for b in branches} == {"大良街道", "容桂街道", "伦教街道", "勒流街道", "陈村镇", "北滘镇",
                                          "乐从镇", "龙江镇", "杏坛镇", "均安镇"}
    for branch in branches:
        assert 1 <= len(branch.contacts) <= 3
        assert any(c.role == "负责人" for c in branch.contacts), branch.id
        assert len(branch.area_code) == 9


def test_every_community_is_covered_by_exactly_one_of_143_stations(units):
    stations = units.of_kind("station")
    assert len(stations) == 143
    with DIVISIONS.open(encoding="utf-8") as fh:
        official = {r["code"]: r["name"] for r in csv.DictReader(fh) if r["level"] in ("community", "village")}
    assert len(official) == 206
    covered = [(p.code, p.name, s.id) for s in stations for p in s.covers if p.code]
    assert sorted(code for code, _, _ in covered) == sorted(official)
    assert all(official[code] == name for code, name, _ in covered)
    for station in stations:
        branch = units.parent_of(station.id)
        assert branch.kind == "branch" and branch.town == station.town
        assert all(p.code.startswith(branch.area_code) for p in station.covers if p.code)
        assert 1 <= len([p for p in station.covers if p.code]) <= 3
        assert 1 <= len(station.contacts) <= 3
        assert station.contacts[0].role == "站长"
    markets = [p.name for s in stations for p in s.covers if p.kind in ("market", "mall")]
    assert {"大良新桂市场", "容桂天佑城", "北滘美的广场"} <= set(markets)
    assert len(markets) == len(set(markets))


def test_units_yaml_is_what_the_generator_writes():
    assert (ROOT / "units.yaml").read_text(encoding="utf-8") == render()


def test_head_contacts_and_parent(units):
    heads = units.head_contacts("br-daliang")
    assert [c.role for c in heads] == ["负责人"]
    assert units.parent_of("br-daliang").id == "sd-amr"
    assert units.parent_of("sd-amr") is None
    assert units.head_contacts("no-such-unit") == []


# A small directory with one mistake of each kind; the test checks each is reported at its line.
BROKEN = """\
units:
  - id: bureau
    name: 顺德区市场监督管理局
    kind: bureau
  - id: br-a
    name: 大良市场监督管理所
    kind: branch
    parent: bureau
    town: 大良街道
    area_code: "440606005"
    contacts:
      - {name: 何志明, phone: "13700000001", role: 负责人}
  - id: br-a
    name: 又一个大良所
    kind: branch
    parent: bureau
    town: 大良街道
  - id: st-1
    name: 升平服务站
    kind: station
    parent: br-missing
    town: 大良街道
    contacts:
      - {name: 李丽华, phone: "13700000002", role: 站长}
  - id: st-2
    name: 文秀服务站
    kind: station
    parent: br-a
    town: 大良街道
    covers:
      - {name: 升平社区居委会, alias: 升平社区, code: "440606005001"}
  - id: st-3
    name: 金榜服务站
    kind: station
    parent: br-a
    town: 大良街道
    covers:
      - {name: 大良金榜市场}
      - {name: 升平社区居委会, alias: 升平社区}
    contacts:
      - {name: 梁国良, phone: "1370000", role: 站长}
  - id: loop-a
    name: 循环甲
    kind: department
    parent: loop-b
  - id: loop-b
    name: 循环乙
    kind: department
    parent: loop-a
"""


def _line(text: str, marker: str, nth: int = 1) -> int:
    """1-based line of the nth line containing `marker`."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if marker in line]
    return hits[nth - 1]


def _problems(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(ConfigError) as caught:
        UnitDirectory.from_text(text, file="units.yaml")
    assert all(p.file == "units.yaml" for p in caught.value.problems)
    return [(p.line, p.field, p.message) for p in caught.value.problems]


def test_bad_phone_is_reported_at_its_line():
    problems = _problems(BROKEN)
    assert len(problems) == 1
    line, field, message = problems[0]
    assert (line, field) == (_line(BROKEN, '"1370000"'), "units[5].contacts[0].phone")
    assert "11-digit mobile" in message and "'1370000'" in message


def test_structural_mistakes_are_all_reported_with_lines():
    text = BROKEN.replace('phone: "1370000"', 'phone: "13700000003"')
    problems = _problems(text)
    by_line = {line: message for line, _, message in problems}
    assert "duplicate unit id 'br-a'" in by_line[_line(text, "id: br-a", 2)]
    assert "unknown parent 'br-missing'" in by_line[_line(text, "parent: br-missing")]
    assert "needs at least one contact" in by_line[_line(text, "id: st-2")]
    assert "'升平社区居委会' is already covered by 'st-2'" in by_line[_line(text, "升平社区居委会", 2)]
    assert "cycle: loop-a → loop-b → loop-a" in by_line[_line(text, "parent: loop-b")]
    assert len(problems) == 5, problems
