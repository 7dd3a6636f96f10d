"""Early warning without history: a prepaid-card flight (several complainants, one business, prepaid cards and an
owner gone, within 72 hours) raises one urgent alert and one SMS to the duty contact — at the Twilio stand-in,
through the worker's own jobs — not one per ticket; later tickets join it; once closed, only a new burst raises
another. A group complaint does the same."""
from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from cli.main import main as onequeue
from settings import ConfigError
from settings.config_schema import load_config
from simulators.testing import write_config
from tickets import IncomingTicket, store
from watch.alert_rules import load_alert_rules
from worker import Worker

CST = timezone(timedelta(hours=8))
DUTY = "+8613807570010"       # 胡锦辉, 值班员 of 投诉举报指挥中心 in units.yaml
DUTY_HEAD = "+8613807570009"  # 梁汉林, 主任 of the same unit: not on the duty roster of alerts.yaml
START = datetime.now(CST) - timedelta(days=20)
PHONES = itertools.count(13900000001)  # each complainant a number of their own
FLIGHT = "在悦动健身办了会员卡充值5000元，今天去发现健身房关门了，老板电话打不通，要求退款"


def arrive(worker, channel: str, ref: str, business: str, hours: float, text: str = FLIGHT,
           phone: str | None = None) -> None:
    """A complaint arrives on a channel, and the worker's jobs run as they come round: dispatch, the business
    registry with the early-warning rules, SMS."""
    at = START + timedelta(hours=hours)
    with worker.db.transaction() as s:
        store.ingest(s, channel, channel.split("-")[0], [IncomingTicket(
            source_ref=ref, source_updated_at=at, received_at=at, title="预付卡投诉", text=text,
            business_name=business, event_address="大良街道华盖路88号",
            complainant_phone=phone or str(next(PHONES)))])
    worker.dispatch()
    worker.watch_businesses()
    worker.send_sms()


def alerts(capsys, config, status="all") -> list[dict]:
    capsys.readouterr()
    assert onequeue(["alerts", "list", "--status", status, "--json", "--config", config]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_prepaid_card_flight_raises_one_urgent_alert_and_one_sms_to_the_duty_contact(worker, config, sms_provider,
                                                                                       capsys):
    # given two complaints about one gym's prepaid cards and its closed doors: not yet several
    arrive(worker, "12345-shunde", "H-1", "佛山市顺德区悦动健身有限公司", 0)
    arrive(worker, "12315-gd", "P-1", "悦动健身（大良店）", 20)
    assert alerts(capsys, config) == [] and sms_provider.messages_to(DUTY) == []
    # when a third complainant comes within 72 hours of the first
    arrive(worker, "12345-shunde", "H-2", "顺德悦动健身", 50)
    # then one urgent alert with the three tickets, and one SMS to the duty contact
    [alert] = alerts(capsys, config)
    assert (alert["rule_label"], alert["level_label"], alert["status_label"]) == ("预付卡跑路", "紧急", "待处理")
    assert len(alert["tickets"]) == 3 and alert["town"] == "大良街道"
    [sms] = sms_provider.messages_to(DUTY)
    assert "预付卡跑路" in sms["body"] and "悦动健身" in sms["body"] and "3宗" in sms["body"]
    assert alert["tickets"][0] in sms["body"]
    assert sms_provider.messages_to(DUTY_HEAD) == []
    # and a fourth complaint joins the alert: no second alert, no second SMS
    arrive(worker, "12315-gd", "P-2", "悦动健身", 60)
    [alert] = alerts(capsys, config)
    assert len(alert["tickets"]) == 4
    assert len(sms_provider.messages_to(DUTY)) == 1
    # when the duty officer acknowledges it and a fifth comes, it joins silently too
    assert onequeue(["alerts", "ack", str(alert["id"]), "--note", "已派执法人员到场", "--actor", "user:hu",
                     "--config", config]) == 0
    arrive(worker, "12345-shunde", "H-3", "悦动健身", 70)
    [alert] = alerts(capsys, config)
    assert alert["status_label"] == "已确认" and len(alert["tickets"]) == 5
    assert len(sms_provider.messages_to(DUTY)) == 1
    # a close without a note is refused; with one, it is closed
    capsys.readouterr()
    assert onequeue(["alerts", "close", str(alert["id"]), "--note", " ", "--config", config]) == 1
    assert "须写明处置情况" in capsys.readouterr().err
    assert onequeue(["alerts", "close", str(alert["id"]), "--note", "已立案，商家负责人已约谈", "--actor", "user:hu",
                     "--config", config]) == 0
    # then a straggler of the same burst raises nothing: it is not a new surge
    arrive(worker, "12315-gd", "P-3", "悦动健身", 80)
    assert alerts(capsys, config, "active") == [] and len(sms_provider.messages_to(DUTY)) == 1
    # but a later, separate burst of three raises a new alert and a new SMS
    for i, hours in enumerate((300, 310, 320)):
        arrive(worker, "12345-shunde", f"H-late-{i}", "悦动健身", hours)
    [new] = alerts(capsys, config, "active")
    assert new["id"] != alert["id"] and len(new["tickets"]) == 3
    assert len(sms_provider.messages_to(DUTY)) == 2


def test_complaints_spread_wider_than_72_hours_or_from_one_complainant_raise_nothing(worker, config, sms_provider,
                                                                                    capsys):
    for ref, hours in (("H-1", 0), ("H-2", 40), ("H-3", 80), ("H-4", 160)):   # never three within 72 hours
        arrive(worker, "12345-shunde", ref, "悦动健身", hours)
    for ref, hours in (("P-1", 200), ("P-2", 201), ("P-3", 202)):             # three tickets, one phone
        arrive(worker, "12315-gd", ref, "飞跃健身", hours, phone="13911112222")
    for ref, hours in (("H-5", 300), ("H-6", 301), ("H-7", 302)):             # prepaid cards, but open for business
        arrive(worker, "12345-shunde", ref, "美佳美容院", hours, text="会员卡充值后美容院服务缩水")
    assert alerts(capsys, config) == [] and sms_provider.messages_to(DUTY) == []


def test_a_group_complaint_raises_one_alert(worker, config, sms_provider, capsys):
    story = "团购的装修套餐交了定金，装修公司迟迟不开工，要求退还定金"
    for i in range(5):   # five complainants, one business, one story
        arrive(worker, "12345-shunde", f"G-{i}", "顺德区家美装饰工程有限公司", i, text=story + "。" * i)
    [alert] = alerts(capsys, config)
    assert alert["rule_label"] == "群体投诉" and len(alert["tickets"]) == 5
    # one ticket that says it speaks for many is one too
    arrive(worker, "12315-gd", "G-x", "乐学教育培训中心", 10, text="我们二十多位家长集体投诉乐学教育培训中心拒绝退课")
    assert len(alerts(capsys, config)) == 2
    assert len(sms_provider.messages_to(DUTY)) == 2


def test_the_back_office_steps_refuse_what_the_status_does_not_allow(worker, config, capsys):
    for ref, hours in (("H-1", 0), ("H-2", 1), ("H-3", 2)):
        arrive(worker, "12345-shunde", ref, "悦动健身", hours)
    [alert] = alerts(capsys, config)
    assert onequeue(["alerts", "close", str(alert["id"]), "--note", "误报", "--config", config]) == 0
    capsys.readouterr()
    assert onequeue(["alerts", "ack", str(alert["id"]), "--config", config]) == 1
    assert "已关闭" in capsys.readouterr().err
    assert onequeue(["alerts", "close", "999", "--note", "x", "--config", config]) == 1
    assert "onequeue alerts list" in capsys.readouterr().err


def test_a_wrong_alerts_file_is_named_by_file_line_and_field(tmp_path):
    from dispatch import UnitDirectory
    from simulators.testing import ROOT

    units = UnitDirectory.from_file(ROOT / "units.yaml")
    text = (ROOT / "alerts.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "alerts.yaml"
    bad.write_text(text.replace("unit: sd-amr-command", "unit: sd-amr-nowhere"), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_alert_rules(bad, units)
    assert f"{bad}:9: duty.unit: no unit 'sd-amr-nowhere'" in str(err.value)
    bad.write_text(text.replace("min_complaints: 3", "min_complaints: none"), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_alert_rules(bad, units)
    assert "prepaid_flight.min_complaints" in str(err.value)
    bad.write_text(text.replace("{numbers}", "{phone}"), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_alert_rules(bad, units)
    assert "template: " in str(err.value) and "{phone}" in str(err.value)


@pytest.mark.postgres_only
def test_two_workers_catching_up_at_once_raise_one_alert_and_one_sms(config, sms_provider, capsys):
    # given three complaints of a flight stored, and two workers on one database
    workers = [Worker(load_config(config)) for _ in range(2)]
    workers[0].prepare()
    try:
        for i, hours in enumerate((0, 1, 2)):
            at = START + timedelta(hours=hours)
            with workers[0].db.transaction() as s:
                store.ingest(s, "12345-shunde", "12345", [IncomingTicket(
                    source_ref=f"W-{i}", source_updated_at=at, received_at=at, title="预付卡投诉", text=FLIGHT,
                    business_name="悦动健身", event_address="大良街道华盖路88号", complainant_phone=str(next(PHONES)))])
        # when both run the registry's job at the same moment
        import threading

        start = threading.Barrier(2)

        def run(w):
            start.wait()
            w.watch_businesses()

        threads = [threading.Thread(target=run, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        for w in workers:
            w.send_sms()
        # then there is one alert, and the duty contact is texted once
        assert len(alerts(capsys, config)) == 1
        assert len(sms_provider.messages_to(DUTY)) == 1
    finally:
        for w in workers:
            w.db.dispose()


def test_a_running_worker_texts_the_alert_as_soon_as_the_third_complaint_is_dispatched(tmp_path, db, db_url,
                                                                                      sms_provider):
    import time

    from simulators.testing import running_worker, wait_for

    # given a worker running as `onequeue run` runs it, whose registry job comes round only every ten minutes
    nowhere = SimpleNamespace(base_url="http://127.0.0.1:9")
    config = load_config(write_config(tmp_path / "config.yaml", db_url, nowhere, sms_provider,
                                      extra="watch:\n  catch_up_seconds: 600\n"))
    with running_worker(config) as worker:
        time.sleep(0.5)   # its first round of jobs is over
        # when three complaints of a flight arrive
        started = time.monotonic()
        for i in range(3):
            at = datetime.now(CST) - timedelta(hours=3 - i)
            with worker.db.transaction() as s:
                store.ingest(s, "12345-shunde", "12345", [IncomingTicket(
                    source_ref=f"R-{i}", source_updated_at=at, received_at=at, title="预付卡投诉", text=FLIGHT,
                    business_name="悦动健身", event_address="大良街道华盖路88号", complainant_phone=str(next(PHONES)))])
        # then the duty contact has the alert within seconds, woken by the dispatch, not by the interval
        wait_for(lambda: sms_provider.messages_to(DUTY), "the alert's SMS to the duty contact", seconds=15)
        assert time.monotonic() - started < 15
