"""Surges (投诉激增): ten weeks of a shop's steady complaints taken in by the worker's own jobs (dispatch, the
statistics' rollup, the business registry), then a day of many: the surge job raises one alert for the shop's
series with that day's tickets and texts the duty contact; looking again raises nothing more; once closed, the same
surge raises nothing, a later one raises a new alert. Steady weeks raise nothing."""
from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from cli.main import main as onequeue
from notify.models import SmsMessage
from settings.config_schema import load_config
from tickets import IncomingTicket, store
from watch.alert_rules import load_alert_rules
from watch.surge import detect
from worker import Worker

CST = timezone(timedelta(hours=8))
DUTY = "+8613807570010"   # 胡锦辉, 值班员 of 投诉举报指挥中心 in units.yaml
NOW = datetime.now(CST)
TODAY = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
WEEKLY = (1, 2, 1, 0, 2, 1, 1)   # the shop's complaints on each weekday of an ordinary week
PHONES = itertools.count(13700000001)
refs = itertools.count(1)


def complain(worker, moments, business="顺德区好味道餐饮店", text="饭菜不新鲜，吃后腹泻") -> None:
    with worker.db.transaction() as s:
        store.ingest(s, "12345-shunde", "12345", [IncomingTicket(
            source_ref=f"S-{next(refs)}", source_updated_at=at, received_at=at, kind="complaint",
            title="餐饮投诉", text=f"{text}（第{i}次）", business_name=business,
            event_address="大良街道华盖路88号", complainant_phone=str(next(PHONES))) for i, at in enumerate(moments)])


def jobs(worker) -> None:
    """The worker's jobs as they come round: dispatch, the rollup, the registry, the surge scan, SMS."""
    worker.dispatch()
    worker.catch_up_stats()
    worker.watch_businesses()
    worker.scan_surges()
    worker.send_sms()


def history(worker, weeks: int = 10) -> None:
    moments = []
    for d in range(7 * weeks, 0, -1):
        day = TODAY - timedelta(days=d)
        moments += [day + timedelta(hours=10, minutes=7 * i) for i in range(WEEKLY[day.weekday()])]
    complain(worker, moments)


def alerts(capsys, config, status="all") -> list[dict]:
    capsys.readouterr()
    assert onequeue(["alerts", "list", "--status", status, "--json", "--config", config]) == 0
    return json.loads(capsys.readouterr().out)


def surges_of(found, series_word: str) -> list[dict]:
    return [a for a in found if a["rule"] == "surge" and series_word in a["summary"]]


def test_a_day_of_many_complaints_about_one_shop_raises_one_surge_alert(worker, config, capsys):
    # given ten ordinary weeks
    history(worker)
    jobs(worker)
    assert [a for a in alerts(capsys, config) if a["rule"] == "surge"] == []
    # when today brings nine complaints about the shop (an ordinary day brings two at most)
    spike = [min(NOW, TODAY + timedelta(hours=23)) - timedelta(minutes=5 * i + 1) for i in range(9)]
    complain(worker, spike)
    jobs(worker)
    # then one surge alert for the shop, with today's nine tickets behind it
    [alert] = surges_of(alerts(capsys, config), "商家")
    assert "好味道" in alert["summary"] and "9宗" in alert["summary"] and alert["status"] == "open"
    assert len(alert["tickets"]) == 9
    # the town's series surged too: one alert each, never one per ticket or per scan
    found = alerts(capsys, config)
    assert len(surges_of(found, "镇街大良街道")) == 1
    # and the duty contact has a digest planned that names the shop
    with worker.db.transaction() as s:
        bodies = [m.body for m in s.scalars(select(SmsMessage).where(SmsMessage.to_phone == DUTY,
                                                                     SmsMessage.purpose == "alert"))
                  if "投诉激增" in m.body]
    assert len(bodies) == 1 and "好味道" in bodies[0]
    assert [a for a in found if a["rule"] == "surge" and "catering" in a["summary"]] == []  # names, not ids
    # looking again raises nothing new; a tenth complaint today joins the alert
    complain(worker, [spike[0] - timedelta(minutes=50)])
    jobs(worker)
    again = alerts(capsys, config)
    assert len([a for a in again if a["rule"] == "surge"]) == len([a for a in found if a["rule"] == "surge"])
    [alert] = surges_of(again, "商家")
    assert len(alert["tickets"]) == 10
    # once acknowledged and closed, the same surge raises nothing more
    for a in [a for a in again if a["rule"] == "surge"]:
        assert onequeue(["alerts", "ack", str(a["id"]), "--note", "已核查", "--config", config]) == 0
        assert onequeue(["alerts", "close", str(a["id"]), "--note", "商家已整改", "--config", config]) == 0
    complain(worker, [spike[0] - timedelta(minutes=55)])
    jobs(worker)
    assert [a for a in alerts(capsys, config, "active") if a["rule"] == "surge"] == []


def test_detect_finds_a_new_surge_after_the_last_and_nothing_in_steady_weeks():
    settings = load_alert_rules().surge
    steady = [WEEKLY[d % 7] for d in range(7 * 20)]
    assert detect(steady, settings, test_from=7 * 8) == []
    surged = list(steady)
    surged[7 * 15] += 8
    [signal] = detect(surged, settings, test_from=7 * 8)
    assert signal.day == 7 * 15 and signal.method in ("poisson", "negbin") and signal.count == WEEKLY[0] + 8
    # a slow rise: each day two more than usual for two weeks, no single day remarkable enough on its own
    risen = list(steady)
    for d in range(7 * 15, 7 * 17):
        risen[d] += 2
    found = detect(risen, settings, test_from=7 * 8)
    assert found and found[0].day >= 7 * 15 and min(s.day for s in found) < 7 * 17


def test_two_workers_scanning_at_once_raise_each_surge_once(worker, config, capsys):
    import threading

    history(worker)
    complain(worker, [min(NOW, TODAY + timedelta(hours=23)) - timedelta(minutes=5 * i + 1) for i in range(9)])
    worker.dispatch()
    worker.catch_up_stats()
    worker.watch_businesses()
    other = Worker(load_config(config))
    try:
        errors = []
        def scan(w):
            try:
                w.scan_surges()
            except Exception as e:   # noqa: BLE001 — the assertion below says which
                errors.append(e)
        threads = [threading.Thread(target=scan, args=(w,)) for w in (worker, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        other.db.dispose()
    assert errors == []
    found = [a for a in alerts(capsys, config) if a["rule"] == "surge"]
    assert len(surges_of(found, "商家")) == 1
    assert len({a["summary"] for a in found}) == len(found)
    with worker.db.transaction() as s:
        assert len([m for m in s.scalars(select(SmsMessage).where(SmsMessage.to_phone == DUTY))
                    if "投诉激增" in m.body]) == 1
