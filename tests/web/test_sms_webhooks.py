"""The SMS webhooks over real HTTP: the Twilio stand-in reports delivery and relays staff replies to the worker's
web server, signed as Twilio signs them; the ticket moves and the hotline hears of it once."""
from __future__ import annotations

import io
import json
import time

import requests
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from notify.models import SmsInbound, SmsMessage
from settings.logging_setup import configure_logging
from tickets.models import Ticket, TicketEvent
from web.sms_routes import INBOUND_PATH, STATUS_PATH

STRANGER = "+8613900000000"


def wait_until(check, timeout: float = 8.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def post_signed(url: str, params: dict, signature: str) -> requests.Response:
    with requests.Session() as http:
        http.trust_env = False  # loopback, never through a proxy
        return http.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=5)


def dispatched_ticket(worker, min_contacts: int = 1):
    with worker.db.transaction() as s:
        for t in s.scalars(select(Ticket).where(Ticket.status == "dispatched").order_by(Ticket.id)):
            unit = worker.dispatcher.units.get(t.assigned_unit)
            if len(unit.contacts) >= min_contacts:
                return t, unit
    raise AssertionError("no dispatched ticket")


def phone_of(contact) -> str:
    return "+86" + contact.phone


def ticket_now(worker, ticket_id: int) -> Ticket:
    with worker.db.transaction() as s:
        ticket = s.get(Ticket, ticket_id)
        ticket.events  # loaded while the session is open
        return ticket


def sms_rows(worker, **where) -> list[SmsMessage]:
    with worker.db.transaction() as s:
        return list(s.scalars(select(SmsMessage).filter_by(**where).order_by(SmsMessage.id)))


def all_delivered(worker) -> bool:
    rows = sms_rows(worker)
    return bool(rows) and all(m.status == "delivered" for m in rows)


def test_delivery_reports_mark_each_message_delivered(web_worker, hotline, sms_provider):
    # given dispatched tickets texted to their units, with the worker's web server taking status callbacks
    hotline.add_orders(4)
    worker = web_worker()
    worker.run_once()
    # then every message is marked delivered from the provider's reports
    assert wait_until(lambda: all_delivered(worker)), [(m.id, m.status) for m in sms_rows(worker)]
    rows = sms_rows(worker)
    assert len(rows) == len(sms_provider.messages)
    assert all(m.delivered_at is not None and m.error_code is None for m in rows)
    # and every report was signed, addressed to this service and accepted
    callbacks = sms_provider.callbacks
    assert callbacks and all(c["status"] == 204 for c in callbacks)
    assert all(c["url"].startswith(worker.web_url + STATUS_PATH + "?sms=") for c in callbacks)


def test_a_forged_delivery_report_is_refused_and_changes_nothing(web_worker, hotline, sms_provider):
    hotline.add_orders(3)
    worker = web_worker()
    worker.run_once()
    assert wait_until(lambda: all_delivered(worker))
    msg = sms_rows(worker)[0]
    url = f"{worker.web_url}{STATUS_PATH}?sms={msg.id}"
    params = {"MessageSid": msg.provider_sid, "MessageStatus": "undelivered", "ErrorCode": "30006",
              "To": msg.to_phone, "AccountSid": sms_provider.account_sid}
    # when someone without the auth token posts a failure report, or posts one with no signature
    forged = post_signed(url, params, RequestValidator("not-the-token").compute_signature(url, params))
    unsigned = post_signed(url, params, "")
    # then both are refused and the message stays delivered, with nobody else texted and nothing on the ticket
    assert forged.status_code == 403 and unsigned.status_code == 403
    after = sms_rows(worker)
    assert [m.status for m in after] == ["delivered"] * len(after) and len(after) == len(sms_provider.messages)
    with worker.db.transaction() as s:
        assert not s.scalar(select(func.count()).select_from(TicketEvent)
                            .where(TicketEvent.action == "sms_undeliverable"))
    # and the same report correctly signed is taken (delivered is final, so it is ignored, not an error)
    assert post_signed(url, params, sms_provider.sign(url, params)).status_code == 204


def test_a_station_accepts_and_resolves_by_sms_and_the_hotline_is_told_once(web_worker, hotline, sms_provider):
    # given a ticket dispatched to a unit, whose contact texts back
    hotline.add_orders(4)
    worker = web_worker()
    worker.run_once()
    ticket, unit = dispatched_ticket(worker)
    staff = phone_of(unit.contacts[0])
    inbound = worker.web_url + INBOUND_PATH

    # when the contact replies "<number> 受理"
    status, body = sms_provider.send_inbound(staff, f"{ticket.number} 受理", inbound)
    # then the ticket is accepted, and the webhook answers with empty TwiML
    assert status == 200 and "<Response>" in body and "<Message>" not in body
    assert ticket_now(worker, ticket.id).status == "accepted"

    # when the contact replies, in a phone's full-width punctuation and lower case, that it is done
    status, _ = sms_provider.send_inbound(staff, f"{ticket.number.lower()}，办结：已退款。", inbound)
    assert status == 200
    done = ticket_now(worker, ticket.id)
    # then it is resolved with the text, on the record as done by that contact
    assert done.status == "resolved" and done.result_text == "已退款"
    moves = [(e.action, e.actor) for e in done.events if e.action in ("accepted", "resolved")]
    assert moves == [("accepted", f"sms:{unit.contacts[0].name}"), ("resolved", f"sms:{unit.contacts[0].name}")]

    # when the worker runs its jobs
    worker.run_once()
    worker.run_once()
    # then the hotline holds the order as done with our text, signed once and replied once
    order = hotline.get(ticket.source_ref)
    assert order["ZT"] == "已办结" and order["HFNR"] == "已退款"
    assert hotline.effect_count(ticket.source_ref, "sign") == 1
    assert hotline.effect_count(ticket.source_ref, "reply") == 1
    # and the contact got a short confirmation of each reply
    answers = [m["body"] for m in sms_provider.messages_to(staff) if "已记录" in m["body"]]
    assert answers == [f"【顺德市场监管】工单{ticket.number}已受理，已记录。",
                       f"【顺德市场监管】工单{ticket.number}已办结，已记录。"]


def test_the_same_inbound_message_delivered_twice_acts_once(web_worker, hotline, sms_provider):
    hotline.add_orders(3)
    worker = web_worker()
    worker.run_once()
    ticket, unit = dispatched_ticket(worker)
    url = worker.web_url + INBOUND_PATH
    params = {"MessageSid": "SM" + "7" * 32, "From": phone_of(unit.contacts[0]), "To": "+8610691234512",
              "Body": f"{ticket.number} 受理", "AccountSid": sms_provider.account_sid, "NumMedia": "0"}
    # when the provider delivers the same message twice (it retries when it does not hear back in time)
    first = post_signed(url, params, sms_provider.sign(url, params))
    second = post_signed(url, params, sms_provider.sign(url, params))
    # then both are answered, and the ticket was accepted once, with one record and one confirmation
    assert first.status_code == second.status_code == 200
    done = ticket_now(worker, ticket.id)
    assert done.status == "accepted"
    assert [e.action for e in done.events].count("accepted") == 1
    with worker.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(SmsInbound)) == 1
    assert len(sms_rows(worker, purpose="reply")) == 1


def test_a_reply_from_anyone_but_the_units_contacts_changes_nothing(web_worker, hotline, sms_provider):
    log = io.StringIO()
    configure_logging("info", stream=log)
    try:
        hotline.add_orders(4)
        worker = web_worker()
        worker.run_once()
        ticket, unit = dispatched_ticket(worker)
        other = next(u for u in worker.dispatcher.units
                     if u.id != unit.id and u.contacts and all(c.phone not in {x.phone for x in unit.contacts}
                                                               for c in u.contacts))
        outsider = phone_of(other.contacts[0])
        # when a stranger and a contact of another unit reply to accept the ticket
        for sender in (STRANGER, outsider):
            status, _ = sms_provider.send_inbound(sender, f"{ticket.number} 受理", worker.web_url + INBOUND_PATH)
            assert status == 200
        worker.send_sms()
    finally:
        configure_logging("warning")
    # then the ticket has not moved, neither of them was answered, and both messages are kept as "stranger"
    assert ticket_now(worker, ticket.id).status == "dispatched"
    assert not sms_provider.messages_to(STRANGER) and not [
        m for m in sms_provider.messages_to(outsider) if ticket.number in m["body"]]
    with worker.db.transaction() as s:
        kept = s.scalars(select(SmsInbound).order_by(SmsInbound.id)).all()
    assert [(i.outcome, i.ticket_id) for i in kept] == [("stranger", ticket.id), ("stranger", ticket.id)]
    # and the log names them only by masked numbers
    lines = [json.loads(line) for line in log.getvalue().splitlines() if line.startswith("{")]
    refused = [line for line in lines if line.get("event") == "sms_inbound" and line.get("outcome") == "stranger"]
    assert [line["from_phone"] for line in refused] == ["+86139****0000", outsider[:6] + "****" + outsider[-4:]]
    assert STRANGER not in log.getvalue() and outsider not in log.getvalue()


def test_a_reply_the_parser_does_not_understand_gets_the_help_text(web_worker, hotline, sms_provider):
    hotline.add_orders(3)
    worker = web_worker()
    worker.run_once()
    ticket, unit = dispatched_ticket(worker)
    staff = phone_of(unit.contacts[0])
    help_text = worker.config.sms.templates.reply_help
    # when a contact sends something that is not a command, or a resolution without its result
    for body in ("你好，这个怎么操作？", f"{ticket.number} 办结"):
        status, _ = sms_provider.send_inbound(staff, body, worker.web_url + INBOUND_PATH)
        assert status == 200
    worker.send_sms()
    # then each gets the format back, and the ticket is untouched
    assert [m["body"] for m in sms_provider.messages_to(staff) if m["body"] == help_text] == [help_text] * 2
    assert ticket_now(worker, ticket.id).status == "dispatched"


def test_first_contact_is_recorded_and_a_refused_move_is_explained(web_worker, hotline, sms_provider):
    hotline.add_orders(3)
    worker = web_worker()
    worker.run_once()
    ticket, unit = dispatched_ticket(worker)
    staff = phone_of(unit.contacts[0])
    url = worker.web_url + INBOUND_PATH
    # when the contact reports first contact made, then returns the ticket, then tries to accept it after all
    for body in (f"{ticket.number} 已联系", f"{ticket.number} 退回 不属于市场监管职责", f"{ticket.number} 受理"):
        assert sms_provider.send_inbound(staff, body, url)[0] == 200
    worker.send_sms()
    # then the history holds the contact and the return with its reason, and the late accept is refused
    done = ticket_now(worker, ticket.id)
    assert done.status == "returned"
    assert [e.action for e in done.events][-2:] == ["contacted", "returned"]
    assert done.events[-1].detail == {"reason": "不属于市场监管职责"}
    assert f"【顺德市场监管】工单{ticket.number}未能受理：当前状态为已退回。" in [
        m["body"] for m in sms_provider.messages_to(staff)]


def test_a_signed_reply_whose_ids_are_not_the_providers_or_ours_changes_nothing(web_worker, hotline, sms_provider):
    # given a dispatched ticket and a reply signed with the account's token, as a captured request would be
    hotline.add_orders(3)
    worker = web_worker()
    worker.run_once()
    ticket, unit = dispatched_ticket(worker)
    url = worker.web_url + INBOUND_PATH
    good = {"MessageSid": "SM" + "ab" * 16, "From": phone_of(unit.contacts[0]), "To": "+8610691234512",
            "Body": f"{ticket.number} 受理", "AccountSid": sms_provider.account_sid, "NumMedia": "0"}
    # when bytes are moved between fields (the signature still verifies) or another account's id is given
    moved = good | {"MessageSid": good["MessageSid"] + "1", "NumMedia": ""}
    other = good | {"AccountSid": "AC" + "9" * 32}
    answers = [post_signed(url, p, sms_provider.sign(url, p)) for p in (moved, other)]
    # then each is refused with what is wrong, and nothing was recorded
    assert [a.status_code for a in answers] == [400, 400]
    assert "MessageSid" in answers[0].text and "AccountSid" in answers[1].text
    assert ticket_now(worker, ticket.id).status == "dispatched"
    with worker.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(SmsInbound)) == 0
    # and the genuine message still moves the ticket
    assert post_signed(url, good, sms_provider.sign(url, good)).status_code == 200
    assert ticket_now(worker, ticket.id).status == "accepted"
