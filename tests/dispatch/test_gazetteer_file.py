"""gazetteer.yaml: roads, buildings, estates, markets and malls beside units.yaml, validated like the other files
and reloaded with them by a running worker."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dispatch import Dispatcher, TicketFacts, UnitDirectory
from dispatch.gazetteer_file import parse_gazetteer
from dispatch.reload import RulesReloader
from dispatch.rules_check import check_text
from settings import ConfigError

ROOT = Path(__file__).resolve().parents[2]
ON_THE_ROAD = TicketFacts(channel="12345-shunde", kind="complaint", text="买的电饭煲坏了不给修", event_address="大良迎宾路88号")


def test_the_default_gazetteer_routes_its_places():
    dispatcher = Dispatcher.from_files(ROOT / "units.yaml", ROOT / "rules.yaml")
    facts = TicketFacts(channel="12345-shunde", kind="complaint", text="沙发开裂", event_address="乐从东平新城8座")
    decision = dispatcher.decide(facts)
    assert (decision.unit_id, decision.place_found) == ("st-lecong-06", "东平新城")


def test_an_invalid_gazetteer_names_file_line_and_field():
    units = UnitDirectory.from_file(ROOT / "units.yaml")
    text = ("min_confidence: 0.5\n"
            "places:\n"
            "  - name: 迎宾路\n"
            "    station: st-daliang-99\n"
            "  - name: 天佑城\n"
            "    station: st-daliang-01\n"
            "  - name: 迎宾路\n"
            "    station: st-daliang-02\n"
            "    colour: red\n")
    with pytest.raises(ConfigError) as refused:
        parse_gazetteer(text, units, "gazetteer.yaml")
    said = str(refused.value)
    assert "gazetteer.yaml:4: places[0].station: " in said and "unknown station 'st-daliang-99'" in said
    assert "gazetteer.yaml:5: places[1]: " in said and "covered by st-ronggui-16" in said
    assert "gazetteer.yaml:9: places[2].colour: " in said


def test_a_duplicate_name_is_refused_with_its_line():
    units = UnitDirectory.from_file(ROOT / "units.yaml")
    text = "places:\n  - name: 迎宾路\n    station: st-daliang-01\n  - name: 迎宾大道\n    aliases: [迎宾路]\n    station: st-daliang-02\n"
    with pytest.raises(ConfigError) as refused:
        parse_gazetteer(text, units, "gazetteer.yaml")
    assert "gazetteer.yaml:4: places[1].name: '迎宾路' is already listed at places[0]" in str(refused.value)


def test_a_running_worker_reloads_the_gazetteer_and_refuses_an_invalid_one(tmp_path):
    shutil.copy(ROOT / "units.yaml", tmp_path / "units.yaml")
    shutil.copy(ROOT / "rules.yaml", tmp_path / "rules.yaml")
    reloader = RulesReloader(tmp_path / "units.yaml", tmp_path / "rules.yaml")
    # given no gazetteer: the road is unknown, the town's branch takes the ticket
    assert reloader.dispatcher.decide(ON_THE_ROAD).unit_id == "br-daliang"

    # when the road is added beside units.yaml, the next check routes it to its station
    places = tmp_path / "gazetteer.yaml"
    places.write_text("places:\n  - name: 迎宾路\n    kind: road\n    station: st-daliang-09\n", encoding="utf-8")
    fresh = reloader.reload_if_changed()
    assert fresh is not None and fresh.decide(ON_THE_ROAD).unit_id == "st-daliang-09"

    # when an edit names a station that does not exist, it is refused and the road keeps its station
    places.write_text("places:\n  - name: 迎宾路\n    kind: road\n    station: st-daliang-90\n", encoding="utf-8")
    assert reloader.reload_if_changed() is None
    assert reloader.dispatcher is fresh
    assert f"{places}:4: places[0].station" in reloader.last_error


def test_a_rules_file_checked_or_replayed_places_tickets_with_the_gazetteer_beside_units(tmp_path):
    shutil.copy(ROOT / "units.yaml", tmp_path / "units.yaml")
    (tmp_path / "gazetteer.yaml").write_text("places:\n  - name: 迎宾路\n    station: st-daliang-09\n", encoding="utf-8")
    report = check_text((ROOT / "rules.yaml").read_text(encoding="utf-8"), tmp_path / "units.yaml")
    assert report.ok and report.dispatcher.decide(ON_THE_ROAD).unit_id == "st-daliang-09"

    (tmp_path / "gazetteer.yaml").write_text("places:\n  - name: 迎宾路\n    station: st-nowhere\n", encoding="utf-8")
    report = check_text((ROOT / "rules.yaml").read_text(encoding="utf-8"), tmp_path / "units.yaml")
    assert not report.ok and "places[0].station" in str(report.errors[0])
