"""The labelled addresses (data/addresses.yaml): every one reaches its station, its town's branch, or triage."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dispatch import Dispatcher, TicketFacts

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = yaml.safe_load((Path(__file__).parent / "data" / "addresses.yaml").read_text(encoding="utf-8"))
FACTS = ("text", "address", "business_address", "area_code")


@pytest.fixture(scope="module")
def dispatcher() -> Dispatcher:
    return Dispatcher.from_files(ROOT / "units.yaml", ROOT / "rules.yaml")    # with gazetteer.yaml beside them


def facts(entry: dict) -> TicketFacts:
    return TicketFacts(channel="12345-shunde", channel_kind="12345", kind="complaint", text=entry.get("text"),
                       event_address=entry.get("address"), business_address=entry.get("business_address"),
                       area_code=entry.get("area_code"))


def test_the_set_is_big_and_has_every_kind_of_answer():
    expects = [e["expect"] for e in ENTRIES]
    assert len(ENTRIES) >= 300
    assert sum(x.startswith("st-") for x in expects) >= 200
    assert sum(x == "triage" for x in expects) >= 30
    assert sum(x.endswith(("街道", "镇")) for x in expects) >= 20


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: " ".join(str(e.get(k)) for k in FACTS if e.get(k))[:60])
def test_the_address_reaches_its_place(dispatcher, entry):
    decision = dispatcher.decide(facts(entry))
    expect, why = entry["expect"], entry["why"]
    seen = (decision.unit_id, decision.place_method, decision.place_found, decision.reason)
    if expect == "triage":
        assert decision.triage and decision.unit_id is None, (why, seen)
    elif expect.startswith("st-"):
        assert decision.unit_id == expect and decision.station == expect, (why, seen)
    else:
        assert decision.unit_id == dispatcher.units.branch_for_town(expect), (why, seen)
        assert (decision.town, decision.station) == (expect, None), (why, seen)
