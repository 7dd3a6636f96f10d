"""A configuration whose write-backs can outlast a claim is refused at load, with the file, the line and the field:
else a second worker could take up a result while the first is still sending it, and send it again."""
from __future__ import annotations

import pytest

from settings import ConfigError
from settings.config_schema import load_config
from simulators.testing import ROOT, write_config


class Source:
    base_url = "http://127.0.0.1:9"


CHANNEL_12315 = """
  - name: 12315-shunde
    kind: "12315"
    settings:
      base_url: http://127.0.0.1:9
      client_id: oq-12315
      client_secret: s3cret
"""


def line_of(path: str, text: str) -> int:
    return next(n for n, line in enumerate(open(path, encoding="utf-8"), start=1) if text in line)


def test_a_channel_timeout_that_can_outlast_the_claim_is_refused_with_file_line_and_field(tmp_path):
    # given a 12345 channel that waits 25 s per request, with claims of 60 s
    path = write_config(tmp_path / "config.yaml", "sqlite:///x.db", Source, Source, timeout_seconds=25)
    # when the configuration is loaded
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    # then it is refused, naming the file, the line of the timeout and the field, with what to do
    [problem] = refused.value.problems
    assert (problem.file, problem.line, problem.field) == (
        path, line_of(path, "timeout_seconds: 25"), "channels[0].settings.timeout_seconds")
    assert problem.message == ("4 requests of 25 s can outlast jobs.claim_seconds 60 (a write-back may wait for "
                               "each in turn); lower the timeout or raise the claim")
    assert str(refused.value).startswith(f"{path}:{problem.line}: channels[0].settings.timeout_seconds: 4 requests")


def test_a_default_timeout_too_long_for_a_short_claim_is_named_as_the_default(tmp_path):
    # given a 12315 channel on its default timeout (10 s) and claims of 30 s
    path = write_config(tmp_path / "config.yaml", "sqlite:///x.db", Source, Source, claim_seconds=30,
                        extra=CHANNEL_12315)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    [problem] = refused.value.problems
    assert problem.field == "channels[1].settings.timeout_seconds"
    assert problem.line == line_of(path, "client_id: oq-12315") - 2   # its `settings:`, where it would go
    assert problem.message.startswith("4 requests of 10 s (the default) can outlast jobs.claim_seconds 30")


def test_a_disabled_channel_is_not_held_to_the_claim(tmp_path):
    path = write_config(tmp_path / "config.yaml", "sqlite:///x.db", Source, Source, claim_seconds=30,
                        extra=CHANNEL_12315.replace('kind: "12315"', 'kind: "12315"\n    enabled: false'))
    assert load_config(path).channels[1].enabled is False


@pytest.mark.parametrize("email", ["false", "true"])
def test_the_default_configuration_loads(monkeypatch, email):
    monkeypatch.setenv("ONEQUEUE_EMAIL_ENABLED", email)
    config = load_config(ROOT / "config.yaml")
    assert next(c for c in config.channels if c.kind == "email").enabled is (email == "true")


@pytest.mark.parametrize("claim", [1, 2, 3, 60])
def test_the_test_configuration_loads_with_the_claims_tests_use(tmp_path, claim):
    assert load_config(write_config(tmp_path / "config.yaml", "sqlite:///x.db", Source, Source,
                                    claim_seconds=claim)).jobs.claim_seconds == claim
