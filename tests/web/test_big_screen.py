"""The big screen (数字大屏) in a real headless Chromium at 1920×1080: opened on a wall display with the display
token and no login, it shows today's intake by channel, the towns' open and overdue tickets and the hot words,
and no request leaves this machine. A wrong token is a login; a person who may not see the whole district is
refused."""
from __future__ import annotations

from collections import Counter
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from tickets import Ticket

from .conftest import log_in

pytestmark = pytest.mark.slow


def test_the_big_screen_shows_the_day_with_its_token_and_asks_nothing_of_the_internet(start_site, hotline, browser,
                                                                                      tmp_path):
    site = start_site()
    site.worker.config.web.display_token = "wall-display-7f3a"
    hotline.add_orders(25, seed=21)
    site.worker.run_once()
    with site.db.transaction() as s:
        tickets = [t for t in s.scalars(select(Ticket)) if t.status != "duplicate"]
    by_town = Counter(t.town for t in tickets if t.town)

    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    hosts = []
    context.on("request", lambda request: hosts.append(urlparse(request.url).hostname))
    page = context.new_page()
    page.goto(site.url + "/screen?token=wall-display-7f3a")
    assert page.locator(".intake .big").inner_text().startswith(str(len(tickets)))
    assert "12345热线" in page.locator(".channels").inner_text()
    town, n = by_town.most_common(1)[0]
    assert page.locator(f".tile[data-town='{town}'] .open").inner_text() == str(n)
    assert page.locator(".tile").count() == 10
    assert page.locator(".words li").count() >= 1
    assert set(hosts) == {"127.0.0.1"}
    assert page.evaluate("document.body.scrollHeight") <= 1080   # one screen, nothing below the fold
    page.screenshot(path=str(tmp_path / "big-screen.png"))   # docs/big-screen.png, shown in the README, is one
    context.close()


def test_without_the_token_the_big_screen_needs_a_person_who_sees_the_district(site, make_user, page):
    page.goto(site.url + "/screen?token=guess")
    assert "/login" in page.url
    log_in(page, site, make_user("zhang", name="张三", unit="st-daliang-01"))
    page.goto(site.url + "/screen")
    assert "仅限可查看全区工单的人员" in page.content()
