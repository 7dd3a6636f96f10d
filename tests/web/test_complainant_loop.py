"""The complainant kept in the loop, through the real entry points: a visitor registered at a station's counter
(`onequeue walkin register`) hears by SMS, at the Twilio stand-in, that the station accepted and resolved the
ticket; the progress page behind the link shows nothing personal; their reply `2` to the signed webhook puts the
ticket in the back office's 回访 view; `TD` stops every later progress message to that number."""
from __future__ import annotations

import io
import json
import re

import pytest
import requests
from sqlalchemy import select

from cli.main import main as onequeue
from notify.models import SmsMessage, SmsOptOut
from settings.logging_setup import configure_logging
from tickets import store, worklist
from tickets.followup import satisfaction
from tickets.models import Ticket
from tickets.worklist import Filters
from web.sms_routes import INBOUND_PATH

from .conftest import log_in

STATION = "st-daliang-01"
VISITOR = "13802891234"
VISITOR_E164 = "+86" + VISITOR
LOOP = """
  - name: walkin-stations
    kind: walk_in
complainant:
  quiet_hours: null          # the test runs at any hour; quiet hours have their own test
"""
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/p/[A-Za-z0-9_-]+)")


@pytest.fixture
def loop_site(start_site):
    site = start_site(extra=LOOP)
    # The address complainants' links and the provider's signatures use: where this test reaches the site.
    site.worker.config.web.public_url = site.url
    return site


def register_visit(site, text: str, capsys, business: str = "大良悦动健身会所") -> str:
    """A visitor at the station's counter, registered on the command line as staff do."""
    code = onequeue(["walkin", "register", "--config", site.config_path, "--station", STATION, "--name", "梁女士",
                     "--phone", VISITOR, "--text", text, "--business", business, "--address", "华盖路88号"])
    out = capsys.readouterr().out
    assert code == 0, out
    return out.split(":")[0]


def text_from(site, sms_provider, phone: str, body: str) -> None:
    status, _ = sms_provider.send_inbound(phone, body, site.url + INBOUND_PATH)
    assert status == 200


def station_contact(site, number: str) -> str:
    with site.db.transaction() as s:
        unit = site.units.get(store.get_by_number(s, number).assigned_unit)
    assert unit.id == STATION
    return "+86" + unit.contacts[0].phone


def to_visitor(sms_provider) -> list[str]:
    return [m["body"] for m in sms_provider.messages_to(VISITOR_E164)]


def plain_get(url: str) -> requests.Response:
    with requests.Session() as http:
        http.trust_env = False
        return http.get(url, timeout=5)


def test_a_walk_in_complainant_hears_of_acceptance_and_result_rates_it_and_stops_the_messages(
        loop_site, sms_provider, capsys):
    site, worker = loop_site, loop_site.worker
    # given a visitor registered twice at the station's counter, and the tickets dispatched back to the station
    number = register_visit(site, "健身会所停业，要求退还年卡余额3000元", capsys)
    second = register_visit(site, "奶茶店拒绝退还储值卡余额", capsys, business="华盖路某奶茶店")
    log = io.StringIO()
    configure_logging("info", stream=log)  # (after the command line, which sets its own)
    try:
        worker.dispatch()
        worker.send_sms()
        contact = station_contact(site, number)
        assert not to_visitor(sms_provider)  # dispatching tells the station, not yet the visitor

        # when the station accepts it by SMS
        text_from(site, sms_provider, contact, f"{number} 受理")
        worker.send_sms()
        # then the visitor is told which unit took it on, its number and a link to follow it
        (accepted,) = to_visitor(sms_provider)
        assert "大良升平消费维权服务站受理" in accepted and number in accepted and "回复TD退订" in accepted
        link = LINK.search(accepted).group(1)

        # and the page behind the link shows the number, kind, status, unit and dates, and nothing personal
        page = plain_get(link)
        assert page.status_code == 200
        for shown in (number, "投诉", "承办单位已受理", "大良升平消费维权服务站", "受理时间"):
            assert shown in page.text
        for personal in ("梁", VISITOR, VISITOR[:3] + "****", VISITOR[-4:], "华盖路", "健身会所", "年卡", "3000"):
            assert personal not in page.text, personal
        assert page.headers["Referrer-Policy"] == "no-referrer" and "noindex" in page.headers["X-Robots-Tag"]
        assert plain_get(link[:-3] + "xyz").status_code == 404

        # when the station resolves it by SMS
        text_from(site, sms_provider, contact, f"{number} 办结 会所已退还年卡余额3000元。")
        worker.send_sms()
        # then the visitor gets the result and the satisfaction question
        resolved = to_visitor(sms_provider)[1]
        assert "已办结：会所已退还年卡余额3000元。请回复1-5评价" in resolved and LINK.search(resolved)
        assert "已办结" in plain_get(link).text

        # when the visitor answers 2 through the signed webhook
        text_from(site, sms_provider, VISITOR_E164, "2")
        worker.send_sms()
        # then the answer is on the ticket and its history, the ticket is in 回访, and the visitor is told so
        with site.db.transaction() as s:
            ticket = store.get_by_number(s, number)
            assert [(e.action, e.actor, e.detail["rating"]) for e in ticket.events if e.action == "rated"] == [
                ("rated", "complainant", 2)]
            in_callback = worklist.find(s, Filters(view="callback"), worker_moments(site)).tickets
            assert [t.number for t in in_callback] == [number]
            figures = satisfaction(s)
        assert figures.answers == 1 and figures.by_rating[2] == 1 and figures.rate == 0 and figures.call_backs_due == 1
        assert "尽快回访您" in to_visitor(sms_provider)[2]
        # a station contact's bare "2" is not read as a rating: it is not understood
        text_from(site, sms_provider, contact, "2")

        # when the visitor replies TD
        text_from(site, sms_provider, VISITOR_E164, "TD")
        worker.send_sms()
        assert "已退订" in to_visitor(sms_provider)[3]
        # then their other ticket, accepted and resolved later, texts them nothing more
        text_from(site, sms_provider, contact, f"{second} 受理")
        text_from(site, sms_provider, contact, f"{second} 办结 已协调退款。")
        worker.send_sms()
        assert len(to_visitor(sms_provider)) == 4
        with site.db.transaction() as s:
            assert s.get(SmsOptOut, VISITOR_E164) is not None
            assert store.get_by_number(s, second).status == "resolved"
            outcomes = {m.purpose for m in s.scalars(select(SmsMessage).where(SmsMessage.to_phone == VISITOR_E164))}
        assert outcomes == {"progress_accepted", "progress_resolved", "progress_rated", "progress_stopped"}
    finally:
        configure_logging("warning")
    # and the logs name the number masked only
    lines = [json.loads(line) for line in log.getvalue().splitlines() if line.startswith("{")]
    assert any(line.get("event") == "complainant_opted_out" for line in lines)
    assert VISITOR not in log.getvalue()


def worker_moments(site):
    from web.parts import moments
    from web.app import WebContext

    return moments(WebContext(site.worker.config, site.db, site.worker.rules.current))


@pytest.mark.slow
def test_staff_see_the_unhappy_complainant_in_callback_and_mark_the_call_done(loop_site, sms_provider, make_user,
                                                                              page, new_page, capsys):
    site, worker = loop_site, loop_site.worker
    # given a resolved walk-in ticket whose complainant taps 1 on the progress page
    number = register_visit(site, "美容院拒退预付款", capsys, business="大良某美容院")
    worker.dispatch()
    contact = station_contact(site, number)
    text_from(site, sms_provider, contact, f"{number} 办结 商家拒不退款，已告知可申请仲裁。")
    worker.send_sms()
    link = LINK.search(to_visitor(sms_provider)[-1]).group(1)
    phone_page = new_page()
    phone_page.set_viewport_size({"width": 375, "height": 667})
    phone_page.goto(link)
    phone_page.get_by_role("button", name="1分 很不满意").click()
    phone_page.get_by_text("感谢您的评价").wait_for()
    assert "1分（很不满意）" in phone_page.content()
    assert phone_page.get_by_role("button", name="5分 很满意").count() == 0  # one answer per ticket

    # when staff open the 回访 view
    log_in(page, site, make_user("admin1", name="李管理", role="admin"))
    page.goto(site.url + "/?view=callback")
    row = page.get_by_role("link", name=number)
    row.first.wait_for()
    page.goto(site.url + f"/tickets/{number}")
    assert "1分（很不满意），进度页面评价" in page.content() and "待回访" in page.content()
    assert link.rsplit("/", 1)[1] not in page.content()  # the complainant's token is theirs, not shown to staff
    # and mark the call-back done with what was said
    page.fill("form[action$='/callback'] textarea[name=text]", "已电话回访，消费者同意申请仲裁。")
    page.click("form[action$='/callback'] button[type=submit]")
    page.get_by_text("已完成：已回访").wait_for()
    # then the ticket has left the view, and its history says who called back
    page.goto(site.url + "/?view=callback")
    assert page.get_by_role("link", name=number).count() == 0
    with site.db.transaction() as s:
        events = store.get_by_number(s, number).events
        assert [(e.action, e.actor) for e in events if e.action in ("rated", "called_back")] == [
            ("rated", "complainant"), ("called_back", "user:admin1")]
