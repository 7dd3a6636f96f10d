"""Reading complaint e-mails as Chinese mail clients write them: RFC 2047 subjects and names, quoted-printable
and base64 bodies, in GB2312, GBK, GB18030 or UTF-8 (and mislabelled ones), plain text or HTML."""
from __future__ import annotations

import email
import html
import re
from email.header import Header, decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from datetime import datetime
from typing import Optional

# GB2312 and GBK labels are read as GB18030, their superset: senders label GBK text GB2312 all the time.
WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "euc-cn": "gb18030",
         "hz-gb-2312": "hz", "unknown-8bit": "gb18030", "ascii": "utf-8", "us-ascii": "utf-8"}
FALLBACKS = ("utf-8", "gb18030", "big5")
# The year as the Date header writes it: the standard library reads "0001" as 2001 (an obsolete two-digit year).
WRITTEN_YEAR = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\s+(\d+)\b", re.IGNORECASE)


def _codec(charset: Optional[str]) -> Optional[str]:
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    return WIDER.get(name, name)


def decode_bytes(data: bytes, charset: Optional[str]) -> str:
    """Bytes in the labelled charset if that reads them, else the likeliest of UTF-8, GB18030, Big5."""
    tried = []
    for codec in ([_codec(charset)] if charset else []) + list(FALLBACKS):
        if codec in tried or codec is None:
            continue
        tried.append(codec)
        try:
            return data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def _raw_8bit(value) -> str:
    """Header bytes that arrived unencoded (the parser keeps them as an unknown-8bit Header, or as
    surrogates) read as UTF-8 or GB18030; encoded words are left for decode_header."""
    if isinstance(value, Header):
        return "".join(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk
                       for chunk, charset in decode_header(value))
    value = str(value)
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return decode_bytes(value.encode("ascii", "surrogateescape"), None)


def header_text(value: Optional[str]) -> str:
    """A header as text: encoded words decoded, unencoded 8-bit bytes read as UTF-8 or GB18030."""
    if not value:
        return ""
    value = _raw_8bit(value)
    parts = []
    for chunk, charset in decode_header(str(value)):
        if isinstance(chunk, bytes):
            parts.append(decode_bytes(chunk, charset))
        else:
            parts.append(chunk)
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def parse(raw: bytes) -> Message:
    return email.message_from_bytes(raw)


def address(msg: Message, header: str) -> tuple[str, str]:
    """(display name, address) of the first address in `header`."""
    value = msg.get(header)
    if not value:
        return "", ""
    pairs = getaddresses([_raw_8bit(value)])
    if not pairs:
        return "", ""
    name, addr = pairs[0]
    return header_text(name), addr.strip()


def sent_at(msg: Message) -> Optional[datetime]:
    value = msg.get("Date")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None or not parsed.tzinfo:
        return None
    written = WRITTEN_YEAR.search(str(value))
    if written and len(written.group(1)) > 2 and int(written.group(1)) != parsed.year:
        return None
    return parsed


def _html_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</li>", "\n", markup)
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def body_text(msg: Message) -> str:
    """The message's text: its text/plain part, else its HTML as text; attachments are not text."""
    plain, markup = None, None
    for part in msg.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind not in ("text/plain", "text/html"):
            continue
        data = part.get_payload(decode=True) or b""
        text = decode_bytes(data, part.get_content_charset())
        if kind == "text/plain" and plain is None:
            plain = text
        elif kind == "text/html" and markup is None:
            markup = _html_text(text)
    text = plain if plain and plain.strip() else (markup or "")
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def attachment_names(msg: Message) -> list[str]:
    names = []
    for part in msg.walk():
        if part.get_content_disposition() == "attachment" or (part.get_filename() and not part.is_multipart()):
            names.append(header_text(part.get_filename() or "") or part.get_content_type())
    return names
