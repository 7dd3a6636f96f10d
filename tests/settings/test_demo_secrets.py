"""Outside demo mode the shipped demo secrets are public: a worker holding one, or none, refuses to start and
says which setting it is and which environment variable to set."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from settings import ConfigError
from settings.config_schema import load_config
from simulators.testing import ROOT

SECRET_VARS = {"ONEQUEUE_TWILIO_AUTH_TOKEN": "sms.auth_token",
               "ONEQUEUE_12345_APP_SECRET": "channels[0].settings.app_secret",
               "ONEQUEUE_12315_CLIENT_SECRET": "channels[1].settings.client_secret",
               "ONEQUEUE_MINIPROGRAM_SECRET": "channels[4].settings.secret",
               "ONEQUEUE_OPEN311_API_KEY": "channels[5].settings.api_keys",
               "ONEQUEUE_MALL_CLIENT_SECRET": "channels[7].settings.auth.client_secret"}


def onequeue(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SECRET_VARS and not k.startswith("ONEQUEUE_")}
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=clean | env,
                          capture_output=True, text=True, timeout=60)


def test_the_shipped_configuration_outside_demo_mode_refuses_to_start_naming_each_secret_and_variable(tmp_path):
    # given the shipped config.yaml with demo mode turned off and no secret given by environment
    # when the worker is started
    ran = onequeue("run", "--once", ONEQUEUE_DEMO="false", ONEQUEUE_DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    # then it refuses, naming every secret that still has its demo value and the variable that sets it
    assert ran.returncode != 0
    for variable, setting in SECRET_VARS.items():
        assert setting in ran.stderr and variable in ran.stderr, (setting, ran.stderr)
    assert "Traceback" not in ran.stderr
    assert not (tmp_path / "x.db").exists()


def test_with_every_secret_given_outside_demo_mode_the_configuration_loads(monkeypatch):
    for n, variable in enumerate(SECRET_VARS):
        monkeypatch.setenv(variable, f"a-real-secret-of-this-site-{n:04d}")
    monkeypatch.setenv("ONEQUEUE_DEMO", "false")
    config = load_config(ROOT / "config.yaml")
    assert config.sms.auth_token == "a-real-secret-of-this-site-0000" and not config.demo.enabled


@pytest.mark.parametrize("value", ["demo-auth-token", '""'])
def test_a_demo_or_empty_sms_token_outside_demo_mode_is_refused_on_its_line(tmp_path, value):
    path = tmp_path / "config.yaml"
    path.write_text(f"""demo: {{enabled: false}}
sms:
  account_sid: AC00000000000000000000000000000000
  auth_token: ${{SOME_TOKEN_VAR:-{value}}}
  from_number: "+8610691234512"
""", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    [problem] = refused.value.problems
    assert (problem.line, problem.field) == (4, "sms.auth_token")
    assert "SOME_TOKEN_VAR" in problem.message


def test_demo_mode_keeps_the_demo_secrets(monkeypatch):
    monkeypatch.delenv("ONEQUEUE_DEMO", raising=False)
    config = load_config(ROOT / "config.yaml")
    assert config.demo.enabled and config.sms.auth_token == "demo-auth-token"
