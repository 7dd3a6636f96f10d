"""GET /api/stats/...: the statistics as JSON for a signed-in person, over HTTP to the worker's own web server.
Orders of the 12345 stand-in go through the real worker (poll, dispatch, and the rollup's catch-up); the figures
agree with the tickets in the database, a branch's staff get their branch's alone, and the ticket page shows the
industry and the hot words a complaint is counted under."""
from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import requests
from sqlalchemy import select

from stats.periods import today
from tickets import Ticket

from .conftest import PASSWORD


def signed_in(site, login: str) -> requests.Session:
    http = requests.Session()
    http.trust_env = False  # loopback, never through a proxy
    form = http.get(site.url + "/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    answer = http.post(site.url + "/login", data={"username": login, "password": PASSWORD, "csrf_token": token},
                       timeout=10)
    assert answer.status_code == 200
    return http


def period() -> str:
    """The last thirty days to tomorrow: every order the stand-in made just now, whatever the hour."""
    return f"{today() - timedelta(days=30)}..{today() + timedelta(days=1)}"


def test_the_figures_over_http_agree_with_the_tickets_and_keep_to_the_persons_units(site, hotline, make_user):
    hotline.add_orders(30, seed=7)
    site.worker.run_once()   # polls, dispatches and takes the history into the rollup
    with site.db.transaction() as s:
        tickets = [t for t in s.scalars(select(Ticket)) if t.status != "duplicate"]
    by_town = Counter(t.town or "" for t in tickets)
    by_unit = Counter(t.assigned_unit or "" for t in tickets)

    admin = signed_in(site, make_user("admin1", name="李管理", unit="sd-amr-consumer", role="admin"))
    data = admin.get(site.url + "/api/stats/counts", params={"period": period(), "by": "town"}, timeout=10).json()
    assert {r["town"]: r["tickets"] for r in data["rows"] if r["tickets"]} == dict(by_town)
    assert data["total"]["tickets"] == len(tickets) == 30

    crossed = admin.get(site.url + "/api/stats/counts", params={"period": period(), "by": ["unit", "channel"]},
                        timeout=10).json()
    for unit, n in by_unit.items():
        assert sum(r["tickets"] for r in crossed["rows"] if r["unit"] == unit) == n
    assert all(r["unit_label"] and r["channel_label"] == "12345热线" for r in crossed["rows"])

    # staff of one branch see the tickets of their branch and its stations alone
    station, n = next((u, n) for u, n in by_unit.most_common() if u and site.units.get(u).kind == "station")
    branch = site.units.get(station).parent
    staff = signed_in(site, make_user("zhang", name="张三", unit=branch))
    theirs = staff.get(site.url + "/api/stats/counts", params={"period": period(), "by": "unit"}, timeout=10).json()
    mine = {u.id for u in site.units if u.id == branch or u.parent == branch}
    assert {r["unit"] for r in theirs["rows"]} == {u for u in by_unit if u in mine}
    assert theirs["total"]["tickets"] == sum(n for u, n in by_unit.items() if u in mine) < len(tickets)

    handling = admin.get(site.url + "/api/stats/handling", params={"period": period()}, timeout=10).json()
    assert handling["total"]["tickets"] == 30
    words = admin.get(site.url + "/api/stats/words", params={"period": period()}, timeout=10).json()
    assert words["terms"] and all(w["tickets"] >= 1 for w in words["terms"])

    assert admin.get(site.url + "/api/stats/counts", params={"by": "colour"}, timeout=10).status_code == 400
    assert requests.get(site.url + "/api/stats/counts", params={"by": "town"}, timeout=10).status_code == 401


def test_the_ticket_page_shows_the_industry_and_the_hot_words_it_is_counted_under(site, hotline, make_user):
    order = hotline.add_orders(1, seed=3)[0]
    hotline.update_order(order["GDBH"], BSQYMC="大良某健身会所", BT="预付卡退费难",
                         SQNR="在健身会所办了预付卡，现在会所关门跑路，要求退费。")
    site.worker.run_once()
    with site.db.transaction() as s:
        number = s.scalar(select(Ticket.number).where(Ticket.source_ref == order["GDBH"]))
    admin = signed_in(site, make_user("admin1", name="李管理", unit="sd-amr-consumer", role="admin"))
    page = admin.get(f"{site.url}/tickets/{number}", timeout=10).text
    counted = re.search(r'<td class="counted">(.*?)</td>', page, re.S).group(1)
    assert "预付式消费" in counted and "商家名称含「健身」" in counted
    terms = re.findall(r'<span class="term">([^<]+)</span>', counted)
    assert "预付卡" in terms and "关门跑路" in terms and "要求" not in terms   # the dictionary keeps them whole
