"""What staff type on a ticket's page (a result, a reason, a note) goes on its history as typed, or is refused
with the reason when the database cannot store it (a NUL byte): the page says so, the ticket is as it was, and
other tickets are handled as usual. On SQLite and PostgreSQL alike."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from accounts import add_user
from tickets import Ticket, TicketEvent

from .entry_points import PUSH_CHANNEL, complaint, entry_site, signed_in  # noqa: F401


def ticket_of(site, number: str) -> Ticket:
    with site.db.transaction() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.number == number)).one()
        ticket.history = [(e.action, e.detail) for e in s.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id))]
        return ticket


@pytest.mark.parametrize("action, form, said", [
    ("note", {"text": "已电话联系商家\x00，约定周五答复"}, "holds a NUL byte"),
    ("resolve", {"result": "已协调商家退款\x00，消费者表示满意"}, "holds a NUL byte"),
    ("return", {"reason": "不属于市场监管职责\x00"}, "holds a NUL byte"),
])
def test_text_the_database_cannot_store_is_refused_on_the_page_and_the_ticket_is_unchanged(
        entry_site, action, form, said):
    # Given two pushed tickets a unit holds, and a clerk of the bureau signed in
    numbers = [entry_site.push(complaint(f"MP-FIT-{i}", event_address="佛山市顺德区大良街道华盖路步行街12号"))
               .json()["ticket"] for i in (1, 2)]
    assert entry_site.worker.dispatch() == 2
    assert {ticket_of(entry_site, n).status for n in numbers} == {"dispatched"}
    with entry_site.db.transaction() as s:
        add_user(s, "clerk1", "陈文员", "sd-amr-consumer", "admin", "correct horse 42",
                 entry_site.worker.dispatcher.units)
    clerk = signed_in(entry_site, "clerk1", "correct horse 42")
    before = ticket_of(entry_site, numbers[0])

    # When the clerk sends what cannot be stored
    answer = clerk.post(f"{entry_site.url}/tickets/{numbers[0]}/{action}", data=form | {"csrf_token": clerk.csrf},
                        allow_redirects=False, timeout=10)

    # Then the page says why, and the ticket is as it was: no step on its history, nothing to write back
    assert answer.status_code == 409, answer.text
    assert "操作未完成" in answer.text and said in answer.text
    after = ticket_of(entry_site, numbers[0])
    assert (after.status, after.result_text, after.history) == (before.status, before.result_text, before.history)

    # And the other ticket is handled as usual
    done = clerk.post(f"{entry_site.url}/tickets/{numbers[1]}/resolve", allow_redirects=False, timeout=10,
                      data={"result": "已协调商家退款，消费者表示满意。", "csrf_token": clerk.csrf})
    assert done.status_code == 303, done.text
    assert ticket_of(entry_site, numbers[1]).status == "resolved"
