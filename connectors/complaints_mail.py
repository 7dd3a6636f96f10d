"""A complaints mailbox: messages read over IMAP (UIDVALIDITY and UID as the cursor, the Message-ID as the
record's key), answered over SMTP as the write-back (a reply in the same thread, with the result)."""
from __future__ import annotations

import base64
import hashlib
import imaplib
import json
import re
import smtplib
import socket
import ssl
from contextlib import contextmanager
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, format_datetime
from typing import Iterator, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from connectors import mail_decode as md
from connectors.base import (
    Batch,
    Connector,
    ConnectorConfig,
    SourceUnavailable,
    WriteBackRejected,
    WriteBackRequest,
    WriteBackResult,
)
from tickets.dates import plausible_window
from tickets.schema import BadRecord, IncomingTicket
from tickets.vocabulary import CHINA_TZ as CST, KIND_LABELS

MOBILE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
KIND_WORDS = tuple((KIND_LABELS[kind], kind) for kind in ("report", "consultation", "suggestion", "help"))  # first found wins
EFFECT_HEADER = "X-Onequeue-Effect"


class Replies(BaseModel):
    """What the complainant is told; {subject}, {unit_name}, {result}, {reason}, {at} are filled in."""

    model_config = ConfigDict(extra="forbid")

    accepted: Optional[str] = ("您好！您的来信《{subject}》已受理，承办单位：{unit_name}。我们将依法处理，并在办结后回复您。")
    resolved: str = "您好！您的来信《{subject}》已办结。\n\n处理结果：{result}\n\n承办单位：{unit_name}\n办结时间：{at}"
    returned: str = "您好！您的来信《{subject}》经核实不属于市场监督管理部门的职责范围：{reason}"
    signature: str = "\n\n—— 顺德区市场监督管理局 消费维权投诉邮箱\n（此邮件由系统发出，直接回复即可补充材料）"


class Settings(ConnectorConfig):
    address: str = Field(description="the complaints mailbox's address, the From of every reply")
    display_name: str = "顺德区市场监督管理局"
    username: str
    password: str = Field(repr=False, description="give it by ${ENV}")
    imap_host: str
    imap_port: int = 993
    imap_security: Literal["ssl", "starttls", "none"] = "ssl"
    folder: str = "INBOX"
    smtp_host: str
    smtp_port: int = 465
    smtp_security: Literal["ssl", "starttls", "none"] = "ssl"
    smtp_username: Optional[str] = Field(None, description="default: username")
    smtp_password: Optional[str] = Field(None, repr=False, description="default: password")
    sent_folder: Optional[str] = Field("Sent", description="replies are kept here and looked for before sending, "
                                       "so a reply is never sent twice; empty: no such check")
    batch_size: int = Field(50, ge=1, le=500)
    timeout_seconds: float = Field(30, gt=0)
    replies: Replies = Field(default_factory=Replies)


def message_ref(message_id: str) -> str:
    """The Message-ID without its brackets; a very long one by its digest (tickets key on 128 characters)."""
    ref = message_id.strip().strip("<>").strip()
    return ref if len(ref) <= 120 else "mid-" + hashlib.sha256(ref.encode()).hexdigest()[:40]


def _kind(subject: str) -> str:
    return next((kind for word, kind in KIND_WORDS if word in subject), "complaint")


def arrival_time(sent: Optional[datetime], internal: Optional[datetime]) -> datetime:
    """The Date header, which the sender writes, if it is plausible; else the mail server's arrival time."""
    window = plausible_window()
    return next((at for at in (sent, internal) if window.contains(at)), datetime.now(CST).replace(microsecond=0))


def normalise(raw: bytes, uid: int, uidvalidity: int, internal: Optional[datetime], own_address: str):
    """(ticket, None), (None, reason to set it aside) or (None, None) for mail that is no complaint."""
    msg = md.parse(raw)
    if (msg.get("Auto-Submitted") or "no").strip().lower() != "no" or msg.get("X-Autoreply"):
        return None, None  # an out-of-office or a bounce, not a complaint
    name, sender = md.address(msg, "From")
    if sender.lower() == own_address.lower():
        return None, None  # our own reply, copied back to the mailbox
    _, reply_to = md.address(msg, "Reply-To")
    subject = md.header_text(msg.get("Subject"))
    text = md.body_text(msg)
    if not sender or "@" not in sender:
        return None, "the message has no sender address to answer"
    if not subject and not text:
        return None, "the message has neither subject nor text"
    message_id = (msg.get("Message-ID") or "").strip()
    ref = message_ref(message_id) if message_id else f"uid-{uidvalidity}-{uid}"
    at = arrival_time(md.sent_at(msg), internal)
    phone = MOBILE.search(text)
    payload = {
        "message_id": message_id or None, "from": sender, "from_name": name or None, "reply_to": reply_to or None,
        "to": md.header_text(msg.get("To")), "subject": subject, "date": msg.get("Date"),
        "in_reply_to": (msg.get("In-Reply-To") or "").strip() or None,
        "references": " ".join(str(msg.get("References") or "").split()) or None,
        "uid": uid, "uidvalidity": uidvalidity, "attachments": md.attachment_names(msg), "text": text,
    }
    ticket = IncomingTicket(
        source_ref=ref, source_updated_at=at, received_at=at, kind=_kind(subject),
        title=(subject or text[:30])[:200], text=text or subject, complainant_name=name or None,
        complainant_phone=phone.group(1) if phone else None, source_status="received", payload=payload,
    )
    return ticket, None


class ComplaintsMailConnector(Connector):
    kind = "email"
    Config = Settings

    # --- IMAP -----------------------------------------------------------------------------------

    @contextmanager
    def _imap(self) -> Iterator[imaplib.IMAP4]:
        cfg = self.config
        try:
            if cfg.imap_security == "ssl":
                conn = imaplib.IMAP4_SSL(cfg.imap_host, cfg.imap_port, ssl_context=ssl.create_default_context(),
                                         timeout=cfg.timeout_seconds)
            else:
                conn = imaplib.IMAP4(cfg.imap_host, cfg.imap_port, timeout=cfg.timeout_seconds)
                if cfg.imap_security == "starttls":
                    conn.starttls(ssl.create_default_context())
        except (OSError, imaplib.IMAP4.error) as exc:
            raise SourceUnavailable(f"IMAP {cfg.imap_host}:{cfg.imap_port}: {type(exc).__name__}: {exc}") from None
        try:
            try:
                conn.login(cfg.username, cfg.password)
            except imaplib.IMAP4.error as exc:
                raise SourceUnavailable(f"IMAP refused the login of {cfg.username!r}: {exc}") from None
            yield conn
        except (OSError, imaplib.IMAP4.abort) as exc:
            raise SourceUnavailable(f"IMAP connection lost: {type(exc).__name__}: {exc}") from None
        finally:
            try:
                conn.logout()
            except Exception:  # a connection that already broke cannot say goodbye
                pass

    def pull(self, cursor: Optional[str]) -> Iterator[Batch]:
        """Messages after the cursor's UID, batch by batch; a new UIDVALIDITY reads the folder again."""
        cfg = self.config
        state = json.loads(cursor) if cursor else {}
        with self._imap() as conn:
            typ, _ = conn.select(imap_folder(cfg.folder), readonly=True)
            if typ != "OK":
                raise SourceUnavailable(f"IMAP folder {cfg.folder!r} cannot be opened")
            validity = int((conn.response("UIDVALIDITY")[1] or [b"0"])[0])
            last = state.get("uid", 0) if state.get("uidvalidity") == validity else 0  # renumbered: read again
            typ, data = conn.uid("SEARCH", None, "UID", f"{last + 1}:*")
            if typ != "OK":
                raise SourceUnavailable(f"IMAP UID SEARCH failed: {data!r}")
            uids = sorted(u for u in (int(x) for x in (data[0] or b"").split()) if u > last)
            if not uids:
                yield Batch([], [], json.dumps({"uidvalidity": validity, "uid": last}))
                return
            for start in range(0, len(uids), cfg.batch_size):
                chunk = uids[start:start + cfg.batch_size]
                records, bad = [], []
                for uid, raw, internal in self._fetch(conn, chunk):
                    try:
                        ticket, reason = normalise(raw, uid, validity, internal, cfg.address)
                    except ValueError as exc:  # pydantic's ValidationError too
                        ticket, reason = None, str(exc)
                    if ticket is not None:
                        records.append(ticket)
                    elif reason:
                        bad.append(BadRecord(raw=raw.decode("utf-8", "replace")[:20000], reason=reason,
                                             source_ref=f"uid-{validity}-{uid}"))
                yield Batch(records, bad, json.dumps({"uidvalidity": validity, "uid": chunk[-1]}),
                            raw_count=len(chunk))

    def _fetch(self, conn: imaplib.IMAP4, uids: list[int]) -> list[tuple[int, bytes, Optional[datetime]]]:
        typ, data = conn.uid("FETCH", ",".join(map(str, uids)), "(UID INTERNALDATE BODY.PEEK[])")
        if typ != "OK":
            raise SourceUnavailable(f"IMAP UID FETCH failed: {data!r}")
        found = []
        for item in data:
            if not isinstance(item, tuple):
                continue
            meta = item[0].decode("ascii", "replace")
            uid = re.search(r"UID (\d+)", meta)
            if not uid:
                continue
            internal = None
            stamp = re.search(r'INTERNALDATE "([^"]+)"', meta)
            if stamp:
                try:
                    internal = datetime.strptime(stamp.group(1), "%d-%b-%Y %H:%M:%S %z")
                except ValueError:
                    internal = None
            found.append((int(uid.group(1)), item[1], internal))
        return sorted(found)

    def lag(self, cursor: Optional[str], now: datetime) -> Optional[float]:
        return None

    # --- SMTP: the reply --------------------------------------------------------------------------

    def reply_id(self, request: WriteBackRequest) -> str:
        """The reply's Message-ID, the same for every attempt at one effect."""
        return f"<{request.key}@{self.config.address.split('@')[-1]}>"

    def reply_for(self, request: WriteBackRequest) -> Optional[EmailMessage]:
        """The reply this effect sends, or None if the complainant is not told of it."""
        cfg, p = self.config, request.source_payload
        template = getattr(cfg.replies, request.effect, None)
        if not template:
            return None
        to = p.get("reply_to") or p.get("from")
        if not to:
            raise WriteBackRejected("the complaint's message has no sender address to answer")
        subject = p.get("subject") or "您的来信"
        values = {"subject": subject, "unit_name": "", "result": "", "reason": "", "at": ""} | {
            k: str(v) for k, v in request.body.items() if v is not None}
        msg = EmailMessage()
        msg["From"] = formataddr((cfg.display_name, cfg.address))
        msg["To"] = to
        msg["Subject"] = subject if re.match(r"(?i)^(re|回复)[:：]", subject) else f"Re: {subject}"
        msg["Date"] = format_datetime(datetime.now(CST))
        msg["Message-ID"] = self.reply_id(request)
        if p.get("message_id"):
            msg["In-Reply-To"] = p["message_id"]
            msg["References"] = " ".join(filter(None, [p.get("references"), p["message_id"]]))
        msg["Auto-Submitted"] = "auto-replied"
        msg[EFFECT_HEADER] = request.effect
        msg.set_content(template.format(**values) + cfg.replies.signature, charset="utf-8")
        return msg

    @classmethod
    def writeback_requests(cls, config: Settings) -> int:
        # The look in the sent folder, the SMTP session and the copy kept: three connections. The timeout
        # bounds each exchange of a session (greeting, login, each command), so this count is a floor.
        return 3 if config.sent_folder else 1

    def write_back(self, request: WriteBackRequest) -> WriteBackResult:
        cfg = self.config
        if not getattr(cfg.replies, request.effect, None):
            return WriteBackResult("done", f"no mail for {request.effect}")
        if cfg.sent_folder and self._already_sent(self.reply_id(request)):
            return WriteBackResult("already_done", f"{self.reply_id(request)} is in {cfg.sent_folder}")
        msg = self.reply_for(request)
        self._send(msg)
        if cfg.sent_folder:
            self._keep(msg)
        return WriteBackResult("done", f"replied {msg['Message-ID']}")

    def _already_sent(self, message_id: str) -> bool:
        folder = imap_folder(self.config.sent_folder)
        with self._imap() as conn:
            typ, _ = conn.select(folder, readonly=True)
            if typ != "OK":
                return False  # no sent folder yet: nothing was sent
            typ, data = conn.uid("SEARCH", None, "HEADER", "Message-ID", _quote(message_id))
            return typ == "OK" and bool((data[0] or b"").split())

    def _keep(self, msg: EmailMessage) -> None:
        folder = imap_folder(self.config.sent_folder)
        try:
            with self._imap() as conn:
                typ, _ = conn.append(folder, "(\\Seen)", None, msg.as_bytes())
                if typ != "OK":
                    conn.create(folder)
                    conn.append(folder, "(\\Seen)", None, msg.as_bytes())
        except SourceUnavailable:
            pass  # the reply went out; only the copy is missing, and the next attempt would find no copy

    def _send(self, msg: EmailMessage) -> None:
        cfg = self.config
        try:
            if cfg.smtp_security == "ssl":
                smtp = smtplib.SMTP_SSL(cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout_seconds,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout_seconds)
            with smtp:
                if cfg.smtp_security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                user = cfg.smtp_username or cfg.username
                password = cfg.smtp_password or cfg.password
                if user and password and smtp.has_extn("auth"):
                    smtp.login(user, password)
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {code for code, _ in exc.recipients.values()}
            if all(code >= 500 for code in codes):
                raise WriteBackRejected(f"the mail server refuses the address {msg['To']}: "
                                        f"{sorted(codes)}") from None
            raise SourceUnavailable(f"SMTP deferred the recipient: {sorted(codes)}") from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500 and exc.smtp_code != 535:
                raise WriteBackRejected(f"SMTP refused the reply: {exc.smtp_code} {exc.smtp_error!r}") from None
            raise SourceUnavailable(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from None
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            raise SourceUnavailable(f"SMTP {cfg.smtp_host}:{cfg.smtp_port}: {type(exc).__name__}: {exc}") from None


def imap_folder(name: str) -> str:
    """A folder name as IMAP spells it (modified UTF-7, RFC 3501 5.1.3), quoted: 投诉 → "&YpWLyQ-"."""
    out, run = [], []

    def flush():
        if run:
            data = "".join(run).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            run.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return _quote("".join(out))


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
