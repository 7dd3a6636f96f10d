"""The one vocabulary: every kind, priority and status has its Chinese label, both ways, and China's time."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tickets import CHINA_TZ, KINDS, PRIORITIES, STATUSES, kind_label, priority_label, status_label
from tickets.states import TRANSITIONS
from tickets.vocabulary import KIND_OF_LABEL, PRIORITY_OF_LABEL, STATUS_OF_LABEL, is_urgent, most_urgent


def test_labels_go_both_ways_as_the_pages_use_them():
    assert [kind_label(k) for k in KINDS] == ["投诉", "举报", "咨询", "求助", "建议"]
    assert [priority_label(p) for p in PRIORITIES] == ["一般", "紧急", "特急"]
    assert {s: status_label(s) for s in ("triage", "new", "dispatched", "accepted", "in_progress", "resolved",
                                         "closed", "returned", "rejected", "withdrawn", "duplicate")} == {
        "triage": "待分派", "new": "新工单", "dispatched": "已派发", "accepted": "已受理", "in_progress": "处理中",
        "resolved": "已办结", "closed": "已关闭", "returned": "已退回", "rejected": "不予受理", "withdrawn": "已撤销",
        "duplicate": "重复件"}
    assert PRIORITY_OF_LABEL["特急"] == "very_urgent" and KIND_OF_LABEL["求助"] == "help"
    assert all(STATUS_OF_LABEL[status_label(s)] == s for s in STATUSES)
    assert kind_label("other") == "other" and priority_label(None) == ""


def test_the_state_machine_moves_between_the_vocabulary_statuses():
    assert set(TRANSITIONS) == set(STATUSES)


def test_urgency_orders_the_priorities():
    assert [is_urgent(p) for p in PRIORITIES] == [False, True, True]
    assert most_urgent("very_urgent", "urgent") == "very_urgent"
    assert most_urgent("normal", "urgent") == "urgent"
    assert most_urgent(None, "normal") == "normal"


def test_china_time_is_utc_plus_eight_all_year():
    for month in (1, 7):
        moment = datetime(2026, month, 1, 4, tzinfo=timezone.utc).astimezone(CHINA_TZ)
        assert (moment.hour, moment.utcoffset()) == (12, timedelta(hours=8))
