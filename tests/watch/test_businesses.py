"""The business registry: one business however the channels spell it — recognised by its credit code when that
code is valid, else by its name and town — merged and split by administrators, with an alias list in YAML."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from cli.main import main as onequeue
from settings import ConfigError
from settings.config_schema import load_config
from simulators.testing import write_config
from tickets import IncomingTicket, store
from watch.aliases import Aliases
from watch.credit_code import valid_credit_code
from watch.names import name_key
from worker import Worker

CST = timezone(timedelta(hours=8))
WALK_IN = """
  - name: walkin-stations
    kind: walk_in
"""
VALID_CODE = "91350100M000100Y43"   # the example the standard's own text works through


@pytest.fixture
def config(tmp_path, db, db_url):
    nowhere = SimpleNamespace(base_url="http://127.0.0.1:9")
    return write_config(tmp_path / "config.yaml", db_url, nowhere, nowhere, extra=WALK_IN)


def complaint(ref: str, business: str, hours_ago: float = 1, code: str | None = None,
              address: str = "大良街道华盖路88号", text: str = "办了年卡，会所不给退费") -> IncomingTicket:
    at = datetime.now(CST) - timedelta(hours=hours_ago)
    return IncomingTicket(source_ref=ref, source_updated_at=at, received_at=at, title="投诉", text=text,
                          business_name=business, business_code=code, event_address=address,
                          complainant_phone="13800001111")


def cli_json(capsys, *words) -> object:
    capsys.readouterr()
    assert onequeue(list(words)) == 0
    return json.loads(capsys.readouterr().out)


def test_one_business_across_12345_12315_and_a_walk_in_under_three_spellings(worker, config, capsys):
    # given the same gym complained about on three channels, each spelling its name its own way
    with worker.db.transaction() as s:
        store.ingest(s, "12345-shunde", "12345", [complaint("H-1", "佛山市顺德区悦动健身有限公司")])
        store.ingest(s, "12315-gd", "12315", [complaint("P-1", "悦动健身（大良店）")])
    assert onequeue(["walkin", "register", "--config", config, "--station", "st-daliang-01", "--phone",
                     "13802891234", "--business", "顺德 悦动健身", "--address", "大良华盖路88号",
                     "--text", "在该健身会所办理年卡，会所突然停业"]) == 0
    # and a different gym of the same town
    with worker.db.transaction() as s:
        store.ingest(s, "12315-gd", "12315", [complaint("P-2", "大良飞跃健身工作室")])
    # when the tickets are dispatched and the registry's job runs, as the worker runs them
    worker.dispatch()
    assert worker.watch_businesses() == 4
    # then the administrator sees one business with the three tickets, whatever each channel wrote
    listed = cli_json(capsys, "businesses", "list", "--config", config, "--json")
    gym = [b for b in listed if "悦动" in b["name"]]
    assert len(gym) == 1 and gym[0]["tickets"] == 3 and gym[0]["town"] == "大良街道"
    assert len(listed) == 2
    shown = cli_json(capsys, "businesses", "show", str(gym[0]["id"]), "--config", config, "--json")
    assert sorted(t["channel"] for t in shown["tickets"]) == ["12315-gd", "12345-shunde", "walkin-stations"]
    assert set(shown["spellings"]) == {"佛山市顺德区悦动健身有限公司", "悦动健身（大良店）", "顺德 悦动健身"}
    # and running the job again changes nothing
    assert worker.watch_businesses() == 0


def test_a_valid_credit_code_joins_two_names_and_an_invalid_one_is_noted_not_used(worker, config, capsys):
    wrong = VALID_CODE[:-1] + "4"   # one character off: the check fails
    with worker.db.transaction() as s:
        store.ingest(s, "12345-shunde", "12345", [complaint("H-1", "顺德区美佳家电商行", code=VALID_CODE),
                                                   complaint("H-2", "美佳电器城", code=VALID_CODE.lower()),
                                                   complaint("H-3", "美佳电器城", code=wrong)])
    worker.dispatch()
    worker.watch_businesses()
    listed = cli_json(capsys, "businesses", "list", "--config", config, "--json")
    by_code = [b for b in listed if b["credit_code"] == VALID_CODE]
    assert len(by_code) == 1 and by_code[0]["tickets"] == 2
    other = [b for b in listed if b["credit_code"] is None]
    assert len(other) == 1 and other[0]["tickets"] == 1        # H-3: by its name, since its code is wrong
    shown = cli_json(capsys, "businesses", "show", str(other[0]["id"]), "--config", config, "--json")
    assert "校验位不符" in shown["tickets"][0]["note"]
    assert shown["tickets"][0]["matched_by"] == "name"


def test_an_administrator_merges_two_businesses_and_splits_a_ticket_off_again(worker, config, capsys):
    with worker.db.transaction() as s:
        store.ingest(s, "12345-shunde", "12345", [complaint("H-1", "好又多超市"), complaint("H-2", "好又多超市"),
                                                   complaint("H-3", "好有多生活超市")])
    worker.dispatch()
    worker.watch_businesses()
    listed = {b["name"]: b for b in cli_json(capsys, "businesses", "list", "--config", config, "--json")}
    main, other = listed["好又多超市"], listed["好有多生活超市"]
    # merge: the other's ticket joins the first, and stays there when the tickets are matched again
    assert onequeue(["businesses", "merge", str(main["id"]), str(other["id"]), "--config", config]) == 0
    assert onequeue(["businesses", "rematch", "--config", config]) == 0
    listed = cli_json(capsys, "businesses", "list", "--config", config, "--json")
    assert [(b["id"], b["tickets"]) for b in listed] == [(main["id"], 3)]
    # split: one ticket was about another shop; it keeps to the new business
    shown = cli_json(capsys, "businesses", "show", str(main["id"]), "--config", config, "--json")
    number = shown["tickets"][0]["number"]
    assert onequeue(["businesses", "split", str(main["id"]), number, "--name", "好又多便利店(容桂)",
                     "--config", config]) == 0
    assert onequeue(["businesses", "rematch", "--config", config]) == 0
    listed = {b["name"]: b["tickets"] for b in cli_json(capsys, "businesses", "list", "--config", config, "--json")}
    assert listed == {"好又多超市": 2, "好又多便利店(容桂)": 1}
    shown = cli_json(capsys, "businesses", "show", str(main["id"]), "--config", config, "--json")
    assert [e["action"] for e in shown["events"]] == ["merged", "split"]
    # a business that does not exist is an error that says how to find one
    capsys.readouterr()
    assert onequeue(["businesses", "show", "99999", "--config", config]) == 1
    assert "onequeue businesses list" in capsys.readouterr().err


def test_the_alias_list_joins_names_no_spelling_shows_are_one(tmp_path, db, db_url, capsys):
    (tmp_path / "businesses.yaml").write_text("businesses:\n  - name: 美丽健身会所\n    aliases: [美力健身]\n",
                                              encoding="utf-8")
    nowhere = SimpleNamespace(base_url="http://127.0.0.1:9")
    config = write_config(tmp_path / "config.yaml", db_url, nowhere, nowhere,
                          extra="watch:\n  businesses_file: businesses.yaml\n")
    worker = Worker(load_config(config))
    worker.prepare()
    try:
        with worker.db.transaction() as s:
            store.ingest(s, "12345-shunde", "12345", [complaint("H-1", "美丽健身会所"), complaint("H-2", "美力健身")])
        worker.dispatch()
        worker.watch_businesses()
    finally:
        worker.db.dispose()
    listed = cli_json(capsys, "businesses", "list", "--config", config, "--json")
    assert [(b["name"], b["tickets"]) for b in listed] == [("美丽健身会所", 2)]


def test_a_wrong_alias_list_is_named_by_file_line_and_field():
    text = ("businesses:\n  - name: 美丽健身会所\n    aliases: [美力健身]\n"
            "  - name: 美力健身房\n    aliases: [美力健身有限公司]\n    colour: red\n")
    with pytest.raises(ConfigError) as err:
        Aliases.from_text(text)
    assert "businesses.yaml:6: businesses[1].colour: unknown field" in str(err.value)
    with pytest.raises(ConfigError) as err:
        Aliases.from_text(text.replace("    colour: red\n", ""))
    assert "businesses.yaml:5: businesses[1].aliases[0]" in str(err.value) and "listed twice" in str(err.value)


@pytest.mark.parametrize("name, key", [
    ("佛山市顺德区悦动健身有限公司", "悦动健身"), ("悦动健身（大良店）", "悦动健身"), ("顺德 悦动健身", "悦动健身"),
    ("悦动健身(个体工商户)", "悦动健身"), ("ＹＵＥＤＯＮＧ悦动健身", "yuedong悦动健身"), ("顺德区书店", "书店"),
    ("广东顺德美的电器股份有限公司", "美的电器"), ("", ""),
])
def test_a_names_key_drops_region_legal_form_branch_width_and_spaces(name, key):
    assert name_key(name) == key


@pytest.mark.parametrize("code, valid", [
    (VALID_CODE, True), ("91110000600037341L", True), (" 9135 0100-M000 100Y43 ", True), ("９１３５０１００Ｍ０００１００Ｙ４３", True),
    ("91350100M000100Y44", False), ("91350100M000100Y4", False), ("91350100M000100I43", False), (None, False),
])
def test_the_credit_codes_check_character_follows_gb_32100(code, valid):
    assert valid_credit_code(code) is valid
