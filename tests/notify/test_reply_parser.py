"""Staff replies typed on phones: full-width characters, spaces or none, lower case, the verb first or last."""
from __future__ import annotations

import pytest

from notify.reply_parser import ReplyCommand, is_keyword, parse


@pytest.mark.parametrize("body, expected", [
    ("SD2611-00001 受理", ReplyCommand("accept", "SD2611-00001")),
    ("sd2611-00001受理", ReplyCommand("accept", "SD2611-00001")),
    ("ＳＤ２６１１－００００１\u3000受理", ReplyCommand("accept", "SD2611-00001")),
    ("SD2611 1 签收", ReplyCommand("accept", "SD2611-00001")),
    ("受理：SD2611-00471", ReplyCommand("accept", "SD2611-00471")),
    ("SD2611-00001 已联系", ReplyCommand("contact", "SD2611-00001")),
    ("SD2611-00001 办结 已退款", ReplyCommand("resolve", "SD2611-00001", "已退款")),
    ("SD2611-00001，办结：已协调商家退款。", ReplyCommand("resolve", "SD2611-00001", "已协调商家退款")),
    ("办结 SD2611-00001 已退款", ReplyCommand("resolve", "SD2611-00001", "已退款")),
    ("SD2611-00001 已办结 经检测符合GB2760-2014", ReplyCommand("resolve", "SD2611-00001", "经检测符合GB2760-2014")),
    ("SD2611-00001 退回 不属于市场监管职责", ReplyCommand("return", "SD2611-00001", "不属于市场监管职责")),
])
def test_commands_are_read_forgivingly(body, expected):
    assert parse(body) == expected


@pytest.mark.parametrize("body", [
    "你好", "受理", "SD2611-00001", "SD2611-00001 好的", "SD2611-00001 办结", "SD2611-00001 退回 ", "", "收到 SD2611-00001",
])
def test_anything_else_is_not_understood(body):
    assert parse(body) is None


def test_opt_out_words_are_left_to_the_provider():
    assert is_keyword(" stop ") and is_keyword("退订") and not is_keyword("SD2611-00001 受理")
