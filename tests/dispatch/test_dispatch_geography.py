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
    ("广州市天河区", None, None, "outside"),
])
def test_event_address(gazetteer, address, town, station, method):
    place = gazetteer.resolve(address)
    assert (place.town, place.station, place.method) == (town, station, method)


def test_the_longest_place_wins(gazetteer):
    # 大良新桂市场 (st-daliang-07) is longer than 云路社区 (st-daliang-10)
    assert gazetteer.resolve("云路社区对面的大良新桂市场").station == "st-daliang-07"


def test_area_codes(gazetteer):
    assert gazetteer.resolve(area_code="440606003001") == Place("伦教街道", "st-lunjiao-01", "area_code_12", 1.0, found="440606003001")
    assert gazetteer.resolve(area_code="440606104") == Place("龙江镇", None, "area_code_9", 0.9, found="440606104")
    assert gazetteer.resolve(area_code="440606104000") == Place("龙江镇", None, "area_code_9", 0.9, found="440606104")
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


@pytest.mark.parametrize("address, station", [
    ("順德區大良近良社區１２號", "st-daliang-14"),          # traditional characters, full-width digits
    ("大良　近良　社区 12 号", "st-daliang-14"),              # spaces of both widths
    ("佛山 顺德 容桂 小黄圃社区", "st-ronggui-16"),
    ("大良近良居委", "st-daliang-14"),                       # 居委 for 社区居委会
    ("大良镇近良社区", "st-daliang-14"),                     # the old name of the street
    ("近良社区3座", "st-daliang-14"),                        # no town, but the suffix
    ("北滘 广教 12号", "st-beijiao-04"),                     # no suffix, town short
    ("龙江仙塘", "st-longjiang-12"),
    ("容桂东风3号", "st-ronggui-06"),                        # a name two towns share, the town tells
    ("勒流东风", "st-leliu-07"),
    ("在荔村买的", "st-lunjiao-06"),
])
def test_addresses_as_people_write_them(gazetteer, address, station):
    assert gazetteer.resolve(address).station == station


def test_a_name_two_towns_share_is_not_guessed(gazetteer):
    place = gazetteer.resolve("东风 3号")
    assert (place.station, place.method) == (None, "ambiguous")
    assert set(place.candidates) == {"st-ronggui-06", "st-leliu-07"}
    assert "勒流街道" in place.note and "容桂街道" in place.note


@pytest.mark.parametrize("address", ["升平路5号", "薄荷村", "幸福路3号", "黑龙江路12号"])
def test_a_name_inside_a_longer_name_is_not_taken_for_it(gazetteer, address):
    assert gazetteer.resolve(address).station is None


@pytest.mark.parametrize("address, word", [
    ("佛山市南海区桂城街道", "南海区"), ("南海大沥镇", "南海"), ("广东省广州市番禺区", "广州市"),
    ("中山市小榄镇东升路", "中山市"), ("广州天河东风路", "广州"),
])
def test_an_address_outside_shunde_says_so(gazetteer, address, word):
    place = gazetteer.resolve(address, text="在容桂天佑城买的")
    assert (place.station, place.method, place.found) == (None, "outside", word)


def test_a_shunde_address_that_names_a_road_after_a_city_stays_in_shunde(gazetteer):
    assert gazetteer.resolve("顺德区大良南海路").town == "大良街道"
