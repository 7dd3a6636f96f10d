"""`onequeue health` per channel: last successful pull, lag, error count and quarantine size, for 12315 and 8180."""
from __future__ import annotations

import json

from cli.main import main as cli
from simulators.hotline_8180 import Hotline8180
from simulators.platform_12315 import Platform12315
from simulators.testing import write_config
from settings.config_schema import load_config
from worker import Worker


def test_each_channel_shows_its_last_pull_lag_errors_and_quarantine(tmp_path, db_url, hotline, sms_provider, capsys):
    with Platform12315("oq", "s3cret", seed=3, rate_limit_rps=None) as platform, \
            Hotline8180(tmp_path / "in", tmp_path / "out", seed=3) as drop:
        config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, extra=f"""
  - name: 12315-shunde
    kind: "12315"
    settings: {{base_url: "{platform.base_url}", client_id: oq, client_secret: s3cret, max_attempts: 1}}
  - name: 8180-shunde
    kind: "8180"
    settings: {{inbox: "{drop.inbox}", outbox: "{drop.outbox}"}}
""")
        # given cases and calls, a few of them broken, and a file the worker has not read yet
        platform.add_cases(4, malformed=2)
        drop.add_calls(3, malformed=1)
        worker = Worker(load_config(config))
        worker.run_once()
        drop.add_calls(2)
        # and a 12315 platform that is down at the next poll
        platform.go_down()
        worker.poll("12315-shunde")

        capsys.readouterr()
        assert cli(["--config", config, "health", "--json"]) == 0
        channels = {c["name"]: c for c in json.loads(capsys.readouterr().out)["channels"]}
        platform.come_up()

    p12315, p8180 = channels["12315-shunde"], channels["8180-shunde"]
    assert p12315["last_success_at"] and p8180["last_success_at"]
    assert (p12315["quarantined"], p8180["quarantined"]) == (2, 1)
    assert p12315["error_count"] == 1 and "ConnectionError" in p12315["last_error"]
    assert p8180["error_count"] == 0
    assert p12315["lag_seconds"] is not None and p8180["lag_seconds"] is not None
