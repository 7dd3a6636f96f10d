"""One ticket that cannot be decided does not hold back its batch: the others are dispatched, it goes to triage
with the error on its history, and `onequeue health` names it."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import requests
from sqlalchemy import select, update

from cli.main import main as onequeue
from connectors.web_push import sign
from settings.config_schema import load_config
from simulators.testing import write_config
from tickets import Ticket
from worker import Worker

SECRET = "mini-program-shared-secret-2026"
CHANNEL = """
  - name: web-miniprogram
    kind: web_push
    settings:
      partner: 顺德市监微信小程序
      secret: ${ONEQUEUE_TEST_PARTNER_SECRET}
"""


@pytest.fixture
def config_path(tmp_path, db_url, hotline, sms_provider, monkeypatch):
    monkeypatch.setenv("ONEQUEUE_TEST_PARTNER_SECRET", SECRET)
    return write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, extra=CHANNEL)


@pytest.fixture
def worker(config_path):
    w = Worker(load_config(config_path))
    w.prepare()
    w.start_web()
    yield w
    w.web_server.should_exit = True
    w.db.dispose()


def push(worker, reference: str, phone: str) -> str:
    body = json.dumps({
        "reference": reference, "kind": "投诉", "title": "奶茶店饮品中有异物",
        "text": "在大良华盖路步行街的星光奶茶店购买的奶茶中喝出塑料片，商家拒绝退款，要求处理。",
        "complainant_name": "周女士", "complainant_phone": phone, "business_name": f"大良星光奶茶店{reference}",
        "event_address": "佛山市顺德区大良街道华盖路步行街12号", "submitted_at": "2026-11-29T10:05:00+08:00",
    }, ensure_ascii=False).encode("utf-8")
    answer = requests.post(f"{worker.web_url}/intake/web-miniprogram", data=body, timeout=5,
                           headers={"Content-Type": "application/json", "X-Signature": sign(body, SECRET)})
    assert answer.status_code == 201, answer.text
    return answer.json()["ticket"]


def test_a_ticket_whose_deadline_cannot_be_computed_goes_to_triage_and_the_batch_is_dispatched(
        worker, config_path, capsys):
    numbers = [push(worker, f"MP-{i}", f"1369000{i:04d}") for i in range(5)]
    # given a ticket stored before dates were checked, dated in year 9999: its deadline overflows
    with worker.db.transaction() as s:
        s.execute(update(Ticket).where(Ticket.number == numbers[2])
                  .values(received_at=datetime(9999, 12, 31, 12, tzinfo=timezone.utc)))

    assert worker.dispatch() == 5

    with worker.db.transaction() as s:
        status = {t.number: t for t in s.scalars(select(Ticket))}
        assert [status[n].status for n in numbers] == ["dispatched", "dispatched", "triage", "dispatched", "dispatched"]
        (failed,) = [e for e in status[numbers[2]].events if e.action == "dispatch_failed"]
        assert failed.to_status == "triage" and failed.actor == "dispatch"
        assert failed.detail["error"] == "OverflowError: date value out of range"
    assert worker.dispatch() == 0  # nothing is left new: the next run does not try the batch again

    assert onequeue(["health", "--config", config_path]) == 0
    out = capsys.readouterr().out
    assert f"dispatch failed for {numbers[2]} (in triage): OverflowError: date value out of range" in out
    assert "dispatch failures in triage: 1" in out
    assert onequeue(["health", "--json", "--config", config_path]) == 0
    data = json.loads(capsys.readouterr().out)["dispatch_failures"]
    assert data["count"] == 1 and data["tickets"][0]["number"] == numbers[2]
