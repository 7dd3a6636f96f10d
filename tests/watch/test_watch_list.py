"""The watch list (重点监控): a business put on it by hand with a reason, or by the rules of alerts.yaml (a
prepaid-card alert), every entry and exit on record; a new ticket about a watched business is flagged on its
history, and a rule `when: {business_watched: true}` in rules.yaml routes it."""
from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from cli.main import main as onequeue
from settings import ConfigError
from simulators.testing import ROOT, write_config
from tickets import IncomingTicket, Ticket, store

CST = timezone(timedelta(hours=8))
PHONES = itertools.count(13700000001)
WATCHED_RULE = """rules:
  - id: watched-business
    description: 重点监控商家的投诉由指挥中心督办
    when: {business_watched: true, kind: complaint}
    assign: sd-amr-command
"""


@pytest.fixture
def config(tmp_path, db, db_url, sms_provider):
    default = (ROOT / "rules.yaml").read_text(encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(WATCHED_RULE + default.split("rules:\n", 1)[1], encoding="utf-8")
    nowhere = SimpleNamespace(base_url="http://127.0.0.1:9")
    return write_config(tmp_path / "config.yaml", db_url, nowhere, sms_provider, rules_file=rules)


def arrive(worker, ref: str, business: str, text: str = "买的电饭煲用了三天就坏了，商家不给换", hours_ago: float = 1) -> Ticket:
    at = datetime.now(CST) - timedelta(hours=hours_ago)
    with worker.db.transaction() as s:
        store.ingest(s, "12345-shunde", "12345", [IncomingTicket(
            source_ref=ref, source_updated_at=at, received_at=at, title="投诉", text=text, business_name=business,
            event_address="大良街道华盖路88号", complainant_phone=str(next(PHONES)))])
    worker.dispatch()
    worker.watch_businesses()
    with worker.db.transaction() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.source_ref == ref)).one()
        ticket.events  # loaded while the session is open
        return ticket


def cli_json(capsys, *words):
    capsys.readouterr()
    assert onequeue(list(words)) == 0
    return json.loads(capsys.readouterr().out)


def test_a_rule_routes_a_watched_businesss_ticket_and_the_ticket_is_flagged(worker, config, capsys):
    # given a shop known to the registry, routed by the ordinary rules
    first = arrive(worker, "H-1", "佛山市顺德区美佳电器有限公司")
    assert first.assigned_unit not in (None, "sd-amr-command")
    [shop] = cli_json(capsys, "businesses", "list", "--config", config, "--json")
    # when an administrator puts it on the watch list with a reason
    assert onequeue(["businesses", "watch", str(shop["id"]), "--reason", "多次拒不履行三包义务",
                     "--actor", "user:li", "--config", config]) == 0
    # then its next ticket, however spelt, goes where the watch-list rule sends it, and says why on its history
    second = arrive(worker, "H-2", "美佳电器（大良店）")
    assert second.assigned_unit == "sd-amr-command"
    assert [e.detail["rule"] for e in second.events if e.action == "dispatched"] == ["watched-business"]
    [flag] = [e for e in second.events if e.action == "business_watched"]
    assert flag.detail["reason"] == "多次拒不履行三包义务"
    # and a shop nobody watches is routed as before
    other = arrive(worker, "H-3", "大良好又多超市")
    assert other.assigned_unit == first.assigned_unit
    assert not [e for e in other.events if e.action == "business_watched"]
    # when it is taken off the list, its tickets go the ordinary way again, and both steps are on record
    assert onequeue(["businesses", "unwatch", str(shop["id"]), "--reason", "已整改到位", "--config", config]) == 0
    assert arrive(worker, "H-4", "美佳电器").assigned_unit == first.assigned_unit
    shown = cli_json(capsys, "businesses", "show", str(shop["id"]), "--config", config, "--json")
    [entry] = shown["watch_history"]
    assert (entry["by_rule"], entry["entered_by"], entry["reason"]) == ("人工", "user:li", "多次拒不履行三包义务")
    assert entry["left_reason"] == "已整改到位" and shown["watched"] is False


def test_a_prepaid_card_alert_puts_the_business_on_the_watch_list(worker, config, capsys):
    flight = "办了会员卡充值3000元，美容院突然关门，老板联系不上"
    for i in range(3):
        arrive(worker, f"F-{i}", "悦容美容院", text=flight, hours_ago=10 - i)
    [entry] = cli_json(capsys, "businesses", "watched", "--config", config, "--json")
    assert entry["name"] == "悦容美容院" and entry["by_rule"] == "预警" and "预付卡跑路" in entry["reason"]
    # the next complaint about it is flagged and routed by the watch-list rule
    later = arrive(worker, "F-3", "悦容美容院", text="美容院关门了，储值卡余额怎么退")
    assert later.assigned_unit == "sd-amr-command"
    # putting it on the list again by hand is refused, saying it is there already
    capsys.readouterr()
    assert onequeue(["businesses", "watch", str(entry["business_id"]), "--reason", "x", "--config", config]) == 1
    assert "已在重点监控名单中" in capsys.readouterr().err


def test_business_watched_in_rules_yaml_takes_true_or_false_only(tmp_path):
    from dispatch import Dispatcher, UnitDirectory

    units = UnitDirectory.from_file(ROOT / "units.yaml")
    bad = "rules:\n  - id: w\n    when: {business_watched: perhaps}\n    assign: sd-amr-command\n"
    with pytest.raises(ConfigError) as err:
        Dispatcher.from_yaml(units, bad)
    assert "rules[0].when.business_watched" in str(err.value)
