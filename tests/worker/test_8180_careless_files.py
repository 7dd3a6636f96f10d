"""The 8180 exchange as the worker runs it: a careless export (a row with a NUL byte, a file still being copied)
neither stops the channel nor goes in half; the operator sees why in `onequeue quarantine list`. On SQLite and
PostgreSQL alike."""
from __future__ import annotations

import json

from sqlalchemy import select

from cli.main import main as cli
from settings.config_schema import load_config
from simulators.hotline_8180 import Hotline8180
from simulators.testing import write_config
from tickets import Ticket
from worker import Worker


def test_a_careless_export_neither_stops_the_channel_nor_goes_in_half(tmp_path, db_url, hotline, sms_provider,
                                                                      capsys):
    # Given the 8180 exporter and a worker reading its inbox
    exchange = Hotline8180(tmp_path / "8180" / "in", tmp_path / "8180" / "out", seed=11).start()
    channel = f"""
  - name: 8180-shunde
    kind: "8180"
    poll_seconds: 0.5
    settings: {{inbox: "{exchange.inbox}", outbox: "{exchange.outbox}"}}
"""
    config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, extra=channel)
    worker = Worker(load_config(config))

    # When it exports a call whose text holds a NUL byte beside a good one, and a copy of two more is under way
    good = exchange.add_calls(1, export=False, 事发地址="佛山市顺德区大良街道华盖路步行街12号",
                              诉求内容="来电人反映，奶茶中有异物，要求退款。")
    bad = exchange.add_calls(1, 诉求内容="来电人反映，月饼\x00发霉，要求退款。")
    copying = exchange.add_calls(2, export=False, 诉求内容="来电人反映，商家\r\n拒不退款, 要求处理。")
    cut = exchange.write_cut("quote")
    worker.run_once()

    # Then the good call is a ticket, the bad row is in the quarantine with its file, line and column,
    # and the file being copied waits in the inbox
    capsys.readouterr()
    assert cli(["--config", config, "quarantine", "list", "--json"]) == 0
    (aside,) = json.loads(capsys.readouterr().out)
    assert aside["source_ref"] == bad[0]["受理编号"]
    assert aside["reason"].startswith(f"{exchange.files_written[0].name} line 3: 诉求内容: does not fit: holds a NUL")
    with worker.db.transaction() as s:
        assert [t.source_ref for t in s.scalars(select(Ticket).where(Ticket.channel == "8180-shunde"))] == [
            good[0]["受理编号"]]
    assert cut.exists()

    # And once the copy is finished, the next run takes its calls in whole
    exchange.finish_cut(cut)
    worker.run_once()
    with worker.db.transaction() as s:
        stored = {t.source_ref: t.text for t in s.scalars(select(Ticket).where(Ticket.channel == "8180-shunde"))}
    assert set(stored) == {c["受理编号"] for c in good + copying}
    assert stored[copying[1]["受理编号"]] == "来电人反映，商家\n拒不退款, 要求处理。"
    worker.db.dispose()
