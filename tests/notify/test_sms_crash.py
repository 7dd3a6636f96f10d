"""A message whose send may or may not have reached the provider is checked there before any resend."""
from sqlalchemy import select

from notify import SmsPolicy, SmsSender, plan, Recipient
from notify.models import SmsMessage
from notify.outbound import SendReport
from notify.twilio_client import make_twilio_client
from simulators.testing import TWILIO_SID, TWILIO_TOKEN, wait_for
from tickets.claims import work_batch
from tickets.clock import SYSTEM_CLOCK, ManualClock


def _sender(db, sms_provider, owner, claim=2.0, clock=SYSTEM_CLOCK):
    client = make_twilio_client(TWILIO_SID, TWILIO_TOKEN, base_url=sms_provider.base_url, timeout=0.5)
    return SmsSender(db, client, SmsPolicy(from_number="+8610691234512", claim_seconds=claim), owner, clock=clock)


def _plan_one(db):
    with db.transaction() as s:
        plan(s, key="t:1", ticket_id=None, unit_id="st-daliang-01", purpose="dispatched",
             recipients=[Recipient("13707570013")], template="工单{number}请处理", values={"number": "SD2611-00001"})


def test_a_send_that_timed_out_after_reaching_the_provider_is_not_sent_again(db, sms_provider):
    _plan_one(db)
    # given the provider accepts the message but answers too late for the client
    sms_provider.latency = 1.0
    _sender(db, sms_provider, "w1").send_due()
    sms_provider.latency = 0
    with db.transaction() as s:
        row = s.scalars(select(SmsMessage)).one()
    assert row.status == "sending"  # not known: neither sent nor pending
    # when the request lands at the provider, and a worker takes the row up again once the claim period is over
    wait_for(lambda: len(sms_provider.messages) == 1, "the late request to land at the provider")
    clock = ManualClock()
    clock.advance(2.1)
    report = _sender(db, sms_provider, "w2", clock=clock).send_due()
    # then it finds the message at the provider and does not send it twice
    assert report.recovered == 1 and report.sent == 0
    assert len(sms_provider.messages) == 1
    with db.transaction() as s:
        assert s.scalars(select(SmsMessage)).one().status in ("sent", "delivered")


def test_a_worker_whose_claim_was_taken_over_does_not_send(db, sms_provider):
    _plan_one(db)
    slow = _sender(db, sms_provider, "w1", claim=60)
    [msg] = slow._claim(10)
    # another worker takes the row up (as after a lapsed claim) and sends it
    with db.transaction() as s:
        s.get(SmsMessage, msg.id).claimed_by = "w2"
    report = SendReport()
    end = work_batch(slow.claims, [msg], lambda m: slow._send_one(m, report), ends=float("inf"),
                     stopping=lambda: False)
    assert sms_provider.messages == []
    assert end.lost == 1 and report.sent == 0
