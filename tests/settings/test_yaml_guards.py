"""Every YAML file onequeue reads refuses a key written twice (with both lines), aliases that expand past a bound,
and a file not in UTF-8 (named): through the command line, an error and a non-zero exit, never a traceback."""
from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest

from settings import ConfigError
from settings.config_schema import load_config
from simulators.testing import ROOT, write_config

NOWHERE = SimpleNamespace(base_url="http://127.0.0.1:9")


def onequeue(config: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", "--config", config, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def config_text(tmp_path) -> str:
    return open(write_config(tmp_path / "base.yaml", f"sqlite:///{tmp_path}/q.db", NOWHERE, NOWHERE),
                encoding="utf-8").read()


def test_a_config_not_in_utf8_is_refused_with_its_name(tmp_path, config_text):
    path = tmp_path / "config.yaml"
    path.write_bytes(config_text.replace("log_level: warning", "log_level: warning  # 日志级别").encode("gbk"))
    ran = onequeue(str(path), "health")
    assert ran.returncode != 0 and "Traceback" not in ran.stderr
    assert f"{path}:" in ran.stderr and "not UTF-8" in ran.stderr


def test_a_key_written_twice_is_refused_with_both_lines(tmp_path, config_text):
    path = tmp_path / "config.yaml"
    path.write_text(config_text.replace("log_level: warning\n", "log_level: warning\nlog_level: debug\n"),
                    encoding="utf-8")
    first = next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "log_level" in line)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    [problem] = refused.value.problems
    assert (problem.line, problem.field) == (first + 1, "log_level")
    assert problem.message == f"duplicate key 'log_level' (first on line {first})"
    ran = onequeue(str(path), "health")
    assert ran.returncode != 0 and "duplicate key 'log_level'" in ran.stderr and "Traceback" not in ran.stderr


@pytest.mark.parametrize("aliases, reason", [
    ("".join(f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 9)}]\n" for i in range(1, 12)), "aliases expand"),
    ("x1: &x1 [*x1]\n", "refers to the node that holds it"),
])
def test_runaway_or_cyclic_aliases_are_refused_before_they_are_expanded(tmp_path, config_text, aliases, reason):
    path = tmp_path / "config.yaml"
    path.write_text("x0: &x0 [a, a, a, a, a, a, a, a, a]\n" + aliases + config_text, encoding="utf-8")
    ran = onequeue(str(path), "health")   # nine to the twelfth power nodes: refused in an instant, not walked
    assert ran.returncode != 0 and reason in ran.stderr and "Traceback" not in ran.stderr


def test_a_few_aliases_still_load(tmp_path, config_text):
    path = tmp_path / "config.yaml"
    path.write_text(config_text.replace("log_level: warning", "log_level: &lvl warning\nx_unused: *lvl"),
                    encoding="utf-8")
    with pytest.raises(ConfigError) as refused:   # the alias is expanded, and the schema judges what it gives
        load_config(path)
    assert [p.field for p in refused.value.problems] == ["x_unused"]
