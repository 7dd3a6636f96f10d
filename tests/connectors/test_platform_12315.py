"""The 12315 connector against its stand-in: every case arrives once and whole, through the faults the
contract names, and results go back as case events that take effect once."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests

from connectors import SourceUnavailable, WriteBackRejected, WriteBackRequest, build_connector
from connectors.poll import poll_channel
from simulators.clock import ManualClock
from simulators.platform_12315 import Platform12315
from tickets import store

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 23, 9, 0, 0, tzinfo=CST)


@pytest.fixture
def clock():
    return ManualClock(T0)


@pytest.fixture
def platform(clock):
    with Platform12315("oq-12315", "s3cret", clock=clock, rate_limit_rps=None, seed=15) as sim:
        yield sim


def connector(sim, **settings):
    base = {"base_url": sim.base_url, "client_id": "oq-12315", "client_secret": "s3cret", "page_size": 10,
            "timeout_seconds": 3, "max_attempts": 4}
    return build_connector("12315-sd", "12315", base | settings)


def pull_all(conn, cursor=None):
    records, bad = [], []
    for batch in conn.pull(cursor):
        records += batch.records
        bad += batch.bad
        cursor = batch.cursor
    return records, bad, cursor


def test_a_case_becomes_a_ticket_with_every_field_mapped(platform):
    case = platform.add_case(kind="REPORT", amount="1280.50", business={"uscc": "91440606MA4UJ8XK3Q",
                                                                        "regionCode": "440606005001"},
                             consumer={"mobile": "13902201234"})
    (rec,), bad, _ = pull_all(connector(platform))
    assert not bad
    assert rec.source_ref == case["caseId"]
    assert rec.kind == "report"
    assert rec.amount == Decimal("1280.50")
    assert rec.business_code == "91440606MA4UJ8XK3Q"
    assert rec.area_code == "440606005001"
    assert rec.complainant_phone == "13902201234"
    assert rec.business_name == case["business"]["name"]
    assert rec.source_deadline == datetime.fromisoformat(case["dueAt"])
    assert case["description"] in rec.text and case["demand"] in rec.text
    assert rec.payload == case


def test_a_withdrawn_case_arrives_as_withdrawn(platform):
    case = platform.add_cases(1)[0]
    platform.withdraw(case["caseId"])
    (rec,), _, _ = pull_all(connector(platform))
    assert rec.withdrawn and rec.source_status == "WITHDRAWN"


def test_malformed_cases_are_set_aside_with_a_reason_and_the_rest_go_in(platform):
    platform.add_cases(12, malformed=5)
    records, bad, _ = pull_all(connector(platform))
    assert len(records) == 12
    assert len(bad) == 5
    assert {b.reason.split(" ")[0] for b in bad} >= {"caseId", "kind", "receivedAt", "amount", "consumer"}


def test_an_expired_paging_cursor_restarts_from_what_was_read_and_skips_nothing(platform, clock):
    platform.add_cases(45)
    pages = {"n": 0}

    def expire_on_third_page(request):
        pages["n"] += 1
        if pages["n"] == 3:
            clock.advance(minutes=11)  # the cursor handed out with page 2 is now older than 10 minutes

    platform.on_list = expire_on_third_page
    records, _, _ = pull_all(connector(platform))
    assert {r.source_ref for r in records} == {c["caseId"] for c in platform.cases}
    assert pages["n"] > 5  # page 3 was refused and the pull went on from what it had read


def test_a_pull_restarting_after_an_expired_cursor_skips_nothing_when_a_page_was_out_of_order(platform, clock):
    # given 45 cases changed ten seconds apart, and no overlap to hide a skip
    for _ in range(45):
        platform.add_cases(1)
        clock.advance(seconds=10)
    pages = {"n": 0}

    def listed(request):
        pages["n"] += 1
        if pages["n"] == 2:
            platform.unsort_next_page()   # page 2 shows its middle case changed as it is read, after every other
        if pages["n"] == 3:
            clock.advance(minutes=11)     # and the cursor handed out with page 2 expires

    platform.on_list = listed
    # when the pull restarts its query after the refused cursor
    records, _, cursor = pull_all(connector(platform, overlap_seconds=0))
    # then every case arrives, those listed after the case out of order among them
    assert pages["n"] > 5
    assert {r.source_ref for r in records} == {c["caseId"] for c in platform.cases}
    assert cursor and datetime.fromisoformat(json.loads(cursor)["since"]) == max(r.source_updated_at for r in records)


def test_a_burst_larger_than_one_poll_within_the_overlap_gets_through(db, platform, clock):
    # 200 cases modified within the 120-second overlap; one poll takes 5 pages of 10
    platform.add_cases(200)
    conn = connector(platform)
    created = []
    for n in range(10):
        if n == 2:
            clock.advance(minutes=11)  # the stored cursor expires between two polls: that query starts again
        report = poll_channel(db, conn, "w1", max_batches=5)
        assert report.error is None
        created += report.created_ids
    assert len(created) == len(set(created)) == 200
    with db.transaction() as s:
        assert store.counts_by_status(s) == {"new": 200}


def test_an_expired_token_is_renewed_and_the_pull_goes_on(platform):
    platform.add_cases(25)
    conn = connector(platform)
    pages = {"n": 0}

    def expire(request):
        pages["n"] += 1
        if pages["n"] == 2:
            platform.expire_tokens()

    platform.on_list = expire
    records, _, _ = pull_all(conn)
    assert len({r.source_ref for r in records}) == 25


def test_cases_stamped_by_a_slow_clock_are_caught_by_the_overlap(platform, clock):
    platform.add_cases(5)
    conn = connector(platform, overlap_seconds=30)
    _, _, cursor = pull_all(conn)
    # when other servers, up to 20 s slow, stamp cases changed after our poll
    platform.skew_seconds = 20
    clock.advance(2)
    late = [c["caseId"] for c in platform.add_cases(8)]
    assert min(c["modifiedAt"] for c in platform.cases if c["caseId"] in late) < T0.isoformat()
    # then the next poll still reads every one of them
    records, _, _ = pull_all(conn, cursor)
    assert set(late) <= {r.source_ref for r in records}


def test_rate_limits_and_server_errors_are_waited_out(platform):
    platform.add_cases(30)
    platform.rate_limit_rps = 5
    platform.fail_next(2, status=503)
    records, _, _ = pull_all(connector(platform, page_size=5, max_attempts=8))
    assert len({r.source_ref for r in records}) == 30


def test_a_platform_that_stays_down_is_unavailable(platform):
    platform.add_cases(3)
    platform.go_down()
    with pytest.raises(SourceUnavailable):
        pull_all(connector(platform, max_attempts=2))
    platform.come_up()
    assert len(pull_all(connector(platform))[0]) == 3


def test_wrong_credentials_say_so(platform):
    with pytest.raises(SourceUnavailable, match="refused the credentials"):
        pull_all(connector(platform, client_secret="wrong"))


def test_results_go_back_as_case_events_each_once(platform):
    case_id = platform.add_cases(1)[0]["caseId"]
    conn = connector(platform)
    accept = WriteBackRequest(case_id, "accepted", "oq-k1", {"unit_name": "大良市场监督管理所"})
    assert conn.write_back(accept).outcome == "done"
    assert conn.write_back(accept).outcome == "already_done"  # the same idempotencyKey: 200, no second effect
    resolve = WriteBackRequest(case_id, "resolved", "oq-k2", {"result": "已调解，商家退款1280元"})
    # the platform applies the event but its answer is lost: the retry with the same key finds it done
    platform.fail_next(1, status=502, after_effect=True)
    assert conn.write_back(resolve).outcome == "already_done"
    assert platform.effect_count(case_id, "ACCEPTED") == 1
    assert platform.effect_count(case_id, "CLOSED") == 1
    shown = platform.get(case_id)
    assert shown["status"] == "CLOSED" and shown["result"]["note"] == "已调解，商家退款1280元"


def test_a_return_is_a_rejection_before_acceptance_and_a_transfer_after(platform):
    fresh, accepted = (c["caseId"] for c in platform.add_cases(2))
    conn = connector(platform)
    conn.write_back(WriteBackRequest(accepted, "accepted", "oq-a", {}))
    for case_id in (fresh, accepted):
        conn.write_back(WriteBackRequest(case_id, "returned", f"oq-r-{case_id}", {"reason": "不属于市场监管职责"}))
    assert platform.get(fresh)["status"] == "REJECTED"
    assert platform.get(fresh)["result"] == {"type": "REJECTED", "note": "不属于市场监管职责",
                                             "at": platform.effects[-2]["body"]["occurredAt"]}
    assert platform.get(accepted)["result"]["type"] == "TRANSFERRED"


def test_an_event_the_case_state_forbids_is_refused(platform):
    case_id = platform.add_cases(1)[0]["caseId"]
    platform.withdraw(case_id)
    with pytest.raises(WriteBackRejected, match="invalid_transition from WITHDRAWN"):
        connector(platform).write_back(WriteBackRequest(case_id, "accepted", "oq-x", {}))
    assert platform.effects == []


def test_the_stand_in_refuses_a_body_that_breaks_the_event_table(platform):
    case_id = platform.add_cases(1)[0]["caseId"]
    token = requests.post(platform.base_url + "/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": "oq-12315", "client_secret": "s3cret"}).json()["access_token"]
    url = f"{platform.base_url}/openapi/v1/cases/{case_id}/events"
    headers = {"Authorization": f"Bearer {token}"}
    at = T0.isoformat()
    for body in ({"type": "ACCEPTED", "occurredAt": at},
                 {"idempotencyKey": "a", "type": "APPROVED", "occurredAt": at},
                 {"idempotencyKey": "b", "type": "REJECTED", "occurredAt": at},
                 {"idempotencyKey": "c", "type": "ACCEPTED", "occurredAt": at, "recoveredAmount": "1"}):
        assert requests.post(url, json=body, headers=headers).status_code == 422, body
    closed = requests.post(url, json={"idempotencyKey": "d", "type": "CLOSED", "occurredAt": at}, headers=headers)
    assert closed.status_code == 409
    assert closed.json() == {"error": "invalid_transition", "from": "PENDING_ACCEPTANCE", "to": "CLOSED"}
