"""Open311 GeoReport v2: a client app lists the services, files a request and reads its status, in JSON
and XML — checked with the `georeport` client from PyPI and with plain HTTP and XML parsing."""
from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest
import requests
from georeport import GeoReport
from sqlalchemy import select

from settings.config_schema import load_config
from simulators.testing import write_config
from tickets import Ticket, handling, store
from worker import Worker

KEY = "open311-app-key-7f3a"
JURISDICTION = "shunde.foshan.gov.cn"
CHANNEL = """
  - name: open311-shunde
    kind: open311
    settings:
      jurisdiction_id: shunde.foshan.gov.cn
      api_keys: ["${ONEQUEUE_TEST_OPEN311_KEY}"]
      services:
        - {service_code: "001", service_name: 价格违法, description: 不明码标价、价格欺诈、乱收费, group: 价格, keywords: [价格, 收费]}
        - {service_code: "002", service_name: 食品安全, description: 过期变质食品、无证经营, group: 食品}
        - {service_code: "003", service_name: 预付卡退费, description: 商家停业、拒退余额, group: 合同}
        - {service_code: "007", service_name: 消费咨询, kind: consultation, group: 咨询}
"""
FILED = {
    "service_code": "003", "api_key": KEY, "jurisdiction_id": JURISDICTION,
    "description": "升平社区华盖路88号的悦动健身会所突然停业，年卡余额2680元无法退还。",
    "address_string": "佛山市顺德区大良街道升平社区华盖路88号", "lat": "22.8407", "long": "113.2565",
    "first_name": "女士", "last_name": "梁", "phone": "13802891234", "email": "liang@example.cn",
}


@pytest.fixture
def worker(tmp_path, db_url, hotline, sms_provider, monkeypatch):
    monkeypatch.setenv("ONEQUEUE_TEST_OPEN311_KEY", KEY)
    w = Worker(load_config(write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, extra=CHANNEL)))
    w.prepare()
    w.start_web()
    yield w
    w.web_server.should_exit = True
    w.db.dispose()


def root(worker) -> str:
    return worker.web_url + "/open311/v2"


def file_request(worker, fmt="json", **changes) -> requests.Response:
    return requests.post(f"{root(worker)}/requests.{fmt}", data=FILED | changes, timeout=5)


def test_a_client_lists_the_services_in_json_and_xml(worker):
    as_json = GeoReport(root(worker), jurisdiction=JURISDICTION).get_service_list()
    as_xml = GeoReport(root(worker), jurisdiction=JURISDICTION, output_format="xml").get_service_list()
    assert [s["service_code"] for s in as_json] == ["001", "002", "003", "007"]
    assert as_json[2]["service_name"] == "预付卡退费" and as_json[0]["keywords"] == "价格,收费"
    assert [s["service_name"] for s in as_xml] == [s["service_name"] for s in as_json]
    assert as_xml[0]["metadata"] == "false" and as_xml[0]["type"] == "realtime"


def test_a_filed_request_becomes_a_ticket_and_its_result_is_the_status_notes(worker):
    # given an app files a request
    answer = file_request(worker)
    assert answer.status_code == 201, answer.text
    (created,) = answer.json()
    number = created["service_request_id"]
    assert created["service_notice"].startswith("已收到")
    with worker.db.transaction() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.channel == "open311-shunde")).one()
        assert ticket.number == number and ticket.channel_kind == "open311" and ticket.complainant_name == "梁女士"
        assert ticket.event_address == FILED["address_string"] and ticket.title.startswith("预付卡退费：")
        assert "api_key" not in ticket.payload

    # then it reads as open, and once resolved as closed with our result
    client = GeoReport(root(worker), jurisdiction=JURISDICTION)
    first = client.get_service_request(number)
    assert (first["status"], first["status_notes"], first["service_code"]) == ("open", "", "003")
    assert first["lat"] == 22.8407 and first["requested_datetime"].endswith("+08:00")
    worker.dispatch()
    with worker.db.transaction() as s:
        ticket = store.get_by_number(s, number)
        unit = worker.dispatcher.units.get(ticket.assigned_unit)
        handling.resolve(s, ticket, "staff:test", "已责令商家退还余额2680元。", unit.name)
    done = client.get_service_request(number)
    assert done["status"] == "closed" and done["status_notes"] == "已责令商家退还余额2680元。"
    assert done["agency_responsible"] == unit.name
    as_xml = GeoReport(root(worker), jurisdiction=JURISDICTION, output_format="xml").get_service_request(number)
    assert as_xml["status"] == "closed" and as_xml["status_notes"] == "已责令商家退还余额2680元。"
    worker.deliver()  # nothing to push: the app reads the status
    assert client.get_service_requests(status="open") == []
    assert [r["service_request_id"] for r in client.get_service_requests(status="closed")] == [number]


def test_requests_are_searched_by_id_code_and_status_in_json_and_xml(worker):
    numbers = [file_request(worker, service_code=code).json()[0]["service_request_id"]
               for code in ("001", "002", "001")]
    client = GeoReport(root(worker), jurisdiction=JURISDICTION)
    assert {r["service_request_id"] for r in client.get_service_requests(service_code="001")} == \
        {numbers[0], numbers[2]}
    both = client.get_service_requests(service_request_id=f"{numbers[0]},{numbers[1]}")
    assert {r["service_request_id"] for r in both} == set(numbers[:2])
    assert len(client.get_service_requests(status="open")) == 3

    # plain HTTP and XML parsing, as an app without the client library would
    xml = requests.get(f"{root(worker)}/requests.xml", params={"service_code": "002"}, timeout=5)
    assert xml.headers["Content-Type"].startswith("text/xml")
    requests_found = ET.fromstring(xml.content).findall("request")
    assert [r.findtext("service_request_id") for r in requests_found] == [numbers[1]]
    assert requests_found[0].findtext("status") == "open"
    posted = file_request(worker, fmt="xml", service_code="007", description="咨询预付卡退款需要哪些材料")
    assert posted.status_code == 201
    assert ET.fromstring(posted.content).find("request").findtext("service_request_id").startswith("SD")


def test_what_a_request_lacks_is_an_open311_error(worker):
    no_key = file_request(worker, api_key="")
    assert no_key.status_code == 403 and "api_key" in no_key.json()[0]["description"]
    unknown = file_request(worker, service_code="999")
    assert unknown.status_code == 400 and unknown.json() == [
        {"code": 400, "description": "service_code '999' is not one of 001, 002, 003, 007"}]
    nowhere = file_request(worker, fmt="xml", address_string="", lat="", long="")
    assert nowhere.status_code == 400
    assert ET.fromstring(nowhere.content).find("error").findtext("description").startswith("a location is required")
    missing = requests.get(f"{root(worker)}/requests/SD0000-00000.json", timeout=5)
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404
    span = requests.get(f"{root(worker)}/requests.json", params={"start_date": "2026-01-01T00:00:00Z",
                                                                 "end_date": "2026-11-01T00:00:00Z"}, timeout=5)
    assert span.status_code == 400 and "90 days" in span.json()[0]["description"]
    with worker.db.transaction() as s:
        assert s.scalars(select(Ticket).where(Ticket.channel == "open311-shunde")).all() == []


def test_the_public_feed_masks_a_persons_data_caps_every_field_and_stays_well_formed_xml(worker):
    # given a citizen types their name, phone and ID number, and a careless app sends control characters,
    # a noncharacter, over-long fields and raw (not percent-encoded) UTF-8
    description = ("投诉人梁美华，电话13802891234，身份证44060619900101123X。\x00健身房\x01跑路\ufffe了，"
                   "这位女士也被骗，联系陈大文先生核实。")
    fields = FILED | {"description": description, "first_name": "美华" * 100, "email": "a" * 5000 + "@x.cn",
                      "address_string": "华盖路88号" + "号" * 1000, "note": "备注" * 5000, "media_url": "u" * 9000}
    raw = "&".join(f"{k}={v.replace('&', '%26')}" for k, v in fields.items()).encode("utf-8")
    answer = requests.post(f"{root(worker)}/requests.json", data=raw, timeout=5,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 201, answer.text
    number = answer.json()[0]["service_request_id"]
    # and a usual request after it
    other = file_request(worker, service_code="001", description="商家不明码标价").json()[0]["service_request_id"]

    # then what is stored is decoded as UTF-8, without control characters, each field within its limit
    with worker.db.transaction() as s:
        ticket = store.get_by_number(s, number)
        assert ticket.text.startswith("投诉人梁美华，电话13802891234") and "\x00" not in ticket.text
        assert "\ufffe" not in ticket.text and "健身房跑路了" in ticket.text
        assert ticket.complainant_name == "梁" + ("美华" * 100)[:32] and len(ticket.event_address) <= 300
        assert len(ticket.payload["email"]) == 254 and len(ticket.payload["note"]) == 200
        assert len(ticket.payload["media_url"]) == 1000
    # and the public feed shows the description desensitised, in JSON and in well-formed XML
    shown = requests.get(f"{root(worker)}/requests/{number}.json", timeout=5).json()[0]["description"]
    assert shown.startswith("投诉人梁**，电话138****1234，身份证440***********123X。健身房跑路了")
    assert "这位女士" in shown and "联系陈**先生" in shown
    xml = requests.get(f"{root(worker)}/requests.xml", timeout=5)
    found = {r.findtext("service_request_id"): r for r in ET.fromstring(xml.content).findall("request")}
    assert set(found) == {number, other} and found[number].findtext("description") == shown
    for text in (xml.text, json.dumps(requests.get(f"{root(worker)}/requests.json", timeout=5).json(),
                                      ensure_ascii=False)):
        assert not any(p in text for p in ("梁美华", "13802891234", "44060619900101123X", "陈大文")), text


def test_a_form_that_is_not_utf8_is_refused_and_the_feed_goes_on(worker):
    raw = "&".join(f"{k}={v}" for k, v in (FILED | {"description": "价格欺诈"}).items()).encode("gb18030")
    refused = requests.post(f"{root(worker)}/requests.xml", data=raw, timeout=5,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 400
    assert "UTF-8" in ET.fromstring(refused.content).find("error").findtext("description")
    assert file_request(worker).status_code == 201
    assert len(requests.get(f"{root(worker)}/requests.json", timeout=5).json()) == 1
