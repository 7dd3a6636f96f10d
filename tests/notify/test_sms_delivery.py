"""When an SMS does not reach a unit's contact: a permanent failure passes the message to the unit's next
contact and shows on the ticket's history; a temporary one is sent again, until the attempts are spent.
Delivery reports arrive over real HTTP from the Twilio stand-in."""
from __future__ import annotations

import json
import time

from sqlalchemy import select

from notify import Recipient, plan
from notify.models import SmsMessage
from tickets.models import Ticket

REMINDER = "【顺德市场监管】工单{number}将于明日到期，请及时处理。"


def wait_until(check, timeout: float = 8.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def rows(worker, **where) -> list[SmsMessage]:
    with worker.db.transaction() as s:
        return list(s.scalars(select(SmsMessage).filter_by(**where).order_by(SmsMessage.id)))


def settled(worker) -> bool:
    return all(m.status in ("delivered", "undelivered", "failed") for m in rows(worker))


def ticket_for_unit_with(worker, contacts: int, settle: bool = True):
    """A dispatched ticket whose unit has at least `contacts` contacts (once its dispatch notices are delivered)."""
    assert not settle or wait_until(lambda: settled(worker))
    with worker.db.transaction() as s:
        for t in s.scalars(select(Ticket).where(Ticket.status == "dispatched").order_by(Ticket.id)):
            unit = worker.dispatcher.units.get(t.assigned_unit)
            if len(unit.contacts) >= contacts:
                return t, unit
    raise AssertionError(f"no dispatched ticket of a unit with {contacts} contacts")


def remind_first_contact(worker, ticket, unit) -> str:
    """A message to one contact only, as a reminder to the person on duty would be."""
    with worker.db.transaction() as s:
        plan(s, key=f"test-reminder:{ticket.id}", ticket_id=ticket.id, unit_id=unit.id, purpose="reminder",
             recipients=[Recipient(unit.contacts[0].phone, unit.contacts[0].name)], template=REMINDER,
             values={"number": ticket.number})
    return REMINDER.format(number=ticket.number)


def history(worker, ticket_id: int) -> list:
    with worker.db.transaction() as s:
        return list(s.get(Ticket, ticket_id).events)


def test_an_undeliverable_number_passes_the_message_to_the_units_next_contact(web_worker, hotline, sms_provider):
    # given a dispatched ticket of a unit with two or more contacts, whose first contact's phone is a landline
    hotline.add_orders(6)
    worker = web_worker()
    worker.run_once()
    ticket, unit = ticket_for_unit_with(worker, 2)
    first, second = ("+86" + c.phone for c in unit.contacts[:2])
    sms_provider.undeliverable[first] = 30006
    # when a message to the first contact is sent and the provider reports it undelivered (30006)
    body = remind_first_contact(worker, ticket, unit)
    worker.send_sms()
    assert wait_until(lambda: rows(worker, to_phone=second, purpose="reminder"))
    worker.send_sms()
    # then the second contact gets the same message
    assert wait_until(lambda: [m for m in sms_provider.messages_to(second) if m["body"] == body])
    assert wait_until(lambda: [m for m in rows(worker, to_phone=second, purpose="reminder") if m.status == "delivered"])
    failed = rows(worker, to_phone=first, purpose="reminder")
    assert [(m.status, m.error_code) for m in failed] == [("undelivered", 30006)]
    # and the ticket's history shows who could not be reached and who was texted instead
    event = [e for e in history(worker, ticket.id) if e.action == "sms_undeliverable"]
    assert len(event) == 1
    assert event[0].detail["contact"] == unit.contacts[0].name
    assert event[0].detail["next_contact"] == unit.contacts[1].name and event[0].detail["error_code"] == 30006
    assert first not in json.dumps(event[0].detail)  # the phone is kept masked


def test_a_number_refused_at_send_time_passes_the_message_on(web_worker, hotline, sms_provider):
    # given a contact who has opted out of SMS (the provider refuses with 21610)
    hotline.add_orders(6)
    worker = web_worker()
    worker.run_once()
    ticket, unit = ticket_for_unit_with(worker, 2)
    first, second = ("+86" + c.phone for c in unit.contacts[:2])
    sms_provider.opted_out.add(first)
    # when a message to that contact is due
    body = remind_first_contact(worker, ticket, unit)
    worker.send_sms()
    worker.send_sms()
    # then it fails at once, and the next contact gets it
    assert [(m.status, m.error_code) for m in rows(worker, to_phone=first, purpose="reminder")] == [("failed", 21610)]
    assert [m["body"] for m in sms_provider.messages_to(second) if m["body"] == body] == [body]
    assert [e.detail["next_contact"] for e in history(worker, ticket.id) if e.action == "sms_undeliverable"] == [
        unit.contacts[1].name]


def test_a_temporary_failure_is_sent_again_until_the_attempts_are_spent(web_worker, hotline, sms_provider):
    # given a contact whose phone is switched off (30003, may be temporary), and two attempts per message
    hotline.add_orders(6)
    worker = web_worker(max_attempts=2)
    worker.run_once()
    ticket, unit = ticket_for_unit_with(worker, 2)
    first, second = ("+86" + c.phone for c in unit.contacts[:2])
    sms_provider.undeliverable[first] = 30003
    body = remind_first_contact(worker, ticket, unit)
    # when it is sent and reported undelivered
    worker.send_sms()
    retry = wait_until(lambda: [m for m in rows(worker, to_phone=first, purpose="reminder") if m.status == "pending"])
    # then the same message is queued again, after a pause, with nobody else texted yet
    assert retry and retry[0].attempts == 1 and retry[0].error_code == 30003
    assert not rows(worker, to_phone=second, purpose="reminder")
    # when the second attempt is reported undelivered too
    assert wait_until(lambda: worker.send_sms().sent == 1, timeout=5)
    assert wait_until(lambda: rows(worker, to_phone=second, purpose="reminder"))
    worker.send_sms()
    # then the attempts are spent: the first contact was tried twice, and the next contact got the message
    assert [m["body"] for m in sms_provider.messages_to(first)].count(body) == 2
    assert [(m.status, m.attempts) for m in rows(worker, to_phone=first, purpose="reminder")] == [("undelivered", 2)]
    assert wait_until(lambda: [m for m in sms_provider.messages_to(second) if m["body"] == body])


def test_when_every_contact_was_texted_already_the_failure_is_shown_and_nobody_is_texted_twice(
        web_worker, hotline, sms_provider):
    # given every contact of a unit texted the dispatch notice, one of them a landline
    hotline.add_orders(6)
    worker = web_worker()
    worker.poll("12345-shunde")
    worker.dispatch()
    ticket, unit = ticket_for_unit_with(worker, 2, settle=False)
    first = "+86" + unit.contacts[0].phone
    sms_provider.undeliverable[first] = 30006
    # when the notices go out and the landline's is reported undelivered
    worker.send_sms()
    assert wait_until(lambda: rows(worker, to_phone=first, status="undelivered"))
    worker.send_sms()
    # then the failure is on the ticket with no one left to try, and each contact got the notice once
    events = [e for e in history(worker, ticket.id) if e.action == "sms_undeliverable"]
    assert [(e.detail["contact"], e.detail["next_contact"]) for e in events] == [(unit.contacts[0].name, None)]
    for contact in unit.contacts:
        assert len([m for m in sms_provider.messages_to("+86" + contact.phone) if ticket.number in m["body"]]) == 1
