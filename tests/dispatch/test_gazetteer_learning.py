"""Learning from corrections: tickets on a road the gazetteer does not know, sent by staff to one station, become a
suggestion; accepted, it is written into gazetteer.yaml and the next ticket on that road goes there by itself."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from cli.main import main as cli
from settings.config_schema import load_config
from simulators.testing import write_config
from tickets import store
from tickets.models import Ticket
from tickets.schema import IncomingTicket
from worker import Worker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def setup(tmp_path, db_url, hotline, sms_provider):
    for name in ("units.yaml", "rules.yaml", "gazetteer.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider,
                          units_file=tmp_path / "units.yaml", rules_file=tmp_path / "rules.yaml")
    worker = Worker(load_config(config))
    worker.prepare()
    yield worker, config, tmp_path / "gazetteer.yaml"
    worker.db.dispose()


def _arrive(worker: Worker, ref: str, address: str) -> str:
    """A hotline order for `address` is stored and the dispatch job decides it; its number."""
    now = datetime.now(timezone.utc)
    with worker.db.transaction() as s:
        store.ingest(s, "12345-shunde", "12345", [IncomingTicket(
            source_ref=ref, source_updated_at=now, received_at=now, text="买的电饭煲用了三天就坏了，店家不给修。",
            event_address=address)])
    worker.dispatch()
    with worker.db.transaction() as s:
        return s.scalar(select(Ticket.number).where(Ticket.source_ref == ref))


def _unit(worker: Worker, number: str) -> str | None:
    with worker.db.transaction() as s:
        return store.get_by_number(s, number).assigned_unit


def _run(capsys, *argv: str) -> tuple[int, str]:
    """The command's exit status and what it printed (on stderr when it failed)."""
    capsys.readouterr()
    code = cli(list(argv))
    said = capsys.readouterr()
    return code, said.out if code == 0 else said.err


def _suggestions(capsys, config: str) -> list[dict]:
    code, out = _run(capsys, "--config", config, "gazetteer", "suggestions", "--json")
    assert code == 0
    return json.loads(out)


def test_three_reassignments_on_one_road_teach_the_next_ticket_its_station(setup, capsys):
    worker, config, places = setup
    # given three tickets on 迎宾路, a road no gazetteer knows: the town's branch gets them
    numbers = [_arrive(worker, f"YB-{i}", address) for i, address in
               enumerate(["顺德区大良迎宾路12号", "大良 迎宾路 3号之1", "佛山市顺德区大良街道迎宾路88号首层"])]
    assert [_unit(worker, n) for n in numbers] == ["br-daliang"] * 3

    # when staff send two of them to the station that covers the road, nothing is suggested yet
    for number in numbers[:2]:
        code, _ = _run(capsys, "--config", config, "reassign", number, "--unit", "st-daliang-09",
                       "--reason", "迎宾路属顺峰服务站")
        assert code == 0
    assert _suggestions(capsys, config) == []

    # and when the third goes the same way, the road is suggested with the three tickets
    assert _run(capsys, "--config", config, "reassign", numbers[2], "--unit", "st-daliang-09",
                "--reason", "迎宾路属顺峰服务站")[0] == 0
    [suggestion] = _suggestions(capsys, config)
    assert (suggestion["fragment"], suggestion["station"]) == ("迎宾路", "st-daliang-09")
    assert suggestion["tickets"] == numbers
    code, out = _run(capsys, "--config", config, "gazetteer", "suggestions")
    assert code == 0 and f"迎宾路 → st-daliang-09 大良顺峰消费维权服务站  (3 tickets: {', '.join(numbers)})" in out

    # when an administrator accepts it, it is written into gazetteer.yaml with its line
    code, out = _run(capsys, "--config", config, "gazetteer", "accept", str(suggestion["id"]))
    assert code == 0
    line = int(out.split(f"{places}:")[1].split(";")[0])
    written = places.read_text(encoding="utf-8").splitlines()
    assert written[line - 1].strip() == "- name: 迎宾路"
    assert written[line + 1].strip() == "station: st-daliang-09"
    assert numbers[0] in written[line + 2]

    # then the next ticket on that road goes to that station by itself, and the suggestion is listed no more
    fourth = _arrive(worker, "YB-4", "大良迎宾路99号")
    assert _unit(worker, fourth) == "st-daliang-09"
    assert _suggestions(capsys, config) == []
    code, err = _run(capsys, "--config", config, "gazetteer", "accept", str(suggestion["id"]))
    assert code == 1 and "already accepted" in err


def test_a_rejected_suggestion_is_listed_no_more_and_changes_nothing(setup, capsys):
    worker, config, places = setup
    before = places.read_text(encoding="utf-8")
    numbers = [_arrive(worker, f"HX-{i}", f"容桂华西路{i + 5}号") for i in range(3)]
    for number in numbers:
        assert _run(capsys, "--config", config, "reassign", number, "--unit", "st-ronggui-03",
                    "--reason", "华西路归容山")[0] == 0
    [suggestion] = _suggestions(capsys, config)
    assert suggestion["fragment"] == "华西路"

    code, out = _run(capsys, "--config", config, "gazetteer", "reject", str(suggestion["id"]))
    assert code == 0 and "rejected" in out
    assert _suggestions(capsys, config) == []
    assert places.read_text(encoding="utf-8") == before
    assert _unit(worker, _arrive(worker, "HX-9", "容桂华西路1号")) == "br-ronggui"


def test_only_a_station_chosen_for_an_unread_fragment_is_recorded(setup, capsys):
    worker, config, _ = setup
    # a department is not a place, and an address the gazetteer reads whole teaches nothing
    road = [_arrive(worker, f"DP-{i}", f"大良迎宾路{i}号") for i in range(3)]
    known = [_arrive(worker, f"KN-{i}", "大良近良社区8号") for i in range(3)]
    for number in road:
        assert _run(capsys, "--config", config, "reassign", number, "--unit", "sd-amr-quality", "--reason", "质量问题")[0] == 0
    for number in known:
        assert _run(capsys, "--config", config, "reassign", number, "--unit", "st-daliang-13", "--reason", "试")[0] == 0
    assert _suggestions(capsys, config) == []
