"""What staff see of SMS from the command line: templates with their segments, messages with their delivery
status, replies received, and undeliverable messages in `onequeue health`. Phones are shown masked."""
from __future__ import annotations

import json
import time

from sqlalchemy import select

from cli.main import main as cli
from notify import Recipient, plan
from notify.models import SmsMessage
from tickets.models import Ticket
from web.sms_routes import INBOUND_PATH


def wait_until(check, timeout: float = 8.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_templates_are_listed_with_characters_and_segments(tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text('sms: {account_sid: AC1, auth_token: t, from_number: "+8610691234512",\n'
                      '      templates: {recalled: "工单{number}已撤销。", reply_done: ""}}\n', encoding="utf-8")
    assert cli(["--config", str(config), "sms", "templates", "--json"]) == 0
    listed = {t["name"]: t for t in json.loads(capsys.readouterr().out)}
    assert (listed["recalled"]["example"], listed["recalled"]["chars"], listed["recalled"]["segments"]) == (
        "工单SD2611-00001已撤销。", 18, 1)
    assert listed["dispatched"]["segments"] == 2  # the default dispatch notice is longer than 70 characters
    assert cli(["--config", str(config), "sms", "templates"]) == 0
    out = capsys.readouterr().out
    assert "  18 chars  1 segment\n" in out and "(billed per segment)" in out and "(empty: not sent)" in out


def test_health_and_the_lists_show_what_did_not_arrive_and_what_came_back(
        tmp_path, web_worker, hotline, sms_provider, capsys):
    # given a dispatched ticket, a message to its unit's contact that cannot be delivered, and a reply by SMS
    hotline.add_orders(4)
    worker = web_worker()
    worker.run_once()
    with worker.db.transaction() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.status == "dispatched").order_by(Ticket.id)).first()
    unit = worker.dispatcher.units.get(ticket.assigned_unit)
    landline = "+86" + unit.contacts[0].phone
    sms_provider.undeliverable[landline] = 30006
    with worker.db.transaction() as s:
        plan(s, key="cli-test", ticket_id=ticket.id, unit_id=unit.id, purpose="reminder",
             recipients=[Recipient(unit.contacts[0].phone)], template="【顺德市场监管】请处理{number}。",
             values={"number": ticket.number})
    worker.send_sms()
    assert wait_until(lambda: _status(worker, landline, "reminder") == "undelivered")
    assert sms_provider.send_inbound(landline, "你好", worker.web_url + INBOUND_PATH)[0] == 200
    config = str(tmp_path / "config.yaml")
    capsys.readouterr()

    # then health counts the undeliverable message and names its ticket, with the phone masked
    assert cli(["--config", config, "health", "--json"]) == 0
    health = json.loads(capsys.readouterr().out)["sms_delivery"]
    assert health["undeliverable"] == 1 and health["inbound"] == {"not_understood": 1}
    assert health["recent_undeliverable"][0]["ticket"] == ticket.number
    assert health["recent_undeliverable"][0]["error_code"] == 30006
    assert cli(["--config", config, "health"]) == 0
    out = capsys.readouterr().out
    assert f"sms undeliverable: 1 (latest: {ticket.number} {unit.id} " in out and "sms replies: not_understood 1" in out
    # and the message list shows the ticket's messages with their delivery status
    assert cli(["--config", config, "sms", "list", "--ticket", ticket.number, "--status", "undelivered",
                "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(m["purpose"], m["error_code"]) for m in listed] == [("reminder", 30006)]
    # and the replies received are listed with what each did
    assert cli(["--config", config, "sms", "inbound", "--json"]) == 0
    received = json.loads(capsys.readouterr().out)
    assert [(r["body"], r["outcome"]) for r in received] == [("你好", "not_understood")]
    # and no full phone number is printed anywhere
    assert cli(["--config", config, "sms", "list"]) == 0
    assert cli(["--config", config, "sms", "inbound"]) == 0
    printed = capsys.readouterr().out + json.dumps(health) + json.dumps(listed) + json.dumps(received, default=str)
    assert landline not in printed and landline[3:] not in printed


def _status(worker, phone: str, purpose: str):
    with worker.db.transaction() as s:
        return s.scalars(select(SmsMessage.status).where(SmsMessage.to_phone == phone,
                                                          SmsMessage.purpose == purpose)).first()
