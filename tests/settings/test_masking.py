"""Personal data inside free text — a source's reply, a database error, a traceback — is masked in every log
line and in what is kept as an error, not only in fields named for it."""
from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from settings.logging_setup import configure_logging
from settings.masking import error_summary, mask_text

PERSONAL = ["梁美华", "陈大文", "13802891234", "44060619900101123X", "440606900101123"]


@pytest.mark.parametrize("text, shown", [
    ("投诉人梁美华，电话13802891234", "投诉人梁**，电话138****1234"),
    ("姓名：陈大文 联系人: 李四", "姓名：陈** 联系人: 李*"),
    ("身份证号44060619900101123X，旧证440606900101123", "身份证号440***********123X，旧证440********1123"),
    ("梁美华女士来电，陈先生在场", "梁**女士来电，陈先生在场"),
    ("手机 138-0289-1234 或 +86 13802891234", "手机 138****1234 或 +86 138****1234"),
    ('{"complainant_name": "梁美华", "phone": "13802891234", "service_name": "食品安全"}',
     '{"complainant_name": "梁**", "phone": "138****1234", "service_name": "食品安全"}'),
    ("'To' number +8675722223333 is not a valid mobile number; 座机 0757-22223333",
     "'To' number +86757****3333 is not a valid mobile number; 座机 0757-****3333"),
    ("请回电0757-22223333联系", "请回电0757-****3333联系"),
    ("工单 SD2611-00471 金额 2680 元，订单号 2026112200001234", "工单 SD2611-00471 金额 2680 元，订单号 2026112200001234"),
])
def test_free_text_is_masked(text, shown):
    assert mask_text(text) == shown


def test_a_database_error_is_kept_as_a_short_summary_without_its_parameters():
    error = ValueError("(psycopg.errors.StringDataRightTruncation) value too long for type character varying(32)\n"
                       "[SQL: INSERT INTO tickets (complainant_name, complainant_phone) VALUES (%(a)s, %(b)s)]\n"
                       "[parameters: {'a': '梁美华', 'b': '13802891234', 'c': 'x]y'}]\n"
                       "(Background on this error at: https://sqlalche.me/e/20/9h9h)")
    summary = error_summary(error, limit=200)
    assert summary.startswith("ValueError: (psycopg.errors.StringDataRightTruncation) value too long")
    assert len(summary) <= 200 and not any(p in summary for p in PERSONAL)


def test_every_log_line_is_masked_the_traceback_and_the_standard_librarys_too():
    stream = io.StringIO()
    configure_logging("info", stream=stream)
    try:
        structlog.get_logger("t").info("reply", detail={"text": "投诉人梁美华 13802891234"}, ids=["44060619900101123X"])
        try:
            raise RuntimeError("联系人：陈大文 身份证 440606900101123")
        except RuntimeError:
            structlog.get_logger("t").exception("failed")
            logging.getLogger("other").exception("library says 姓名=梁美华")
    finally:
        configure_logging("warning")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["reply", "failed", "library says 姓名=梁**"]
    assert lines[0]["detail"] == {"text": "投诉人梁** 138****1234"} and lines[0]["ids"] == ["440***********123X"]
    assert "RuntimeError: 联系人：陈** 身份证 440********1123" in lines[1]["exception"]
    assert not any(p in stream.getvalue() for p in PERSONAL)
