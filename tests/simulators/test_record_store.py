"""The record store every HTTP stand-in of a source keeps: listing order, ties, change times and the page
that comes out of order."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import requests

from simulators.mall_complaints import MallComplaints
from simulators.record_store import RecordStore

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 23, 9, 0, 0, tzinfo=CST)


def store(**options) -> RecordStore:
    """A store whose source stamps changes from T0 + 100 s on, one second apart."""
    seconds = iter(range(100, 10_000))
    return RecordStore(threading.RLock(), stamp=lambda previous: T0 + timedelta(seconds=next(seconds)),
                       time_field="changedAt", time_text=datetime.isoformat, **options)


def add(records: RecordStore, key: str, at: datetime, **fields) -> None:
    records.add(key, {"number": key, "changedAt": at.isoformat(), **fields}, at)


def test_records_list_by_change_time_then_by_the_tie_break_the_stand_in_gives():
    by_key = store()
    by_number = store(tie_break=lambda stored: stored.record.get("number") or "")
    for records in (by_key, by_number):
        add(records, "b", T0)
        add(records, "~malformed-1", T0, number=None)
        add(records, "a", T0 + timedelta(seconds=5))

    assert [s.key for s in by_key.listing()] == ["b", "~malformed-1", "a"]
    assert [s.key for s in by_number.listing()] == ["~malformed-1", "b", "a"]


def test_since_is_inclusive_and_a_touched_record_moves_to_the_end_with_its_new_time_shown():
    records = store()
    for i in range(4):
        add(records, f"r{i}", T0 + timedelta(seconds=i))

    assert [s.key for s in records.listing(T0 + timedelta(seconds=2))] == ["r2", "r3"]
    records.touch(records.find("r1"))

    assert [s.key for s in records.listing()] == ["r0", "r2", "r3", "r1"]
    assert records.find("r1").record["changedAt"] == (T0 + timedelta(seconds=100)).isoformat()
    assert records.sort_key(records.find("r1")) == (T0 + timedelta(seconds=100), "r1")


def test_copies_cannot_change_the_records():
    records = store()
    add(records, "r0", T0, text="原文")

    records.copies()[0]["text"] = "改过"
    records.copies_by_key()["r0"]["text"] = "改过"

    assert records.find("r0").record["text"] == "原文"
    assert records.find("") is None and records.find("missing") is None
    assert len(records) == 1 and "r0" in records


def test_an_unsorted_page_changes_its_middle_record_once_and_short_pages_wait_for_their_turn():
    records = store()
    for i in range(5):
        add(records, f"r{i}", T0 + timedelta(seconds=10 * i))
    records.unsort_next_page()

    short = records.read_page(records.listing()[:2])
    page = records.read_page(records.listing()[:3])
    again = records.read_page(records.listing()[:3])

    assert [r["number"] for r in short] == ["r0", "r1"]
    assert [r["changedAt"] for r in short] == [(T0 + timedelta(seconds=s)).isoformat() for s in (0, 10)]
    assert [r["number"] for r in page] == ["r0", "r1", "r2"]
    assert page[1]["changedAt"] == (T0 + timedelta(seconds=100)).isoformat()  # later than r2, read after it
    assert [r["number"] for r in again] == ["r0", "r2", "r3"]  # r1 now lists after r2


@pytest.fixture
def mall():
    with MallComplaints("none", seed=3) as sim:
        yield sim


def test_the_mall_lists_from_modified_after_inclusive_and_refuses_a_time_it_cannot_read(mall):
    made = mall.add_complaints(4)
    url = mall.base_url + "/api/v2/complaints"

    since = made[2]["lastModified"]
    listed = requests.get(url, params={"modifiedAfter": since}).json()["data"]["list"]
    refused = requests.get(url, params={"modifiedAfter": "昨天下午"})

    assert [c["complaintNo"] for c in listed] == [c["complaintNo"] for c in made[2:]]
    assert refused.status_code == 400 and refused.json()["errorCode"] == "BAD_MODIFIED_AFTER"


def test_the_malls_complaints_are_copies_in_the_order_they_came_in(mall):
    first, second = mall.add_complaints(2)
    mall.update(first["complaintNo"], content="补充")

    mall.complaints[second["complaintNo"]]["content"] = "改过"

    assert list(mall.complaints) == [first["complaintNo"], second["complaintNo"]]
    assert mall.complaints[second["complaintNo"]]["content"] == second["content"]
    assert mall.complaints[first["complaintNo"]]["lastModified"] > second["lastModified"]
    with pytest.raises(KeyError):
        mall.update("JH-none", content="x")
