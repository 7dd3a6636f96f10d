"""rules.yaml edited under a running worker: the next ticket follows the new rule; an invalid edit changes
nothing, is logged, and shows in `onequeue health`."""
from __future__ import annotations

import json
import os
import shutil

import worker as worker_module
from dispatch.models import RulesStatus
from settings.config_schema import load_config
from simulators.testing import ROOT, stops_within, wait_for, write_config
from tickets import Database

from .conftest import decided, rules_health

HOTLINE_FIRST = """rules:
  - id: hotline-first
    description: 12345工单先由投诉举报指挥中心分拨
    when: {channel: 12345-shunde}
    assign: sd-amr-command
"""


def _replace(path, text: str) -> None:
    """Write as careful editors do: a whole new file moved into place."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)



def _running_rules(db: Database) -> int | None:
    """How many rules the worker says it runs (what `onequeue health` reads)."""
    with db.transaction() as s:
        status = s.get(RulesStatus, "dispatch")
        return status.rule_count if status else None




def _start(config: str):
    """A worker started as `onequeue run` starts it; the returned function stops it as SIGTERM does."""
    w = worker_module.Worker(load_config(config))
    w.start()

    def stop():
        assert stops_within(w, 15)
    return stop


def test_a_rules_edit_under_a_running_worker(tmp_path, db, db_url, hotline, sms_provider, worker_logs, capsys):
    units, rules = tmp_path / "units.yaml", tmp_path / "rules.yaml"
    shutil.copy(ROOT / "units.yaml", units)
    shutil.copy(ROOT / "rules.yaml", rules)
    config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, units_file=units, rules_file=rules)
    # given a running worker that has dispatched one order under the default rules
    hotline.add_orders(1)
    stop = _start(config)
    try:
        first = wait_for(lambda: decided(db, 1), "the first ticket", seconds=20)[0]
        assert first.assigned_unit != "sd-amr-command"     # no default rule sends a ticket there

        # when a rule is added in front of the others, the next ticket follows it
        _replace(rules, rules.read_text(encoding="utf-8").replace("rules:\n", HOTLINE_FIRST, 1))
        wait_for(lambda: _running_rules(db) == 8, "the worker to reload", seconds=20)
        hotline.add_orders(1)
        second = wait_for(lambda: decided(db, 2), "the second ticket", seconds=20)[1]
        assert (second.status, second.assigned_unit) == ("dispatched", "sd-amr-command")
        assert second.events[-1].detail["rule"] == "hotline-first"

        # when the edit then names a unit that does not exist, the worker refuses it and health shows why
        _replace(rules, rules.read_text(encoding="utf-8").replace("assign: sd-amr-command", "assign: sd-amr-comand"))
        wait_for(lambda: "rules_reload_refused" in worker_logs.getvalue(), "the refusal", seconds=20)
        refused = [json.loads(line) for line in worker_logs.getvalue().splitlines() if "rules_reload_refused" in line]
        assert len(refused) == 1 and "rules[0].assign" in refused[0]["problems"]
        health = wait_for(lambda: (h := rules_health(config, capsys))["state"] == "refused" and h, "health to show it",
                          seconds=20)
        line = next(n for n, text in enumerate(rules.read_text(encoding="utf-8").splitlines(), 1) if "comand" in text)
        assert f"{rules}:{line}: rules[0].assign" in health["last_error"] and "unknown unit" in health["last_error"]
        assert health["rule_count"] == 8
        # and the rules it runs stay: the next ticket still follows the rule added before
        hotline.add_orders(1)
        third = wait_for(lambda: decided(db, 3), "the third ticket", seconds=20)[2]
        assert (third.assigned_unit, third.events[-1].detail["rule"]) == ("sd-amr-command", "hotline-first")
    finally:
        stop()
