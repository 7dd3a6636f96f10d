"""Web intake: a partner POSTs signed tickets; a bad signature or body is refused and says why; the same
reference twice is one ticket; the result goes back, signed, to the callback URL the partner gave."""
from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import select

from connectors.web_push import sign
from settings.config_schema import load_config
from simulators.partner_callback import PartnerCallback
from simulators.testing import write_config
from tickets import Ticket, store
from tickets import handling
from worker import Worker
from writeback import OutboxItem

SECRET = "mini-program-shared-secret-2026"
CHANNEL = """
  - name: web-miniprogram
    kind: web_push
    settings:
      partner: 顺德市监微信小程序
      secret: ${ONEQUEUE_TEST_PARTNER_SECRET}
      callback_private_networks: [127.0.0.0/8]   # the partner stand-in listens on loopback
"""


@pytest.fixture
def partner():
    sim = PartnerCallback(SECRET)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def worker(tmp_path, db_url, hotline, sms_provider, monkeypatch):
    monkeypatch.setenv("ONEQUEUE_TEST_PARTNER_SECRET", SECRET)
    w = Worker(load_config(write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, extra=CHANNEL)))
    w.prepare()
    w.start_web()
    yield w
    w.web_server.should_exit = True
    w.db.dispose()


def complaint(reference="MP20261122-0001", **fields) -> dict:
    return {
        "reference": reference, "kind": "投诉", "title": "奶茶店饮品中有异物",
        "text": "11月21日在大良华盖路步行街的星光奶茶店购买的奶茶中喝出塑料片，商家拒绝退款，要求处理。",
        "complainant_name": "周女士", "complainant_phone": "13690001111", "business_name": "大良星光奶茶店",
        "event_address": "佛山市顺德区大良街道华盖路步行街12号", "amount": 18, "submitted_at": "2026-11-22T10:05:00+08:00",
    } | fields


def push(worker, body, secret=SECRET, channel="web-miniprogram", raw: bytes | None = None, signature=None):
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json", "X-Signature": signature or sign(data, secret)}
    return requests.post(f"{worker.web_url}/intake/{channel}", data=data, headers=headers, timeout=5)


def stored(worker) -> list[Ticket]:
    with worker.db.transaction() as s:
        return list(s.scalars(select(Ticket).where(Ticket.channel == "web-miniprogram")))


def test_a_signed_ticket_is_taken_once_however_often_it_is_pushed(worker):
    first = push(worker, complaint())
    assert first.status_code == 201, first.text
    number = first.json()["ticket"]
    again = push(worker, complaint())
    assert again.status_code == 200 and again.json()["ticket"] == number

    (ticket,) = stored(worker)
    assert ticket.number == number and ticket.channel_kind == "web_push" and ticket.source_ref == "MP20261122-0001"
    assert ticket.kind == "complaint" and ticket.amount == 18 and ticket.complainant_phone == "13690001111"
    assert ticket.received_at.isoformat() == "2026-11-22T02:05:00+00:00"
    worker.dispatch()
    assert stored(worker)[0].status == "dispatched"


def test_a_bad_or_missing_signature_is_refused_and_nothing_is_stored(worker):
    assert push(worker, complaint(), secret="someone-else-s-secret-0000").status_code == 401
    answer = push(worker, complaint(), signature="sha256=" + "0" * 64)
    assert answer.status_code == 401 and "HMAC-SHA256" in answer.json()["error"]
    # a body changed after signing does not verify either
    signed = json.dumps(complaint(), ensure_ascii=False).encode()
    tampered = signed.replace("18".encode(), "1800".encode(), 1)
    assert push(worker, None, raw=tampered, signature=sign(signed, SECRET)).status_code == 401
    assert stored(worker) == []


def test_an_invalid_ticket_is_refused_with_its_field_errors(worker):
    answer = push(worker, complaint(text="", complainant_phone="call me", kind="抱怨", txt="typo"))
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields == {"text", "complainant_phone", "kind", "txt"}
    not_json = push(worker, None, raw="投诉".encode("gb18030"))
    assert not_json.status_code == 422 and not_json.json()["errors"][0]["field"] == "(body)"
    assert push(worker, complaint(), channel="no-such-partner").status_code == 404
    assert stored(worker) == []


def test_the_result_goes_back_signed_to_the_callback_once(worker, partner):
    assert push(worker, complaint(callback_url=partner.url())).status_code == 201
    worker.dispatch()
    with worker.db.transaction() as s:
        ticket = store.get_by_number(s, stored(worker)[0].number)
        handling.resolve(s, ticket, "staff:test", "已约谈商家，退还18元并赔偿。", "大良升平消费维权服务站")
    partner.fail_next(1, 503, after_effect=True)  # the first answer is lost after the partner applied it
    worker.deliver()

    events = partner.wait_for(2)
    assert [e["event"] for e in events] == ["accepted", "resolved"]
    assert events[1]["reference"] == "MP20261122-0001" and events[1]["result"] == "已约谈商家，退还18元并赔偿。"
    assert partner.effect_count("MP20261122-0001", "accepted") == 1 and partner.refused == []
    with worker.db.transaction() as s:
        assert {o.status for o in s.scalars(select(OutboxItem))} == {"delivered"}


def test_a_callback_outside_the_agreed_addresses_is_refused(tmp_path, db_url, hotline, sms_provider, monkeypatch):
    monkeypatch.setenv("ONEQUEUE_TEST_PARTNER_SECRET", SECRET)
    extra = CHANNEL + "      callback_prefixes: [\"https://mp.partner.example/callbacks/\"]\n"
    w = Worker(load_config(write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, extra=extra)))
    w.prepare()
    w.start_web()
    try:
        answer = push(w, complaint(callback_url="http://169.254.169.254/latest/meta-data"))
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "callback_url"
        assert push(w, complaint(callback_url="https://mp.partner.example/callbacks/oq")).status_code == 201
    finally:
        w.web_server.should_exit = True
        w.db.dispose()


@pytest.mark.parametrize("field", ["submitted_at", "updated_at"])
def test_a_push_dated_outside_the_plausible_window_is_refused_and_the_queue_keeps_moving(worker, field):
    far = push(worker, complaint("MP-FAR", **{field: "9999-12-31T20:00:00+08:00"}))
    early = push(worker, complaint("MP-EARLY", **{field: "0001-01-01T08:00:00+08:00"}))
    good = push(worker, complaint("MP-GOOD", submitted_at="2026-11-29T10:00:00+08:00"))
    for answer in (far, early):
        assert answer.status_code == 422, answer.text
        (error,) = answer.json()["errors"]
        assert error["field"] == field and "implausible date" in error["message"]
    assert "config dates.ahead_hours" in far.text and "config dates.earliest" in early.text
    assert good.status_code == 201
    assert worker.dispatch() == 1
    (ticket,) = stored(worker)
    assert ticket.source_ref == "MP-GOOD" and ticket.status == "dispatched"


def test_a_push_the_database_cannot_store_as_given_is_refused_naming_the_field(worker):
    # A NUL byte is valid JSON text but neither PostgreSQL's text nor its JSONB stores it (SQLite would, silently);
    # a number past the amount column's 12 digits and NaN in a free field of the body go the same way.
    nul = push(worker, complaint("MP-NUL", text="奶茶中有异物\x00，商家拒绝退款"))
    name = push(worker, complaint("MP-NAME", complainant_name="周\x00女士"))
    amount = push(worker, complaint("MP-AMOUNT", amount=1e30))
    nan = push(worker, None, raw=json.dumps(complaint("MP-NAN") | {"extra": {"score": float("nan")}},
                                             ensure_ascii=False).encode("utf-8"))
    good = push(worker, complaint("MP-GOOD"))

    for answer, field in ((nul, "text"), (name, "complainant_name"), (amount, "amount"), (nan, "(body)")):
        assert answer.status_code == 422, answer.text
        errors = {e["field"]: e["message"] for e in answer.json()["errors"]}
        assert field in errors, errors
    assert "NUL" in {e["field"]: e["message"] for e in nul.json()["errors"]}["text"]
    assert "周" not in name.text  # the refusal says what is wrong, not what the person wrote
    assert good.status_code == 201
    assert worker.dispatch() == 1
    (ticket,) = stored(worker)
    assert ticket.source_ref == "MP-GOOD" and ticket.status == "dispatched"
