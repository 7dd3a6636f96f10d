"""The station's phone page over real HTTP, without a browser: the link each dispatch SMS carries (as the Twilio
stand-in received it), what a link alone shows, the four digits, what moves a ticket and what is refused.
Tickets come from the 12345 stand-in through the real worker."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from notify.templates import segments
from tickets import Ticket
from tickets.db import utcnow

LINK = re.compile(r"https?://[^\s/]+/m/[A-Za-z0-9_-]+")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def station_site(site, hotline):
    """Orders of the 12345 stand-in, dispatched by the real worker and texted to their units' contacts."""
    hotline.add_orders(12)
    site.worker.run_once()
    return site


def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback, never through a proxy
    return session


def dispatch_texts(sms_provider) -> list[dict]:
    return [m for m in sms_provider.messages if "新派单" in m["body"]]


def ticket(site, number: str) -> Ticket:
    with site.db.transaction() as s:
        t = s.scalar(select(Ticket).where(Ticket.number == number))
        t.events
        return t


def a_dispatch(site, sms_provider) -> tuple[dict, str, Ticket]:
    """A dispatch SMS as the contact's phone got it, its link, and its ticket: the first ticket by number that
    names its complainant (messages reach the provider several at a time, so not the first message sent)."""
    def number_of(msg: dict) -> str:
        return re.search(r"SD\d{4}-\d{5}", msg["body"]).group(0)

    for msg in sorted(dispatch_texts(sms_provider), key=lambda m: (number_of(m), m["to"])):
        t = ticket(site, number_of(msg))
        if t.complainant_name and t.complainant_phone:
            return msg, LINK.search(msg["body"]).group(0), t
    raise AssertionError("no dispatched ticket names its complainant")


def signed_in(link: str, phone: str) -> requests.Session:
    """A browser that gave the right four digits for `link`."""
    browser = http()
    page = browser.get(link)
    form_token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    answer = browser.post(link + "/digits", data={"form_token": form_token, "digits": phone[-4:]})
    assert answer.status_code == 200 and "办理记录" in answer.text
    return browser


def form_token(page_text: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page_text).group(1)


def test_every_dispatch_sms_carries_its_own_link_in_two_segments(station_site, sms_provider):
    texts = dispatch_texts(sms_provider)
    assert len(texts) >= 12
    links = [LINK.search(m["body"]) for m in texts]
    assert all(links), [m["body"] for m in texts]
    # the link is the message's end, so a phone makes all of it one link; one link per message
    assert all(m["body"].endswith(link.group(0)) for m, link in zip(texts, links))
    assert len({link.group(0) for link in links}) == len(texts)
    counts = sorted(segments(m["body"]) for m in texts)
    print("dispatch SMS segments:", counts, "longest", max(len(m["body"]) for m in texts), "characters")
    assert max(counts) <= 2


def test_a_link_alone_shows_nothing_of_the_ticket_and_acts_on_nothing(station_site, sms_provider):
    msg, link, t = a_dispatch(station_site, sms_provider)
    stranger = http()
    page = stranger.get(link)
    assert page.status_code == 200 and "手机号码后四位" in page.text
    for secret in (t.complainant_name, t.complainant_phone, t.text[:10], t.number):
        assert secret and secret not in page.text
    # a form posted with no remembered browser changes nothing: the digits are asked again
    refused = stranger.post(f"{link}/t/{t.number}/accept", data={"form_token": "x"})
    assert "手机号码后四位" in refused.text
    assert ticket(station_site, t.number).status == "dispatched"


def test_the_contact_accepts_and_reaches_the_complainant_as_the_actor(station_site, sms_provider):
    msg, link, t = a_dispatch(station_site, sms_provider)
    browser = signed_in(link, msg["to"])
    page = browser.get(link)
    assert t.complainant_name in page.text and f'href="tel:{t.complainant_phone}"' in page.text
    assert "剩" in page.text  # the working time left before the first deadline
    token = form_token(page.text)
    assert "已受理" in browser.post(f"{link}/t/{t.number}/accept", data={"form_token": token}).text
    browser.post(f"{link}/t/{t.number}/contact", data={"form_token": token})
    done = ticket(station_site, t.number)
    unit = station_site.units.get(done.assigned_unit)
    name = next(c.name for c in unit.contacts if msg["to"].endswith(c.phone))
    assert done.status == "accepted"
    assert [(e.action, e.actor) for e in done.events[-2:]] == [("accepted", f"station:{name}"),
                                                                ("contacted", f"station:{name}")]


def test_a_form_without_the_pages_token_is_refused(station_site, sms_provider):
    msg, link, t = a_dispatch(station_site, sms_provider)
    browser = signed_in(link, msg["to"])
    answer = browser.post(f"{link}/t/{t.number}/accept", data={"form_token": "forged"})
    assert answer.status_code == 403 and "页面已过期" in answer.text
    assert ticket(station_site, t.number).status == "dispatched"


def test_a_file_that_is_not_an_image_is_refused_and_nothing_resolved(station_site, sms_provider):
    msg, link, t = a_dispatch(station_site, sms_provider)
    browser = signed_in(link, msg["to"])
    token = form_token(browser.get(link).text)
    answer = browser.post(f"{link}/t/{t.number}/resolve", data={"form_token": token, "result": "已退款"},
                          files=[("photos", ("scene.jpg", b"MZ\x90\x00 not a picture at all", "image/jpeg"))])
    assert answer.status_code == 400 and "只能上传照片" in answer.text
    assert ticket(station_site, t.number).status == "dispatched"
    # a real image goes in with the result
    answer = browser.post(f"{link}/t/{t.number}/resolve",
                          data={"form_token": token, "common_result": "经调解，商家同意全额退款，消费者表示满意。"},
                          files=[("photos", ("a.png", PNG, "image/png"))])
    assert answer.status_code == 200 and "已上传 1 张" in answer.text
    assert ticket(station_site, t.number).result_text.startswith("经调解，商家同意全额退款")


def test_return_and_request_to_reassign_take_the_ticket_from_the_unit(station_site, sms_provider):
    firsts = {}  # the first message of each ticket
    for msg in dispatch_texts(sms_provider):
        number = re.search(r"SD\d{4}-\d{5}", msg["body"]).group(0)
        firsts.setdefault(number, (msg, LINK.search(msg["body"]).group(0), number))
    (m1, l1, n1), (m2, l2, n2) = list(firsts.values())[:2]
    b1 = signed_in(l1, m1["to"])
    b1.post(f"{l1}/t/{n1}/reassign", data={"form_token": form_token(b1.get(l1).text), "reason": "不在本站辖区"})
    moved = ticket(station_site, n1)
    assert moved.status == "triage" and moved.assigned_unit is None
    assert moved.events[-1].action == "reassign_requested" and moved.events[-1].detail["reason"] == "不在本站辖区"
    assert b1.get(l1).status_code == 410  # the ticket left the unit: its link with it
    from tickets import worklist  # and it waits in the back office's 待分派 for a person

    with station_site.db.transaction() as s:
        now = utcnow()
        triage = worklist.find(s, worklist.Filters(view="triage"), worklist.Moments(now, now), limit=100)
        assert n1 in [x.number for x in triage.tickets]
    b2 = signed_in(l2, m2["to"])
    b2.post(f"{l2}/t/{n2}/return", data={"form_token": form_token(b2.get(l2).text), "reason": "不属于市场监管职责"})
    assert ticket(station_site, n2).status == "returned"


def test_the_same_link_opens_the_units_open_tickets_due_first(station_site, sms_provider):
    msg, link, t = a_dispatch(station_site, sms_provider)
    browser = signed_in(link, msg["to"])
    page = browser.get(link + "/list")
    with station_site.db.transaction() as s:
        open_ = list(s.scalars(select(Ticket).where(Ticket.assigned_unit == t.assigned_unit,
                                                    Ticket.status == "dispatched")
                              .order_by(Ticket.due_at.is_(None), Ticket.due_at, Ticket.id)))
    listed = re.findall(r'/t/(SD\d{4}-\d{5})"', page.text)
    assert listed == [x.number for x in open_]
    # a ticket of another unit is not opened through it
    with station_site.db.transaction() as s:
        other = s.scalar(select(Ticket).where(Ticket.assigned_unit != t.assigned_unit))
    assert browser.get(f"{link}/t/{other.number}").status_code == 404


def test_a_reminder_digest_links_to_the_units_due_tickets(station_site, sms_provider):
    from dispatch.reassign import reassign_and_text
    from notify.models import SmsMessage
    from sla.notices import Addressee, Item, send

    # given two tickets held by one unit (the second sent there by the back office)
    msg, link, t = a_dispatch(station_site, sms_provider)
    worker = station_site.worker
    with worker.db.transaction() as s:
        other = s.scalar(select(Ticket).where(Ticket.assigned_unit != t.assigned_unit,
                                              Ticket.priority == t.priority))  # urgent ones go in a message apart
        reassign_and_text(s, other.number, station_site.units, t.assigned_unit, "user:admin1", "辖区调整",
                          worker.config.sms.templates.dispatched)
    unit = station_site.units.get(t.assigned_unit)
    contact = unit.contacts[0]
    # when a reminder round tells the unit's contact of both
    now = utcnow()
    with worker.db.transaction() as s:
        both = [s.get(Ticket, t.id), s.get(Ticket, other.id)]
        send(s, worker.deadlines, "reminder", {Addressee(contact.phone, contact.name, unit.id): [
            Item(x, "resolution", "1WD", now + timedelta(hours=5), unit.id) for x in both]}, now)
    with worker.db.transaction() as s:
        digest = s.scalar(select(SmsMessage).where(SmsMessage.purpose == "sla_reminder"))
    # then its one message lists both and ends with a link that opens the unit's due tickets
    assert "2件工单" in digest.body and digest.ticket_id is None
    link = LINK.search(digest.body).group(0)
    assert digest.body.endswith(link)
    page = signed_in_list(link, digest.to_phone)
    assert "待办工单" in page
    assert t.number in page and other.number in page
    print("reminder for 2 tickets:", len(digest.body), "characters,", segments(digest.body), "segments")


def signed_in_list(link: str, phone: str) -> str:
    browser = http()
    token = form_token(browser.get(link).text)
    return browser.post(link + "/digits", data={"form_token": token, "digits": phone[-4:]}).text


def test_a_closed_ticket_is_read_only_and_an_expired_link_refused(station_site, sms_provider):
    from tickets import handling, store

    msg, link, t = a_dispatch(station_site, sms_provider)
    browser = signed_in(link, msg["to"])
    with station_site.db.transaction() as s:
        x = store.get_by_number(s, t.number, for_update=True)
        handling.resolve(s, x, "user:admin1", "已处理", "某单位")
        store.transition(s, x, "closed", "user:admin1", "closed")
    page = browser.get(link)
    assert page.status_code == 200 and "仅供查看" in page.text and "确认办结" not in page.text
    # and when a link's days are over
    from notify.link_models import StationLink
    with station_site.db.transaction() as s:
        for row in s.scalars(select(StationLink)):
            row.expires_at = utcnow() - timedelta(seconds=1)
    assert browser.get(link).status_code == 410


def test_the_page_is_light_and_needs_no_script(station_site, sms_provider):
    msg, link, t = a_dispatch(station_site, sms_provider)
    browser = signed_in(link, msg["to"])
    weights = {}
    for path in ("", "/list"):
        page = browser.get(link + path)
        assert "<script" not in page.text
        css = [browser.get(station_site.url + href).content for href in re.findall(r'href="(/static/[^"]+)"', page.text)]
        weights[path or "/"] = len(page.content) + sum(len(c) for c in css)
    print("station page weight (HTML and CSS, bytes):", weights)
    assert max(weights.values()) < 30 * 1024


def test_the_longest_dispatch_notice_stays_within_two_segments(station_site):
    from notify.links import sample_link
    from notify.planning import ticket_values
    from notify.templates import render

    config = station_site.worker.config.model_copy(deep=True)
    config.web.public_url = "http://127.0.0.1:8080"  # 21 characters, the default
    longest = Ticket(number="SD2611-99999", kind="complaint", priority="normal", title="长" * 200,
                     event_address="地" * 300)
    body = render(config.sms.templates.dispatched, {**ticket_values(longest), "link": sample_link(config)})
    print("longest dispatch notice:", len(body), "characters,", segments(body), "segments")
    assert segments(body) == 2 and body.endswith("/m/" + "x" * 11)


def test_a_link_stays_refused_when_its_ticket_comes_back_to_the_unit(station_site, sms_provider):
    from dispatch.reassign import reassign_and_text

    msg, link, t = a_dispatch(station_site, sms_provider)
    browser = signed_in(link, msg["to"])
    other = next(u for u in station_site.units if u.kind == "station" and u.id != t.assigned_unit and u.contacts)
    template = station_site.worker.config.sms.templates.dispatched
    # when the back office sends the ticket away and then back to the unit
    for unit in (other.id, t.assigned_unit):
        with station_site.db.transaction() as s:
            reassign_and_text(s, t.number, station_site.units, unit, "user:admin1", "辖区调整", template)
    # then the first link stays revoked: the new dispatch SMS brings the unit a new one
    assert browser.get(link).status_code == 410
    station_site.worker.send_sms()
    fresh = [LINK.search(m["body"]).group(0) for m in sms_provider.messages_to(msg["to"])
             if t.number in m["body"] and "新派单" in m["body"]]
    assert len(fresh) == 2 and fresh[-1] != link
    assert browser.get(fresh[-1]).status_code == 200  # the same phone's browser, remembered
    # and the command line's list of SMS shows no link's token
    import json
    import subprocess
    import sys

    listed = subprocess.run([sys.executable, "-m", "cli.main", "sms", "list", "--ticket", t.number, "--json",
                             "--config", station_site.config_path], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    bodies = [r["body"] for r in json.loads(listed.stdout) if "新派单" in r["body"]]
    assert bodies and all(b.endswith("/m/…") for b in bodies)


def test_photos_are_bounded_each_and_together(start_site, hotline, sms_provider):
    site = start_site(extra="station:\n  photo_max_bytes: 4096\n")
    hotline.add_orders(3)
    site.worker.run_once()
    msg, link, t = a_dispatch(site, sms_provider)
    browser = signed_in(link, msg["to"])
    token = form_token(browser.get(link).text)
    form = {"form_token": token, "result": "已退款"}
    big = PNG + b"\0" * 5000
    answer = browser.post(f"{link}/t/{t.number}/resolve", data=form, files=[("photos", ("big.png", big, "image/png"))])
    assert answer.status_code == 400 and "照片超过 4 KB" in answer.text
    four = [("photos", (f"p{i}.png", PNG + b"\0" * 3000, "image/png")) for i in range(4)]
    answer = browser.post(f"{link}/t/{t.number}/resolve", data=form, files=four)
    assert answer.status_code == 400 and "最多上传 3 张照片" in answer.text
    assert ticket(site, t.number).status == "dispatched"
    answer = browser.post(f"{link}/t/{t.number}/resolve", data=form, files=four[:3])
    assert answer.status_code == 200 and "已上传 3 张" in answer.text
