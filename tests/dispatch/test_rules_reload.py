"""Hot reload of units.yaml and rules.yaml: a valid change is swapped in, an invalid one refused, logged
without personal data, and shown by `onequeue health` while the running rules stay."""
from __future__ import annotations

import io
import json
import logging
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import structlog

from cli.main import main as cli
from dispatch import TicketFacts
from dispatch.reload import RulesReloader
from settings.logging_setup import configure_logging
from simulators.testing import write_config

ROOT = Path(__file__).resolve().parents[2]
NOWHERE = SimpleNamespace(base_url="http://127.0.0.1:9")   # health does not call the stand-ins
AIRCON = TicketFacts(channel="12345-shunde", kind="complaint", text="空调坏了不给修", event_address="北滘镇美的广场")


@pytest.fixture
def files(tmp_path, db_url):
    units, rules = tmp_path / "units.yaml", tmp_path / "rules.yaml"
    shutil.copy(ROOT / "units.yaml", units)
    shutil.copy(ROOT / "rules.yaml", rules)
    config = write_config(tmp_path / "config.yaml", db_url, NOWHERE, NOWHERE, units_file=units, rules_file=rules)
    return SimpleNamespace(units=units, rules=rules, config=config)


@pytest.fixture
def logs():
    """The JSON log lines the worker would write, kept here; logging is put back as it was afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    yield stream
    root.handlers[:], root.level = handlers, level
    structlog.reset_defaults()


def _health(config: str, capsys) -> dict:
    capsys.readouterr()
    assert cli(["--config", config, "health", "--json"]) == 0
    return json.loads(capsys.readouterr().out)["rules"]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line(path: Path, marker: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if marker in line)


def test_a_changed_file_is_swapped_in_and_an_invalid_one_refused(files, db, logs, capsys):
    reloader = RulesReloader(files.units, files.rules)

    def check():
        """What the worker's dispatch job does first, with its JSON log lines kept here."""
        configure_logging("info", stream=logs)
        return reloader.reload_if_changed(db, "worker-1")

    running = reloader.dispatcher
    # given a worker's reloader that has saved its status
    assert check() is None
    health = _health(files.config, capsys)
    assert (health["state"], health["rule_count"], health["last_error"]) == ("running", 7, None)
    assert running.decide(AIRCON).unit_id == "st-beijiao-01"

    # when a rule is added in front, the next check swaps in a dispatcher that follows it
    _edit(files.rules, "rules:\n", "rules:\n  - id: appliances\n    when: {keywords: {any: [空调]}}\n"
                                   "    assign: sd-amr-quality\n")
    fresh = check()
    assert fresh is not None and fresh.decide(AIRCON).unit_id == "sd-amr-quality"
    assert check() is None          # read again, nothing new
    assert _health(files.config, capsys)["rule_count"] == 8

    # when the edit names a unit that does not exist, it is refused and the new rule keeps running
    _edit(files.rules, "assign: sd-amr-quality", "assign: sd-amr-qualty")
    assert check() is None
    assert reloader.dispatcher is fresh
    health = _health(files.config, capsys)
    assert health["state"] == "refused" and health["rule_count"] == 8
    assert f"{files.rules}:{_line(files.rules, 'sd-amr-qualty')}: rules[0].assign: " in health["last_error"] and "unknown unit" in health["last_error"]
    assert cli(["--config", files.config, "health"]) == 0
    out = capsys.readouterr().out
    assert f"rules: refused, {files.rules}, 8 rules" in out and "rules[0].assign" in out

    # when a contact's phone is mistyped in units.yaml, that is refused too, and the log does not quote it
    _edit(files.rules, "assign: sd-amr-qualty", "assign: sd-amr-quality")
    _edit(files.units, '{name: 麦浩然, phone: "13807570005"', '{name: 麦浩然, phone: "1380757000"')
    assert check() is None
    assert "units[" in _health(files.config, capsys)["last_error"]
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    refused = [line for line in lines if line["event"] == "rules_reload_refused"]
    assert len(refused) == 2
    assert "rules[0].assign" in refused[0]["problems"] and ".phone" in refused[1]["problems"]
    assert "1380757000" not in logs.getvalue() and "麦浩然" not in logs.getvalue()

    # when the file is put right, it loads and health says the rules run
    _edit(files.units, '"1380757000"', '"13807570005"')
    assert check() is None    # the same text as the running rules: nothing to swap
    health = _health(files.config, capsys)
    assert health["state"] == "running" and health["last_error"]   # the last refusal stays on record
