"""The 12345 stand-in, over real HTTP: it must behave as the contract says, including its faults."""
from __future__ import annotations

import csv
import re
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import requests

from simulators import WorkOrder12345
from simulators.clock import ManualClock
from simulators.order_factory import DIVISIONS_CSV

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 23, 9, 0, 0, tzinfo=CST)  # a Monday


@pytest.fixture
def clock():
    return ManualClock(T0)


@pytest.fixture
def hotline(clock):
    with WorkOrder12345("app", "secret", clock=clock, rate_limit_rps=None, seed=5) as sim:
        yield sim


class Client:
    """Just enough of a 12345 client to drive the stand-in in tests."""

    def __init__(self, sim: WorkOrder12345):
        self.sim = sim
        self.token = None

    def login(self, app_id="app", app_secret="secret") -> requests.Response:
        resp = requests.post(self.sim.base_url + "/api/v1/auth/token",
                             json={"app_id": app_id, "app_secret": app_secret})
        if resp.status_code == 200:
            self.token = resp.json()["token"]
        return resp

    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def list(self, **params) -> requests.Response:
        return requests.get(self.sim.base_url + "/api/v1/workorders", params=params, headers=self.headers())

    def write(self, gdbh: str, call: str, **body) -> requests.Response:
        return requests.post(f"{self.sim.base_url}/api/v1/workorders/{gdbh}/{call}", json=body, headers=self.headers())

    def all_pages(self, page_size: int, **params) -> list[dict]:
        items, page = [], 1
        while True:
            body = self.list(page=page, page_size=page_size, **params).json()
            items += body["items"]
            if len(body["items"]) < page_size:
                return items
            page += 1


@pytest.fixture
def client(hotline):
    c = Client(hotline)
    assert c.login().status_code == 200
    return c


def test_token_is_refused_once_expired_and_a_new_one_works(clock):
    with WorkOrder12345("app", "secret", clock=clock, token_ttl=60, rate_limit_rps=None) as sim:
        c = Client(sim)
        answer = c.login().json()
        assert answer["code"] == 0 and answer["expires_in"] == 60

        assert c.list().status_code == 200
        clock.advance(61)
        expired = c.list()
        assert expired.status_code == 401 and expired.json()["code"] == 40101

        c.login()
        assert c.list().status_code == 200


def test_wrong_credentials_and_missing_token_are_refused(hotline):
    c = Client(hotline)
    wrong = c.login(app_secret="guess")
    assert wrong.status_code == 401 and wrong.json()["code"] == 40100
    no_token = c.list()
    assert no_token.status_code == 401 and no_token.json()["code"] == 40101


def test_listing_is_ordered_by_update_time_then_number_across_pages(hotline, client, clock):
    first = hotline.add_orders(25)
    clock.advance(30)
    hotline.update_order(first[3]["GDBH"], SQNR="来电人补充：商家已失联。")

    items = client.all_pages(page_size=10)

    numbers = [i["GDBH"] for i in items]
    expected = sorted(o["GDBH"] for o in first if o["GDBH"] != first[3]["GDBH"]) + [first[3]["GDBH"]]
    assert numbers == expected
    assert client.list(page_size=10).json()["total"] == 25
    assert items[-1]["SQNR"] == "来电人补充：商家已失联。"


def test_updated_since_is_inclusive(hotline, client, clock):
    hotline.add_orders(3)
    clock.advance(60)
    changed = hotline.update_order(hotline.orders[0]["GDBH"], JJCD="紧急")

    body = client.list(updated_since=changed["GXSJ"]).json()

    assert [i["GDBH"] for i in body["items"]] == [changed["GDBH"]]
    assert body["total"] == 1


@pytest.mark.parametrize("params", [{"page_size": 0}, {"page_size": 201}, {"page": 0}, {"updated_since": "昨天"}])
def test_bad_list_parameters_get_400(client, params):
    resp = client.list(**params)
    assert resp.status_code == 400 and resp.json()["code"] == 40000


def test_orders_arriving_between_pages_shift_the_pages(hotline, client):
    hotline.add_orders(4)
    pages_seen = []

    def arrive(query):
        pages_seen.append(query["page"])
        if query["page"] == 2:
            hotline.add_orders(3)

    hotline.on_list = arrive
    page1 = client.list(page=1, page_size=2).json()
    page2 = client.list(page=2, page_size=2).json()

    assert pages_seen == [1, 2]
    assert page1["total"] == 4 and page2["total"] == 7


def test_a_repeated_request_id_returns_the_first_answer_and_has_no_second_effect(hotline, client):
    gdbh = hotline.add_orders(1)[0]["GDBH"]
    before = hotline.get(gdbh)["GXSJ"]

    first = client.write(gdbh, "sign", request_id="sign-1", CBDW="大良市场监管所", QSSJ="2026-11-23T09:05:00+08:00")
    again = client.write(gdbh, "sign", request_id="sign-1", CBDW="大良市场监管所")

    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == {"code": 0, "msg": "成功"}
    assert hotline.effect_count(gdbh, "sign") == 1
    order = hotline.get(gdbh)
    assert order["ZT"] == "已签收" and order["CBDW"] == "大良市场监管所" and order["GXSJ"] > before

    other = client.write(gdbh, "sign", request_id="sign-2", CBDW="大良市场监管所")
    assert other.status_code == 409 and other.json()["code"] == 40901
    assert client.write(gdbh, "sign", request_id="sign-2", CBDW="x").json()["code"] == 40901  # first answer kept


def test_the_state_table_is_enforced(hotline, client):
    a, b, c, d = (o["GDBH"] for o in hotline.add_orders(4))

    assert client.write(a, "reply", request_id="r0", HFLX="阶段答复", HFNR="已联系商家").json()["code"] == 40902
    assert client.write(a, "sign", request_id="s1", CBDW="伦教市场监管所").status_code == 200
    assert client.write(a, "reply", request_id="r1", HFLX="阶段答复", HFNR="已联系商家，约定周五协调").status_code == 200
    assert hotline.get(a)["ZT"] == "办理中"
    deadline = hotline.get(a)["BLSX"]
    assert client.write(a, "extend", request_id="e1", YQTS=5, YQYY="需等待检测报告").status_code == 200
    assert hotline.get(a)["BLSX"] > deadline
    done = client.write(a, "reply", request_id="r2", HFLX="办结", HFNR="经调解，商家已退款3000元。", CBR="梁工")
    assert done.status_code == 200
    assert hotline.get(a)["ZT"] == "已办结" and hotline.get(a)["HFNR"] == "经调解，商家已退款3000元。"
    late = client.write(a, "return", request_id="t1", THYY="不属本单位职责")
    assert late.status_code == 409 and late.json() == {"code": 40902, "msg": "状态不允许"}

    assert client.write(b, "return", request_id="t2", THYY="属交通部门职责").status_code == 200
    assert hotline.get(b)["ZT"] == "已退回" and hotline.get(b)["THYY"] == "属交通部门职责"

    hotline.withdraw(c)
    assert client.write(c, "sign", request_id="s3", CBDW="容桂市场监管所").json()["code"] == 40902

    assert client.write(d, "extend", request_id="e4", YQTS=3, YQYY="x").json()["code"] == 40902
    missing = client.write("FS12345-20990101-000001", "sign", request_id="s9", CBDW="x")
    assert missing.status_code == 404 and missing.json()["code"] == 40400
    invalid = client.write(d, "reply", request_id="r9", HFLX="随便", HFNR="x")
    assert invalid.status_code == 400

    assert [(e["gdbh"], e["call"]) for e in hotline.effects] == [
        (a, "sign"), (a, "reply"), (a, "extend"), (a, "reply"), (b, "return"),
    ]


def test_an_answer_lost_after_the_effect_is_repaired_by_retrying_the_request_id(hotline, client):
    gdbh = hotline.add_orders(1)[0]["GDBH"]
    hotline.fail_next(1, 502, after_effect=True)

    lost = client.write(gdbh, "sign", request_id="k1", CBDW="北滘市场监管所")
    retried = client.write(gdbh, "sign", request_id="k1", CBDW="北滘市场监管所")

    assert lost.status_code == 502 and "text/html" in lost.headers["Content-Type"]
    assert retried.status_code == 200
    assert hotline.effect_count(gdbh, "sign") == 1


def test_above_the_rate_limit_answers_429_with_retry_after(hotline, client):
    hotline.rate_limit_rps = 5
    answers = [client.list() for _ in range(8)]

    limited = [a for a in answers if a.status_code == 429]
    assert len(limited) >= 3
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert limited[0].json()["code"] == 42900


def test_maintenance_answers_503_and_sometimes_html(hotline, client):
    hotline.maintenance = True
    answers = [client.list() for _ in range(2)]
    assert [a.status_code for a in answers] == [503, 503]
    kinds = sorted(a.headers["Content-Type"].split(";")[0] for a in answers)
    assert kinds == ["application/json", "text/html"]

    hotline.maintenance = False
    assert client.list().status_code == 200


def test_nightly_maintenance_follows_the_clock(hotline, client, clock):
    hotline.nightly_maintenance = True
    assert client.list().status_code == 200
    clock.set(datetime(2026, 11, 24, 1, 10, tzinfo=CST))
    assert client.list().status_code == 503


def test_staged_failures_and_random_errors(hotline, client):
    hotline.fail_next(2, 500)
    assert [client.list().status_code for _ in range(3)] == [500, 500, 200]

    hotline.error_rate = 1.0
    assert {client.list().status_code for _ in range(10)} <= {500, 502}
    hotline.error_rate = 0.0


def test_latency_slows_every_answer(hotline, client):
    hotline.latency = 0.2
    started = time.monotonic()
    client.list()
    assert time.monotonic() - started >= 0.2


def test_malformed_records_are_listed_with_the_rest(hotline, client):
    hotline.add_orders(3, malformed=4)

    items = client.list().json()["items"]

    assert len(items) == 7
    assert any("GDBH" not in i for i in items)
    assert any(not is_date(i["LDSJ"]) for i in items)
    assert any(not is_date(i["GXSJ"]) for i in items)


def is_date(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def test_go_down_refuses_connections_and_come_up_keeps_state(hotline, client):
    gdbh = hotline.add_orders(2)[0]["GDBH"]
    client.write(gdbh, "sign", request_id="before-outage", CBDW="陈村市场监管所")
    url = hotline.base_url

    hotline.go_down()
    with pytest.raises(requests.ConnectionError):
        client.list()

    hotline.come_up()
    assert hotline.base_url == url
    body = client.list().json()  # the token from before the outage is still good
    assert body["total"] == 2
    assert client.write(gdbh, "sign", request_id="before-outage", CBDW="x").status_code == 200
    assert hotline.effect_count(gdbh, "sign") == 1


def test_state_file_keeps_orders_effects_and_answers_across_restarts(tmp_path, clock):
    state = tmp_path / "12345.json"
    with WorkOrder12345("app", "secret", clock=clock, rate_limit_rps=None, state_file=state) as sim:
        orders = sim.add_orders(3, malformed=1)
        c = Client(sim)
        c.login()
        c.write(orders[0]["GDBH"], "sign", request_id="persist-1", CBDW="乐从市场监管所")

    with WorkOrder12345("app", "secret", clock=clock, rate_limit_rps=None, state_file=state) as sim:
        assert len(sim.orders) == 4
        assert sim.get(orders[0]["GDBH"])["ZT"] == "已签收"
        c = Client(sim)
        c.login()
        assert c.write(orders[0]["GDBH"], "sign", request_id="persist-1", CBDW="x").status_code == 200
        assert sim.effect_count(orders[0]["GDBH"], "sign") == 1
        assert sim.add_orders(1)[0]["GDBH"] not in {o.get("GDBH") for o in orders}


def test_each_update_moves_an_orders_update_time_forward_even_within_one_second(hotline, clock):
    a, b = (o["GDBH"] for o in hotline.add_orders(2))

    stamps = [hotline.update_order(a, SQNR=f"补充{i}")["GXSJ"] for i in range(3)]
    later = hotline.update_order(b, JJCD="紧急")["GXSJ"]

    assert stamps[0] < stamps[1] < stamps[2]
    assert later >= stamps[2]  # never behind what a client has already seen


def test_generated_orders_look_like_shunde_hotline_orders(hotline):
    orders = hotline.add_orders(200, seed=11)
    with open(DIVISIONS_CSV, encoding="utf-8") as f:
        codes = {row["code"] for row in csv.DictReader(f)}
    towns = ("大良街道", "容桂街道", "伦教街道", "勒流街道", "陈村镇", "北滘镇", "乐从镇", "龙江镇", "杏坛镇", "均安镇")

    assert len({o["GDBH"] for o in orders}) == 200
    for o in orders:
        assert re.fullmatch(r"FS12345-\d{8}-\d{6}", o["GDBH"])
        assert re.fullmatch(r"1[358]\d{9}", o["LDHM"])
        assert o["QYDM"] in codes and len(o["QYDM"]) in (6, 9, 12)
        assert o["SFDZ"].startswith("佛山市顺德区") and any(t in o["SFDZ"] for t in towns)
        assert "居委会" not in o["SFDZ"] and "村委会" not in o["SFDZ"]
        assert o["ZT"] == "待签收" and o["FJ"] is not None
        received, updated = datetime.fromisoformat(o["LDSJ"]), datetime.fromisoformat(o["GXSJ"])
        assert received.utcoffset() == timedelta(hours=8) and received < updated
        assert datetime.fromisoformat(o["BLSX"]) > updated
        assert re.search(r"[\u4e00-\u9fff]{10}", o["SQNR"])
    kinds = Counter(o["SQLX"] for o in orders)
    assert kinds.most_common(1)[0][0] == "投诉" and len(kinds) >= 4
    assert Counter(o["JJCD"] for o in orders).most_common(1)[0][0] == "一般"
    assert any(o["LDRXM"] == "" for o in orders) and any(o["LDRXM"].endswith("女士") for o in orders)
    assert len({o["BT"] for o in orders}) > 20
    assert hotline.add_orders(5, seed=3) != hotline.add_orders(5, seed=4)


def test_orders_keep_arriving_in_the_background_until_stop():
    with WorkOrder12345(rate_limit_rps=None) as sim:
        sim.generate_every(0.05, 2)
        deadline = time.monotonic() + 3
        while len(sim.orders) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(sim.orders) >= 4
    settled = len(sim.orders)
    time.sleep(0.15)
    assert len(sim.orders) == settled
