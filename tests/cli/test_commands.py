"""The command line: every subcommand takes --config before or after its name, modules add to a group by
its name, and what a person reads is China Standard Time to the second while --json keeps ISO 8601."""
from __future__ import annotations

import json
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from cli.common import Commands, china_time
from cli.main import build_parser, main as onequeue
from simulators.testing import write_config

SHANGHAI = ZoneInfo("Asia/Shanghai")
WALK_IN = """
  - name: walkin-stations
    kind: walk_in
"""


@pytest.mark.parametrize("words", [
    ["tickets", "list"], ["tickets", "unlink", "SD2611-00001"], ["tickets", "clocks", "SD2611-00001"],
    ["sms", "list"], ["quarantine", "list"], ["outbox", "retry", "--all"], ["rules", "check"],
    ["users", "list"], ["sla", "calendar"], ["walkin", "import", "x.xlsx", "--station", "st-daliang-01"],
    ["reassign", "SD2611-00001", "--unit", "x", "--reason", "y"], ["health"],
])
def test_every_subcommand_takes_config_before_or_after_its_name(words):
    parser = build_parser()
    assert parser.parse_args(["--config", "a.yaml", *words]).config == "a.yaml"
    assert parser.parse_args([*words, "--config", "b.yaml"]).config == "b.yaml"


def test_a_group_is_found_by_its_name_and_an_unknown_one_is_named():
    import argparse

    common = argparse.ArgumentParser(add_help=False)
    root = argparse.ArgumentParser()
    sub = Commands(root.add_subparsers(dest="command", required=True), common, {})
    sub.add_group("tickets", help="tickets")
    sub.group("tickets").add_parser("frobnicate").set_defaults(func="yes")
    assert root.parse_args(["tickets", "frobnicate"]).func == "yes"
    with pytest.raises(LookupError, match="no command group 'ticket' .registered: tickets"):
        sub.group("ticket")


def test_a_time_reads_in_china_standard_time_to_the_second():
    utc = datetime.fromisoformat("2026-11-30T17:05:09.5+00:00")
    assert china_time(utc) == "2026-12-01 01:05:09"
    assert china_time(None) == "-"


@pytest.fixture
def config(tmp_path, db, db_url):
    nowhere = SimpleNamespace(base_url="http://127.0.0.1:9")
    return write_config(tmp_path / "config.yaml", db_url, nowhere, nowhere, extra=WALK_IN)


def test_a_tickets_history_reads_in_china_time_and_its_json_keeps_the_offset(config, capsys):
    # given a visitor registered at a station
    assert onequeue(["walkin", "register", "--config", config, "--station", "st-daliang-01", "--phone",
                     "13802891234", "--text", "买的手机三天就坏了。"]) == 0
    number = capsys.readouterr().out.split(":")[0]
    # when staff read the ticket as JSON and as text
    assert onequeue(["tickets", "show", number, "--config", config, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert onequeue(["tickets", "show", number, "--config", config]) == 0
    text = capsys.readouterr().out
    assert onequeue(["tickets", "list", "--config", config]) == 0
    listed = capsys.readouterr().out
    # then JSON has ISO 8601 times with their offset, and the text the same moments in China time
    at = datetime.fromisoformat(shown["events"][0]["at"])
    received = datetime.fromisoformat(shown["received_at"])
    assert at.utcoffset() is not None and received.utcoffset() is not None
    assert f"  {at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S} connector:walkin-stations" in text
    assert f"received_at: {received.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}" in text
    assert f"{received.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}" in listed and number in listed


def test_a_ticket_that_does_not_exist_is_an_error_that_says_where_to_look(config, capsys):
    assert onequeue(["tickets", "show", "SD0001-99999", "--config", config]) == 1
    assert "no ticket numbered 'SD0001-99999' (see `onequeue tickets list`)" in capsys.readouterr().err
