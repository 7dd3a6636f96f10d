"""A rules.yaml that would blow up or mislead (runaway aliases, a key written twice, a file not in UTF-8) edited
under a running worker is refused with its file and why, shown by `onequeue health`; the running rules stay and
tickets keep being dispatched."""
from __future__ import annotations

import os
import shutil

import pytest

import worker as worker_module
from settings.config_schema import load_config
from simulators.testing import ROOT, stops_within, wait_for, write_config

from .conftest import decided, rules_health

HOTLINE_FIRST = """rules:
  - id: hotline-first
    description: 12345工单先由投诉举报指挥中心分拨
    when: {channel: 12345-shunde}
    assign: sd-amr-command
"""


def alias_bomb(text: str) -> bytes:
    """Six levels of nine aliases each: half a million nodes from a few hundred bytes."""
    levels = ["x0: &x0 [a, a, a, a, a, a, a, a, a]"] + [
        f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 9)}]" for i in range(1, 6)]
    return ("\n".join(levels) + "\n" + text).encode("utf-8")


def assign_twice(text: str) -> bytes:
    return text.replace("    assign: sd-amr-command\n", "    assign: sd-amr-command\n    assign: sd-amr-quality\n",
                        1).encode("utf-8")


def in_gbk(text: str) -> bytes:
    return text.replace("sd-amr-command", "sd-amr-quality", 1).encode("gbk")


HOSTILE = {"aliases": (alias_bomb, "aliases expand the document"),
           "duplicate_key": (assign_twice, "duplicate key 'assign' (first on line"),
           "not_utf8": (in_gbk, "the file is not UTF-8")}





@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_rules_file_is_refused_and_the_running_rules_keep_dispatching(
        tmp_path, db, db_url, hotline, sms_provider, capsys, worker_logs, hostile):
    units, rules = tmp_path / "units.yaml", tmp_path / "rules.yaml"
    shutil.copy(ROOT / "units.yaml", units)
    text = (ROOT / "rules.yaml").read_text(encoding="utf-8").replace("rules:\n", HOTLINE_FIRST, 1)
    rules.write_text(text, encoding="utf-8")
    config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, units_file=units, rules_file=rules)
    # given a running worker dispatching under rules that send 12345 tickets to the command centre
    hotline.add_orders(1)
    w = worker_module.Worker(load_config(config))
    w.start()
    try:
        wait_for(lambda: decided(db, 1), "the first ticket", seconds=20)
        # when rules.yaml is replaced by a hostile file
        make, reason = HOSTILE[hostile]
        tmp = rules.with_name("rules.yaml.tmp")
        tmp.write_bytes(make(text))
        os.replace(tmp, rules)
        # then health shows it refused, naming the file and why
        health = wait_for(lambda: (h := rules_health(config, capsys))["state"] == "refused" and h, "the refusal",
                          seconds=20)
        assert str(rules) in health["last_error"] and reason in health["last_error"]
        # and the running rules stay: the next ticket still goes to the command centre
        hotline.add_orders(1)
        second = wait_for(lambda: decided(db, 2), "the second ticket", seconds=20)[1]
        assert (second.status, second.assigned_unit) == ("dispatched", "sd-amr-command")
    finally:
        assert stops_within(w, 15)
