"""Geography: which town and which station a ticket's place is, and how that was found."""
from __future__ import annotations

from pathlib import Path

import pytest

from dispatch import Gazetteer, Place, UnitDirectory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer(UnitDirectory.from_file(ROOT / "units.yaml"))


@pytest.mark.parametrize("address, town, station, method", [
    ("佛山市顺德区大良街道新桂市场3号档", "大良街道", "st-daliang-07", "address_place"),
    ("容桂天佑城三楼", "容桂街道", "st-ronggui-16", "address_place"),
    ("顺德区北滘镇美的广场", "北滘镇", "st-beijiao-01", "address_place"),
    ("北滘社区居委会", "北滘镇", "st-beijiao-01", "address_place"),      # not just the town 北滘
    ("伦教荔村", "伦教街道", "st-lunjiao-06", "address_place"),           # 荔村村委会 is written 荔村
    ("杏坛镇南华村", "杏坛镇", "st-xingtan-19", "address_place"),
    ("大良街道南华社区", "大良街道", "st-daliang-08", "address_place"),    # same name, other town
    ("勒流街道东风村", "勒流街道", "st-leliu-07", "address_place"),
    ("容桂东风社区", "容桂街道", "st-ronggui-06", "address_place"),
    ("顺德区乐从镇", "乐从镇", None, "address_town"),
    ("乐从", "乐从镇", None, "address_town"),
    ("大良街道南华村", "大良街道", None, "address_town"),                 # 南华村 is in 杏坛: town wins
    ("黑龙江路12号", None, None, "none"),
    ("广州市天河区", None, None, "none"),
])
def test_event_address(gazetteer, address, town, station, method):
    place = gazetteer.resolve(address)
    assert (place.town, place.station, place.method) == (town, station, method)


def test_the_longest_place_wins(gazetteer):
    # 大良新桂市场 (st-daliang-07) is longer than 云路社区 (st-daliang-10)
    assert gazetteer.resolve("云路社区对面的大良新桂市场").station == "st-daliang-07"


def test_area_codes(gazetteer):
    assert gazetteer.resolve(area_code="440606003001") == Place("伦教街道", "st-lunjiao-01", "area_code_12", 1.0)
    assert gazetteer.resolve(area_code="440606104") == Place("龙江镇", None, "area_code_9", 0.9)
    assert gazetteer.resolve(area_code="440606104000") == Place("龙江镇", None, "area_code_9", 0.9)
    assert gazetteer.resolve(area_code="440606").method == "none"


def test_a_nine_digit_code_is_refined_by_the_address_in_that_town(gazetteer):
    place = gazetteer.resolve("世埠市场对面", area_code="440606104")
    assert (place.town, place.station, place.method) == ("龙江镇", "st-longjiang-06", "address_place")
    # an address of another town does not override the code
    place = gazetteer.resolve("容桂天佑城", area_code="440606104")
    assert (place.town, place.station) == ("龙江镇", None)


def test_walk_in_station_comes_first(gazetteer):
    place = gazetteer.resolve("容桂天佑城", area_code="440606003001", walk_in_station="st-junan-04")
    assert place == Place("均安镇", "st-junan-04", "walk_in", 1.0)


def test_business_address_then_text(gazetteer):
    place = gazetteer.resolve("顺德区", "北滘镇君兰商业街12号")
    assert (place.station, place.method) == ("st-beijiao-09", "business_address")
    place = gazetteer.resolve(None, None, text="我在马齐市场买的热水器漏水")
    assert (place.station, place.method) == ("st-xingtan-06", "text_place")
    assert place.confidence < gazetteer.resolve("马齐市场").confidence
