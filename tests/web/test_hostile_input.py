"""Careless and hostile input through the real HTTP entry points is a clear 4xx naming what is wrong (or, in a
walk-in register, that row's error), never a 500; and the queue keeps taking tickets afterwards. On SQLite and
PostgreSQL alike."""
from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pytest

from accounts import add_user
from notify.models import SmsInbound

from .entry_points import (OPEN311_CHANNEL, PUSH_CHANNEL, WALK_IN_CHANNEL, complaint, entry_site,  # noqa: F401
                           service_request, signed_in)

STATION = "st-daliang-01"


def still_takes_a_push(site, reference: str = "MP-AFTER-0001") -> None:
    answer = site.push(complaint(reference))
    assert answer.status_code == 201, answer.text
    assert answer.json()["ticket"] in {t.number for t in site.tickets(PUSH_CHANNEL)}


@pytest.mark.parametrize("query", [
    {"end_date": "0001-01-01"},
    {"start_date": "0001-01-01", "end_date": "0001-02-01"},
    {"end_date": "9999-12-31T23:59:59"},
    {"start_date": "9999-12-31", "end_date": "9999-12-31"},
    {"end_date": "0001-01-01T00:00:00+14:00"},
])
def test_an_open311_search_with_a_date_out_of_range_is_a_400_naming_it(entry_site, query):
    answer = entry_site.open311_get(query)
    assert answer.status_code == 400, answer.text
    (error,) = answer.json()
    assert error["code"] == 400 and ("end_date" in error["description"] or "start_date" in error["description"])
    assert "config dates" in error["description"]
    # and a search within the window still answers
    assert entry_site.open311_get({"end_date": "2026-11-22T10:00:00+08:00"}).status_code == 200


@pytest.mark.parametrize("path,field", [
    ("/open311/v2/requests.json?service_request_id=%00", "service_request_id"),
    ("/open311/v2/requests.xml?service_code=001%00", "service_code"),
    ("/open311/v2/requests/SD2611-00001%00.json", "request_id"),
])
def test_a_nul_in_an_address_is_a_400_naming_the_parameter(entry_site, path, field):
    with entry_site.http() as http:
        answer = http.get(entry_site.url + path, timeout=10)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field


def test_a_pushed_body_nested_thousands_deep_is_a_422(entry_site):
    for depth in (5_000, 100):
        nested = b'{"reference": "MP-DEEP", "text": "x", "extra": {"a": ' + b"[" * depth + b"]" * depth + b"}}"
        answer = entry_site.push_raw(nested)
        assert answer.status_code == 422, answer.text
        assert "nested" in answer.json()["error"]
    assert entry_site.tickets(PUSH_CHANNEL) == []
    still_takes_a_push(entry_site)


@pytest.mark.parametrize("body,field,said", [
    (rb'{"reference": "MP-NUL", "text": "\u0000"}', "text", "NUL"),
    (rb'{"reference": "MP-NUL", "text": "x", "extra": {"note": ["a", "b\u0000"]}}', "(body)", "extra.note[1]"),
    (rb'{"reference": "MP-SUR", "text": "\ud800"}', "text", "unicode string"),
    (rb'{"reference": "MP-INF", "text": "x", "extra": {"n": 1e400}}', "(body)", "extra.n"),
    (rb'{"reference": "MP-NAN", "text": "x", "extra": {"n": NaN}}', "(body)", "extra.n"),
    (b'{"reference": "MP-BIG", "text": "x", "extra": {"n": ' + b"9" * 5000 + b"}}", "(body)", "too long"),
])
def test_a_pushed_value_no_store_keeps_is_a_422_naming_where_it_is(entry_site, body, field, said):
    answer = entry_site.push_raw(body)
    assert answer.status_code == 422, answer.text
    errors = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert said in errors[field], errors
    assert entry_site.tickets(PUSH_CHANNEL) == []
    still_takes_a_push(entry_site)


@pytest.mark.parametrize("field,value", [
    ("kind", ["投诉"]), ("kind", {"投诉": 1}), ("priority", ["urgent"]), ("reference", {"id": 1}),
    ("text", ["奶茶", "塑料片"]), ("amount", [18]), ("amount", "NaN"), ("amount", "Infinity"), ("amount", 1e30),
    ("submitted_at", ["2026-11-22"]), ("extra", [1, 2]), ("complainant_phone", 13690001111),
])
def test_a_pushed_field_of_the_wrong_shape_is_a_422_naming_the_field(entry_site, field, value):
    answer = entry_site.push(complaint("MP-SHAPE-0001") | {field: value})
    assert answer.status_code == 422, answer.text
    assert field in {e["field"].split(".")[0] for e in answer.json()["errors"]}
    still_takes_a_push(entry_site)


@pytest.mark.parametrize("sms_id", [str(2**63), str(10**40), "-1", "0", "-" + "9" * 30])
def test_a_delivery_report_for_an_sms_id_out_of_range_is_a_400(entry_site, sms_id):
    answer = entry_site.delivery_report(query=f"sms={sms_id}")
    assert answer.status_code == 400, answer.text
    assert "sms" in answer.text


@pytest.mark.parametrize("code", [str(2**31), "-1", "9" * 40])
def test_a_delivery_report_with_an_error_code_out_of_range_is_a_400(entry_site, code):
    answer = entry_site.delivery_report(query="sms=1", MessageStatus="failed", ErrorCode=code)
    assert answer.status_code == 400, answer.text
    assert "ErrorCode" in answer.text


@pytest.mark.parametrize("field", ["Body", "From", "To"])
def test_an_inbound_sms_with_a_nul_byte_is_a_400_naming_the_field(entry_site, field):
    answer = entry_site.inbound_sms(**{field: "完成\x00 已退款"})
    assert answer.status_code == 400, answer.text
    assert field in answer.text
    assert entry_site.count(SmsInbound) == 0
    # and the next message is taken
    assert entry_site.inbound_sms(Body="收到").status_code == 200
    assert entry_site.count(SmsInbound) == 1


def test_an_inbound_sms_whose_sender_does_not_fit_its_column_is_a_422_naming_it(entry_site):
    answer = entry_site.inbound_sms(From="+86" + "1" * 40)
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["from_phone"]
    assert entry_site.count(SmsInbound) == 0
    assert entry_site.inbound_sms().status_code == 200 and entry_site.count(SmsInbound) == 1


def register(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["来访日期", "来访时间", "姓名", "联系电话", "类型", "被投诉方", "地址", "诉求内容", "涉及金额", "接待人"])
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def test_a_register_amount_of_nan_infinity_or_1e30_is_that_rows_error(entry_site):
    with entry_site.db.transaction() as s:
        add_user(s, "desk1", "陈前台", STATION, "staff", "correct horse 42", entry_site.worker.dispatcher.units)
    clerk = signed_in(entry_site, "desk1", "correct horse 42")
    day = datetime(2026, 11, 20)
    book = register([
        [day, "10:15", "梁女士", "13802891234", "投诉", "大良悦动健身会所", "华盖路88号", "健身会所关门，要求退费。", "3680", "陈前台"],
        [day, "10:30", "何先生", "13802891235", "投诉", "某某餐厅", "清晖路", "饭菜有异物。", "NaN", "陈前台"],
        [day, "10:45", "李女士", "13802891236", "投诉", "某某超市", "清晖路", "过期食品。", "Infinity", "陈前台"],
        [day, "11:00", "张先生", "13802891237", "投诉", "某某车行", "清晖路", "定金不退。", 1e30, "陈前台"],
        [day, "11:15", "陈女士", "13802891238", "投诉", "某某影楼", "清晖路", "婚纱照不退款。", "-inf", "陈前台"],
        [datetime(2026, 11, 21), "09:30", "黄女士", "13902223333", "咨询", "", "", "预付卡如何退费？", "", "陈前台"],
    ])
    answer = clerk.post(entry_site.url + "/walkin/register-file", data={"csrf_token": clerk.csrf, "station": STATION},
                        files={"file": ("来访登记.xlsx", book)}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert "新登记 2 条" in answer.text and "有误 4 行" in answer.text
    for row in (3, 4, 5, 6):
        assert f"第 {row} 行" in answer.text
    stored = entry_site.tickets(WALK_IN_CHANNEL)
    assert sorted(t.complainant_phone for t in stored) == ["13802891234", "13902223333"]
    still_takes_a_push(entry_site)
