"""One conformance suite for every connector kind that pulls: each kind must behave the same way towards the
queue, whatever its source looks like (first pull, repeat pull, update, malformed record, crash mid-batch,
repeated write-back), on SQLite and PostgreSQL.

A kind joins by a small adapter below: a subclass of `SourceAdapter` that starts its stand-in and knows how
to add, change and break records there and count the effects it received, and an entry in ADAPTERS.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from connectors import Connector, WriteBackRequest, build_connector
from connectors.poll import poll_channel
from tickets import QuarantinedRecord, Ticket, TicketEvent, handling, store
from tickets.db import utcnow
from writeback import DeliveryPolicy, OutboxItem, deliver_due

BATCH = 3  # records per page or batch, so that a handful of records takes several batches


class SourceAdapter:
    """What the suite needs from a kind: its stand-in, driven as the real source would change."""

    kind: str
    # the outbox effects the source records (the suite resolves a ticket, which accepts it first)
    effects: tuple[str, ...] = ("accepted", "resolved")
    # whether a source record can change after it was first pulled (an e-mail cannot)
    records_change: bool = True

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def connector(self) -> Connector:
        """A connector of the kind, reading BATCH records per page or batch."""
        raise NotImplementedError

    def add_records(self, n: int) -> list[str]:
        """n new well-formed records at the source; their source references."""
        raise NotImplementedError

    def update_record(self, ref: str) -> None:
        """A change to a known record that the queue must see as an update."""
        raise NotImplementedError

    def add_malformed(self) -> None:
        """One record that breaks the source's contract."""
        raise NotImplementedError

    def effect_count(self, ref: str, effect: str) -> int:
        """How many times the source has applied `effect` (accepted, resolved, returned) to `ref`."""
        raise NotImplementedError


class Adapter12345(SourceAdapter):
    kind = "12345"
    calls = {"accepted": "sign", "resolved": "reply", "returned": "return"}

    def start(self):
        from simulators.workorders_12345 import WorkOrder12345

        self.sim = WorkOrder12345("oq-test", "s3cret", seed=1, rate_limit_rps=None)
        self.sim.start()

    def stop(self):
        self.sim.stop()

    def connector(self):
        return build_connector("src-12345", "12345", {"base_url": self.sim.base_url, "app_id": "oq-test",
                                                      "app_secret": "s3cret", "page_size": BATCH})

    def add_records(self, n):
        return [o["GDBH"] for o in self.sim.add_orders(n)]

    def update_record(self, ref):
        self.sim.update_order(ref, SQNR=self.sim.get(ref)["SQNR"] + "（补充：商家仍未回复）")

    def add_malformed(self):
        self.sim.add_orders(0, malformed=1)

    def effect_count(self, ref, effect):
        return self.sim.effect_count(ref, self.calls[effect])


class Adapter12315(SourceAdapter):
    kind = "12315"
    events = {"accepted": "ACCEPTED", "resolved": "CLOSED", "returned": "REJECTED"}

    def start(self):
        from simulators.platform_12315 import Platform12315

        self.sim = Platform12315("oq-test", "s3cret", seed=1, rate_limit_rps=None)
        self.sim.start()

    def stop(self):
        self.sim.stop()

    def connector(self):
        return build_connector("src-12315", "12315", {"base_url": self.sim.base_url, "client_id": "oq-test",
                                                      "client_secret": "s3cret", "page_size": BATCH})

    def add_records(self, n):
        return [c["caseId"] for c in self.sim.add_cases(n)]

    def update_record(self, ref):
        self.sim.update_case(ref, description=self.sim.get(ref)["description"] + "（补充：商家仍未回复）")

    def add_malformed(self):
        self.sim.add_cases(0, malformed=1)

    def effect_count(self, ref, effect):
        return self.sim.effect_count(ref, self.events[effect])


class Adapter8180(SourceAdapter):
    kind = "8180"
    statuses = {"accepted": "已受理", "resolved": "已办结", "returned": "已退回"}

    def start(self):
        from simulators.hotline_8180 import Hotline8180

        self.sim = Hotline8180(self.tmp_path / "8180" / "in", self.tmp_path / "8180" / "out", seed=1).start()

    def stop(self):
        self.sim.stop()

    def connector(self):
        return build_connector("src-8180", "8180", {"inbox": str(self.sim.inbox), "outbox": str(self.sim.outbox),
                                                    "batch_size": BATCH})

    def add_records(self, n):
        return [c["受理编号"] for c in self.sim.add_calls(n)]

    def update_record(self, ref):
        self.sim.update_call(ref, 诉求内容=self.sim.get(ref)["诉求内容"] + "（补充：商家仍未回复）")
        self.sim.export()

    def add_malformed(self):
        self.sim.export(malformed=1)

    def effect_count(self, ref, effect):
        self.sim.collect_results()
        return self.sim.effect_count(ref, self.statuses[effect])


class AdapterRest(SourceAdapter):
    """The YAML-defined channel exactly as config.yaml ships it (mall-jiahe), pointed at the mall stand-in."""

    kind = "rest"
    states = {"accepted": "PROCESSING", "resolved": "CLOSED", "returned": "REJECTED"}

    def start(self):
        from simulators.mall_complaints import MallComplaints

        self.sim = MallComplaints("oauth", client_id="onequeue-demo", client_secret="demo-secret", seed=1)
        self.sim.start()

    def stop(self):
        self.sim.stop()

    def connector(self):
        from settings.config_schema import load_config
        from simulators.testing import ROOT

        (channel,) = [ch for ch in load_config(ROOT / "config.yaml").channels if ch.name == "mall-jiahe"]
        settings = channel.settings | {"base_url": self.sim.base_url,
                                       "paging": channel.settings["paging"] | {"size": BATCH}}
        return build_connector("src-rest", "rest", settings)

    def add_records(self, n):
        return [c["complaintNo"] for c in self.sim.add_complaints(n)]

    def update_record(self, ref):
        self.sim.update(ref, content=self.sim.complaints[ref]["content"] + "（补充：商家仍未回复）")

    def add_malformed(self):
        self.sim.add_complaints(0, malformed=1)

    def effect_count(self, ref, effect):
        return self.sim.effect_count(ref, self.states[effect])


class AdapterEmail(SourceAdapter):
    """The complaints mailbox on a real IMAP and SMTP server (mail-devel, started per test)."""

    kind = "email"

    def start(self):
        from simulators.mail_server import MailServer

        self.sim = MailServer().start()
        self.address = "tousu@amr.shunde.example"
        self.complainant = "liang.mei@example.cn"

    def stop(self):
        self.sim.stop()

    def connector(self):
        s = self.sim
        return build_connector("src-email", "email", {
            "address": self.address, "username": self.address, "password": s.password, "imap_host": s.host,
            "imap_port": s.imap_port, "imap_security": "none", "smtp_host": s.host, "smtp_port": s.smtp_port,
            "smtp_security": "none", "batch_size": BATCH, "timeout_seconds": 5})

    def _mail(self, message_id: str, sender: str | None) -> bytes:
        from email.mime.text import MIMEText

        msg = MIMEText("在大良华盖路悦动健身会所办的年卡余额3880元无法退还，请求处理。", "plain", "gb2312")
        if sender:
            msg["From"] = sender
        msg["To"] = self.address
        msg["Subject"] = "投诉：健身会所停业拒退余额"
        msg["Message-ID"] = message_id
        return msg.as_bytes()

    def add_records(self, n):
        import uuid

        refs = [f"{uuid.uuid4().hex}@example.cn" for _ in range(n)]
        for ref in refs:
            self.sim.append(self.address, self._mail(f"<{ref}>", self.complainant))
        return refs

    # An e-mail never changes once sent; a follow-up is a message of its own, so there is no update case.
    records_change = False

    def update_record(self, ref):
        raise AssertionError("e-mails do not change")

    def add_malformed(self):
        self.sim.append(self.address, self._mail("<no-sender@example.cn>", None))

    def effect_count(self, ref, effect):
        import email

        replies = [email.message_from_bytes(raw) for raw in self.sim.messages(self.complainant)]
        return sum(1 for r in replies if r["In-Reply-To"] == f"<{ref}>" and r["X-Onequeue-Effect"] == effect)


ADAPTERS: list[type[SourceAdapter]] = [Adapter12345, Adapter12315, Adapter8180, AdapterRest, AdapterEmail]


@pytest.fixture(params=ADAPTERS, ids=lambda a: a.kind)
def source(request, tmp_path):
    adapter = request.param(tmp_path)
    adapter.start()
    yield adapter
    adapter.stop()


def tickets_of(db, channel: str) -> list[Ticket]:
    with db.transaction() as s:
        return list(s.scalars(select(Ticket).where(Ticket.channel == channel)))


def test_first_pull_takes_every_record_and_a_repeat_pull_finds_nothing_new(db, source):
    refs = source.add_records(7)
    conn = source.connector()
    first = poll_channel(db, conn, "w1")
    assert first.error is None and first.created == 7 and first.batches >= 2
    assert sorted(t.source_ref for t in tickets_of(db, conn.name)) == sorted(refs)
    again = poll_channel(db, conn, "w1")
    assert again.error is None and (again.created, again.updated, again.quarantined) == (0, 0, 0)


@pytest.fixture(params=[a for a in ADAPTERS if a.records_change], ids=lambda a: a.kind)
def changing_source(request, tmp_path):
    adapter = request.param(tmp_path)
    adapter.start()
    yield adapter
    adapter.stop()


def test_an_update_to_a_known_record_updates_its_ticket(db, changing_source):
    source = changing_source
    refs = source.add_records(4)
    conn = source.connector()
    poll_channel(db, conn, "w1")
    source.update_record(refs[1])
    report = poll_channel(db, conn, "w1")
    assert (report.created, report.updated) == (0, 1)
    (ticket,) = [t for t in tickets_of(db, conn.name) if t.source_ref == refs[1]]
    assert "（补充：商家仍未回复）" in ticket.text
    assert [e.action for e in ticket.events] == ["received", "source_updated"]


def test_a_malformed_record_is_quarantined_once_and_the_rest_go_in(db, source):
    source.add_records(2)
    source.add_malformed()
    source.add_records(2)
    conn = source.connector()
    report = poll_channel(db, conn, "w1")
    assert report.created == 4 and report.quarantined >= 1
    poll_channel(db, conn, "w1")
    with db.transaction() as s:
        held = list(s.scalars(select(QuarantinedRecord).where(QuarantinedRecord.channel == conn.name)))
    assert len(held) == 1 and held[0].reason


def test_a_crash_mid_batch_loses_nothing_and_doubles_nothing_after_resume(db, source):
    refs = source.add_records(10)
    conn = source.connector()
    batches = {"n": 0}

    def die_in_second_batch(session, result):
        batches["n"] += 1
        if batches["n"] == 2:
            raise RuntimeError("the worker died here")

    crashed = poll_channel(db, conn, "w1", hooks=[die_in_second_batch])
    assert crashed.error and crashed.batches == 1
    resumed = poll_channel(db, source.connector(), "w1")
    assert resumed.error is None
    assert crashed.created + resumed.created == 10
    tickets = tickets_of(db, conn.name)
    assert sorted(t.source_ref for t in tickets) == sorted(refs)
    with db.transaction() as s:
        received = s.scalar(select(func.count()).select_from(TicketEvent).where(
            TicketEvent.action == "received", TicketEvent.ticket_id.in_([t.id for t in tickets])))
    assert received == 10


def test_a_repeated_write_back_takes_effect_once(db, source):
    ref = source.add_records(1)[0]
    conn = source.connector()
    poll_channel(db, conn, "w1")
    with db.transaction() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.channel == conn.name)).one()
        store.transition(s, ticket, "dispatched", "test", "dispatched")
        ticket.assigned_unit = "st-daliang-01"
        handling.resolve(s, ticket, "staff:test", "已协调商家退款，消费者表示满意。", "大良升平消费维权服务站")
    policy = DeliveryPolicy(backoff_seconds=0.01)
    assert deliver_due(db, {conn.name: conn}, "w1", policy).delivered == 2
    # when every write-back is delivered again (a worker died before it could mark them delivered)
    with db.transaction() as s:
        s.execute(update(OutboxItem).values(status="pending", next_attempt_at=utcnow()))
    assert deliver_due(db, {conn.name: conn}, "w1", policy).delivered == 2
    # and the source is sent the same effect directly once more
    with db.transaction() as s:
        item = s.scalars(select(OutboxItem).where(OutboxItem.effect == "resolved")).one()
        request = WriteBackRequest(item.source_ref, item.effect, item.key, dict(item.body))
    assert conn.write_back(request).outcome in ("done", "already_done")
    # then the source applied each effect once
    assert Counter({e: source.effect_count(ref, e) for e in source.effects}) == Counter(
        {e: 1 for e in source.effects})
