"""A real IMAP and SMTP server on loopback for the e-mail channel's tests and demo: mail-devel (pymap's
IMAP4rev1 server and aiosmtpd, in memory, one mailbox per address), run as a child process.

Every address is a mailbox whose password is `password`; mail sent over SMTP lands in each recipient's
INBOX. Chosen over Dovecot because it installs from PyPI with the test dependencies and needs no root,
no system user and no configuration files, so CI runs it as it is.
"""
from __future__ import annotations

import importlib.util
import imaplib
import smtplib
import socket
import subprocess
import sys
import time
from email.message import Message
from typing import Optional


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailServer:
    """`start()` launches the server and waits until both ports answer; `stop()` ends it."""

    def __init__(self, password: str = "mail-test-password", host: str = "127.0.0.1",
                 imap_port: int = 0, smtp_port: int = 0):
        self.password, self.host = password, host
        self.imap_port = imap_port or _free_port()
        self.smtp_port = smtp_port or _free_port()
        self._proc: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 20.0) -> "MailServer":
        if importlib.util.find_spec("mail_devel") is None:
            raise RuntimeError("the e-mail tests need mail-devel: pip install -e '.[test]'")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "mail_devel", "--host", self.host, "--imap-port", str(self.imap_port),
             "--smtp-port", str(self.smtp_port), "--no-http", "--multi-user", "--password", self.password],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the mail server stopped at start: {self._proc.stderr.read()[-2000:]!r}")
            if self._answers(self.imap_port) and self._answers(self.smtp_port):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the mail server did not listen on {self.imap_port}/{self.smtp_port} in {timeout} s")

    def _answers(self, port: int) -> bool:
        try:
            with socket.create_connection((self.host, port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc is not None and self._proc.stderr is not None:
            self._proc.stderr.close()
        self._proc = None

    def __enter__(self) -> "MailServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- as a mail user would --------------------------------------------------------------------

    def send(self, msg: Message) -> None:
        """Deliver `msg` over SMTP to its recipients' mailboxes."""
        with smtplib.SMTP(self.host, self.smtp_port, timeout=10) as smtp:
            smtp.send_message(msg)

    def append(self, mailbox: str, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message into a mailbox byte for byte, as another mail system delivered it."""
        with self.imap(mailbox) as conn:
            typ, data = conn.append(folder, None, None, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND failed: {data!r}")

    def imap(self, mailbox: str) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.imap_port, timeout=10)
        conn.login(mailbox, self.password)
        return conn

    def messages(self, mailbox: str, folder: str = "INBOX") -> list[bytes]:
        """Every message in a mailbox's folder, oldest first."""
        with self.imap(mailbox) as conn:
            typ, _ = conn.select(folder, readonly=True)
            if typ != "OK":
                return []
            typ, data = conn.uid("SEARCH", None, "ALL")
            uids = (data[0] or b"").split()
            if not uids:
                return []
            typ, data = conn.uid("FETCH", b",".join(uids).decode(), "(BODY.PEEK[])")
            return [item[1] for item in data if isinstance(item, tuple)]
