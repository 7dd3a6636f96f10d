"""A worker has several messages at the provider at once, so a slow provider does not hold each station's
phone back by the round trips of every message before it; messages to one number still go one after another,
in the order they were planned, and each goes once."""
from __future__ import annotations

from itertools import combinations

from sqlalchemy import select

from notify import Recipient, SmsPolicy, SmsSender, plan
from notify.models import SmsMessage
from notify.twilio_client import make_twilio_client
from simulators.testing import TWILIO_SID, TWILIO_TOKEN

NUMBERS = [f"+861370750{i:04d}" for i in range(10)]


def test_several_messages_are_at_the_provider_at_once_and_one_numbers_messages_stay_in_order(db, sms_provider):
    # given four notices for each of ten contacts, planned in turn, and a provider that takes 0.2 s to answer
    with db.transaction() as s:
        for n in range(4):
            for i, number in enumerate(NUMBERS):
                plan(s, key=f"notice-{n}-{i}", ticket_id=None, unit_id="st-daliang-01", purpose="dispatched",
                     recipients=[Recipient(number[3:])], template="【顺德市场监管】第{n}条通知，请处理。",
                     values={"n": str(n + 1)})
    sms_provider.latency = 0.2
    client = make_twilio_client(TWILIO_SID, TWILIO_TOKEN, base_url=sms_provider.base_url, timeout=10)
    sender = SmsSender(db, client, SmsPolicy(from_number="+8610691234512", claim_seconds=60, concurrent_sends=4),
                       "worker-a")

    # when the worker's send job runs
    report = sender.send_due()

    # then each message reached the provider once, each contact's in the order they were planned
    assert report.sent == 40
    at_provider = sms_provider.messages
    assert len(at_provider) == 40
    for number in NUMBERS:
        bodies = [m["body"] for m in at_provider if m["to"] == number]
        assert bodies == [f"【顺德市场监管】第{n}条通知，请处理。" for n in range(1, 5)]
        created = [m["date_created"] for m in at_provider if m["to"] == number]
        assert created == sorted(created)
    # and several were at the provider at once: one at a time, each would be created 0.2 s after the one before
    created = sorted(m["date_created"] for m in at_provider)
    assert any((b - a).total_seconds() < 0.1 for a, b in combinations(created, 2))
    with db.transaction() as s:
        assert set(s.scalars(select(SmsMessage.status))) == {"sent"}
