"""A source's error reply that carries a complainant's data is kept as the channel's last_error, and shown by
`onequeue health`, without it; the other channels keep flowing."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from cli.main import main as cli
from settings.config_schema import load_config
from simulators.mall_complaints import MallComplaints
from simulators.testing import write_config
from tests.connectors.test_rest_channel import channel_yaml
from tickets import Ticket
from worker import Worker

PERSON = ("梁美华", "13802891234", "44060619900101123X")


@pytest.fixture
def mall():
    sim = MallComplaints(auth="none", seed=7)  # the failing answer is the list's, not a token's
    sim.start()
    yield sim
    sim.stop()


def test_a_source_error_naming_a_complainant_is_kept_masked(tmp_path, db_url, hotline, sms_provider, mall, capsys):
    # given a mall whose list answers 400 with a complainant's data in the reply, and the hotline with orders
    hotline.add_orders(3)
    mall.add_complaints(2)
    config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, extra=channel_yaml(mall, "none"))
    mall.fail_next(1, 400, body={"success": False, "errorCode": "BAD_RECORD",
                                 "errorMsg": f"投诉人{PERSON[0]}（{PERSON[1]}，身份证{PERSON[2]}）资料有误"})
    worker = Worker(load_config(config))
    # when the worker polls
    worker.run_once()
    # then the channel's error is kept and shown without the person's data
    capsys.readouterr()
    assert cli(["--config", config, "health", "--json"]) == 0
    shown = capsys.readouterr().out
    (channel,) = [c for c in json.loads(shown)["channels"] if c["name"] == "mall-jiahe"]
    assert channel["error_count"] == 1 and "HTTP 400" in channel["last_error"]
    assert "138****1234" in channel["last_error"] and not any(p in shown for p in PERSON), shown
    # and the hotline's orders went in, as the mall's complaints do on the next poll
    worker.run_once()
    with worker.db.transaction() as s:
        counts = dict(s.execute(select(Ticket.channel, func.count()).group_by(Ticket.channel)).all())
    assert counts == {"12345-shunde": 3, "mall-jiahe": 2}
    worker.db.dispose()


def test_a_source_error_holding_a_nul_byte_is_kept_and_the_channel_polls_again(tmp_path, db_url, hotline,
                                                                               sms_provider, mall, capsys):
    # given a mall whose list answers 400 with a page holding a NUL byte (PostgreSQL refused to store the error,
    # so the poll failed while recording its failure)
    mall.add_complaints(2)
    config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, extra=channel_yaml(mall, "none"))
    mall.fail_next(1, 400, body="<html><body>网关错误\x00 Bad Gateway</body></html>".encode("utf-8"))
    worker = Worker(load_config(config))
    # when the worker polls
    worker.run_once()
    # then the channel's error is kept with the NUL written out, and shown
    capsys.readouterr()
    assert cli(["--config", config, "health", "--json"]) == 0
    (channel,) = [c for c in json.loads(capsys.readouterr().out)["channels"] if c["name"] == "mall-jiahe"]
    assert channel["error_count"] == 1 and "HTTP 400" in channel["last_error"] and "\\x00" in channel["last_error"]
    # and the next poll takes the mall's complaints in
    worker.run_once()
    with worker.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Ticket).where(Ticket.channel == "mall-jiahe")) == 2
    worker.db.dispose()
