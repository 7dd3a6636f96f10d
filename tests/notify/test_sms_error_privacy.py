"""The provider's refusal names the number it refused; what is kept as the message's last_error and shown by
`onequeue sms` masks it, and the other messages still go out."""
from __future__ import annotations

from cli.main import main as cli
from notify import Recipient, plan
from tests.notify.test_sms_delivery import rows, ticket_for_unit_with, wait_until

LANDLINE = "075722223333"


def test_a_refusal_naming_the_number_is_kept_masked(web_worker, hotline, sms_provider, capsys, tmp_path):
    # given a message to a landline (the provider answers 21614, naming the number) and one to a mobile
    hotline.add_orders(6)
    worker = web_worker()
    worker.run_once()
    ticket, unit = ticket_for_unit_with(worker, 1)
    with worker.db.transaction() as s:
        for key, phone in (("landline", LANDLINE), ("mobile", unit.contacts[0].phone)):
            plan(s, key=f"test:{key}:{ticket.id}", ticket_id=ticket.id, unit_id=unit.id, purpose="reminder",
                 recipients=[Recipient(phone, unit.contacts[0].name)], template="工单{number}明日到期。",
                 values={"number": ticket.number})
    # when they are sent
    worker.send_sms()
    # then the refusal is kept with its code and without the number, and the other message was delivered
    (refused,) = [m for m in rows(worker, purpose="reminder") if LANDLINE[1:] in m.to_phone]
    assert refused.status == "failed" and refused.error_code == 21614 and "21614" in refused.last_error
    assert "not a valid mobile number" in refused.last_error and "22223333" not in refused.last_error
    assert wait_until(lambda: [m for m in rows(worker, purpose="reminder", to_phone="+86" + unit.contacts[0].phone)
                               if m.status == "delivered"])
    capsys.readouterr()
    assert cli(["--config", str(tmp_path / "config.yaml"), "sms", "list", "--json"]) == 0
    listed = capsys.readouterr().out
    assert "21614" in listed and "22223333" not in listed
