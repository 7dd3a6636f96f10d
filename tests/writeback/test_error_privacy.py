"""A source's error text never carries a complainant's name, phone or identity number into `last_error`
(`outbox list`, `health`) or the log: a partner refuses a result with the person's data in its reply."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
import requests
from sqlalchemy import select

from cli.main import main as cli
from connectors.web_push import sign
from settings.config_schema import load_config
from settings.logging_setup import configure_logging
from simulators.partner_callback import PartnerCallback
from simulators.testing import write_config
from tickets import Ticket, handling, store
from tickets.models import ChannelCursor
from tickets.schema import IncomingTicket
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
PERSON = ("梁美华", "13802891234", "44060619900101123X")
REPLY = {"error": f"投诉人{PERSON[0]}（电话{PERSON[1]}，身份证{PERSON[2]}）的记录不存在",
         "complainant_name": PERSON[0], "phone": PERSON[1]}


@pytest.fixture
def partner():
    sim = PartnerCallback(SECRET)
    sim.start()
    yield sim
    sim.stop()


def push(worker, reference: str, callback: str) -> requests.Response:
    body = {"reference": reference, "kind": "投诉", "title": "奶茶有异物", "text": "奶茶中喝出塑料片，商家拒绝退款。",
            "complainant_name": "周女士", "complainant_phone": "13690001111", "callback_url": callback,
            "event_address": "佛山市顺德区大良街道华盖路步行街12号", "submitted_at": "2026-11-22T10:05:00+08:00"}
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return requests.post(f"{worker.web_url}/intake/web-miniprogram", data=data, timeout=5,
                         headers={"Content-Type": "application/json", "X-Signature": sign(data, SECRET)})


def resolve(worker, reference: str) -> None:
    with worker.db.transaction() as s:
        number = s.scalars(select(Ticket.number).where(Ticket.source_ref == reference)).one()
        handling.resolve(s, store.get_by_number(s, number), "staff:test", "已退款。", "大良升平消费维权服务站")


def test_a_partner_reply_with_a_persons_data_leaves_no_trace_of_them(tmp_path, db_url, hotline, sms_provider,
                                                                     partner, monkeypatch, capsys):
    monkeypatch.setenv("ONEQUEUE_TEST_PARTNER_SECRET", SECRET)
    config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, extra=CHANNEL)
    worker = Worker(load_config(config))
    worker.prepare()
    worker.start_web()
    try:
        configure_logging("info")
        # given two pushed tickets, and a partner that refuses the first write-back naming the complainant
        assert push(worker, "MP-0001", partner.url()).status_code == 201
        assert push(worker, "MP-0002", partner.url()).status_code == 201
        worker.dispatch()
        for reference in ("MP-0001", "MP-0002"):
            resolve(worker, reference)
        partner.fail_next(1, 422, body=REPLY)
        worker.deliver()
        logged = capsys.readouterr().err
    finally:
        worker.web_server.should_exit = True
        configure_logging("warning")
    # then the refusal is a dead letter whose error names nobody, in the store, the CLI and the log
    with worker.db.transaction() as s:
        items = list(s.scalars(select(OutboxItem)))
    dead = [o for o in items if o.status == "dead"]
    # (a partner's reply body is never kept: the error says what status it answered)
    assert len(dead) == 1 and "HTTP 422" in dead[0].last_error
    assert cli(["--config", config, "outbox", "list", "--dead", "--json"]) == 0
    shown = capsys.readouterr().out
    assert json.loads(shown)[0]["last_error"] == dead[0].last_error
    for text in (dead[0].last_error, shown, logged):
        assert not any(value in text for value in PERSON), text
    assert "writeback_dead" in logged
    # and the other ticket's result still went back
    assert partner.effect_count("MP-0002", "accepted") == 1 and partner.effect_count("MP-0002", "resolved") == 1
    worker.db.dispose()


def test_an_error_stored_before_masking_is_shown_masked_by_health_and_outbox_list(tmp_path, db, db_url, capsys):
    # given a dead letter and a channel whose last_error were stored whole, before errors were masked when kept
    nowhere = SimpleNamespace(base_url="http://127.0.0.1:9")
    config = write_config(tmp_path / "config.yaml", db_url, nowhere, nowhere)
    old_error = f"HTTP 422: {REPLY['error']}"
    with db.transaction() as s:
        ticket_id = store.ingest(s, "12345-shunde", "12345", [IncomingTicket(
            source_ref="GD-0001", source_updated_at=datetime.now(timezone.utc), received_at=datetime.now(timezone.utc),
            text="预付卡商家停业，余额无法退还。")]).created[0]
        s.add(OutboxItem(key="oq-old-error", ticket_id=ticket_id, channel="12345-shunde", source_ref="GD-0001",
                         effect="accepted", status="dead", attempts=8, last_error=old_error,
                         history=[{"at": "2026-11-01T10:00:00+08:00", "outcome": "dead", "error": old_error}]))
        s.add(ChannelCursor(channel="12345-shunde", last_error=old_error, error_count=3))
    # when an operator lists the dead letters and asks for health, as text and as JSON
    shown = []
    for words in (["outbox", "list", "--dead"], ["outbox", "list", "--dead", "--json"], ["health"],
                  ["health", "--json"]):
        assert cli(["--config", config, *words]) == 0
        shown.append(capsys.readouterr().out)
    # then the error is there, with the person masked
    for text in shown:
        assert "HTTP 422" in text and "138****1234" in text, text
        assert not any(value in text for value in PERSON), text
