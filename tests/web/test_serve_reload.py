"""`onequeue serve` without a worker follows edits of units.yaml, as the worker's web service does."""
from __future__ import annotations

import shutil
from types import SimpleNamespace

from settings.config_schema import load_config
from simulators.testing import ROOT, wait_for, write_config
from web.app import serving

NOWHERE = SimpleNamespace(base_url="http://127.0.0.1:9")   # the service alone calls no stand-in here


def test_the_service_alone_reads_a_renamed_unit_once_units_yaml_is_edited(tmp_path, db):
    units, rules = tmp_path / "units.yaml", tmp_path / "rules.yaml"
    shutil.copy(ROOT / "units.yaml", units)
    shutil.copy(ROOT / "rules.yaml", rules)
    config = load_config(write_config(tmp_path / "config.yaml", db.url, NOWHERE, NOWHERE, units_file=units,
                                      rules_file=rules))
    # given the HTTP service's context as `onequeue serve` builds it
    ctx = serving(config, db)
    assert ctx.units().get("sd-amr-command").name == "投诉举报指挥中心"
    # when an administrator renames a unit in units.yaml
    units.write_text(units.read_text(encoding="utf-8").replace("name: 投诉举报指挥中心", "name: 指挥中心（新）", 1),
                     encoding="utf-8")
    # then the service reads the new name, with no restart
    wait_for(lambda: ctx.units().get("sd-amr-command").name == "指挥中心（新）", "the renamed unit", seconds=10)
