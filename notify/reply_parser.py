"""What a station's SMS reply asks for: `<ticket number> 受理`, `… 已联系`, `… 办结 <result>`, `… 退回 <reason>`.

Phones type what they type: full-width letters, digits and punctuation, any spaces, lower case, the verb
before the number. Anything else is not understood, and the sender is sent the format.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Optional

# The word staff type → the action; longer words first so 已办结 is not read as 办结 plus a stray 已.
VERBS: dict[str, str] = {
    "已受理": "accept", "受理": "accept", "签收": "accept", "已签收": "accept", "接单": "accept",
    "已联系": "contact", "联系": "contact",
    "已办结": "resolve", "办结": "resolve", "已完成": "resolve", "完成": "resolve",
    "退回": "return", "退单": "return", "非本单位": "return",
}
_VERB_WORDS = sorted(VERBS, key=len, reverse=True)
# SD2611-00471, and forgiving forms: sd2611 00471, SD 2611—471.
NUMBER = re.compile(r"(?<![A-Z0-9])([A-Z]{1,4})\s*(\d{4})\s*[-_—–~]?\s*(\d{1,6})(?!\d)", re.IGNORECASE)
# Separators between the parts of a reply: spaces and the punctuation a phone keyboard offers.
SEPARATORS = " \t\r\n,.;:!?、，。；：！？“”\"'‘’()（）[]【】<>《》/|#*+=—–-_~"
OPT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "START", "UNSTOP", "YES", "HELP", "INFO",
             "退订", "TD", "T"}


@dataclass(frozen=True)
class ReplyCommand:
    """One understood reply: the action on the ticket numbered `number`, with the text that followed it."""

    action: str  # accept | contact | resolve | return
    number: str
    text: str = ""


def normalise(body: str) -> str:
    """Full-width forms to ASCII (ＳＤ２６１１－００００１ → SD2611-00001), full-width space to space."""
    return unicodedata.normalize("NFKC", body or "").strip()


def is_keyword(body: str) -> bool:
    """Opt-out and help keywords the carrier or provider handles; never answered with our help text."""
    return normalise(body).upper().strip(SEPARATORS) in OPT_WORDS


def parse(body: str) -> Optional[ReplyCommand]:
    """The command in an SMS body, or None if it is not one (no number, no verb, a result or reason missing)."""
    text = normalise(body)
    m = NUMBER.search(text)  # the leftmost: a result may quote a standard such as GB2760-2014
    if m is None:
        return None
    number = f"{m.group(1).upper()}{m.group(2)}-{int(m.group(3)):05d}"
    before = text[: m.start()].strip(SEPARATORS)
    after = text[m.end():].lstrip(SEPARATORS)
    if before:
        # The verb first: "办结 SD2611-00001 已退款".
        action = VERBS.get(before)
        rest = after
    else:
        word = next((w for w in _VERB_WORDS if after.startswith(w)), None)
        if word is None:
            return None
        action = VERBS[word]
        rest = after[len(word):]
    if action is None:
        return None
    rest = rest.strip(SEPARATORS).strip()
    if action in ("resolve", "return") and not rest:
        return None
    if action in ("accept", "contact"):
        rest = ""
    return ReplyCommand(action, number, rest)
