"""`rules explain`, `rules replay` and `reassign` on stored tickets: explained, replayed without a change,
and overridden by staff with the new unit texted."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cli.main import main as cli
from notify.models import SmsMessage
from settings.config_schema import load_config
from simulators.testing import write_config
from tickets import store
from tickets.models import Ticket, TicketEvent
from tickets.schema import IncomingTicket
from worker import Worker

ROOT = Path(__file__).resolve().parents[2]

# (source ref, days ago, text, event address)
ORDERS = [
    ("W-PRICE", 1, "新桂市场猪肉档没有明码标价，乱收费。", "大良街道新桂市场"),
    ("W-LIFT", 2, "小区电梯困人半小时，物业不管。", "容桂天佑城"),
    ("W-AIRCON", 3, "买的空调坏了，店家不给修。", "北滘镇美的广场"),
    ("W-ONLINE", 4, "网购的羽绒服起球，平台客服不处理。", None),
    ("W-OLD", 40, "买的冰箱不制冷，店家推诿。", "杏坛镇逢简村"),
]


@pytest.fixture
def config(tmp_path, db_url, hotline, sms_provider) -> str:
    return write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider)


@pytest.fixture
def worker(config):
    """A worker on the default rules that has dispatched ORDERS (the hotline stand-in has none of its own)."""
    w = Worker(load_config(config))
    w.prepare()
    now = datetime.now(timezone.utc)
    with w.db.transaction() as s:
        store.ingest(s, "12345-shunde", "12345", [
            IncomingTicket(source_ref=ref, source_updated_at=now, received_at=now - timedelta(days=days), text=text,
                           event_address=address) for ref, days, text, address in ORDERS])
    w.dispatch()
    yield w
    w.db.dispose()


def _number(w: Worker, ref: str) -> str:
    with w.db.transaction() as s:
        return s.scalar(select(Ticket.number).where(Ticket.source_ref == ref))


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_explain_a_stored_ticket_rule_by_rule(config, worker, capsys):
    number = _number(worker, "W-LIFT")
    assert cli(["--config", config, "rules", "explain", number]) == 0
    out = capsys.readouterr().out
    assert "MATCH special-equipment" in out
    assert "none of the keywords 食物中毒" in out                      # why food-safety-urgent did not match
    assert "not tried (an earlier rule decided): price, advertising, suggestions, by-place, no-place" in out
    assert "sd-amr-equipment 特种设备安全监察科" in out
    assert "容桂街道 · st-ronggui-16 · 容桂天佑城消费维权服务站" in out

    assert cli(["--config", config, "rules", "explain", number, "--json"]) == 0
    data = _json(capsys)
    assert [(r["rule"], r["matched"]) for r in data["rules"]] == [("food-safety-urgent", False),
                                                                  ("special-equipment", True)]
    assert all(r["line"] for r in data["rules"])
    assert data["ticket"]["assigned_unit"] == data["decision"]["unit"] == "sd-amr-equipment"
    assert data["decision"]["place"]["method"] and data["decision"]["place"]["confidence"] > 0
    assert (data["decision"]["category"], data["decision"]["priority"]) == ("安全", "urgent")


NEW_RULES = """\
rules:
  - id: appliances
    description: 家电质量问题交质量科
    when: {keywords: {any: [空调, 冰箱]}}
    assign: sd-amr-quality
  - id: price
    when: {keywords: {any: [明码标价, 乱收费]}}
    assign: sd-amr-price
  - id: by-place
    assign_to: covering_station
  - id: no-place
    triage: true
"""


def test_replay_shows_what_would_move_and_changes_nothing(config, worker, tmp_path, capsys):
    # an invalid file is not replayed: its errors are printed
    bad = tmp_path / "rules-bad.yaml"
    bad.write_text("rules:\n  - id: x\n    assign: sd-amr-nobody\n", encoding="utf-8")
    assert cli(["--config", config, "rules", "replay", str(bad)]) == 1
    assert f"{bad}:3: rules[0].assign" in capsys.readouterr().err

    new = tmp_path / "rules-new.yaml"
    new.write_text(NEW_RULES, encoding="utf-8")
    with worker.db.transaction() as s:
        before = (s.scalar(select(func.count()).select_from(TicketEvent)),
                  sorted(s.execute(select(Ticket.number, Ticket.status, Ticket.assigned_unit)).all()))

    assert cli(["--config", config, "rules", "replay", str(new), "--since", "30d", "--json"]) == 0
    data = _json(capsys)
    # the ticket received 40 days ago is left out
    assert data["tickets"] == 4
    moves = {(m["number"], m["from"], m["to"], m["rule"]) for m in data["moves"]}
    assert moves == {(_number(worker, "W-AIRCON"), "st-beijiao-01", "sd-amr-quality", "appliances"),
                     (_number(worker, "W-LIFT"), "sd-amr-equipment", "st-ronggui-16", "by-place")}
    counts = {c["unit"]: (c["before"], c["after"]) for c in data["counts"]}
    assert counts["sd-amr-equipment"] == (1, 0) and counts["sd-amr-quality"] == (0, 1)
    assert counts["triage"] == (1, 1) and counts["sd-amr-price"] == (1, 1)

    assert cli(["--config", config, "rules", "replay", str(new), "--since", "60d"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "5 ticket(s) received since" in out and "3 ticket(s) would move" in out
    assert f"{_number(worker, 'W-OLD')} st-xingtan-12 → sd-amr-quality (rule appliances; was by-place)" in out
    # against the history, a ticket staff reassigned counts where staff put it
    assert cli(["--config", config, "reassign", _number(worker, "W-PRICE"), "--unit", "st-daliang-07",
                "--reason", "市场内摊档，属地服务站先行调解"]) == 0
    capsys.readouterr()
    assert cli(["--config", config, "rules", "replay", str(new), "--against", "history", "--json"]) == 0
    history = {m["number"]: (m["from"], m["to"], m["previous_rule"]) for m in _json(capsys)["moves"]}
    assert history[_number(worker, "W-PRICE")] == ("st-daliang-07", "sd-amr-price", "reassigned by staff:cli")

    # and nothing but the reassignment was written
    with worker.db.transaction() as s:
        after_events = s.scalar(select(func.count()).select_from(TicketEvent))
        tickets = sorted(s.execute(select(Ticket.number, Ticket.status, Ticket.assigned_unit)).all())
    assert after_events == before[0] + 1
    assert [t for t in tickets if t[0] != _number(worker, "W-PRICE")] == \
        [t for t in before[1] if t[0] != _number(worker, "W-PRICE")]


def test_staff_reassign_a_ticket_and_the_new_unit_is_texted(config, worker, sms_provider, capsys):
    number = _number(worker, "W-AIRCON")
    worker.send_sms()
    texted_before = len(sms_provider.messages)
    # when staff send the air-conditioner ticket to the product-quality department
    assert cli(["--config", config, "reassign", number, "--unit", "sd-amr-quality",
                "--reason", "家电质量问题，由质量科处理", "--actor", "staff:chen"]) == 0
    assert "sd-amr-quality 产品质量监督科 (was st-beijiao-01)" in capsys.readouterr().out
    # then the history says who moved it, from where, to where and why
    assert cli(["--config", config, "tickets", "show", number, "--json"]) == 0
    shown = _json(capsys)
    last = shown["events"][-1]
    assert (last["actor"], last["action"], last["from"], last["to"]) == ("staff:chen", "dispatched", "dispatched",
                                                                         "dispatched")
    assert last["detail"] == {"unit": "sd-amr-quality", "previous_unit": "st-beijiao-01",
                              "reason": "家电质量问题，由质量科处理", "reassigned": True}
    assert shown["assigned_unit"] == "sd-amr-quality"
    # and the department's contact gets the dispatch SMS, once
    worker.send_sms()
    worker.send_sms()
    quality = worker.dispatcher.units.get("sd-amr-quality")
    new_texts = sms_provider.messages[texted_before:]
    assert sorted(m["to"] for m in new_texts) == sorted("+86" + c.phone for c in quality.contacts)
    assert all(number in m["body"] for m in new_texts)

    # a second reassignment to the same unit, or to an unknown unit, is refused and changes nothing
    assert cli(["--config", config, "reassign", number, "--unit", "sd-amr-quality", "--reason", "再派"]) == 1
    assert "already dispatched to sd-amr-quality" in capsys.readouterr().err
    assert cli(["--config", config, "reassign", number, "--unit", "st-nowhere", "--reason", "x"]) == 1
    assert "no unit 'st-nowhere'" in capsys.readouterr().err
    with worker.db.transaction() as s:
        planned = s.scalar(select(func.count()).select_from(SmsMessage).where(SmsMessage.unit_id == "sd-amr-quality"))
        moves = s.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.actor.like("staff:%")))
    assert (planned, moves) == (len(quality.contacts), 1)

    # a ticket in triage (no place found) is dispatched by staff the same way
    online = _number(worker, "W-ONLINE")
    assert cli(["--config", config, "reassign", online, "--unit", "sd-amr-consumer",
                "--reason", "网购纠纷由消保科处理", "--json"]) == 0
    data = _json(capsys)
    assert (data["status"], data["unit"], data["previous_unit"]) == ("dispatched", "sd-amr-consumer", None)
    assert data["sms_planned"] == len(worker.dispatcher.units.get("sd-amr-consumer").contacts)
