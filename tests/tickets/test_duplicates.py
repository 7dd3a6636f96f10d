"""What makes two tickets one matter: the same phone, the same business, a similar story, within the window."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tickets import IncomingTicket, store
from tickets.duplicates import DuplicatePolicy, find_primary, phone_key, similarity
from tickets.models import Ticket

CST = timezone(timedelta(hours=8))

pytestmark = pytest.mark.usefixtures("dates_ahead")  # tickets dated after today's date
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=CST)
STORY = ("来电人反映，其于2026年5月在大良悦动健身会所办理年卡，充值3880元。近日会所突然停业，"
         "门口张贴转让告示。来电人要求商家退还剩余卡内余额。")
OTHER_STORY = "来电人反映，在大良悦动健身会所购买的蛋白粉已过保质期，要求商家赔偿并查处。"


def rec(ref, text=STORY, phone="13802891234", business="大良悦动健身会所", days=0, code=None):
    at = T0 + timedelta(days=days)
    return IncomingTicket(source_ref=ref, source_updated_at=at, received_at=at, text=text,
                          complainant_phone=phone, business_name=business, business_code=code)


def test_phone_numbers_are_compared_without_country_code_or_spaces():
    assert phone_key("+86 138 0289 1234") == phone_key("8613802891234") == phone_key("13802891234")
    assert phone_key("110") is None and phone_key(None) is None


def test_the_same_story_in_another_channel_s_words_is_similar_and_another_story_is_not():
    reworded = STORY.replace("来电人", "消费者") + "\n诉求：要求商家退还剩余卡内余额"
    assert similarity(STORY, reworded) > 0.8
    assert similarity(STORY, OTHER_STORY) < 0.5


def test_only_an_open_earlier_ticket_of_the_same_phone_and_business_within_the_window_is_the_primary(db):
    policy = DuplicatePolicy(window_days=30, min_similarity=0.5)
    with db.transaction() as s:
        store.ingest(s, "12345-sd", "12345", [rec("A"), rec("B", text=OTHER_STORY)])
        store.ingest(s, "12315-sd", "12315", [
            rec("same", text=STORY.replace("来电人", "消费者"), phone="+86 13802891234",
                business="佛山市顺德区大良悦动健身会所有限公司", days=3),
            rec("other-phone", phone="13900000000", days=3),
            rec("other-shop", business="容桂盈丰快餐店", days=3),
            rec("too-late", days=45),
        ])
        by_ref = {t.source_ref: t for t in s.query(Ticket)}
        primary, score = find_primary(s, by_ref["same"], policy)
        assert primary.source_ref == "A" and score > 0.5
        for ref in ("other-phone", "other-shop", "too-late"):
            assert find_primary(s, by_ref[ref], policy) == (None, 0.0), ref
        # the earlier ticket is never the duplicate of the later one
        assert find_primary(s, by_ref["A"], policy) == (None, 0.0)
        # a closed matter is not reopened by a repeat: the repeat is a ticket of its own
        by_ref["A"].status = "rejected"
        assert find_primary(s, by_ref["same"], policy) == (None, 0.0)
