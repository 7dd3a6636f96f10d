"""A channel defined in YAML only: the mall operator's complaints API, which no connector of ours speaks,
pulled with each auth and paging style, mapped to tickets, and answered through its own feedback call."""
from __future__ import annotations

import pytest
import yaml
from sqlalchemy import select

from connectors import SourceUnavailable, WriteBackRequest, build_connector
from connectors.poll import poll_channel
from settings import ConfigError
from settings.config_schema import load_config
from simulators.mall_complaints import MallComplaints
from simulators.testing import write_config
from tickets import QuarantinedRecord, Ticket, handling, store
from worker import Worker
from writeback import OutboxItem

# The whole channel: nothing else was written for this source.
MALL_CHANNEL = """
  - name: mall-jiahe
    kind: rest
    poll_seconds: 1
    settings:
      base_url: "{base_url}"
      timezone: "+08:00"
      auth:
{auth}
      records:
        path: /api/v2/complaints
        list: data.list
        ok: {{path: success, equals: true}}
      paging:
{paging}
      mapping:
        source_ref: complaintNo
        received_at: {{from: createdTime, date_format: "%Y/%m/%d %H:%M"}}
        source_updated_at: {{from: lastModified, date_format: "%Y-%m-%d %H:%M:%S"}}
        kind:
          from: type
          map: {{COMPLAINT: complaint, CONSULT: consultation, SUGGEST: suggestion, REPORT: report}}
        title: {{template: "{{mall}}：{{category}}"}}
        text: content
        complainant_name: customer.nickname
        complainant_phone: customer.mobile
        business_name: shop.name
        event_address: {{template: "{{mallAddress}}{{shop.unitNo}}"}}
        amount: amountYuan
        priority: {{from: urgent, map: {{true: urgent, false: normal}}, default: normal}}
        source_status: state
        withdrawn: {{from: state, map: {{CANCELLED: true}}, strict: false, default: false}}
      write_back:
        path: "/api/v2/complaints/{{source_ref}}/feedback"
        body:
          state: {{by_effect: {{accepted: PROCESSING, resolved: CLOSED, returned: REJECTED}}}}
          replyContent: "{{result}}{{reason}}"
          handlerOrg: "{{unit_name}}"
        already_done: {{status: [409], path: errorCode, values: [ALREADY_IN_STATE]}}
"""
AUTH = {
    "none": "        type: none",
    "bearer": "        type: bearer\n        token: mall-static-token",
    "oauth": "        type: oauth_client_credentials\n        token_url: /oauth/token\n"
             "        client_id: onequeue\n        client_secret: mall-secret",
    "hmac": "        type: hmac\n        key_id: onequeue\n        secret: mall-secret",
}
PAGING = {
    "page": "        style: page\n        size: 20\n        size_param: pageSize\n        page_param: pageNo",
    "cursor": "        style: cursor\n        size: 20\n        size_param: pageSize\n        cursor_param: pageToken\n"
              "        next_cursor: data.nextPageToken\n        since_param: modifiedAfter\n"
              "        since_format: \"%Y-%m-%d %H:%M:%S\"",
    "timestamp": "        style: timestamp\n        size: 20\n        size_param: pageSize\n"
                 "        since_param: modifiedAfter\n        since_format: \"%Y-%m-%d %H:%M:%S\"",
}


def channel_yaml(mall, auth="oauth", paging="cursor") -> str:
    return MALL_CHANNEL.format(base_url=mall.base_url, auth=AUTH[auth], paging=PAGING[paging])


def mall_connector(mall, auth="oauth", paging="cursor"):
    (channel,) = yaml.safe_load(channel_yaml(mall, auth, paging))
    return build_connector(channel["name"], channel["kind"], channel["settings"])


@pytest.fixture
def mall():
    sim = MallComplaints(auth="oauth", seed=7)
    sim.start()
    yield sim
    sim.stop()


def pull_all(conn, cursor=None):
    records, bad = [], []
    for batch in conn.pull(cursor):
        records += batch.records
        bad += batch.bad
        cursor = batch.cursor
    return records, bad, cursor


@pytest.mark.parametrize("auth,paging", [("none", "page"), ("bearer", "cursor"), ("oauth", "timestamp"),
                                         ("hmac", "cursor"), ("hmac", "timestamp"), ("oauth", "page")])
def test_every_auth_and_paging_style_reads_every_record_once(mall, auth, paging):
    mall.auth = auth
    mall.add_complaints(65)
    records, bad, cursor = pull_all(mall_connector(mall, auth, paging))
    # (the timestamp style re-reads the newest record of each page: the store keeps it once)
    assert {r.source_ref for r in records} == set(mall.complaints) and len(records) <= 65 + 4
    assert bad == []
    if paging != "page":  # an incremental source: the next poll asks only for what changed since
        mall.add_complaints(3)
        again, _, _ = pull_all(mall_connector(mall, auth, paging), cursor)
        assert {r.source_ref for r in again} >= {n for n in list(mall.complaints)[-3:]}
        assert len(again) < 10


def test_a_page_out_of_order_skips_nothing_in_timestamp_paging(mall):
    # Given 65 complaints, and a mall that answers one page out of order: the complaint in its middle shows a
    # lastModified later than every complaint after it
    mall.add_complaints(65)
    mall.unsort_next_page()
    # When the channel pages by time
    records, _, _ = pull_all(mall_connector(mall, "oauth", "timestamp"))
    # Then every complaint is read
    assert {r.source_ref for r in records} == set(mall.complaints)


def test_wrong_credentials_say_so(mall):
    mall.add_complaints(1)
    mall.client_secret = "rotated"
    with pytest.raises(Exception, match="refused client 'onequeue'"):
        pull_all(mall_connector(mall, "oauth"))
    mall.auth = "hmac"
    with pytest.raises(Exception, match="refused our credentials"):
        pull_all(mall_connector(mall, "hmac"))


def test_fields_are_mapped_with_their_transforms(mall):
    (made,) = mall.add_complaints(1)
    mall.update(made["complaintNo"], urgent=True, type="CONSULT", amountYuan="1299.00")
    (rec,), _, _ = pull_all(mall_connector(mall))
    assert rec.kind == "consultation" and rec.priority == "urgent" and str(rec.amount) == "1299.00"
    assert rec.complainant_phone == made["customer"]["mobile"] and rec.business_name == made["shop"]["name"]
    assert rec.event_address == made["mallAddress"] + made["shop"]["unitNo"]
    assert rec.title == f"{made['mall']}：{made['category']}"
    assert rec.received_at.utcoffset().total_seconds() == 8 * 3600
    assert rec.received_at.strftime("%Y/%m/%d %H:%M") == made["createdTime"]
    assert rec.payload["customer"] == made["customer"]  # the record is kept as received


def test_the_yaml_channel_runs_in_the_worker_with_bad_records_set_aside_and_results_written_back(
        tmp_path, db_url, hotline, sms_provider, mall):
    # given a configuration that adds the mall's API as a channel, in YAML only
    mall.add_complaints(25, malformed=3)
    config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, extra=channel_yaml(mall))
    worker = Worker(load_config(config))
    worker.prepare()
    try:
        report = worker.poll("mall-jiahe")
        assert (report.created, report.quarantined, report.error) == (25, 3, None)
        assert worker.poll("mall-jiahe").created == 0  # nothing new: nothing stored twice
        with worker.db.transaction() as s:
            reasons = sorted(q.reason for q in s.scalars(select(QuarantinedRecord)))
        assert any("source_ref" in r for r in reasons) and any("received_at" in r for r in reasons)
        assert any("PRAISE" in r for r in reasons)

        # when a complaint is cancelled at the mall, and another is dispatched and resolved here
        numbers = list(mall.complaints)
        mall.cancel(numbers[0])
        assert worker.poll("mall-jiahe").updated == 1
        worker.dispatch()
        with worker.db.transaction() as s:
            tickets = {t.source_ref: t for t in s.scalars(select(Ticket).where(Ticket.channel == "mall-jiahe"))}
            assert tickets[numbers[0]].status == "withdrawn"
            ticket = tickets[numbers[1]]
            handling.resolve(s, ticket, "staff:test", "已协调商家退货退款。", "大良升平消费维权服务站")
        worker.deliver()

        # then the mall has its complaint processing, then closed, with our result, once each
        assert [f["state"] for f in mall.feedback] == ["PROCESSING", "CLOSED"]
        assert mall.feedback[1]["replyContent"] == "已协调商家退货退款。"
        assert mall.feedback[1]["handlerOrg"] == "大良升平消费维权服务站"
        with worker.db.transaction() as s:
            assert {o.status for o in s.scalars(select(OutboxItem))} == {"delivered"}
    finally:
        worker.db.dispose()


def test_a_repeated_write_back_changes_nothing_and_a_forbidden_one_is_refused(mall):
    first, second = mall.add_complaints(2)
    conn = mall_connector(mall)
    close = WriteBackRequest(first["complaintNo"], "resolved", "oq-key-1", {"result": "已退款", "unit_name": "大良所"})
    assert conn.write_back(close).outcome == "done"
    assert conn.write_back(close).outcome == "done"  # the same key: the mall answers as before
    again = WriteBackRequest(first["complaintNo"], "resolved", "oq-key-2", {"result": "已退款", "unit_name": "大良所"})
    assert conn.write_back(again).outcome == "already_done"
    assert mall.effect_count(first["complaintNo"], "CLOSED") == 1
    mall.cancel(second["complaintNo"])
    with pytest.raises(Exception, match="STATE_CONFLICT"):
        conn.write_back(WriteBackRequest(second["complaintNo"], "resolved", "oq-key-3",
                                         {"result": "已退款", "unit_name": "大良所"}))


def test_a_write_back_tries_a_token_fetch_twice_as_it_tries_the_write(mall):
    # given a connector that holds no token yet, and a mall API whose next two answers are 503s
    (made,) = mall.add_complaints(1)
    conn = mall_connector(mall, "oauth")
    mall.fail_next(2, status=503)
    accepted = WriteBackRequest(made["complaintNo"], "accepted", "oq-key-1", {"unit_name": "大良所"})
    # when a result is written back, its token fetch fails twice and the attempt ends there (a write-back's
    # requests are counted to fit in one claim: tries of the token fetch as of the write, not max_attempts)
    with pytest.raises(SourceUnavailable, match="after 2 attempt"):
        conn.write_back(accepted)
    # then the next attempt gets through, once
    assert conn.write_back(accepted).outcome == "done"
    assert mall.effect_count(made["complaintNo"], "PROCESSING") == 1


def test_a_mistake_in_the_channel_yaml_names_the_line_and_the_field(tmp_path, db_url, hotline, sms_provider, mall):
    broken = channel_yaml(mall).replace("complainant_phone: customer.mobile", "caller_phone: customer.mobile")
    config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, extra=broken)
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert "caller_phone: not ticket fields" in str(err.value) and "config.yaml:" in str(err.value)
    broken = channel_yaml(mall, paging="cursor").replace("        next_cursor: data.nextPageToken\n", "")
    config = write_config(tmp_path / "config2.yaml", db_url, hotline, sms_provider, extra=broken)
    with pytest.raises(ConfigError, match="cursor paging needs next_cursor"):
        load_config(config)
