"""The connector conformance suite (connectors.testing) applied to onequeue's own kinds that pull, on SQLite
and PostgreSQL. A kind joins by a small adapter below and an entry in ADAPTERS.
"""
from __future__ import annotations

from connectors import build_connector
from connectors.testing import BATCH, SourceAdapter, conformance_suite


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

TestConformance = conformance_suite(ADAPTERS)
