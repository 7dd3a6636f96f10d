"""The administrators' page of gazetteer suggestions in a real headless Chromium: three tickets on one road
dispatched by hand to one station are listed with their tickets; 采纳 writes the road into gazetteer.yaml and the
next ticket on it goes there by itself; 驳回 lists it no more; staff get 403."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from tickets import store
from tickets.models import Ticket
from tickets.schema import IncomingTicket

from .conftest import Site, log_in

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path("var/screenshots")


@pytest.fixture
def site(tmp_path, db_url, hotline, sms_provider):
    """A back office whose units.yaml, rules.yaml and gazetteer.yaml are copies of the defaults, its own to change."""
    from settings.config_schema import load_config
    from simulators.testing import write_config
    from web.app import bound_port
    from worker import Worker

    for name in ("units.yaml", "rules.yaml", "gazetteer.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    config_path = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider,
                               units_file=tmp_path / "units.yaml", rules_file=tmp_path / "rules.yaml")
    worker = Worker(load_config(config_path))
    worker.prepare()
    worker.start_web()
    yield Site(f"http://127.0.0.1:{bound_port(worker.web_server)}", worker, config_path)
    worker.web_server.should_exit = True
    worker.db.dispose()


def _arrive(site: Site, ref: str, address: str) -> str:
    now = datetime.now(timezone.utc)
    with site.db.transaction() as s:
        store.ingest(s, "12345-shunde", "12345", [IncomingTicket(
            source_ref=ref, source_updated_at=now, received_at=now, text="买的电动车电池充不进电，店家推给厂家。",
            event_address=address)])
    site.worker.dispatch()
    with site.db.transaction() as s:
        return s.scalar(select(Ticket.number).where(Ticket.source_ref == ref))


def _unit(site: Site, number: str) -> str | None:
    with site.db.transaction() as s:
        return store.get_by_number(s, number).assigned_unit


def _send(page, site: Site, number: str, unit: str) -> None:
    """改派 on the ticket's page, as a person does it."""
    page.goto(site.url + f"/tickets/{number}")
    form = page.locator("form[action$='/reassign']")
    form.locator("input[name=unit]").fill(unit)
    form.locator("input[name=reason]").fill("该路段属服务站辖区")
    form.locator("button").click()
    page.wait_for_load_state()
    assert "已完成：改派" in page.inner_text("main")


def test_an_administrator_accepts_a_road_staff_taught_and_the_next_ticket_follows_it(site, logged_in_page):
    page = logged_in_page
    numbers = [_arrive(site, f"YB-{i}", f"顺德区大良迎宾路{i + 10}号") for i in range(3)]
    assert {_unit(site, n) for n in numbers} == {"br-daliang"}
    page.click("nav >> text=地名建议")
    assert page.locator("#no-suggestions").is_visible()

    # when staff send the three to 大良顺峰 from their pages
    for number in numbers:
        _send(page, site, number, "st-daliang-09")
    page.click("nav >> text=地名建议")
    row = page.locator("#suggestions tr[data-id]")
    assert row.count() == 1
    assert "迎宾路" in row.inner_text() and "大良顺峰消费维权服务站" in row.inner_text()
    assert [row.locator("a").nth(i).inner_text() for i in range(3)] == numbers
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "admin-gazetteer.png"), full_page=True)

    # and an administrator accepts it
    row.locator("button", has_text="采纳").click()
    page.wait_for_load_state()
    notice = page.inner_text("p.notice")
    assert "已采纳：迎宾路 已写入 gazetteer.yaml 第" in notice
    line = int(notice.split("第 ")[1].split(" 行")[0])
    written = (Path(site.config_path).parent / "gazetteer.yaml").read_text(encoding="utf-8").splitlines()
    assert written[line - 1].strip() == "- name: 迎宾路" and written[line + 1].strip() == "station: st-daliang-09"
    assert page.locator("#no-suggestions").is_visible()

    # then the next ticket on that road goes to that station by itself
    assert _unit(site, _arrive(site, "YB-9", "大良迎宾路99号")) == "st-daliang-09"


def test_a_rejected_suggestion_is_gone_and_staff_may_not_see_the_page(site, logged_in_page, make_user, new_page):
    page = logged_in_page
    for number in [_arrive(site, f"HX-{i}", f"容桂华西路{i + 1}号") for i in range(3)]:
        _send(page, site, number, "st-ronggui-03")
    page.goto(site.url + "/admin/gazetteer")
    page.locator("#suggestions tr[data-id] button", has_text="驳回").click()
    page.wait_for_load_state()
    assert "已驳回：华西路" in page.inner_text("p.notice")
    assert page.locator("#suggestions tr[data-id]").count() == 0

    staff = new_page()
    log_in(staff, site, make_user("staff1", role="staff"))
    assert staff.goto(site.url + "/admin/gazetteer").status == 403
    assert staff.locator("nav a[href='/admin/gazetteer']").count() == 0
