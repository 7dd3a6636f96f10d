"""The complaints mailbox against a real IMAP and SMTP server (simulators.mail_server): Chinese mail in its
usual encodings becomes tickets, each message once, and the result goes back as a reply in the thread."""
from __future__ import annotations

import base64
import email
import quopri
import uuid
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr

import pytest
from sqlalchemy import select, update

from connectors import SourceUnavailable, WriteBackRequest, build_connector
from connectors import mail_decode
from connectors.complaints_mail import imap_folder
from connectors.poll import poll_channel
from simulators.mail_server import MailServer
from tickets import QuarantinedRecord, Ticket, handling, store
from tickets.db import utcnow
from writeback import DeliveryPolicy, OutboxItem, deliver_due


@pytest.fixture(scope="module")
def mail():
    with MailServer() as server:
        yield server


@pytest.fixture
def box(mail):
    """A fresh complaints mailbox on the server, and a connector reading it."""
    address = f"ts-{uuid.uuid4().hex[:8]}@amr.shunde.example"
    return address, mailbox_connector(mail, address)


def mailbox_connector(mail, address, **settings):
    return build_connector("email-complaints", "email", {
        "address": address, "username": address, "password": mail.password, "imap_host": mail.host,
        "imap_port": mail.imap_port, "imap_security": "none", "smtp_host": mail.host, "smtp_port": mail.smtp_port,
        "smtp_security": "none", "batch_size": 3, "timeout_seconds": 5} | settings)


def gb2312_plain(to, sender="liang.mei@example.cn", msgid=None) -> bytes:
    body = "我于2026年10月在大良华盖路的悦动健身会所办理年卡，充值3880元。会所上周突然停业，余额无法退还。\n联系电话：13802891234"
    msg = MIMEText(body, "plain", "gb2312")  # base64 in GB2312
    msg["From"] = formataddr(("梁女士", sender), charset="gb2312")
    msg["To"] = to
    msg["Subject"] = Header("投诉：健身会所停业拒退预付卡余额", "gb2312").encode()
    msg["Message-ID"] = msgid or f"<{uuid.uuid4().hex}@mail.example.cn>"
    msg["Date"] = "Sat, 21 Nov 2026 20:15:00 +0800"
    return msg.as_bytes()


def gbk_labelled_gb2312_quoted_printable(to) -> bytes:
    # 喆 and 镕 are GBK/GB18030, not GB2312: mail clients label such text gb2312 anyway
    text = "举报：容桂喆镕手机店销售翻新机冒充新机，价格2999元。"
    body = quopri.encodestring(text.encode("gb18030")).decode("ascii")
    return (f"From: =?GB2312?B?{base64.b64encode('王喆'.encode('gb18030')).decode()}?= <wz@example.cn>\r\n"
            f"To: {to}\r\nSubject: =?gb2312?Q?=BE=D9=B1=A8=CA=D6=BB=FA=B5=EA?=\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@example.cn>\r\nDate: Sun, 22 Nov 2026 09:01:00 +0800\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=gb2312\r\n"
            f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{body}\r\n").encode("ascii")


def utf8_html_with_attachment(to) -> bytes:
    msg = MIMEMultipart("mixed")
    msg["From"] = "=?utf-8?b?" + base64.b64encode("周先生".encode()).decode() + "?= <zhou@example.com>"
    msg["To"] = to
    msg["Subject"] = Header("咨询：网购商品七天无理由退货", "utf-8").encode()
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    msg.attach(MIMEText("<html><body><p>请问拆封的商品&amp;赠品能否七天无理由退货？</p><p>谢谢</p></body></html>",
                        "html", "utf-8"))
    photo = MIMEApplication(b"\xff\xd8\xff\xe0fake-jpeg", "jpeg")
    photo.add_header("Content-Disposition", "attachment", filename=("utf-8", "", "小票.jpg"))
    msg.attach(photo)
    return msg.as_bytes()


def raw_8bit_headers(to) -> bytes:
    # no MIME at all: the subject and name in raw GB18030 bytes, as some old clients send them
    return (b"From: " + "何伯".encode("gb18030") + b" <heb@example.cn>\r\nTo: " + to.encode() +
            b"\r\nSubject: " + "求助：老人被骗购买高价保健品".encode("gb18030") +
            b"\r\nMessage-ID: <" + uuid.uuid4().hex.encode() + b"@example.cn>\r\n\r\n" +
            "父亲在讲座上花了8800元买保健品，求助退款。".encode("gb18030") + b"\r\n")


def pull_all(conn, cursor=None):
    records, bad = [], []
    for batch in conn.pull(cursor):
        records += batch.records
        bad += batch.bad
        cursor = batch.cursor
    return records, bad, cursor


def test_chinese_mail_in_every_usual_encoding_becomes_readable_tickets(mail, box):
    address, conn = box
    for raw in (gb2312_plain(address), gbk_labelled_gb2312_quoted_printable(address),
                utf8_html_with_attachment(address), raw_8bit_headers(address)):
        mail.append(address, raw)
    records, bad, _ = pull_all(conn)
    assert bad == [] and len(records) == 4
    prepaid, phone_shop, question, old_client = records
    assert prepaid.title == "投诉：健身会所停业拒退预付卡余额" and prepaid.complainant_name == "梁女士"
    assert "充值3880元" in prepaid.text and prepaid.complainant_phone == "13802891234"
    assert prepaid.received_at.isoformat() == "2026-11-21T20:15:00+08:00"
    assert phone_shop.kind == "report" and phone_shop.title == "举报手机店"
    assert "容桂喆镕手机店" in phone_shop.text and phone_shop.complainant_name == "王喆"
    assert question.kind == "consultation" and question.text == "请问拆封的商品&赠品能否七天无理由退货？\n谢谢"
    assert question.payload["attachments"] == ["小票.jpg"] and question.payload["from"] == "zhou@example.com"
    assert (old_client.kind, old_client.title, old_client.complainant_name) == ("help", "求助：老人被骗购买高价保健品", "何伯")
    assert old_client.text == "父亲在讲座上花了8800元买保健品，求助退款。"


def test_each_message_is_read_once_and_a_redelivered_one_is_the_same_ticket(db, mail, box):
    address, conn = box
    msgid = f"<{uuid.uuid4().hex}@mail.example.cn>"
    mail.append(address, gb2312_plain(address, msgid=msgid))
    for _ in range(4):
        mail.append(address, gbk_labelled_gb2312_quoted_printable(address))
    assert poll_channel(db, conn, "w1").created == 5
    assert poll_channel(db, conn, "w1").created == 0
    mail.append(address, gb2312_plain(address, msgid=msgid))  # the same mail delivered again
    mail.append(address, utf8_html_with_attachment(address))
    report = poll_channel(db, conn, "w1")
    assert (report.created, report.error) == (1, None)
    with db.transaction() as s:
        assert len(s.scalars(select(Ticket).where(Ticket.channel == conn.name)).all()) == 6


def test_a_renumbered_folder_is_read_again_without_doubling_a_ticket(db, mail, box):
    address, _ = box
    folder = imap_folder("投诉")  # a folder with a Chinese name, as staff name them
    conn = mailbox_connector(mail, address, folder="投诉")
    first = [gb2312_plain(address), utf8_html_with_attachment(address)]
    with mail.imap(address) as imap:
        imap.create(folder)
    for raw in first:
        mail.append(address, raw, folder=folder)
    assert poll_channel(db, conn, "w1").created == 2
    # the folder is rebuilt (a server migration): new UIDVALIDITY, the same messages and one more
    with mail.imap(address) as imap:
        imap.delete(folder)
        imap.create(folder)
    for raw in first + [gbk_labelled_gb2312_quoted_printable(address)]:
        mail.append(address, raw, folder=folder)
    report = poll_channel(db, conn, "w1")
    assert (report.created, report.error) == (1, None)


def test_mail_that_is_no_complaint_is_skipped_and_a_broken_one_set_aside(db, mail, box):
    address, conn = box
    mail.append(address, b"To: " + address.encode() + b"\r\nSubject: no sender\r\nMessage-ID: <nosender@x>\r\n\r\nhello\r\n")
    auto = email.message_from_bytes(gb2312_plain(address))
    auto["Auto-Submitted"] = "auto-replied"
    mail.append(address, auto.as_bytes())
    mail.append(address, gb2312_plain(address))
    report = poll_channel(db, conn, "w1")
    assert (report.created, report.quarantined) == (1, 1)
    with db.transaction() as s:
        (held,) = s.scalars(select(QuarantinedRecord)).all()
        assert held.reason == "the message has no sender address to answer"


def test_the_result_is_a_reply_in_the_thread_sent_once(db, mail, box):
    address, conn = box
    msgid = f"<{uuid.uuid4().hex}@mail.example.cn>"
    complainant = f"liang.{uuid.uuid4().hex[:6]}@example.cn"
    mail.append(address, gb2312_plain(address, sender=complainant, msgid=msgid))
    poll_channel(db, conn, "w1")
    with db.transaction() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.channel == conn.name)).one()
        store.transition(s, ticket, "dispatched", "test", "dispatched")
        ticket.assigned_unit = "st-daliang-01"
        handling.resolve(s, ticket, "staff:test", "经调解，商家同意退还余额3000元。", "大良升平消费维权服务站")
    policy = DeliveryPolicy(backoff_seconds=0.01)
    assert deliver_due(db, {conn.name: conn}, "w1", policy).delivered == 2
    with db.transaction() as s:  # delivered again, as after a worker died before marking them
        s.execute(update(OutboxItem).values(status="pending", next_attempt_at=utcnow()))
    assert deliver_due(db, {conn.name: conn}, "w1", policy).delivered == 2

    replies = [email.message_from_bytes(raw) for raw in mail.messages(complainant)]
    assert [r["X-Onequeue-Effect"] for r in replies] == ["accepted", "resolved"]
    resolved = replies[1]
    assert resolved["In-Reply-To"] == msgid and msgid in resolved["References"]
    assert mail_decode.header_text(resolved["Subject"]) == "Re: 投诉：健身会所停业拒退预付卡余额"
    text = mail_decode.body_text(resolved)
    assert "处理结果：经调解，商家同意退还余额3000元。" in text and "大良升平消费维权服务站" in text
    assert len(mail.messages(address, folder="Sent")) == 2  # our copies, by which a repeat is recognised


def test_a_mailbox_that_refuses_us_says_so(mail, box):
    address, _ = box
    conn = mailbox_connector(mail, address, password="wrong")
    with pytest.raises(SourceUnavailable, match="refused the login"):
        pull_all(conn)
    conn = mailbox_connector(mail, address, imap_port=1)
    with pytest.raises(SourceUnavailable, match="IMAP"):
        pull_all(conn)
    with pytest.raises(Exception, match="no sender address"):
        mailbox_connector(mail, address, sent_folder=None).write_back(
            WriteBackRequest("x", "resolved", "k", {"result": "r"}, {"subject": "s"}))


@pytest.mark.parametrize("written", ["Fri, 31 Dec 9999 20:15:00 +0800", "Mon, 01 Jan 0001 09:00:00 +0800"])
def test_a_mail_dated_outside_the_plausible_window_takes_the_servers_arrival_time(db, mail, box, written):
    address, conn = box
    odd = email.message_from_bytes(gb2312_plain(address))
    odd.replace_header("Date", written)
    mail.append(address, odd.as_bytes())
    mail.append(address, gb2312_plain(address))
    before = utcnow()
    report = poll_channel(db, conn, "w1")
    assert (report.created, report.quarantined, report.error) == (2, 0, None)
    with db.transaction() as s:
        by_date = {t.payload["date"]: t.received_at for t in s.scalars(select(Ticket).where(Ticket.channel == conn.name))}
    assert by_date["Sat, 21 Nov 2026 20:15:00 +0800"].isoformat() == "2026-11-21T12:15:00+00:00"
    # read as the server received it, never as year 2001 or 9999 (which would fire or overflow the deadlines)
    assert abs((by_date[written] - before).total_seconds()) < 120
