"""A send run ends soon after its worker is told to stop, whatever the SMS provider is doing, and hands back the
messages it claimed and did not try, so that they go out at once, and once, when the provider is back."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

import worker as worker_module
from notify import Recipient, SmsPolicy, SmsSender, plan
from notify.models import SmsMessage
from notify.twilio_client import make_twilio_client
from settings.config_schema import load_config
from simulators.testing import TWILIO_SID, TWILIO_TOKEN, stops_within, wait_for, write_config

STOP_WITHIN = 10.0   # a generous bound on how long a run may go on once its worker is told to stop
MESSAGES = 40


def messages(db) -> list[SmsMessage]:
    with db.transaction() as s:
        rows = s.scalars(select(SmsMessage).order_by(SmsMessage.id)).all()
        s.expunge_all()
    return rows


def sender(db, sms_provider, rate_limit_rps=None) -> SmsSender:
    """A sender as the worker builds it (a claim of 60 s, the client waiting 10 s), with attempts enough to
    outlast any outage here."""
    client = make_twilio_client(TWILIO_SID, TWILIO_TOKEN, base_url=sms_provider.base_url, timeout=10)
    return SmsSender(db, client, SmsPolicy(from_number="+8610691234512", claim_seconds=60, max_attempts=60,
                                           backoff_seconds=0.2, max_backoff_seconds=1, rate_limit_rps=rate_limit_rps),
                     "worker-a")


def plan_dispatch_notices(db, n: int) -> None:
    with db.transaction() as s:
        for i in range(n):
            plan(s, key=f"test-dispatch:{i}", ticket_id=None, unit_id="st-daliang-01", purpose="dispatched",
                 recipients=[Recipient(f"137075{i:05d}")], template="【顺德市场监管】新派单{number}，请处理。",
                 values={"number": f"SD2611-{i:05d}"})


@pytest.mark.parametrize("fault", ["down", "slow"])
def test_a_send_run_returns_promptly_when_its_worker_stops_during_an_outage(db, sms_provider, fault):
    # given forty dispatch notices due, and a provider that refuses connections (to a worker paced at two
    # messages a second) or takes a second per message: a run would take twenty seconds or more
    plan_dispatch_notices(db, MESSAGES)
    if fault == "down":
        sms_provider.go_down()
        sending = sender(db, sms_provider, rate_limit_rps=2)
    else:
        sms_provider.latency = 1.0
        sending = sender(db, sms_provider)
    stopping = threading.Event()
    run = threading.Thread(target=lambda: sending.send_due(stopping=stopping.is_set))
    run.start()
    try:
        wait_for(lambda: any(m.attempts for m in messages(db)), "the first send to be recorded")
        # when the worker is told to stop mid-run
        stopping.set()
        asked = time.monotonic()
        run.join(STOP_WITHIN)
        # then the run ends within the bound, though the provider has not come back
        assert not run.is_alive(), f"send_due still running {STOP_WITHIN} s after it was asked to stop"
        assert time.monotonic() - asked < STOP_WITHIN
    finally:
        sms_provider.come_up()
        sms_provider.latency = 0.0
        run.join(120)
    # and what it had claimed but not tried is handed back, pending, for another worker to send at once
    rows = messages(db)
    assert [m.id for m in rows if m.claimed_by is not None or m.status == "sending"] == []
    assert any(m.attempts == 0 and m.status == "pending" for m in rows)
    # and once the provider is back, every message goes out once
    other = sender(db, sms_provider)
    other.owner = "worker-b"

    def all_sent() -> bool:
        other.send_due()
        return {m.status for m in messages(db)} <= {"sent", "delivered"}

    wait_for(all_sent, "every message to be sent")
    assert [sms_provider.count_by(to=m.to_phone, body=m.body) for m in rows] == [1] * MESSAGES
    assert len(sms_provider.messages) == MESSAGES


def test_a_send_run_hands_back_what_it_has_not_tried_when_its_time_is_spent(db, sms_provider):
    # given forty messages due at a provider that takes half a second each, and a run allowed two seconds
    plan_dispatch_notices(db, MESSAGES)
    sms_provider.latency = 0.5
    sending = sender(db, sms_provider)
    sending.policy.pass_seconds = 2
    # when the run goes on past its time
    started = time.monotonic()
    report = sending.send_due()
    # then it ends with the message in hand, and what it claimed and did not try is pending and unclaimed
    assert time.monotonic() - started < 2 + 3
    assert 1 <= report.sent < MESSAGES and report.handed_back == MESSAGES - report.sent
    rows = messages(db)
    assert sum(m.status == "pending" and m.claimed_by is None and m.attempts == 0 for m in rows) == report.handed_back


def test_a_running_worker_stops_promptly_during_an_sms_outage(tmp_path, db_url, hotline, sms_provider):
    # given a worker running as `onequeue run` runs it, with twenty orders to dispatch and text, and a provider
    # that takes a second per message (a send run would take half a minute)
    hotline.add_orders(20)
    config = load_config(write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider))
    config.sms.max_attempts = 60
    sms_provider.latency = 1.0
    running = worker_module.Worker(config)
    running.start()
    try:
        wait_for(lambda: sms_provider.messages, "the first message to reach the provider")
        # when it is told to stop mid-run, as SIGTERM tells `onequeue run`
        # then it stops within the bound, leaving the rest pending for the next start
        assert stops_within(running, STOP_WITHIN), f"the worker still running {STOP_WITHIN} s after SIGTERM"
        rows = messages(running.db)
        assert any(m.status == "pending" and m.claimed_by is None for m in rows)
        assert [m.id for m in rows if m.status == "sending"] == []
    finally:
        sms_provider.latency = 0.0
        running.stop()
